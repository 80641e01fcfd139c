"""Who may use matching. Suggestions and proposals show who is free near a request, so they are
for the group's dispatchers; supply and demand shows counts only, so every member sees it."""

from typing import Any

from mutualaid.groups.models import Group
from mutualaid.groups.permissions import is_member
from mutualaid.needs.permissions import can_dispatch
from mutualaid.people.models import User


def can_see_suggestions(user: Any, group: Group) -> bool:
    return can_dispatch(user, group)


def can_match_all(user: Any, group: Group) -> bool:
    return can_dispatch(user, group)


def can_see_supply_and_demand(user: Any, group: Group) -> bool:
    return is_member(user, group)


def can_go_on_duty(user: Any) -> bool:
    return isinstance(user, User) and user.is_authenticated and user.erased_at is None
