"""Proposals in the JSON API: what a group's members are deciding, their stances and comments.

Members read a group's proposals and take part through the same services as the pages, so a
stance, a comment or a withdrawal obeys the same rules: 403 for whoever may not, 409 once a
proposal has closed. Amounts are whole minor units with their currency; a requester appears
only as "neighbour" and the request's reference.
"""

from datetime import datetime
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import ConfigDict

from mutualaid.api.errors import ErrorOut, ValidationErrorOut
from mutualaid.api.pagination import LimitOffset
from mutualaid.api.text import NO_NUL_CHARACTER
from mutualaid.common.errors import ApplicationError
from mutualaid.decisions import permissions, services
from mutualaid.decisions.models import (
    COMMENT_MAX_LENGTH,
    REASON_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Comment,
    Proposal,
    Stance,
)
from mutualaid.funds.ledger import AMOUNT_MAX_MINOR
from mutualaid.funds.models import Disbursement, Fund
from mutualaid.funds.selectors import payee_shown
from mutualaid.groups.models import Group, Role
from mutualaid.needs.models import ReimbursementClaim, Request
from mutualaid.people.models import User

router = Router(tags=["decisions"])

# Ids in a body are database keys: anything past a 63-bit integer names nothing.
MAX_ID = 2**63 - 1
# The most one proposal may spend, as the ledger takes it: a bigger number is a 422, never a
# database error.
MAX_AMOUNT_MINOR = AMOUNT_MAX_MINOR
ROLE_DAYS_MAX = 365
# A policy value: a switch, a number or a rule's code.
PolicyValue = (
    bool
    | Annotated[int, Field(ge=0, le=MAX_AMOUNT_MINOR)]
    | Annotated[str, Field(max_length=40, pattern=NO_NUL_CHARACTER)]
)
POLICY_FIELD = r"^[a-z_]{1,40}$"


# What comes in


class EffectIn(Schema):
    """What a passed proposal does, by kind. A role grant: holder, role, days. A renewal: grant,
    days. A revocation: grant. A policy change: changes. A general or spend proposal: none."""

    model_config = ConfigDict(extra="forbid")

    holder: int | None = Field(None, ge=1, le=MAX_ID, description="The member to give the role.")
    role: Role | None = None
    days: int | None = Field(
        None, ge=1, le=ROLE_DAYS_MAX, description="How long the role lasts, 1 to 365 days."
    )
    grant: int | None = Field(
        None, ge=1, le=MAX_ID, description="The role grant to renew or take back."
    )
    changes: dict[Annotated[str, Field(pattern=POLICY_FIELD)], PolicyValue] | None = Field(
        None,
        description=(
            "The group policies to change and their new values, e.g. "
            '{"quorum_percent": 30, "decision_rule": "consent"}.'
        ),
    )


class SpendIn(Schema):
    """For a spend proposal: the disbursement it makes when it passes."""

    model_config = ConfigDict(extra="forbid")

    fund: int = Field(ge=1, le=MAX_ID, description="The id of one of the group's funds.")
    amount_minor: int = Field(
        ge=1,
        le=MAX_AMOUNT_MINOR,
        strict=True,
        description="In whole minor units of the fund's currency (cents, pence).",
    )
    purpose: str = Field(
        min_length=1,
        max_length=300,
        pattern=NO_NUL_CHARACTER,
        description="Shown in the open books: never a requester's name.",
    )
    payee_kind: Disbursement.PayeeKind
    request: int | None = Field(
        None, ge=1, le=MAX_ID, description='With payee_kind "request": the request\'s id.'
    )
    reimbursement: int | None = Field(
        None,
        ge=1,
        le=MAX_ID,
        description='With payee_kind "reimbursement": the reimbursement claim\'s id.',
    )
    payee_name: str = Field(
        "",
        max_length=200,
        pattern=NO_NUL_CHARACTER,
        description='With payee_kind "payee": a shop, a landlord, a utility company.',
    )


class ProposalIn(Schema):
    kind: Proposal.Kind
    title: str = Field(min_length=1, max_length=TITLE_MAX_LENGTH, pattern=NO_NUL_CHARACTER)
    text: str = Field(min_length=1, max_length=TEXT_MAX_LENGTH, pattern=NO_NUL_CHARACTER)
    closes_at: datetime = Field(description="Between 24 hours and 30 days from now.")
    effect: EffectIn | None = Field(
        None, description="For role and policy proposals: what it does when it passes."
    )
    spend: SpendIn | None = Field(None, description="For a spend proposal.")


