"""What the proposal tests share: a group whose dispatcher and founders live nowhere matching
can see, volunteers placed at a chosen distance north of the group's centre (where a request
without a point of its own is), and the emails the worker would send after commit."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mutualaid.groups.models import Group
from mutualaid.needs.tests.factories import dispatcher_of, make_group, member_of
from mutualaid.people.models import User
from mutualaid.people.tests.factories import UserFactory

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
NO_HOME: dict[str, Any] = {"home_latitude": None, "home_longitude": None}
CENTRE_LATITUDE = 53.45
KM_PER_DEGREE = 111.2


@dataclass
class World:
    group: Group
    dispatcher: User


def make_world(**group_fields: Any) -> World:
    """A group and its dispatcher, with nobody matching could propose a request to yet: its
    founder, its dispatcher and the two members who gave the role have no home."""
    group = make_group(creator=UserFactory(**NO_HOME), **group_fields)
    before = set(User.objects.values_list("pk", flat=True))
    dispatcher = dispatcher_of(group, display_name="Desk Dispatcher", **NO_HOME)
    User.objects.exclude(pk__in=before).update(home_latitude=None, home_longitude=None)
    dispatcher.refresh_from_db()
    return World(group=group, dispatcher=dispatcher)


def north_km(km: float) -> dict[str, Decimal]:
    """A rough home about `km` north of the group's centre."""
    latitude = round(CENTRE_LATITUDE + km / KM_PER_DEGREE, 2)
    return {"home_latitude": Decimal(f"{latitude:.2f}"), "home_longitude": Decimal("-2.22")}


def volunteer(group: Group, km: float, **fields: Any) -> User:
    """A member of `group` living about `km` from its centre, who travels 5 km by default."""
    fields.setdefault("travel_km", 5)
    return member_of(group, **north_km(km), **fields)
