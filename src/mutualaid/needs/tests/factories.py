"""Requests, offers and the people around them, made through the real services."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from mutualaid.groups import services as group_services
from mutualaid.groups.models import Group, Role
from mutualaid.groups.tests.factories import make_group
from mutualaid.needs import services
from mutualaid.needs.models import Offer, Request
from mutualaid.people.models import User
from mutualaid.people.tests.factories import UserFactory

__all__ = [
    "claimed_request",
    "dispatcher_of",
    "make_group",
    "make_offer",
    "make_request",
    "member_of",
]

_counter = iter(range(1, 1_000_000))


def member_of(group: Group, **fields: Any) -> User:
    """A new member who joined `group`."""
    member = UserFactory(**fields)
    group_services.group_join(group=group, member=member)
    return member


def dispatcher_of(group: Group, *, days: int = 30, **fields: Any) -> User:
    """A member of `group` holding the dispatcher role, proposed and confirmed by two others."""
    dispatcher = member_of(group, **fields)
    grant = group_services.role_grant_propose(
        group=group,
        proposer=member_of(group),
        holder=dispatcher,
        role=Role.DISPATCHER,
        reason="Answers the hotline",
        expires_at=timezone.now() + timedelta(days=days),
    )
    group_services.role_grant_confirm(grant=grant, confirmer=member_of(group))
    return dispatcher


def make_request(group: Group | None = None, **fields: Any) -> Request:
    """A request for help made through request_create. The secret of its status link is kept on
    the instance as `secret`, as the requester would have it from the confirmation page."""
    n = next(_counter)
    group = group or make_group()
    fields.setdefault("category", "shopping")
    fields.setdefault("description", f"Milk, bread and eggs, please ({n})")
    fields.setdefault("name", f"Requester {n}")
    fields.setdefault("phone", f"+44 7700 9{n % 100000:05d}")
    fields.setdefault("address", f"{n} Acacia Avenue, M19 2QX")
    request, secret = services.request_create(group=group, **fields)
    request.secret = secret  # type: ignore[attr-defined]
    return request


def claimed_request(group: Group | None = None, *, member: User | None = None, **fields: Any):
    """A request claimed by `member` (a new member when not given); returns (request, member)."""
    group = group or make_group()
    request = make_request(group, **fields)
    member = member or member_of(group)
    services.request_claim(request=request, member=member)
    request.refresh_from_db()  # keeps `secret`, which is no field
    return request, member


def make_offer(group: Group, member: User | None = None, **fields: Any) -> Offer:
    member = member or member_of(group)
    fields.setdefault("kind", Offer.Kind.TIME)
    fields.setdefault("category", "shopping")
    fields.setdefault("title", "Cargo bike deliveries")
    return services.offer_create(group=group, member=member, **fields)
