"""Every refusal the API gives is JSON with a `detail` and the matching 4xx status.

Validation errors keep django-ninja's shape: 422 with `detail` listing each problem.
"""

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError

from mutualaid.api.auth import InvalidToken
from mutualaid.common.errors import ApplicationError


class ErrorOut(Schema):
    """The body of every 4xx answer but 422."""

    detail: str


class ValidationProblem(Schema):
    loc: list[str | int]
    msg: str
    type: str
    ctx: dict[str, Any] | None = None


class ValidationErrorOut(Schema):
    """The body of a 422: one entry for each value that is missing or wrong."""

    detail: list[ValidationProblem]


def register_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(ApplicationError)
    def application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
        return api.create_response(request, {"detail": exc.message}, status=exc.status)

    @api.exception_handler(PermissionDenied)
    def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        detail = str(exc) or _("You are not allowed to do this.")
        return api.create_response(request, {"detail": detail}, status=403)

    @api.exception_handler(Http404)
    @api.exception_handler(ObjectDoesNotExist)
    def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return api.create_response(request, {"detail": _("Not found.")}, status=404)

    # Django would answer a body past DATA_UPLOAD_MAX_MEMORY_SIZE with its HTML 400 page.
    @api.exception_handler(RequestDataTooBig)
    def body_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return api.create_response(
            request, {"detail": _("The request body is too large.")}, status=413
        )

    @api.exception_handler(AuthenticationError)
    def not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        if isinstance(exc, InvalidToken):
            detail, challenge = exc.message, 'Bearer error="invalid_token"'
        else:
            detail = _('This needs an API token, sent as "Authorization: Bearer <token>".')
            challenge = "Bearer"
        response = api.create_response(request, {"detail": detail}, status=401)
        response["WWW-Authenticate"] = challenge
        return response
