"""The group's report: figures about requests, never about people."""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from mutualaid.groups.models import Group
from mutualaid.needs import permissions, selectors
from mutualaid.needs.models import LeftoverReason, Request

WEEKS_SHOWN = 12
OUTCOMES = [
    Request.Status.DONE,
    Request.Status.UNMET,
    Request.Status.CANCELLED,
]
STILL_OPEN = (Request.Status.OPEN, Request.Status.CLAIMED)


@dataclass(frozen=True)
class Row:
    """One line of a table: its label, the count of each outcome, and those still open."""

    label: str
    total: int
    outcomes: list[int]
    still_open: int


def _row(label: str, total: int, by_status: dict[str, int]) -> Row:
    return Row(
        label=label,
        total=total,
        outcomes=[by_status.get(status, 0) for status in OUTCOMES],
        still_open=sum(by_status.get(status, 0) for status in STILL_OPEN),
    )


# Requests whose matching found nobody and that nobody has taken since: still open, or unmet.
LEFT_WITHOUT_VOLUNTEER = (Request.Status.OPEN, Request.Status.UNMET)


@dataclass(frozen=True)
class LeftoverRow:
    """Requests of one kind in one area that matching found nobody for, by why."""

    category: str
    area: str
    total: int
    by_reason: list[int]


def _leftovers(group: Group, *, weeks: int) -> list[LeftoverRow]:
    """Per kind of help and area, how many requests of the report's weeks matching found
    nobody for, by the reason, most first. One query for the counts, one for the labels."""
    today = timezone.localdate()
    first_monday = today - timedelta(days=today.weekday(), weeks=weeks - 1)
    since = timezone.make_aware(datetime.combine(first_monday, time.min))
    counts = (
        Request.objects.filter(
            group=group, created_at__gte=since, status__in=LEFT_WITHOUT_VOLUNTEER
        )
        .exclude(leftover_reason="")
        .values_list("category", "area_name", "leftover_reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    cells: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for category, area, reason, n in counts:
        cells[(category, area)][reason] += n
    if not cells:
        return []
    labels = dict(selectors.category_choices(group=group))
    rows = [
        LeftoverRow(
            category=labels.get(category, category),
            area=area,
            total=sum(by_reason.values()),
            by_reason=[by_reason[reason] for reason in LeftoverReason.values],
        )
        for (category, area), by_reason in cells.items()
    ]
    return sorted(rows, key=lambda row: (-row.total, row.category, row.area))


@login_required
def report(request: HttpRequest, slug: str) -> HttpResponse:
    group = get_object_or_404(Group, slug=slug)
    if not permissions.can_view_report(request.user, group):
        raise PermissionDenied(_("Only members of this group can read its report."))
    figures = selectors.group_report(group=group, weeks=WEEKS_SHOWN)
    weeks = [(week, _row("", week.requests, week.by_outcome)) for week in figures.weeks]
    by_category = [
        _row(label, sum(by_status.values()), by_status) for label, by_status in figures.by_category
    ]
    all_statuses: dict[str, int] = {}
    for _label, by_status in figures.by_category:
        for status, count in by_status.items():
            all_statuses[status] = all_statuses.get(status, 0) + count
    return render(
        request,
        "needs/report.html",
        {
            "group": group,
            "weeks": weeks,
            "by_category": by_category,
            "category_total": _row(_("All kinds"), sum(all_statuses.values()), all_statuses),
            "outcome_labels": [status.label for status in OUTCOMES],
            "weeks_shown": WEEKS_SHOWN,
            "leftovers": _leftovers(group, weeks=WEEKS_SHOWN),
            "leftover_labels": LeftoverReason.labels,
        },
    )
