"""Decision pages: parse the request, call one service, render.

Every member of a group sees its proposals, who took which stance and why (the process is open
to all members), and may propose, take a stance and comment. The help page explaining how
proposals pass is public, like the rest of how a group works.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from mutualaid.common.errors import ApplicationError
from mutualaid.decisions import permissions, rules, selectors, services
from mutualaid.decisions.forms import (
    FORMS_BY_KIND,
    POLICY_FIELDS,
    POLICY_LABELS,
    CommentForm,
    PolicyProposalForm,
    ProposalEditForm,
    ProposalForm,
    StanceForm,
    policy_value_display,
)
from mutualaid.decisions.models import Proposal, Stance
from mutualaid.funds.models import Disbursement, Fund
from mutualaid.groups import selectors as group_selectors
from mutualaid.groups.models import Group, Membership, Role, RoleGrant
from mutualaid.groups.permissions import in_founding_period
from mutualaid.people.models import User

CLOSED_PER_PAGE = 20
# The personal fields of a member no decision page shows, so they are never loaded.
PRIVATE_MEMBER_FIELDS = ("email", "phone", "address")


def _member(request: HttpRequest) -> User:
    """The logged-in member of a view behind login_required."""
    user = request.user
    assert isinstance(user, User)
    return user


def _group_or_404(slug: str) -> Group:
    return get_object_or_404(Group, slug=slug)


def _group_for_member(request: HttpRequest, slug: str) -> Group:
    group = _group_or_404(slug)
    if not permissions.can_view_proposals(request.user, group):
        raise PermissionDenied(_("Only members of this group can see its proposals."))
    return group


def _proposal_or_404(group: Group, pk: int) -> Proposal:
    proposal = selectors.proposal_for_group(group=group, pk=pk)
    if proposal is None:
        raise Http404(_("There is no such proposal in this group."))
    return proposal


def _members_only(users: Any, prefix: str) -> Any:
    return users.defer(*(f"{prefix}{name}" for name in PRIVATE_MEMBER_FIELDS))


@login_required
def proposal_list(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_for_member(request, slug)
    member = _member(request)
    open_proposals = list(
        selectors.group_proposals(group=group, status=Proposal.Status.OPEN).order_by(
            "closes_at", "pk"
        )
    )
    mine = {
        (stance.proposal_id, stance.round): stance
        for stance in Stance.objects.filter(
            member=member, proposal__in=[proposal.pk for proposal in open_proposals]
        )
    }
    now = timezone.now()
    closed = Paginator(
        selectors.group_proposals(group=group)
        .exclude(status=Proposal.Status.OPEN)
        .order_by("-closed_at", "-pk"),
        CLOSED_PER_PAGE,
    ).get_page(request.GET.get("page"))
    closed.object_list = list(closed.object_list)
    for proposal in [*open_proposals, *closed.object_list]:
        proposal.group = group  # for their addresses
    for proposal in open_proposals:
        proposal.my_stance = mine.get((proposal.pk, proposal.round))  # type: ignore[attr-defined]
        proposal.is_due = proposal.closes_at <= now  # type: ignore[attr-defined]
    return render(
        request,
        "decisions/list.html",
        {
            "group": group,
            "open_proposals": open_proposals,
            "page": closed,
            "can_propose": permissions.can_propose(member, group),
        },
    )


def _form_kwargs(group: Group, kind: str, field: str) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"group": group}
    if kind == Proposal.Kind.ROLE_GRANT:
        kwargs["members"] = [
            membership.member for membership in group_selectors.group_members(group=group)
        ]
    elif kind == Proposal.Kind.POLICY:
        kwargs["field"] = field
    return kwargs


def _create_initial(request: HttpRequest, group: Group, kind: str) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    if kind == Proposal.Kind.SPEND:
        fund = request.GET.get("fund", "")
        if fund.isdigit():
            initial["fund"] = int(fund)
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def proposal_create(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(slug)
    member = _member(request)
    if not permissions.can_propose(member, group):
        raise PermissionDenied(_("Only members of this group can make proposals."))
    kind = request.GET.get("kind", "")
    field = request.GET.get("field", "")
    if kind not in FORMS_BY_KIND:
        return render(
            request,
            "decisions/create_choose.html",
            {"group": group, "kinds": Proposal.Kind.choices},
        )
    if kind == Proposal.Kind.POLICY and field not in POLICY_FIELDS:
        return render(
            request,
            "decisions/create_policy_choose.html",
            {
                "group": group,
                "policies": [
                    {
                        "field": name,
                        "label": POLICY_LABELS[name],
                        "value": policy_value_display(group, name, getattr(group, name)),
                    }
                    for name in POLICY_FIELDS
                ],
            },
        )
    form_class = FORMS_BY_KIND[kind]
    kwargs = _form_kwargs(group, kind, field)
    form: ProposalForm
    if request.method == "POST":
        form = form_class(request.POST, **kwargs)
        if form.is_valid():
            spend = form.spend()
            try:
                proposal = services.proposal_create(
                    group=group,
                    proposer=member,
                    kind=form.kind,
                    title=form.cleaned_data["title"],
                    text=form.cleaned_data["text"],
                    closes_at=form.cleaned_data["closes_at"],
                    effect=form.effect(),
                    spend=services.SpendDetails(**spend) if spend else None,
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _("Your proposal is open. Members are told about it now."),
                )
                return redirect(proposal)
    else:
        form = form_class(initial=_create_initial(request, group, kind), **kwargs)
    context: dict[str, Any] = {
        "group": group,
        "form": form,
        "kind": kind,
        "kind_label": Proposal.Kind(kind).label,
        "query": request.GET.urlencode(),
    }
    if kind == Proposal.Kind.SPEND:
        context["has_funds"] = Fund.objects.filter(group=group).exists()
    elif kind in (Proposal.Kind.ROLE_RENEW, Proposal.Kind.ROLE_REVOKE):
        context["has_roles"] = RoleGrant.objects.in_force().filter(group=group).exists()
    elif kind == Proposal.Kind.ROLE_GRANT:
        context["founding_period"] = in_founding_period(group)
    if isinstance(form, PolicyProposalForm):
        context["policy_label"] = POLICY_LABELS[form.policy_field]
    return render(request, "decisions/create.html", context)


def _effect_context(proposal: Proposal) -> dict[str, Any]:
    """What the proposal does (or did) when it passes, with the rows it names."""
    effect = proposal.effect or {}
    group = proposal.group
    kind = proposal.kind
    context: dict[str, Any] = {}
    if kind == Proposal.Kind.SPEND:
        context["disbursement"] = (
            Disbursement.objects.filter(proposal=proposal)
            .select_related("fund", "request", "reimbursement__claimant")
            .only(
                "pk",
                "amount_minor",
                "payee_kind",
                "payee_name",
                "purpose",
                "status",
                "transaction_id",
                "fund__id",
                "fund__name",
                "fund__currency",
                "request__reference",
                "reimbursement__id",
                "reimbursement__claimant__display_name",
                "reimbursement__claimant__erased_at",
            )
            .first()
        )
    elif kind == Proposal.Kind.ROLE_GRANT:
        context["holder"] = _members_only(User.objects, "").filter(pk=effect.get("holder")).first()
        context["role_label"] = (
            Role(effect["role"]).label if effect.get("role") in Role.values else ""
        )
        context["days"] = effect.get("days")
    elif kind in (Proposal.Kind.ROLE_RENEW, Proposal.Kind.ROLE_REVOKE):
        context["grant"] = (
            _members_only(RoleGrant.objects.select_related("holder"), "holder__")
            .filter(pk=effect.get("grant"), group=group)
            .first()
        )
        context["days"] = effect.get("days")
    elif kind == Proposal.Kind.POLICY:
        done = (proposal.effect_result or {}).get("changes") or {}
        changes = []
        for name, proposed in (effect.get("changes") or {}).items():
            if name in done:
                before, after = done[name].get("before"), done[name].get("after")
            else:
                before, after = getattr(group, name, None), proposed
            changes.append(
                {
                    "label": POLICY_LABELS.get(name, name),
                    "before": policy_value_display(group, name, before),
                    "after": policy_value_display(group, name, after),
                }
            )
        context["changes"] = changes
    return context


def _render_detail(
    request: HttpRequest,
    group: Group,
    proposal: Proposal,
    *,
    stance_form: StanceForm | None = None,
    comment_form: CommentForm | None = None,
) -> HttpResponse:
    member = _member(request)
    if proposal.status == Proposal.Status.OPEN and proposal.closes_at <= timezone.now():
        # The periodic job may not have run yet; closing is idempotent, so do it now. The
        # stances already loaded hold every round, so they stay right if a vote opens.
        services.proposal_close(proposal=proposal)
    stances = selectors.round_stances(proposal=proposal)
    counts = selectors.stance_tally(proposal=proposal)
    mine = selectors.member_stance(proposal=proposal, member=member)
    comments = list(proposal.comments.all())
    is_open = permissions.is_open(proposal)
    members = (
        proposal.members_at_close
        if proposal.members_at_close is not None
        else Membership.objects.filter(group=group).count()
    )
    can_take_stance = is_open and permissions.can_take_stance(member, proposal)
    if stance_form is None and can_take_stance:
        stance_form = StanceForm(
            initial={"position": mine.position, "reason": mine.reason} if mine else None
        )
    text_frozen = bool(stances) or proposal.round > 1
    can_comment = permissions.can_comment(member, proposal)
    if comment_form is None and can_comment:
        comment_form = CommentForm()
    context: dict[str, Any] = {
        "group": group,
        "proposal": proposal,
        "stances": stances,
        "counts": [(value, label, counts[value]) for value, label in Stance.Position.choices],
        "stance_total": len(stances),
        "my_stance": mine,
        "members": members,
        "quorum": rules.quorum(members=members, quorum_percent=proposal.quorum_percent),
        "is_open": is_open,
        "can_take_stance": can_take_stance,
        "stance_form": stance_form if can_take_stance else None,
        "can_comment": can_comment,
        "comment_form": comment_form if can_comment else None,
        "comments": comments,
        "can_withdraw": permissions.can_withdraw(member, proposal),
        "can_edit": permissions.can_withdraw(member, proposal) and not text_frozen,
        "text_frozen": text_frozen,
        **_effect_context(proposal),
    }
    return render(request, "decisions/detail.html", context)


@login_required
def proposal_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    group = _group_for_member(request, slug)
    return _render_detail(request, group, _proposal_or_404(group, pk))


@login_required
@require_POST
def stance_take(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    group = _group_for_member(request, slug)
    proposal = _proposal_or_404(group, pk)
    form = StanceForm(request.POST)
    if form.is_valid():
        try:
            stance = services.stance_take(
                proposal=proposal,
                member=_member(request),
                position=form.cleaned_data["position"],
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _(
                    "Your stance is recorded: %(position)s. You can change it until the "
                    "proposal closes."
                )
                % {"position": stance.get_position_display()},
            )
            return redirect(proposal)
    return _render_detail(request, group, proposal, stance_form=form)


@login_required
@require_POST
def comment_add(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    group = _group_for_member(request, slug)
    proposal = _proposal_or_404(group, pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            comment = services.comment_add(
                proposal=proposal, author=_member(request), text=form.cleaned_data["text"]
            )
        except ApplicationError as error:
            form.add_error("text", error.message)
        else:
            messages.success(request, _("Your comment is added."))
            return redirect(f"{proposal.get_absolute_url()}#comment-{comment.pk}")
    return _render_detail(request, group, proposal, comment_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def proposal_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    group = _group_for_member(request, slug)
    proposal = _proposal_or_404(group, pk)
    member = _member(request)
    if not permissions.can_withdraw(member, proposal):
        raise PermissionDenied(
            _("Only the member who made a proposal can change it, while it is open.")
        )
    if not permissions.can_edit(member, proposal):
        messages.error(
            request,
            _(
                "Members have taken stances on this text, so it can no longer change. Withdraw "
                "it and propose again."
            ),
        )
        return redirect(proposal)
    initial = {"title": proposal.title, "text": proposal.text}
    form = ProposalEditForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.proposal_edit(
                    proposal=proposal,
                    actor=member,
                    title=form.cleaned_data["title"],
                    text=form.cleaned_data["text"],
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("The proposal is reworded."))
                return redirect(proposal)
        status = 400
    context = {"group": group, "proposal": proposal, "form": form}
    return render(request, "decisions/edit.html", context, status=status)


@login_required
@require_POST
def proposal_withdraw(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    group = _group_for_member(request, slug)
    proposal = _proposal_or_404(group, pk)
    try:
        services.proposal_withdraw(proposal=proposal, actor=_member(request))
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("You withdrew the proposal."))
    return redirect(proposal)


def decisions_help(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(slug)
    return render(
        request,
        "decisions/help.html",
        {
            "group": group,
            "founding_period": in_founding_period(group),
            "is_member": permissions.can_view_proposals(request.user, group),
        },
    )
