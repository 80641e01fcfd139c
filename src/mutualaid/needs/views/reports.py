"""The group's report: figures about requests, never about people."""

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from mutualaid.groups.models import Group
from mutualaid.needs import permissions, selectors
from mutualaid.needs.models import Request

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
        },
    )
