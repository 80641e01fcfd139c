from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, URLResolver, path, re_path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from mutualaid.api.api import api

app_name = "api"

# django-ninja's pages that only describe the API; its operations check their own methods.
DOCUMENT_VIEWS = {"openapi-json", "openapi-view"}


def _json_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answers in JSON where Django or django-ninja would not: a method the address does not
    take is a JSON 405 (not plain text), and the view is exempt from Django's CSRF check (no
    HTML 403 page). The API reads no session cookie, so there is nothing for CSRF to protect."""

    @csrf_exempt
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and "json" not in response.get("Content-Type", ""):
            return JsonResponse(
                {"detail": _("This address does not take this method.")},
                status=405,
                headers={"Allow": response.get("Allow", "")},
            )
        return response

    return wrapped


@_json_errors
@require_safe
def api_root(request: HttpRequest) -> JsonResponse:
    """Where the API describes itself."""
    return JsonResponse(
        {
            "title": api.title,
            "version": api.version,
            "openapi": reverse("api:openapi-json"),
            "docs": reverse("api:openapi-view"),
        }
    )


@_json_errors
def unknown_endpoint(request: HttpRequest) -> JsonResponse:
    """Addresses under /api/ that match no operation answer in JSON like the rest of the API."""
    return JsonResponse({"detail": _("Not found.")}, status=404)


def _ninja_patterns() -> list[URLPattern | URLResolver]:
    return [
        URLPattern(
            pattern.pattern,
            _json_errors(
                require_safe(pattern.callback)
                if pattern.name in DOCUMENT_VIEWS
                else pattern.callback
            ),
            pattern.default_args,
            pattern.name,
        )
        if isinstance(pattern, URLPattern)
        else pattern
        for pattern in api.urls[0]
    ]


urlpatterns = [
    # Before django-ninja's own root view, which only answers with an HTML 404.
    path("", api_root, name="root"),
    *_ninja_patterns(),
    re_path(r"", unknown_endpoint, name="unknown"),
]
