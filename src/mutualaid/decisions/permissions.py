"""Who may do what with proposals. The only place access to decisions is decided.

Every member of a group may read its proposals, propose, take a stance and comment: deciding
together is what membership is. Only the proposer may withdraw a proposal, while it is open.
"""

from datetime import datetime
from typing import Any

from django.utils import timezone

from mutualaid.decisions.models import Proposal
from mutualaid.groups.models import Group
from mutualaid.groups.permissions import is_member


def is_open(proposal: Proposal, *, now: datetime | None = None) -> bool:
    """Open for stances: not closed, and its closing time not yet reached even if the job that
    closes it has not run yet."""
    return proposal.status == Proposal.Status.OPEN and proposal.closes_at > (now or timezone.now())


def can_view_proposals(user: Any, group: Group) -> bool:
    return is_member(user, group)


def can_propose(user: Any, group: Group) -> bool:
    return is_member(user, group)


def can_take_stance(user: Any, proposal: Proposal) -> bool:
    return is_open(proposal) and is_member(user, proposal.group)


def can_withdraw(user: Any, proposal: Proposal) -> bool:
    return (
        bool(getattr(user, "is_authenticated", False))
        and proposal.proposed_by_id is not None
        and user.pk == proposal.proposed_by_id
        and is_open(proposal)
    )


def can_edit(user: Any, proposal: Proposal) -> bool:
    """The proposer may reword an open proposal until the first stance is in; after that its
    text is frozen, and changing it means withdrawing it and proposing again."""
    return can_withdraw(user, proposal) and not proposal.stances.exists()


def can_comment(user: Any, proposal: Proposal) -> bool:
    return is_member(user, proposal.group)
