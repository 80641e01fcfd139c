"""Members' and dispatchers' pages about requests for help: parse, call one service or selector,
render.

A requester's contact details reach the page only through services.request_contact_details, which
records each showing; the detail page is never stored by a browser or a proxy.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from mutualaid.common.errors import ApplicationError
from mutualaid.dispatch.permissions import can_see_suggestions
from mutualaid.dispatch.selectors import request_suggestions
from mutualaid.funds.services import receipt_attach
from mutualaid.groups.models import Group
from mutualaid.needs import permissions, selectors, services
from mutualaid.needs.forms.requests import (
    CategoryForm,
    CompleteForm,
    DeclineForm,
    MemberAskForm,
    MessageForm,
    OfferChoiceForm,
    ReleaseForm,
    ReopenForm,
    RequestFilterForm,
)
from mutualaid.needs.models import (
    Assignment,
    BuiltInCategory,
    Claim,
    GroupCategory,
    Request,
    StandingNeed,
)
from mutualaid.people.models import User

RECENTLY_DONE_SHOWN = 10
# The nearest open requests a page shows; a filter finds the others.
OPEN_REQUESTS_SHOWN = 100


def _member(request: HttpRequest) -> User:
    """The logged-in member of a view behind login_required."""
    user = request.user
    assert isinstance(user, User)
    return user


def _group_or_404(slug: str) -> Group:
    return get_object_or_404(Group, slug=slug)


def _request_or_404(pk: int) -> Request:
    # The claimer is shown by display name only: their encrypted details are not loaded.
    requests = Request.objects.select_related(
        "group", "claimed_by", "offer", "standing_need"
    ).defer("claimed_by__email", "claimed_by__phone", "claimed_by__address")
    return get_object_or_404(requests, pk=pk)


def _visible_request_or_403(request: HttpRequest, pk: int) -> Request:
    need = _request_or_404(pk)
    if not permissions.can_view_request(request.user, need):
        raise PermissionDenied(_("Only members of this group can see its requests."))
    return need


def _back(request: HttpRequest, need: Request) -> HttpResponse:
    """Back to the page the form was on (the follow-up list, say), or to the request."""
    target = request.POST.get("next", "")
    # Only a path on this site: anything else (another site, or a word `redirect` would take
    # for a view name) goes back to the request.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return redirect("needs:request_detail", pk=need.pk)


# Lists


@login_required
def request_list(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(slug)
    member = _member(request)
    if not permissions.can_view_requests(member, group):
        raise PermissionDenied(_("Only members of this group can see its requests."))
    categories = selectors.category_choices(group=group)
    form = RequestFilterForm(request.GET, categories=categories)
    chosen = form.cleaned_data if form.is_valid() else {}
    open_requests = selectors.requests_open_for_member(
        member=member,
        group=group,
        category=chosen.get("category", ""),
        urgency=chosen.get("urgency", ""),
    )
    return render(
        request,
        "needs/request_list.html",
        {
            "group": group,
            "form": form,
            "requests": open_requests[:OPEN_REQUESTS_SHOWN],
            "open_count": len(open_requests),
            "category_labels": dict(categories),
            "filtered": bool(chosen.get("category") or chosen.get("urgency")),
            "has_home": member.home_latitude is not None and member.home_longitude is not None,
            "can_dispatch": permissions.can_dispatch(member, group),
        },
    )


@login_required
def follow_up(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(slug)
    if not permissions.can_view_follow_up(request.user, group):
        raise PermissionDenied(_("Only the group's dispatchers follow up unmet requests."))
    categories = selectors.category_choices(group=group)
    return render(
        request,
        "needs/follow_up.html",
        {
            "group": group,
            "requests": list(selectors.requests_follow_up(group=group)),
            "category_labels": dict(categories),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def categories(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(slug)
    member = _member(request)
    if not permissions.can_view_requests(member, group):
        raise PermissionDenied(_("Only members of this group can see its kinds of help."))
    can_add = permissions.can_add_category(member, group)
    form = CategoryForm(request.POST or None)
    if request.method == "POST":
        if not can_add:
            raise PermissionDenied(
                _("Only the group's dispatchers and stewards can add a kind of help.")
            )
        if form.is_valid():
            try:
                category = services.group_category_add(
                    group=group, name=form.cleaned_data["name"], actor=member
                )
            except ApplicationError as error:
                form.add_error("name", error.message)
            else:
                messages.success(
                    request, _("“%(name)s” is on the list now.") % {"name": category.name}
                )
                return redirect("needs:categories", slug=group.slug)
    built_in = set(BuiltInCategory.values)
    choices = selectors.category_choices(group=group)
    return render(
        request,
        "needs/categories.html",
        {
            "group": group,
            "built_in": [label for code, label in choices if code in built_in],
            "own": [label for code, label in choices if code not in built_in],
            "can_add": can_add,
            "form": form,
        },
    )


def _category_labels_for(member: User) -> dict[str, str]:
    """Labels of the built-in kinds of help and of every group's own the member belongs to."""
    labels = {str(code): str(label) for code, label in BuiltInCategory.choices}
    for code, name in GroupCategory.objects.filter(group__memberships__member=member).values_list(
        "code", "name"
    ):
        labels.setdefault(code, name)
    return labels


