"""Groups that decide, proposals and stances, made through the real services."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from mutualaid.decisions import services
from mutualaid.decisions.models import Proposal, Stance
from mutualaid.groups import services as group_services
from mutualaid.groups.models import Group, Role
from mutualaid.groups.tests.factories import make_group
from mutualaid.needs.tests.factories import member_of
from mutualaid.people.models import User

__all__ = [
    "close",
    "deciding_group",
    "fund_with",
    "make_group",
    "make_proposal",
    "member_of",
    "members_of",
    "spend",
    "stances",
    "treasurer_of",
]

_counter = iter(range(1, 1_000_000))

DEFAULT_OPEN = timedelta(days=3)


def deciding_group(
    *,
    rule: str = "consent",
    members: int = 0,
    quorum_percent: int = 25,
    majority_percent: int = 67,
    **fields: Any,
) -> Group:
    """A group deciding by `rule`, with its founder and `members` more members. Decision
    policies are set directly: in a real group they come from a founding default or from a
    passed policy proposal."""
    group = make_group(members=members, **fields)
    Group.objects.filter(pk=group.pk).update(
        decision_rule=rule,
        quorum_percent=quorum_percent,
        fallback_majority_percent=majority_percent,
    )
    group.refresh_from_db()
    return group


def members_of(group: Group, count: int, **fields: Any) -> list[User]:
    return [member_of(group, **fields) for _ in range(count)]


def make_proposal(
    group: Group | None = None,
    *,
    proposer: User | None = None,
    kind: str = Proposal.Kind.GENERAL,
    open_for: timedelta = DEFAULT_OPEN,
    closes_at: datetime | None = None,
    **fields: Any,
) -> Proposal:
    """A proposal made through proposal_create by `proposer` (a new member when not given)."""
    n = next(_counter)
    group = group or deciding_group()
    proposer = proposer or member_of(group)
    fields.setdefault("title", f"Buy a second cargo bike ({n})")
    fields.setdefault("text", "The one we have is booked every day; a second would help.")
    return services.proposal_create(
        group=group,
        proposer=proposer,
        kind=kind,
        closes_at=closes_at or timezone.now() + open_for,
        **fields,
    )


def stances(proposal: Proposal, members: Iterable[User], position: str) -> list[Stance]:
    """Each of `members` takes `position` on the proposal (with a reason where one is needed)."""
    reason = "" if position in ("agree", "abstain") else "I see a problem with it"
    return [
        services.stance_take(proposal=proposal, member=member, position=position, reason=reason)
        for member in members
    ]


def close(proposal: Proposal, *, after: timedelta = timedelta(seconds=1)) -> Proposal:
    """Close the proposal as the periodic job would just after its closing time."""
    return services.proposal_close(proposal=proposal, now=proposal.closes_at + after)


def treasurer_of(group: Group) -> User:
    """A member of `group` holding the treasurer role, proposed and confirmed by two others."""
    treasurer = member_of(group)
    grant = group_services.role_grant_propose(
        group=group,
        proposer=member_of(group),
        holder=treasurer,
        role=Role.TREASURER,
        reason="Keeps the books",
    )
    group_services.role_grant_confirm(grant=grant, confirmer=member_of(group))
    return treasurer


def fund_with(group: Group, *, balance_minor: int = 0, name: str = "Hardship fund") -> Any:
    """A fund of `group` opened by a treasurer, holding `balance_minor` from one contribution."""
    from mutualaid.funds import services as fund_services

    treasurer = treasurer_of(group)
    fund = fund_services.fund_create(group=group, actor=treasurer, name=name)
    if balance_minor:
        fund_services.contribution_record(
            fund=fund, actor=treasurer, amount_minor=balance_minor, method="cash"
        )
    return fund


def spend(fund: Any, amount_minor: int, purpose: str = "Food vouchers") -> services.SpendDetails:
    return services.SpendDetails(
        fund=fund,
        amount_minor=amount_minor,
        purpose=purpose,
        payee_kind="payee",
        payee_name="Corner Shop",
    )
