from decimal import Decimal
from typing import Any

from mutualaid.groups import services
from mutualaid.groups.models import Group
from mutualaid.people.models import User
from mutualaid.people.tests.factories import UserFactory

_counter = iter(range(1, 1_000_000))


def make_group(*, creator: User | None = None, members: int = 0, **fields: Any) -> Group:
    """A group made through the real service (so its creator is founding steward), with
    `members` more members who joined it."""
    n = next(_counter)
    creator = creator or UserFactory()
    fields.setdefault("name", f"Ward {n} Mutual Aid")
    fields.setdefault("centre_latitude", Decimal("53.45000"))
    fields.setdefault("centre_longitude", Decimal("-2.22000"))
    group = services.group_create(creator=creator, **fields)
    for _ in range(members):
        services.group_join(group=group, member=UserFactory())
    return group
