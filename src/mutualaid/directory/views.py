"""Public pages: the directory of groups and the privacy notice."""

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django_htmx.middleware import HtmxDetails

from mutualaid.groups import selectors
from mutualaid.groups.models import Group

GROUPS_PER_PAGE = 20
MAX_QUERY_LENGTH = 100


def home(request: HttpRequest) -> HttpResponse:
    """The directory of groups, searched by name or place; htmx swaps in just the results."""
    # No stored text holds a NUL character, and PostgreSQL refuses one even in a search.
    q = request.GET.get("q", "").replace("\x00", "").strip()[:MAX_QUERY_LENGTH]
    page = Paginator(selectors.group_list(search=q), GROUPS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "q": q,
        "page": page,
        "my_groups": selectors.member_group_ids(member=request.user),
    }
    htmx: HtmxDetails | None = getattr(request, "htmx", None)
    # Only the search box asks for the results alone; a history restore needs the whole page.
    partial = (
        htmx is not None
        and bool(htmx)
        and htmx.target == "results"
        and not htmx.history_restore_request
    )
    template = "directory/_results.html" if partial else "directory/home.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def privacy(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "directory/privacy.html",
        {
            "notice_version": settings.PRIVACY_NOTICE_VERSION,
            "default_retention_days": Group._meta.get_field("retention_days").default,
        },
    )
