"""Reads about requests and offers that pages, the API and tasks share."""

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import overload

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from mutualaid.common.geo import distance_km
from mutualaid.groups.models import Group
from mutualaid.needs.models import BuiltInCategory, GroupCategory, Offer, Request, Urgency
from mutualaid.people.models import User

# What a list of requests never loads: who asked, how to reach them, and the keys that could
# tie requests together. Only the member holding a request and the dispatchers see the first,
# through services.request_contact_details.
UNLISTED_FIELDS = (
    "name",
    "phone",
    "email",
    "address",
    "contact_via",
    "accessibility_notes",
    "household_key",
    "secret_digest",
    "secret_sealed",
)
LISTED_FIELDS = tuple(
    field.name for field in Request._meta.concrete_fields if field.name not in UNLISTED_FIELDS
)
URGENCY_ORDER: dict[str, int] = {Urgency.TODAY: 0, Urgency.THIS_WEEK: 1, Urgency.FLEXIBLE: 2}


def category_choices(*, group: Group) -> list[tuple[str, str]]:
    """The built-in categories and the group's own, as (code, label in the reader's language).
    "Other" comes last."""
    built_in = [
        (str(code), str(label))
        for code, label in BuiltInCategory.choices
        if code != BuiltInCategory.OTHER
    ]
    own = list(GroupCategory.objects.filter(group=group).values_list("code", "name"))
    return [*built_in, *own, (BuiltInCategory.OTHER.value, str(BuiltInCategory.OTHER.label))]


def category_label(*, group: Group, code: str) -> str:
    if code in BuiltInCategory.values:
        return str(BuiltInCategory(code).label)
    name = GroupCategory.objects.filter(group=group, code=code).values_list("name", flat=True)
    return name.first() or code


def _category_labels(group: Group) -> dict[str, str]:
    labels = {str(code): str(label) for code, label in BuiltInCategory.choices}
    labels.update(GroupCategory.objects.filter(group=group).values_list("code", "name"))
    return labels


def rounded_distance_km(member: User, request: Request) -> float | None:
    """Kilometres between a member's rough home and a request's rough point, to the nearest
    half kilometre; None when either is unknown."""
    return _rounded_km(member, request.rough_latitude, request.rough_longitude)


def _rounded_km(member: User, latitude: Decimal | None, longitude: Decimal | None) -> float | None:
    points = (member.home_latitude, member.home_longitude, latitude, longitude)
    if any(value is None for value in points):
        return None
    km = distance_km(*(float(value) for value in points))  # type: ignore[arg-type]
    return math.floor(km * 2 + 0.5) / 2


# What ordering the open requests needs: no text, nothing encrypted.
_ORDER_FIELDS = ("pk", "paced", "urgency", "created_at", "rough_latitude", "rough_longitude")


class OpenRequests(Sequence[Request]):
    """Open requests in the order a member sees them. Sorting reads only the few columns it
    needs; the requests themselves (with their encrypted descriptions) are loaded only for the
    slice that is shown, so a group with thousands open costs a page of them."""

    def __init__(self, ordered: list[tuple[int, float | None]]) -> None:
        self._ordered = ordered  # (pk, rounded distance), in order

    def __len__(self) -> int:
        return len(self._ordered)

    @overload
    def __getitem__(self, index: int) -> Request: ...

    @overload
    def __getitem__(self, index: slice) -> list[Request]: ...

    def __getitem__(self, index: int | slice) -> Request | list[Request]:
        if isinstance(index, int):
            return self[index : index + 1 or None][0]
        chosen = self._ordered[index]
        rows = Request.objects.defer(*UNLISTED_FIELDS).in_bulk([pk for pk, _km in chosen])
        shown = []
        for pk, km in chosen:
            request = rows[pk]
            request.distance_km = km  # type: ignore[attr-defined]
            shown.append(request)
        return shown

    def __iter__(self) -> Iterator[Request]:
        return iter(self[:])