@login_required
def my_requests(request: HttpRequest) -> HttpResponse:
    """What the member holds, is asked to take, and has taken on for good; with htmx, only the
    first two, for the dashboard."""
    member = _member(request)
    held = list(selectors.requests_held_by(member=member).select_related("group"))
    assignments = list(
        Assignment.objects.filter(member=member, answer=Assignment.Answer.PENDING)
        .select_related("request__group")
        .order_by("created_at", "pk")
    )
    context: dict[str, Any] = {"held": held, "assignments": assignments}
    if request.htmx:  # type: ignore[attr-defined]
        response = render(request, "needs/_my_requests_summary.html", context)
    else:
        context.update(
            category_labels=_category_labels_for(member),
            standing=list(
                StandingNeed.objects.filter(volunteer=member, ended_at__isnull=True)
                .select_related("group")
                .annotate(latest_request_pk=Max("occurrences__pk"))
                .order_by("next_due", "pk")
            ),
            done=list(
                Claim.objects.filter(member=member, done_at__isnull=False)
                .select_related("request__group")
                .order_by("-done_at", "-pk")[:RECENTLY_DONE_SHOWN]
            ),
        )
        response = render(request, "needs/my_requests.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# One request


def _render_detail(
    request: HttpRequest,
    pk: int,
    *,
    error: str = "",
    status: int = 200,
    **forms: Any,
) -> HttpResponse:
    """The request's page, with whatever the viewer may see and do. `forms` replaces an empty
    form with one that came back with errors; `error` is a refusal from a service."""
    need = _visible_request_or_403(request, pk)
    member = _member(request)
    group = need.group
    holds = permissions.holds_request(member, need)
    dispatcher = permissions.can_dispatch(member, group)
    is_open = need.status == Request.Status.OPEN
    today = timezone.localdate()

    context: dict[str, Any] = {
        "need": need,
        "group": group,
        "error": error,
        "holds": holds,
        "dispatcher": dispatcher,
        "category_label": selectors.category_label(group=group, code=need.category),
        "distance_km": selectors.rounded_distance_km(member, need),
        "has_home": member.home_latitude is not None and member.home_longitude is not None,
        "can_claim": is_open and permissions.can_claim(member, need),
        "can_release": permissions.can_release(member, need),
        "can_complete": permissions.can_complete(member, need),
        "can_cancel": not need.is_closed and permissions.can_cancel(member, need),
        "can_reopen": (
            need.status == Request.Status.UNMET
            or (is_open and need.needed_by is not None and need.needed_by < today)
        )
        and permissions.can_reopen(member, need),
        "release_form": ReleaseForm(),
        "complete_form": CompleteForm(
            currency=group.currency, claim_limit_minor=group.reimbursement_limit_minor
        ),
        "reopen_form": ReopenForm(),
        "decline_form": DeclineForm(),
        "message_form": MessageForm(),
    }

    if permissions.can_view_contact(member, need):
        context["contact"] = services.request_contact_details(
            request=need, viewer=member, http_request=request
        )

    pending = (
        need.assignments.filter(answer=Assignment.Answer.PENDING).select_related("member").first()
    )
    context["pending_assignment"] = pending
    context["can_answer"] = pending is not None and permissions.can_answer_assignment(
        member, pending
    )
    if (
        is_open
        and pending is None
        and permissions.can_assign(member, need)
        and can_see_suggestions(member, group)
    ):
        answer = request_suggestions(request=need)
        context.update(
            show_suggestions=True,
            suggestions=answer.suggestions,
            leftover_reason=answer.why_nobody,
            assign_form=MemberAskForm(),
        )

    if need.status in (Request.Status.OPEN, Request.Status.CLAIMED) and (holds or dispatcher):
        # Every current offer is of the request's group, so one answer holds for all of them.
        offers = list(selectors.offers_current(group=group).select_related("member"))
        if offers and permissions.can_link_offer(member, need, offers[0]):
            context["can_link_offer"] = True
            context["link_offer_form"] = OfferChoiceForm(offers=offers)

    standing = need.standing_need
    if standing is not None and standing.ended_at is None:
        context["standing"] = standing
        context["can_commit"] = standing.volunteer_id is None and permissions.can_claim(
            member, need
        )
        context["can_stop_commitment"] = standing.volunteer_id == member.pk

    if permissions.can_use_thread(member, need):
        context["can_use_thread"] = True
        context["thread"] = list(need.messages.select_related("author"))

    context.update(forms)
    response = render(request, "needs/request_detail.html", context, status=status)
    add_never_cache_headers(response)
    return response


@login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, pk)


