"""Matching all open requests, and answering a proposal from its email.

The dispatcher's page proposes every open request of a group at once and shows what was
proposed and what was left over, with why. The answer pages are opened from the volunteer's
email by a signed link (dispatch.answer_links), logged in or not; they show the category, the
area and a rough distance only, and change nothing but by a POST from their buttons.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from mutualaid.common.errors import ApplicationError
from mutualaid.dispatch import answer_links, permissions, services
from mutualaid.dispatch.tasks import member_distance_km
from mutualaid.dispatch.volunteers import group_volunteers
from mutualaid.groups.models import Group
from mutualaid.needs import selectors
from mutualaid.needs import services as needs_services
from mutualaid.needs.forms.requests import DeclineForm
from mutualaid.needs.models import Assignment, Request
from mutualaid.needs.selectors import UNLISTED_FIELDS
from mutualaid.people.models import User

# Where the last outcome of "match all" waits in the dispatcher's session, per group, to be
# shown after the redirect.
OUTCOME_KEY = "dispatch:match-all:%d"


def _dispatcher_group(request: HttpRequest, slug: str) -> Group:
    group = get_object_or_404(Group, slug=slug)
    if not permissions.can_match_all(request.user, group):
        raise PermissionDenied(_("Only a dispatcher of this group can match all open requests."))
    return group


def _available_volunteers(group: Group) -> int:
    """Members of the group matching can propose requests to now: with a rough home and room
    for another task."""
    columns = group_volunteers(group).index.columns()
    return int((columns["capacity"] > columns["load"]).sum())


def _last_outcome(request: HttpRequest, group: Group) -> dict[str, Any] | None:
    """The proposals and leftovers of this dispatcher's last "match all" in the group, read
    fresh from the database: three queries whatever their number."""
    saved = request.session.get(OUTCOME_KEY % group.pk)
    if not saved:
        return None
    proposals = list(
        Assignment.objects.filter(pk__in=saved["proposals"], request__group=group)
        .select_related("request", "member")
        .defer(
            *(f"request__{name}" for name in (*UNLISTED_FIELDS, "description")),
            "member__email",
            "member__phone",
            "member__address",
        )
        .order_by("request__created_at", "request_id")
    )
    leftovers = list(
        Request.objects.filter(pk__in=saved["leftovers"], group=group)
        .defer(*UNLISTED_FIELDS, "description")
        .order_by("created_at", "pk")
    )
    return {"proposals": proposals, "leftovers": leftovers, "skipped": saved["skipped"]}


@login_required
@require_http_methods(["GET", "POST"])
def match_all(request: HttpRequest, slug: str) -> HttpResponse:
    group = _dispatcher_group(request, slug)
    if request.method == "POST":
        dispatcher = request.user
        assert isinstance(dispatcher, User)
        outcome = services.requests_match_all(group=group, dispatcher=dispatcher)
        request.session[OUTCOME_KEY % group.pk] = {
            "proposals": [assignment.pk for assignment in outcome.proposals],
            "leftovers": list(outcome.leftovers),
            "skipped": outcome.skipped,
        }
        proposed, left = len(outcome.proposals), len(outcome.leftovers)
        sentences = [
            ngettext(
                "%(count)d request was proposed to a volunteer, who has been emailed a link to "
                "accept or decline it.",
                "%(count)d requests were proposed to volunteers, who have been emailed a link to "
                "accept or decline them.",
                proposed,
            )
            % {"count": proposed},
            ngettext("%(count)d request was left over.", "%(count)d requests were left over.", left)
            % {"count": left},
        ]
        messages.success(request, " ".join(sentences))
        return redirect("dispatch:match_all", slug=group.slug)
    return render(
        request,
        "dispatch/match_all.html",
        {
            "group": group,
            "open_count": services.matchable_requests(group=group).count(),
            "waiting_count": Assignment.objects.filter(
                request__group=group,
                answer=Assignment.Answer.PENDING,
                source=Assignment.Source.MATCHING,
            ).count(),
            "available_count": _available_volunteers(group),
            "outcome": _last_outcome(request, group),
            "category_labels": dict(selectors.category_choices(group=group)),
        },
    )


def _answering(request: HttpRequest, token: str) -> tuple[Assignment, User]:
    """The proposal and the member a link was made for. 404 for a link not made here or for a
    proposal that is gone; 403 for a link of another member, or when someone else is logged
    in; 410 (Gone) once the time to answer is over."""
    try:
        link = answer_links.read_token(token)
    except answer_links.BadToken:
        raise Http404 from None
    assignment = get_object_or_404(
        Assignment.objects.select_related("request__group", "request__area_group", "member")
        .defer(
            *(f"request__{name}" for name in (*UNLISTED_FIELDS, "description")),
        )
        .filter(source=Assignment.Source.MATCHING),
        pk=link.assignment_id,
    )
    if assignment.member_id != link.member_id:
        raise PermissionDenied(_("This link was made for another member."))
    user = request.user
    if user.is_authenticated and user.pk != link.member_id:
        raise PermissionDenied(
            _("This link was sent to another member. Log out to use it, or open your own.")
        )
    if link.expired:
        raise _Gone
    return assignment, assignment.member


class _Gone(Exception):
    pass


def _page(
    request: HttpRequest,
    token: str,
    assignment: Assignment,
    member: User,
    *,
    chosen: str = "",
    error: str = "",
    decline_form: DeclineForm | None = None,
    status: int = 200,
) -> HttpResponse:
    request_ = assignment.request
    response = render(
        request,
        "dispatch/proposal_answer.html",
        {
            "token": token,
            "assignment": assignment,
            "need": request_,
            "group": request_.group,
            "category_label": selectors.category_label(
                group=request_.group, code=request_.category
            ),
            "distance_km": member_distance_km(member, request_),
            "waiting": assignment.answer == Assignment.Answer.PENDING,
            "chosen": chosen,
            "error": error,
            "decline_form": decline_form or DeclineForm(),
            "logged_in": request.user.is_authenticated,
        },
        status=status,
    )
    add_never_cache_headers(response)
    return response


def _gone(request: HttpRequest) -> HttpResponse:
    response = render(request, "dispatch/proposal_gone.html", status=410)
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET"])
def proposal_answer(request: HttpRequest, token: str) -> HttpResponse:
    try:
        assignment, member = _answering(request, token)
    except _Gone:
        return _gone(request)
    return _page(request, token, assignment, member)


@require_http_methods(["GET", "POST"])
def proposal_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        assignment, member = _answering(request, token)
    except _Gone:
        return _gone(request)
    if request.method != "POST":
        return _page(request, token, assignment, member, chosen="accept")
    try:
        needs_services.assignment_accept(assignment=assignment, member=member)
    except ApplicationError as error:
        return _page(request, token, assignment, member, error=error.message, status=error.status)
    detail = reverse("needs:request_detail", kwargs={"pk": assignment.request_id})
    if request.user.is_authenticated:
        messages.success(
            request, _("You have taken this request. How to reach the person is below.")
        )
        return redirect(detail)
    response = render(
        request,
        "dispatch/proposal_answered.html",
        {"accepted": True, "detail_url": detail, "group": assignment.request.group},
    )
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "POST"])
def proposal_decline(request: HttpRequest, token: str) -> HttpResponse:
    try:
        assignment, member = _answering(request, token)
    except _Gone:
        return _gone(request)
    if request.method != "POST":
        return _page(request, token, assignment, member, chosen="decline")
    form = DeclineForm(request.POST)
    if not form.is_valid():
        return _page(request, token, assignment, member, decline_form=form, status=400)
    try:
        needs_services.assignment_decline(
            assignment=assignment, member=member, reason=form.cleaned_data["reason"]
        )
    except ApplicationError as error:
        return _page(request, token, assignment, member, error=error.message, status=error.status)
    response = render(
        request,
        "dispatch/proposal_answered.html",
        {"accepted": False, "group": assignment.request.group},
    )
    add_never_cache_headers(response)
    return response


urlpatterns = [
    path("groups/<slug:slug>/match-all/", match_all, name="match_all"),
    path("proposals/<str:token>/", proposal_answer, name="proposal_answer"),
    path("proposals/<str:token>/accept/", proposal_accept, name="proposal_accept"),
    path("proposals/<str:token>/decline/", proposal_decline, name="proposal_decline"),
]
