"""Supply and demand: for each area of a group and each kind of help, the requests of the last
days against the members who could take such a request there now. Counts only, never names,
so every member of the group may read it.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from mutualaid.common.geo import round_to_rough
from mutualaid.dispatch.volunteers import GroupVolunteers, group_volunteers
from mutualaid.groups.models import Group
from mutualaid.needs.models import Request, Urgency
from mutualaid.needs.selectors import category_choices

# How far back requests are counted.
SUPPLY_DAYS = 7


@dataclass(frozen=True)
class SupplyRow:
    """One area and one kind of help."""

    area: Group
    category: str
    category_label: str
    open_requests: int
    """Requests made in the last SUPPLY_DAYS that nobody has taken yet."""
    requests: int
    """Requests made in the last SUPPLY_DAYS, whatever became of them."""
    volunteers: int
    """Members of the group who could take such a request in this area now."""

    @property
    def help_missing(self) -> bool:
        """Requests are waiting and fewer members could take them than there are."""
        return self.open_requests > 0 and self.volunteers < self.open_requests

    @property
    def volunteers_idle(self) -> bool:
        """Members could help here and no request is waiting for them."""
        return self.volunteers > 0 and self.open_requests == 0


def _areas(group: Group, area_ids: set[int]) -> list[Group]:
    """The group itself (where requests without an area are), then the wards and streets
    inside it, and any other area requests were placed in, by name."""
    inside = Group.objects.filter(
        Q(parent=group) | Q(parent__parent=group) | Q(pk__in=area_ids - {group.pk})
    ).exclude(pk=group.pk)
    return [group, *sorted(inside, key=lambda area: (area.name.casefold(), area.pk))]


def _need_count(
    volunteers: GroupVolunteers, *, group: Group, area: Group, category: str, now: datetime
) -> int:
    """How many members could take a request of `category` at the centre of `area` now: a
    request as the ask page would place it there, with no date and no language asked for."""
    request = Request(
        pk=0,
        group=group,
        area_group=None if area.pk == group.pk else area,
        category=category,
        urgency=Urgency.FLEXIBLE,
        rough_latitude=round_to_rough(area.centre_latitude),
        rough_longitude=round_to_rough(area.centre_longitude),
    )
    need = volunteers.need_for(request, today=timezone.localdate(now))
    return volunteers.index.count_eligible(need, now=now.timestamp())


def supply_and_demand(*, group: Group, now: datetime | None = None) -> list[SupplyRow]:
    """For each area of `group` (the group itself for requests without an area, then each ward
    or street inside it) and each kind of help the group knows (built-in and its own): how many
    requests were made in the last SUPPLY_DAYS, how many of them still wait, and how many of the
    group's members could take such a request there now, as the matching engine counts them.

    A few queries whatever the number of requests, areas and kinds, plus one engine count for
    each area and kind."""
    now = now or timezone.now()
    since = now - timedelta(days=SUPPLY_DAYS)
    made: Counter[tuple[int, str]] = Counter()
    waiting: Counter[tuple[int, str]] = Counter()
    for area_id, category, status in Request.objects.filter(
        group=group, created_at__gte=since, created_at__lte=now
    ).values_list("area_group_id", "category", "status"):
        key = (area_id or group.pk, category)
        made[key] += 1
        if status == Request.Status.OPEN:
            waiting[key] += 1
    areas = _areas(group, {area_id for area_id, _category in made})
    categories = category_choices(group=group)
    known = {code for code, _label in categories}
    # A category the group has since removed still counts, under its code.
    categories += sorted(
        {(code, code) for _area_id, code in made if code not in known}, key=lambda pair: pair[0]
    )
    volunteers = group_volunteers(group)
    return [
        SupplyRow(
            area=area,
            category=code,
            category_label=label,
            open_requests=waiting[(area.pk, code)],
            requests=made[(area.pk, code)],
            volunteers=_need_count(volunteers, group=group, area=area, category=code, now=now),
        )
        for area in areas
        for code, label in categories
    ]
