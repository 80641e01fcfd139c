"""Groups in the JSON API: the public directory, joining, and what members may see."""

from datetime import datetime
from typing import Literal

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from mutualaid.api.auth import TOKEN_OPTIONAL
from mutualaid.api.errors import ErrorOut, ValidationErrorOut
from mutualaid.api.pagination import LimitOffset
from mutualaid.api.text import NO_NUL_CHARACTER
from mutualaid.groups import permissions, selectors, services
from mutualaid.groups.models import DecisionRule, Group, JoinRequest, Membership, RoleGrant

router = Router(tags=["groups"])


class GroupSummary(Schema):
    slug: str
    name: str
    kind: str
    place: str
    parent: str | None = Field(None, description="The slug of the group this one is part of.")
    languages: list[str]
    member_count: int

    @staticmethod
    def resolve_parent(group: Group) -> str | None:
        return group.parent.slug if group.parent else None


class GroupPolicies(Schema):
    join_needs_vouch: bool
    retention_days: int = Field(description="Days the personal data of closed requests is kept.")
    request_pacing_days: int = Field(
        description=(
            "Days during which the same household's next request of one kind is listed after "
            "first requests (fair pacing, never a refusal); 0 is off."
        )
    )
    match_radius_km: int = Field(description="How far matching looks for volunteers.")
    answer_within_hours: int = Field(
        description="Hours a volunteer has to answer a proposed request before it passes on."
    )
    spending_limit_minor: int = Field(
        description="What may be spent without a proposal, in minor units of the currency."
    )
    currency: str
    decision_rule: DecisionRule = Field(
        description=(
            'How proposals pass: "consensus", "consent", or "consensus_then_vote" (a vote by '
            "fallback_majority_percent after a first round without consensus)."
        )
    )
    quorum_percent: int = Field(
        description="The share of members, in percent, who must take a stance on a proposal."
    )
    fallback_majority_percent: int = Field(
        description="The majority, in percent, a fallback vote needs to pass."
    )
    reimbursement_limit_minor: int = Field(
        description="The most a volunteer can claim back at once, in minor units of the currency."
    )
    publishes_fund_summary: bool = Field(
        description="Whether the totals of the group's funds are published for anyone to see."
    )


class GroupDetail(GroupSummary):
    description: str
    centre_latitude: float
    centre_longitude: float
    radius_km: float
    hotline_phone: str
    contact_email: str
    created_at: datetime
    policies: GroupPolicies

    @staticmethod
    def resolve_policies(group: Group) -> GroupPolicies:
        return GroupPolicies(
            join_needs_vouch=group.join_needs_vouch,
            retention_days=group.retention_days,
            request_pacing_days=group.request_pacing_days,
            match_radius_km=group.match_radius_km,
            answer_within_hours=group.answer_within_hours,
            spending_limit_minor=group.spending_limit_minor,
            currency=group.currency,
            decision_rule=DecisionRule(group.decision_rule),
            quorum_percent=group.quorum_percent,
            fallback_majority_percent=group.fallback_majority_percent,
            reimbursement_limit_minor=group.reimbursement_limit_minor,
            publishes_fund_summary=group.publishes_fund_summary,
        )


class JoinIn(Schema):
    message: str = Field(
        "", max_length=1000, pattern=NO_NUL_CHARACTER, description="A few words to the group."
    )


class JoinOut(Schema):
    status: Literal["member", "pending"] = Field(
        description='"member" once in the group; "pending" while waiting for a vouch.'
    )


class MemberOut(Schema):
    display_name: str
    joined_at: datetime

    @staticmethod
    def resolve_display_name(membership: Membership) -> str:
        return membership.member.public_name


class RoleGrantOut(Schema):
    role: str
    role_name: str
    holder: str = Field(description="The holder's display name.")
    granted_at: datetime
    expires_at: datetime
    reason: str = Field(description="Why the group gave the role, as the group page shows it.")

    @staticmethod
    def resolve_role_name(grant: RoleGrant) -> str:
        return str(grant.get_role_display())

    @staticmethod
    def resolve_reason(grant: RoleGrant) -> str:
        return grant.reason_display

    @staticmethod
    def resolve_holder(grant: RoleGrant) -> str:
        return grant.holder.public_name


@router.get(
    "",
    response={200: list[GroupSummary], 401: ErrorOut, 422: ValidationErrorOut},
    summary="List groups",
    **TOKEN_OPTIONAL,
)
@paginate(LimitOffset)
def list_groups(
    request: HttpRequest,
    q: str = Query(
        "",
        max_length=100,
        pattern=NO_NUL_CHARACTER,
        description="Search names, places and descriptions.",
    ),
) -> QuerySet[Group]:
    """The public directory of groups, by name."""
    return selectors.group_list(search=q)


# A slug is letters, digits, hyphens and underscores ({slug:slug}); any other address under
# /api/groups/ is a 404 before it reaches the database.
@router.get(
    "/{slug:slug}",
    response={200: GroupDetail, 401: ErrorOut, 404: ErrorOut},
    summary="Show a group",
    **TOKEN_OPTIONAL,
)
def get_group(request: HttpRequest, slug: str) -> Group:
    """A group's public details and policies."""
    return get_object_or_404(selectors.group_list(), slug=slug)


@router.post(
    "/{slug:slug}/join",
    response={
        200: JoinOut,
        201: JoinOut,
        202: JoinOut,
        400: ErrorOut,
        401: ErrorOut,
        404: ErrorOut,
        413: ErrorOut,
        422: ValidationErrorOut,
    },
    summary="Join a group",
)
def join_group(request: HttpRequest, slug: str, payload: JoinIn | None = None) -> Status[dict]:
    """Join a group: 201 when you are in, 202 when the group first wants a vouch from a
    member, 200 when you were already a member. The body is optional."""
    group = get_object_or_404(Group, slug=slug)
    member = request.auth  # type: ignore[attr-defined]
    was_member = permissions.is_member(member, group)
    message = payload.message if payload else ""
    result = services.group_join(group=group, member=member, message=message)
    if isinstance(result, JoinRequest):
        return Status(202, {"status": "pending"})
    return Status(200 if was_member else 201, {"status": "member"})


def _group_for_members(request: HttpRequest, slug: str) -> Group:
    group = get_object_or_404(Group, slug=slug)
    if not permissions.can_view_members(request.auth, group):  # type: ignore[attr-defined]
        raise PermissionDenied(_("Only members of this group can see who is in it."))
    return group


@router.get(
    "/{slug:slug}/members",
    response={
        200: list[MemberOut],
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        422: ValidationErrorOut,
    },
    summary="List a group's members",
)
@paginate(LimitOffset)
def list_members(request: HttpRequest, slug: str) -> QuerySet[Membership]:
    """Who is in the group, oldest member first. Members only."""
    return selectors.group_members(group=_group_for_members(request, slug))


@router.get(
    "/{slug:slug}/roles",
    response={200: list[RoleGrantOut], 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="List the roles in force",
)
def list_roles(request: HttpRequest, slug: str) -> QuerySet[RoleGrant]:
    """Who wears which role now and until when: confirmed grants that have not expired or been
    given back. Members only."""
    group = get_object_or_404(Group, slug=slug)
    if not permissions.can_view_roles(request.auth, group):  # type: ignore[attr-defined]
        raise PermissionDenied(_("Only members of this group can see who holds its roles."))
    return selectors.group_roles_in_force(group=group)
