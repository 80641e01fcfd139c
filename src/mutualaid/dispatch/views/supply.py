"""Where help is missing and where volunteers are free: counts per area and kind of help, for
every member of the group. Never a name."""

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _

from mutualaid.dispatch import permissions
from mutualaid.dispatch.supply import SUPPLY_DAYS, SupplyRow, supply_and_demand
from mutualaid.groups.models import Group


@dataclass(frozen=True)
class AreaSupply:
    """One area's rows as the page shows them: the kinds of help asked for (help missing
    first), and the kinds nobody asked for that members could do there now."""

    area: Group
    is_group: bool
    asked: list[SupplyRow]
    free: list[SupplyRow]

    @property
    def help_missing(self) -> list[SupplyRow]:
        return [row for row in self.asked if row.help_missing]


def _by_area(group: Group, rows: list[SupplyRow]) -> list[AreaSupply]:
    areas: dict[int, AreaSupply] = {}
    for row in rows:
        area = areas.setdefault(
            row.area.pk,
            AreaSupply(area=row.area, is_group=row.area.pk == group.pk, asked=[], free=[]),
        )
        if row.requests:
            area.asked.append(row)
        elif row.volunteers:
            area.free.append(row)
    for area in areas.values():
        # Stable sorts keep the group's order of categories within each kind of row.
        area.asked.sort(key=lambda row: not row.help_missing)
        area.free.sort(key=lambda row: -row.volunteers)
    return list(areas.values())


@login_required
def supply_and_demand_page(request: HttpRequest, slug: str) -> HttpResponse:
    group = get_object_or_404(Group, slug=slug)
    if not permissions.can_see_supply_and_demand(request.user, group):
        raise PermissionDenied(_("Only members of this group can see where help is missing."))
    areas = _by_area(group, supply_and_demand(group=group))
    return render(
        request,
        "dispatch/supply_and_demand.html",
        {
            "group": group,
            "areas": areas,
            "missing": [(area, row) for area in areas for row in area.help_missing],
            "days": SUPPLY_DAYS,
        },
    )


urlpatterns: list[URLPattern] = [
    path("groups/<slug:slug>/supply/", supply_and_demand_page, name="supply_and_demand"),
]