def _refused(request: HttpRequest, pk: int, error: ApplicationError) -> HttpResponse:
    """The request's page again with a service's refusal, e.g. 409 when someone else has it."""
    return _render_detail(request, pk, error=error.message, status=error.status)


def _with_errors(request: HttpRequest, pk: int, **forms: Any) -> HttpResponse:
    return _render_detail(request, pk, status=400, **forms)


@login_required
@require_POST
def request_claim(request: HttpRequest, pk: int) -> HttpResponse:
    need = _request_or_404(pk)
    member = _member(request)
    if not permissions.can_claim(member, need):
        raise PermissionDenied(_("Only members of this group can take its requests."))
    try:
        services.request_claim(request=need, member=member)
    except ApplicationError as error:
        return _refused(request, pk, error)
    messages.success(request, _("You have taken this request. How to reach the person is below."))
    return redirect("needs:request_detail", pk=need.pk)


@login_required
@require_POST
def request_release(request: HttpRequest, pk: int) -> HttpResponse:
    need = _request_or_404(pk)
    member = _member(request)
    if not permissions.can_release(member, need):
        raise PermissionDenied(_("Only the member who holds this request can let it go."))
    form = ReleaseForm(request.POST)
    if not form.is_valid():
        return _with_errors(request, pk, release_form=form)
    try:
        services.request_release(request=need, member=member, reason=form.cleaned_data["reason"])
    except ApplicationError as error:
        return _refused(request, pk, error)
    messages.success(request, _("You let the request go. It is open for someone else now."))
    return redirect("needs:request_list", slug=need.group.slug)