class StanceIn(Schema):
    position: Stance.Position
    reason: str = Field(
        "",
        max_length=REASON_MAX_LENGTH,
        pattern=NO_NUL_CHARACTER,
        description="Why; needed to disagree or block.",
    )


class CommentIn(Schema):
    text: str = Field(min_length=1, max_length=COMMENT_MAX_LENGTH, pattern=NO_NUL_CHARACTER)


# What goes out


class StanceCountsOut(Schema):
    agree: int
    abstain: int
    disagree: int
    block: int


class YourStanceOut(Schema):
    position: str
    reason: str


class SpendOut(Schema):
    """The disbursement a spend proposal makes."""

    id: int
    fund: int
    fund_name: str
    amount_minor: int
    currency: str
    purpose: str
    payee_kind: str
    payee: str = Field(
        description=(
            'Who is paid, as the open books show it: "neighbour" and the request\'s reference, '
            "the volunteer paid back, or the payee's name."
        )
    )
    status: str


class EffectOut(Schema):
    holder: int | None = None
    role: str | None = None
    days: int | None = None
    grant: int | None = None
    changes: dict[str, Any] | None = None
    disbursement: SpendOut | None = Field(None, description="For a spend proposal.")


class ResultOut(Schema):
    """What a passed proposal did, once its effect was applied."""

    applied_at: datetime | None
    error: str = Field(description='Why the effect could not be applied; "" when it was.')
    disbursement: int | None = Field(description="The disbursement a spend proposal made.")
    transaction: int | None = Field(description="The fund's transaction, once it is paid.")
    role_grant: int | None = Field(description="The role grant given, renewed or taken back.")
    changes: dict[str, Any] | None = Field(description="The policies changed.")


class ProposalOut(Schema):
    id: int
    group: str = Field(description="The group's slug.")
    kind: str
    title: str
    text: str
    effect: EffectOut
    proposed_by: str | None = Field(description="The proposer's display name.")
    created_at: datetime
    closes_at: datetime
    rule: str = Field(description="The decision rule, as the group had it when this opened.")
    quorum_percent: int
    majority_percent: int
    round: int = Field(description="1, or 2 for the fallback vote after a failed first round.")
    status: str
    outcome: str = Field(description='Why it closed as it did; "" while open.')
    closed_at: datetime | None
    stances: StanceCountsOut = Field(description="Stances taken in the current round.")
    your_stance: YourStanceOut | None = Field(description="Yours in the current round.")
    result: ResultOut

    @staticmethod
    def resolve_group(proposal: Proposal) -> str:
        return proposal.group.slug

    @staticmethod
    def resolve_proposed_by(proposal: Proposal) -> str | None:
        return _name(proposal.proposed_by)

    @staticmethod
    def resolve_effect(proposal: Proposal) -> dict[str, Any]:
        effect = proposal.effect if isinstance(proposal.effect, dict) else {}
        disbursement = _disbursement(proposal)
        return {
            "holder": effect.get("holder"),
            "role": effect.get("role"),
            "days": effect.get("days"),
            "grant": effect.get("grant"),
            "changes": effect.get("changes"),
            "disbursement": _spend(disbursement) if disbursement else None,
        }

    @staticmethod
    def resolve_stances(proposal: Proposal) -> dict[str, int]:
        return {
            position: getattr(proposal, f"{position}_count", 0)
            for position in Stance.Position.values
        }

    @staticmethod
    def resolve_your_stance(proposal: Proposal) -> dict[str, str] | None:
        position = getattr(proposal, "your_position", None)
        if not position:
            return None
        return {"position": position, "reason": getattr(proposal, "your_reason", "")}

    @staticmethod
    def resolve_result(proposal: Proposal) -> dict[str, Any]:
        result = proposal.effect_result if isinstance(proposal.effect_result, dict) else {}
        disbursement = _disbursement(proposal)
        return {
            "applied_at": proposal.effect_applied_at,
            "error": proposal.effect_error,
            "disbursement": disbursement.pk if disbursement else None,
            "transaction": disbursement.transaction_id if disbursement else None,
            "role_grant": proposal.role_grant_id or result.get("role_grant"),
            "changes": result.get("changes"),
        }


