"""Matching in the JSON API: suggested volunteers for a request and "match all" for a group's
dispatchers, the on-duty switch for every member, and supply and demand for a group's members.

The same selectors and services as the pages, so both obey the same rules. Nothing here names
or locates the person who asked: a request is its id and reference only.
"""

from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from mutualaid.api.errors import ErrorOut, ValidationErrorOut
from mutualaid.common.errors import ApplicationError
from mutualaid.dispatch import permissions, services
from mutualaid.dispatch.selectors import request_suggestions
from mutualaid.dispatch.supply import SUPPLY_DAYS, supply_and_demand
from mutualaid.groups.models import Group
from mutualaid.needs.models import LeftoverReason, Request
from mutualaid.needs.selectors import UNLISTED_FIELDS
from mutualaid.people.models import User

router = Router(tags=["matching"])

# How many volunteers a dispatcher is shown for one request, as on the request's page.
SUGGESTIONS = 5


# Suggestions


class SuggestionOut(Schema):
    member_id: int
    display_name: str
    distance_km: float = Field(
        description="From the member's rough home to the request's rough point, to 0.1 km."
    )
    score: float = Field(
        description=(
            "The matching score, lower first: the distance, plus 0.5 km for each recent task, "
            "2 km when the member does not speak the requester's language and 1 km for each "
            "preferred skill they lack. Members on duty come first whatever their score."
        )
    )
    on_duty: bool
    recent_tasks: int = Field(description="Requests the member took in the last four weeks.")
    reasons: list[str] = Field(description="Why they were chosen, in the caller's language.")


class SuggestionsOut(Schema):
    suggestions: list[SuggestionOut] = Field(description="The best five, best first.")
    leftover_reason: LeftoverReason | None = Field(
        description="When nobody fits: why, as a code; null when somebody does, or when no "
        "single reason applies."
    )
    leftover_text: str = Field(description='The reason in plain words; "" when somebody fits.')


def _caller(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]