@login_required
@require_POST
def request_complete(request: HttpRequest, pk: int) -> HttpResponse:
    need = _request_or_404(pk)
    member = _member(request)
    if not permissions.can_complete(member, need):
        raise PermissionDenied(_("Only the member who holds this request can mark it done."))
    form = CompleteForm(
        request.POST,
        request.FILES,
        currency=need.group.currency,
        claim_limit_minor=need.group.reimbursement_limit_minor,
    )
    if not form.is_valid():
        return _with_errors(request, pk, complete_form=form)
    try:
        reimbursement = services.request_complete(
            request=need,
            member=member,
            notes=form.cleaned_data["notes"],
            spent_minor=form.cleaned_data["spent_minor"],
            spent_note=form.cleaned_data["spent_note"],
        )
    except ApplicationError as error:
        return _refused(request, pk, error)
    receipt = form.cleaned_data["receipt"]
    if reimbursement is not None and receipt is not None:
        try:
            receipt_attach(claim=reimbursement, actor=member, upload=receipt)
        except ApplicationError as error:
            # The request is done and the claim stands; the receipt can be added later.
            messages.error(
                request,
                _(
                    "The request is done, but the receipt was not saved: %(reason)s You can "
                    "add it from your claims."
                )
                % {"reason": error.message},
            )
            return redirect("needs:request_detail", pk=need.pk)
    if reimbursement is not None:
        messages.success(
            request,
            _("Thank you. The request is done, and what you spent is waiting to be paid back."),
        )
    else:
        messages.success(request, _("Thank you. The request is done."))
    return redirect("needs:request_detail", pk=need.pk)


@login_required
@require_POST
def request_assign(request: HttpRequest, pk: int) -> HttpResponse:
    need = _request_or_404(pk)
    dispatcher = _member(request)
    if not permissions.can_assign(dispatcher, need):
        raise PermissionDenied(_("Only the group's dispatchers can ask a member to take it."))
    form = MemberAskForm(request.POST)
    if not form.is_valid():
        return _with_errors(request, pk, assign_form=form)
    member = (
        User.objects.filter(pk=form.cleaned_data["member"], memberships__group=need.group)
        .only("pk", "display_name", "erased_at")
        .first()
    )
    if member is None:
        form.add_error("member", _("You can only ask a member of this group."))
        return _with_errors(request, pk, assign_form=form)
    try:
        assignment = services.request_assign(request=need, member=member, dispatcher=dispatcher)
    except ApplicationError as error:
        return _refused(request, pk, error)
    messages.success(
        request,
        _("You asked %(name)s to take this request.") % {"name": assignment.member.public_name},
    )
    return redirect("needs:request_detail", pk=need.pk)


@login_required
@require_POST
def request_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    need = _request_or_404(pk)
    actor = _member(request)
    if not permissions.can_cancel(actor, need):
        raise PermissionDenied(_("Only the group's dispatchers can cancel a request."))
    try:
        services.request_cancel(request=need, actor=actor)
    except ApplicationError as error:
        return _refused(request, pk, error)
    messages.success(
        request, _("Request %(reference)s is cancelled.") % {"reference": need.reference}
    )
    return _back(request, need)


@login_required
@require_POST
def request_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    need = _request_or_404(pk)
    dispatcher = _member(request)
    if not permissions.can_reopen(dispatcher, need):
        raise PermissionDenied(_("Only the group's dispatchers can open a request again."))
    form = ReopenForm(request.POST)
    if not form.is_valid():
        return _with_errors(request, pk, reopen_form=form)
    try:
        services.request_reopen(
            request=need, dispatcher=dispatcher, needed_by=form.cleaned_data["needed_by"]
        )
    except ApplicationError as error:
        return _refused(request, pk, error)
    messages.success(
        request, _("Request %(reference)s is open again.") % {"reference": need.reference}
    )
    return _back(request, need)