class StanceOut(Schema):
    member: str = Field(description="The member's display name.")
    position: str
    reason: str
    updated_at: datetime

    @staticmethod
    def resolve_member(stance: Stance) -> str:
        return stance.member.public_name


class CommentOut(Schema):
    id: int
    author: str | None = Field(description="The author's display name.")
    text: str
    created_at: datetime

    @staticmethod
    def resolve_author(comment: Comment) -> str | None:
        return _name(comment.author)


class ProposalDetail(ProposalOut):
    stance_list: list[StanceOut] = Field(description="Every stance of the current round.")
    comments: list[CommentOut]

    @staticmethod
    def resolve_comments(proposal: Proposal) -> list[Comment]:
        return list(proposal.comments.select_related("author").order_by("created_at", "pk"))

    @staticmethod
    def resolve_stance_list(proposal: Proposal) -> list[Stance]:
        return list(
            proposal.stances.filter(round=proposal.round)
            .select_related("member")
            .order_by("created_at", "pk")
        )


# Shared steps


def _caller(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]


def _name(user: User | None) -> str | None:
    return user.public_name if user is not None else None


def _spend(disbursement: Disbursement) -> dict[str, Any]:
    return {
        "id": disbursement.pk,
        "fund": disbursement.fund_id,
        "fund_name": disbursement.fund.name,
        "amount_minor": disbursement.amount_minor,
        "currency": disbursement.fund.currency,
        "purpose": disbursement.purpose,
        "payee_kind": disbursement.payee_kind,
        "payee": payee_shown(disbursement),
        "status": disbursement.status,
    }


def _disbursement(proposal: Proposal) -> Disbursement | None:
    try:
        return proposal.disbursement
    except Disbursement.DoesNotExist:
        return None