@router.get(
    "/requests/{int:id}/suggestions",
    response={200: SuggestionsOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Suggest volunteers for a request",
)
def get_suggestions(request: HttpRequest, id: int) -> dict[str, Any]:
    """The five members of the request's group who fit an open request best, as the request's
    page shows them: on duty first, then nearest, with fewer recent tasks and the requester's
    language counting; never a member who declined it or the one who asked. When nobody fits,
    why. For the group's dispatchers; 409 once the request is no longer open."""
    help_request = get_object_or_404(
        Request.objects.select_related("group", "area_group").defer(
            *UNLISTED_FIELDS, "description"
        ),
        pk=id,
    )
    if not permissions.can_see_suggestions(_caller(request), help_request.group):
        raise PermissionDenied(_("Only the group's dispatchers can see suggested volunteers."))
    if help_request.status != Request.Status.OPEN:
        raise ApplicationError(_("This request is no longer open."), code="conflict", status=409)
    answer = request_suggestions(request=help_request, k=SUGGESTIONS)
    return {
        "suggestions": [
            {
                "member_id": suggestion.member.pk,
                "display_name": suggestion.member.public_name,
                "distance_km": round(float(suggestion.candidate.distance_km), 1),
                "score": round(float(suggestion.candidate.score), 3),
                "on_duty": bool(suggestion.candidate.on_duty),
                "recent_tasks": int(suggestion.candidate.recent_tasks),
                "reasons": suggestion.reasons,
            }
            for suggestion in answer.suggestions
        ],
        "leftover_reason": LeftoverReason(answer.reason.value) if answer.reason else None,
        "leftover_text": answer.why_nobody,
    }


# Match all


class ProposalOut(Schema):
    request_id: int
    reference: str
    member_id: int = Field(description="The volunteer asked, who has been emailed a link.")
    expires_at: datetime = Field(description="When the question passes to the next volunteer.")


class LeftoverOut(Schema):
    request_id: int
    reference: str
    reason: LeftoverReason
    reason_text: str = Field(description="The reason in plain words.")


class MatchAllOut(Schema):
    proposals: list[ProposalOut]
    leftovers: list[LeftoverOut] = Field(description="The requests nobody was found for.")
    skipped: int = Field(
        description="Requests taken, or asked for by someone else, while the matching ran."
    )


@router.post(
    "/groups/{slug:slug}/match-all",
    response={200: MatchAllOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Match all open requests",
)
def match_all(request: HttpRequest, slug: str) -> dict[str, Any]:
    """Propose every open request of the group that waits for nobody's answer to a volunteer:
    as many served as the volunteers' free time allows, then the least total distance. Each
    volunteer is emailed a link to accept or decline within the group's answer time; each
    request left over records why. For the group's dispatchers."""
    group = get_object_or_404(Group, slug=slug)
    outcome = services.requests_match_all(group=group, dispatcher=_caller(request))
    request_ids = [proposal.request_id for proposal in outcome.proposals] + list(outcome.leftovers)
    references = dict(
        Request.objects.filter(pk__in=request_ids).values_list("pk", "reference")
        if request_ids
        else []
    )
    return {
        "proposals": [
            {
                "request_id": proposal.request_id,
                "reference": references[proposal.request_id],
                "member_id": proposal.member_id,
                "expires_at": proposal.expires_at,
            }
            for proposal in sorted(outcome.proposals, key=lambda proposal: proposal.request_id)
        ],
        "leftovers": [
            {
                "request_id": request_id,
                "reference": references[request_id],
                "reason": reason,
                "reason_text": str(LeftoverReason(reason).label),
            }
            for request_id, reason in sorted(outcome.leftovers.items())
        ],
        "skipped": outcome.skipped,
    }


# On duty


class DutyIn(Schema):
    hours: Literal[2, 4, 8] = Field(description="For how long: 2, 4 or 8 hours from now.")


class DutyOut(Schema):
    on_duty_until: datetime | None = Field(description="When your duty ends; null when off.")


DUTY_RESPONSES: dict[int, Any] = {
    200: DutyOut,
    400: ErrorOut,
    401: ErrorOut,
    413: ErrorOut,
    422: ValidationErrorOut,
}


@router.post("/me/duty", response=DUTY_RESPONSES, summary="Go on duty", tags=["people"])
def start_duty(request: HttpRequest, payload: DutyIn) -> dict[str, Any]:
    """Say you are ready to help for the next few hours: until then you come first in
    suggestions and proposals near you. Going on duty again sets a new end."""
    until = services.member_duty_start(member=_caller(request), hours=payload.hours)
    return {"on_duty_until": until}


@router.delete(
    "/me/duty", response={200: DutyOut, 401: ErrorOut}, summary="End duty", tags=["people"]
)
def end_duty(request: HttpRequest) -> dict[str, Any]:
    """You are no longer on duty. Ending when not on duty is harmless."""
    services.member_duty_end(member=_caller(request))
    return {"on_duty_until": None}


# Supply and demand


class SupplyRowOut(Schema):
    area: str = Field(description="The slug of the group itself, or of a ward or street in it.")
    area_name: str
    category: str
    category_label: str
    requests: int = Field(description="Requests made in the last seven days.")
    open_requests: int = Field(description="Of those, the ones nobody has taken yet.")
    volunteers: int = Field(description="Members who could take such a request there now.")
    help_missing: bool = Field(description="Fewer members could help than requests wait.")
    volunteers_idle: bool = Field(description="Members could help and no request waits.")


class SupplyOut(Schema):
    days: int = Field(description="How many days back requests are counted.")
    rows: list[SupplyRowOut] = Field(
        description="The group itself first, then its areas by name; each kind of help the "
        "group knows in its order."
    )


@router.get(
    "/groups/{slug:slug}/supply-and-demand",
    response={200: SupplyOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Show where help is missing",
)
def get_supply_and_demand(request: HttpRequest, slug: str) -> dict[str, Any]:
    """For each area of the group and each kind of help: the requests of the last seven days,
    how many still wait, and how many members could take one there now. Counts only, never a
    name. Members only."""
    group = get_object_or_404(Group, slug=slug)
    if not permissions.can_see_supply_and_demand(_caller(request), group):
        raise PermissionDenied(_("Only members of this group can see where help is missing."))
    return {
        "days": SUPPLY_DAYS,
        "rows": [
            {
                "area": row.area.slug,
                "area_name": row.area.name,
                "category": row.category,
                "category_label": str(row.category_label),
                "requests": row.requests,
                "open_requests": row.open_requests,
                "volunteers": row.volunteers,
                "help_missing": row.help_missing,
                "volunteers_idle": row.volunteers_idle,
            }
            for row in supply_and_demand(group=group)
        ],
    }
