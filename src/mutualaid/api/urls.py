from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, URLResolver, path, re_path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from mutualaid.api.api import api

app_name = "api"


@require_GET
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


# It does nothing, so there is nothing to protect; without the exemption a POST to a mistyped
# address would get Django's HTML CSRF page instead of this JSON answer.
@csrf_exempt
def unknown_endpoint(request: HttpRequest) -> JsonResponse:
    """Addresses under /api/ that match no operation answer in JSON like the rest of the API."""
    return JsonResponse({"detail": _("Not found.")}, status=404)


def _json_method_not_allowed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """django-ninja answers a method an address does not take with plain text; make it JSON."""

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


def _ninja_patterns() -> list[URLPattern | URLResolver]:
    return [
        URLPattern(
            pattern.pattern,
            _json_method_not_allowed(pattern.callback),
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