def _stance_count(position: str) -> Coalesce:
    counted = (
        Stance.objects.filter(
            proposal=OuterRef("pk"),
            round=OuterRef("round"),
            position=position,
            # As the proposal counts them: stances of members who left no longer count.
            member__memberships__group=OuterRef("group"),
        )
        .order_by()
        .values("proposal")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _proposals(viewer: User) -> QuerySet[Proposal]:
    """Proposals with the stance counts of their current round, the viewer's own stance and
    what a spend proposal pays, in one query."""
    mine = Stance.objects.filter(proposal=OuterRef("pk"), round=OuterRef("round"), member=viewer)
    return (
        Proposal.objects.select_related(
            "group",
            "proposed_by",
            "disbursement__fund",
            "disbursement__request",
            "disbursement__reimbursement__claimant",
        )
        .annotate(
            **{f"{position}_count": _stance_count(position) for position in Stance.Position.values},
            your_position=Subquery(mine.values("position")[:1]),
            your_reason=Subquery(mine.values("reason")[:1]),
        )
        .order_by("-created_at", "-pk")
    )


def _proposal(request: HttpRequest, proposal_id: int) -> Proposal:
    """The proposal for a member of its group: 404 when there is none, 403 for anyone else."""
    proposal = get_object_or_404(_proposals(_caller(request)), pk=proposal_id)
    if not permissions.can_view_proposals(_caller(request), proposal.group):
        raise PermissionDenied(_("Only members of this group can see its proposals."))
    return proposal


def _spend_details(group: Group, spend: SpendIn) -> "services.SpendDetails":
    """The fund, request and claim named by id, each of this group; the service checks the
    rest (amounts, limits, who is paid)."""
    fund = Fund.objects.filter(group=group, pk=spend.fund).first()
    if fund is None:
        raise ApplicationError(_("Please choose one of this group's funds."))
    help_request = None
    if spend.request is not None:
        help_request = Request.objects.filter(group=group, pk=spend.request).first()
        if help_request is None:
            raise ApplicationError(_("Please choose a request of this group."))
    claim = None
    if spend.reimbursement is not None:
        claim = (
            ReimbursementClaim.objects.filter(request__group=group, pk=spend.reimbursement)
            .select_related("request", "claimant")
            .first()
        )
        if claim is None:
            raise ApplicationError(_("Please choose a reimbursement claim of this group."))
    return services.SpendDetails(
        fund=fund,
        amount_minor=spend.amount_minor,
        purpose=spend.purpose,
        payee_kind=spend.payee_kind,
        request=help_request,
        reimbursement=claim,
        payee_name=spend.payee_name,
    )


# Operations


@router.get(
    "/groups/{slug:slug}/proposals",
    response={
        200: list[ProposalOut],
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        422: ValidationErrorOut,
    },
    summary="List a group's proposals",
)
@paginate(LimitOffset)
def list_proposals(
    request: HttpRequest,
    slug: str,
    status: Annotated[
        Proposal.Status | None, Query(description="Only proposals with this status.")
    ] = None,
) -> QuerySet[Proposal]:
    """A group's proposals, newest first, with the stances of their current round and yours.
    Members only."""
    group = get_object_or_404(Group, slug=slug)
    if not permissions.can_view_proposals(_caller(request), group):
        raise PermissionDenied(_("Only members of this group can see its proposals."))
    proposals = _proposals(_caller(request)).filter(group=group)
    if status is not None:
        proposals = proposals.filter(status=status)
    return proposals


@router.post(
    "/groups/{slug:slug}/proposals",
    response={
        201: ProposalDetail,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        413: ErrorOut,
        422: ValidationErrorOut,
    },
    summary="Make a proposal",
)
def create_proposal(request: HttpRequest, slug: str, payload: ProposalIn) -> Status[Proposal]:
    """Propose something to the group; every member is told. A role or policy proposal carries
    its `effect`, a spend proposal its `spend`, and a passed one does what it says when it
    closes. Members only."""
    group = get_object_or_404(Group, slug=slug)
    member = _caller(request)
    if not permissions.can_propose(member, group):
        raise PermissionDenied(_("Only members of this group can make a proposal."))
    if payload.kind == Proposal.Kind.SPEND and payload.spend is None:
        raise ApplicationError(_("Please say what to spend, from which fund and for what."))
    spend = _spend_details(group, payload.spend) if payload.spend else None
    proposal = services.proposal_create(
        group=group,
        proposer=member,
        kind=payload.kind,
        title=payload.title,
        text=payload.text,
        closes_at=payload.closes_at,
        effect=payload.effect.model_dump(exclude_none=True) if payload.effect else None,
        spend=spend,
    )
    return Status(201, _proposal(request, proposal.pk))


@router.get(
    "/proposals/{int:id}",
    response={200: ProposalDetail, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Show a proposal",
)
def get_proposal(request: HttpRequest, id: int) -> Proposal:
    """One proposal with every stance of its current round and the discussion. Members only."""
    return _proposal(request, id)


@router.post(
    "/proposals/{int:id}/stance",
    response={
        200: ProposalDetail,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        413: ErrorOut,
        422: ValidationErrorOut,
    },
    summary="Take a stance",
)
def take_stance(request: HttpRequest, id: int, payload: StanceIn) -> Proposal:
    """Agree, abstain, disagree or block, with a reason to disagree or block. You may change
    it until the proposal closes (409 afterwards). Members only."""
    proposal = _proposal(request, id)
    services.stance_take(
        proposal=proposal, member=_caller(request), position=payload.position, reason=payload.reason
    )
    return _proposal(request, id)


@router.post(
    "/proposals/{int:id}/comments",
    response={
        201: CommentOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        413: ErrorOut,
        422: ValidationErrorOut,
    },
    summary="Comment on a proposal",
)
def add_comment(request: HttpRequest, id: int, payload: CommentIn) -> Status[Comment]:
    """Add to the discussion under a proposal. Members only."""
    proposal = _proposal(request, id)
    comment = services.comment_add(proposal=proposal, author=_caller(request), text=payload.text)
    return Status(201, comment)


@router.post(
    "/proposals/{int:id}/withdraw",
    response={
        200: ProposalDetail,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
    },
    summary="Withdraw your proposal",
)
def withdraw_proposal(request: HttpRequest, id: int) -> Proposal:
    """Take back a proposal you made while it is open (409 once it has closed). To amend a
    proposal, withdraw it and propose again."""
    proposal = _proposal(request, id)
    services.proposal_withdraw(proposal=proposal, actor=_caller(request))
    return _proposal(request, id)
