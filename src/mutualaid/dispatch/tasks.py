"""Background work of matching: the emails that ask a volunteer and that tell the dispatchers
when nobody is left, the periodic expiry of proposals not answered in time, the weekly nudge of
idle members, and the clean-up of the volunteer indexes' change rows.

Each task takes ids, loads fresh rows, and is safe to run again: emails go through
notify.services.email_send with an idempotency key naming the proposal and the recipient, and
the expiry is a conditional update.
"""

from typing import Any

from django.urls import reverse
from django_tasks import task

from mutualaid.common.geo import distance_km
from mutualaid.dispatch import answer_links, nudges, services
from mutualaid.dispatch.volunteers import volunteer_changes_purge
from mutualaid.needs.models import Assignment, Request, Urgency
from mutualaid.needs.notifications import (
    absolute_url,
    category_label,
    dispatchers,
    request_point,
    request_url,
    rough_km,
)
from mutualaid.notify.services import email_send, member_language
from mutualaid.people.models import User


def member_distance_km(member: User, request: Request) -> float | None:
    """How far the member's rough home is from the request's rough point, to the half
    kilometre as members see it; None when the member gave no home."""
    if member.home_latitude is None or member.home_longitude is None:
        return None
    latitude, longitude = request_point(request)
    return rough_km(
        distance_km(float(member.home_latitude), float(member.home_longitude), latitude, longitude)
    )


def _about(request: Request) -> dict[str, Any]:
    """What an email about a proposal may say: nothing that identifies the requester."""
    return {
        "reference": request.reference,
        "group_name": request.group.name,
        "category": category_label(request),
        "area_name": request.area_name,
        "urgency": Urgency(request.urgency).label if request.urgency in Urgency.values else "",
        "needed_by": request.needed_by,
    }


def _load(assignment_id: int) -> Assignment | None:
    assignment = (
        Assignment.objects.select_related("request__group", "request__area_group", "member")
        .filter(pk=assignment_id)
        .first()
    )
    if assignment is None or assignment.request.personal_data_erased_at is not None:
        return None
    return assignment


@task()
def proposal_made_notify(assignment_id: int) -> int:
    """Ask the volunteer matching chose whether they can take the request, with links to
    accept or decline it that work without logging in, and the time to answer by."""
    assignment = _load(assignment_id)
    if (
        assignment is None
        or assignment.answer != Assignment.Answer.PENDING
        or assignment.expires_at is None
    ):
        return 0
    member, request = assignment.member, assignment.request
    sent = email_send(
        key=f"proposal:{assignment.pk}:member",
        to=member.email,
        template="dispatch/email/proposal_made",
        context={
            **_about(request),
            "member_name": member.public_name,
            "distance_km": member_distance_km(member, request),
            "answer_by": assignment.expires_at,
            "accept_url": absolute_url(answer_links.answer_path(assignment, answer="accept")),
            "decline_url": absolute_url(answer_links.answer_path(assignment, answer="decline")),
        },
        language=member_language(member),
        recipient_user=member,
    )
    return int(sent is not None)


@task()
def proposal_leftover_notify(assignment_id: int) -> int:
    """Tell the group's dispatchers that a request whose last proposal (`assignment_id`) was
    declined or not answered has nobody left to ask, and why."""
    assignment = _load(assignment_id)
    if assignment is None:
        return 0
    request = assignment.request
    if request.status != Request.Status.OPEN or not request.leftover_reason:
        return 0
    context = {
        **_about(request),
        "reason": request.get_leftover_reason_display(),
        "request_url": request_url(request),
        "match_all_url": absolute_url(
            reverse("dispatch:match_all", kwargs={"slug": request.group.slug})
        ),
    }
    sent = 0
    for dispatcher in dispatchers(request.group):
        delivery = email_send(
            key=f"proposal-leftover:{assignment.pk}:dispatcher-{dispatcher.pk}",
            to=dispatcher.email,
            template="dispatch/email/proposal_leftover",
            context={**context, "member_name": dispatcher.public_name},
            language=member_language(dispatcher),
            recipient_user=dispatcher,
        )
        sent += int(delivery is not None)
    return sent


@task()
def assignments_expire_overdue_task() -> int:
    return services.assignments_expire_overdue()


@task()
def idle_members_nudge_task() -> int:
    return nudges.idle_members_nudge()


@task()
def volunteer_changes_purge_task() -> int:
    return volunteer_changes_purge()
