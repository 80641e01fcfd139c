"""Who may see and do what with requests and offers. The only place that is decided.

Need to know: members of a group see its open requests without personal data; the member
holding a request and the group's dispatchers see how to reach the requester.
"""

from typing import Any

from mutualaid.groups.models import Group, Role
from mutualaid.groups.permissions import holds_role, is_member
from mutualaid.needs.models import Assignment, Offer, Request


def can_dispatch(user: Any, group: Group) -> bool:
    return holds_role(user, group, Role.DISPATCHER)


def can_view_requests(user: Any, group: Group) -> bool:
    return is_member(user, group)


def can_view_request(user: Any, request: Request) -> bool:
    return is_member(user, request.group)


def holds_request(user: Any, request: Request) -> bool:
    """Holding a request gives its access only while the holder is still in the group."""
    return (
        bool(getattr(user, "is_authenticated", False))
        and request.status == Request.Status.CLAIMED
        and request.claimed_by_id == user.pk
        and is_member(user, request.group)
    )


def can_view_contact(user: Any, request: Request) -> bool:
    """The claimer while they hold it, and the group's dispatchers. Nobody once purged."""
    if request.personal_data_erased_at is not None:
        return False
    return holds_request(user, request) or can_dispatch(user, request.group)


def can_claim(user: Any, request: Request) -> bool:
    return is_member(user, request.group)


def can_release(user: Any, request: Request) -> bool:
    return holds_request(user, request)


def can_complete(user: Any, request: Request) -> bool:
    return holds_request(user, request)


def can_assign(user: Any, request: Request) -> bool:
    return can_dispatch(user, request.group)


def can_answer_assignment(user: Any, assignment: Assignment) -> bool:
    return (
        bool(getattr(user, "is_authenticated", False))
        and assignment.member_id == user.pk
        and assignment.answer == Assignment.Answer.PENDING
    )


def can_cancel(user: Any, request: Request) -> bool:
    return can_dispatch(user, request.group)


def can_reopen(user: Any, request: Request) -> bool:
    return can_dispatch(user, request.group)


def can_use_thread(user: Any, request: Request) -> bool:
    """The thread is between the requester, whoever holds the request, and the dispatchers."""
    if request.personal_data_erased_at is not None:
        return False
    return holds_request(user, request) or can_dispatch(user, request.group)


def can_take_phone_requests(user: Any, group: Group) -> bool:
    return can_dispatch(user, group)


def can_view_follow_up(user: Any, group: Group) -> bool:
    return can_dispatch(user, group)


def can_view_report(user: Any, group: Group) -> bool:
    """Figures only, no personal data: every member may read them."""
    return is_member(user, group)


def can_add_category(user: Any, group: Group) -> bool:
    return can_dispatch(user, group) or holds_role(user, group, Role.STEWARD)


def can_offer(user: Any, group: Group) -> bool:
    return is_member(user, group)


def can_view_offers(user: Any, group: Group) -> bool:
    return is_member(user, group)


def can_withdraw_offer(user: Any, offer: Offer) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and offer.member_id == user.pk


def can_link_offer(user: Any, request: Request, offer: Offer) -> bool:
    """The member holding the request, or a dispatcher, links an offer of the same group."""
    if offer.group_id != request.group_id:
        return False
    return holds_request(user, request) or can_dispatch(user, request.group)