@login_required
@require_POST
def request_link_offer(request: HttpRequest, pk: int) -> HttpResponse:
    need = _request_or_404(pk)
    actor = _member(request)
    offers = list(selectors.offers_current(group=need.group).select_related("member"))
    form = OfferChoiceForm(request.POST, offers=offers)
    if not form.is_valid():
        return _with_errors(request, pk, link_offer_form=form)
    offer = form.cleaned_data["offer"]
    if not permissions.can_link_offer(actor, need, offer):
        raise PermissionDenied(
            _("Only the member holding this request or a dispatcher can link an offer to it.")
        )
    try:
        services.request_link_offer(request=need, offer=offer, actor=actor)
    except ApplicationError as error:
        return _refused(request, pk, error)
    messages.success(
        request, _("The request is linked to the offer “%(title)s”.") % {"title": offer.title}
    )
    return redirect("needs:request_detail", pk=need.pk)


@login_required
@require_POST
def message_post(request: HttpRequest, pk: int) -> HttpResponse:
    need = _request_or_404(pk)
    author = _member(request)
    if not permissions.can_use_thread(author, need):
        raise PermissionDenied(
            _("Only the member holding this request and the dispatchers can write here.")
        )
    form = MessageForm(request.POST)
    if not form.is_valid():
        return _with_errors(request, pk, message_form=form)
    try:
        services.message_post(request=need, body=form.cleaned_data["body"], author=author)
    except ApplicationError as error:
        return _refused(request, pk, error)
    messages.success(request, _("Your message is sent."))
    return redirect(reverse("needs:request_detail", kwargs={"pk": need.pk}) + "#thread")


def _standing_need_or_404(need: Request) -> StandingNeed:
    if need.standing_need is None:
        raise Http404
    return need.standing_need


@login_required
@require_POST
def standing_need_commit(request: HttpRequest, pk: int) -> HttpResponse:
    need = _visible_request_or_403(request, pk)
    standing = _standing_need_or_404(need)
    try:
        services.standing_need_commit(standing_need=standing, member=_member(request))
    except ApplicationError as error:
        return _refused(request, pk, error)
    messages.success(request, _("Thank you. Each time this need comes back, it is yours to take."))
    return redirect("needs:request_detail", pk=need.pk)


@login_required
@require_POST
def standing_need_release(request: HttpRequest, pk: int) -> HttpResponse:
    need = _visible_request_or_403(request, pk)
    standing = _standing_need_or_404(need)
    try:
        services.standing_need_release(standing_need=standing, member=_member(request))
    except ApplicationError as error:
        return _refused(request, pk, error)
    messages.success(
        request, _("You no longer take this need each time. The next one is open to everyone.")
    )
    return redirect("needs:request_detail", pk=need.pk)


def _assignment_or_404(pk: int) -> Assignment:
    return get_object_or_404(Assignment.objects.select_related("request__group"), pk=pk)


@login_required
@require_POST
def assignment_accept(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _assignment_or_404(pk)
    member = _member(request)
    if not permissions.can_answer_assignment(member, assignment):
        raise PermissionDenied(_("Only the member who was asked can answer."))
    try:
        services.assignment_accept(assignment=assignment, member=member)
    except ApplicationError as error:
        return _refused(request, assignment.request_id, error)
    messages.success(request, _("You have taken this request. How to reach the person is below."))
    return redirect("needs:request_detail", pk=assignment.request_id)


@login_required
@require_POST
def assignment_decline(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _assignment_or_404(pk)
    member = _member(request)
    if not permissions.can_answer_assignment(member, assignment):
        raise PermissionDenied(_("Only the member who was asked can answer."))
    form = DeclineForm(request.POST)
    if not form.is_valid():
        return _with_errors(request, assignment.request_id, decline_form=form)
    try:
        services.assignment_decline(
            assignment=assignment, member=member, reason=form.cleaned_data["reason"]
        )
    except ApplicationError as error:
        return _refused(request, assignment.request_id, error)
    messages.success(
        request, _("You said no. Thank you for answering; a dispatcher will ask someone else.")
    )
    return redirect("needs:my_requests")