def requests_open_for_member(
    *,
    member: User,
    group: Group,
    category: str = "",
    urgency: str = "",
) -> OpenRequests:
    """Open requests of `group`; each carries `distance_km` (from the member's rough home to
    the request's rough point, rounded to 0.5 km, or None). First requests before paced
    ones, then nearest first, then most urgent, then oldest."""
    requests = Request.objects.filter(group=group, status=Request.Status.OPEN)
    if category:
        requests = requests.filter(category=category)
    if urgency:
        requests = requests.filter(urgency=urgency)
    keys = []
    for row in requests.values(*_ORDER_FIELDS):
        km = _rounded_km(member, row["rough_latitude"], row["rough_longitude"])
        keys.append(
            (
                (
                    row["paced"],
                    km is None,
                    km or 0.0,
                    URGENCY_ORDER.get(row["urgency"], len(URGENCY_ORDER)),
                    row["created_at"],
                    row["pk"],
                ),
                row["pk"],
                km,
            )
        )
    keys.sort()
    return OpenRequests([(pk, km) for _order, pk, km in keys])


def requests_held_by(*, member: User) -> QuerySet[Request]:
    """What a member holds now, soonest needed first."""
    return (
        Request.objects.filter(status=Request.Status.CLAIMED, claimed_by=member)
        .select_related("group")
        .defer(*UNLISTED_FIELDS)
        .order_by(F("needed_by").asc(nulls_last=True), "claimed_at", "pk")
    )


def requests_follow_up(*, group: Group, today: date | None = None) -> QuerySet[Request]:
    """Unmet requests, and open ones past their needed-by date, for the dispatchers."""
    today = today or timezone.localdate()
    return (
        Request.objects.filter(group=group, personal_data_erased_at__isnull=True)
        .filter(Q(status=Request.Status.UNMET) | Q(status=Request.Status.OPEN, needed_by__lt=today))
        .defer(*UNLISTED_FIELDS)
        .order_by(F("needed_by").asc(nulls_last=True), "created_at", "pk")
    )


def offers_current(*, group: Group, today: date | None = None) -> QuerySet[Offer]:
    """Offers still available: active, and not past their last day."""
    today = today or timezone.localdate()
    return (
        Offer.objects.filter(group=group, status=Offer.Status.ACTIVE)
        .filter(Q(available_until__isnull=True) | Q(available_until__gte=today))
        .select_related("member")
        .order_by("-created_at", "-pk")
    )


@dataclass(frozen=True)
class WeekFigures:
    week_start: date
    requests: int
    by_outcome: dict[str, int]
    median_hours_to_claim: float | None


@dataclass(frozen=True)
class GroupReport:
    weeks: list[WeekFigures]
    by_category: list[tuple[str, dict[str, int]]]  # (category label, {status: count})


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def group_report(*, group: Group, weeks: int = 12, today: date | None = None) -> GroupReport:
    """Figures without personal data for the last `weeks` ISO weeks, oldest week first: how many
    requests came in each week, where they stand now, and the median hours from asking to a
    first claim. By category: how many requests of each kind are in each state, most asked
    first. Two queries whatever the number of requests."""
    today = today or timezone.localdate()
    weeks = max(1, weeks)
    first_monday = _monday(today) - timedelta(weeks=weeks - 1)
    since = timezone.make_aware(datetime.combine(first_monday, time.min))
    rows = Request.objects.filter(group=group, created_at__gte=since).values_list(
        "created_at", "first_claimed_at", "status", "category"
    )
    statuses = [str(status) for status in Request.Status.values]
    outcomes: dict[date, Counter[str]] = defaultdict(Counter)
    hours: dict[date, list[float]] = defaultdict(list)
    categories: dict[str, Counter[str]] = defaultdict(Counter)
    for created_at, first_claimed_at, status, category in rows:
        week = _monday(timezone.localdate(created_at))
        outcomes[week][status] += 1
        categories[category][status] += 1
        if first_claimed_at is not None:
            hours[week].append((first_claimed_at - created_at).total_seconds() / 3600)
    figures = []
    for index in range(weeks):
        week = first_monday + timedelta(weeks=index)
        counts = outcomes.get(week, Counter())
        figures.append(
            WeekFigures(
                week_start=week,
                requests=sum(counts.values()),
                by_outcome={status: counts[status] for status in statuses},
                median_hours_to_claim=(
                    round(statistics.median(hours[week]), 1) if hours.get(week) else None
                ),
            )
        )
    labels = _category_labels(group)
    by_category = [
        (labels.get(code, code), {status: counts[status] for status in statuses})
        for code, counts in sorted(
            categories.items(),
            key=lambda item: (-sum(item[1].values()), labels.get(item[0], item[0])),
        )
    ]
    return GroupReport(weeks=figures, by_category=by_category)
