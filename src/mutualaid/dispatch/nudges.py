"""Turning sign-ups into help: a short weekly email to members who have had no task for a while
and whom open requests near them could use.

A member is idle when they took no request and were asked to take none for IDLE_FOR, hold none
now and joined longer ago than that. They fit a request when the matching engine would list
them among its eligible candidates (in its radius and their own travel distance, with the skill
and a shared language, free in its window, under their capacity). The email lists at most
NUDGE_LISTS such requests by category, area and rough distance, never anything about who asked,
with a link to each and the way to stop these emails. It is sent at most once an ISO week (the
idempotency key) and never twice within NUDGE_GAP, to members who asked to hear about requests
near them and have some of their daily allowance left.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from mutualaid.dispatch.volunteers import group_volunteers
from mutualaid.groups.models import Group, Membership
from mutualaid.needs import notifications
from mutualaid.needs.models import Assignment, Claim, GroupCategory, Request
from mutualaid.needs.selectors import UNLISTED_FIELDS
from mutualaid.notify.models import Delivery
from mutualaid.notify.selectors import daily_allowance_left
from mutualaid.notify.services import email_send, member_language
from mutualaid.people.models import User

# The kind of the nudge in the delivery log.
KIND_NUDGE = "idle_nudge"
# A member with no task for this long, who joined longer ago than this, is idle.
IDLE_FOR = timedelta(days=14)
# Never two nudges closer than this, even across the turn of an ISO week.
NUDGE_GAP = timedelta(days=6)
# How many requests a nudge lists; it counts the rest.
NUDGE_LISTS = 3
# How many of each request's best candidates are asked about: generous, since idle members
# (with no recent tasks) rank high among those who fit.
CANDIDATES_PER_REQUEST = 100


def nudge_key(*, member_id: int, now: datetime) -> str:
    """One nudge per member per ISO week of the site's time zone."""
    year, week, _day = timezone.localdate(now).isocalendar()
    return f"idle-nudge:{member_id}:{year}-W{week:02d}"


def idle_members(*, now: datetime) -> QuerySet[User]:
    """Members who can be written to about requests near them and have had no task for
    IDLE_FOR: no claim taken or completed and no assignment made in that time, none held or
    waiting for an answer now, joined before it, and not nudged within NUDGE_GAP."""
    since = now - IDLE_FOR
    busy_claims = Claim.objects.filter(
        Q(claimed_at__gte=since)
        | Q(done_at__gte=since)
        | Q(released_at__isnull=True, done_at__isnull=True)
    ).values("member_id")
    busy_assignments = Assignment.objects.filter(
        Q(created_at__gte=since) | Q(answer=Assignment.Answer.PENDING)
    ).values("member_id")
    nudged = Delivery.objects.filter(
        kind=KIND_NUDGE, recipient_user__isnull=False, created_at__gt=now - NUDGE_GAP
    ).values("recipient_user_id")
    return (
        User.objects.filter(
            is_active=True,
            erased_at__isnull=True,
            notify_by_email=True,
            home_latitude__isnull=False,
            home_longitude__isnull=False,
            date_joined__lte=since,
        )
        .exclude(pk__in=busy_claims)
        .exclude(pk__in=busy_assignments)
        .exclude(pk__in=nudged)
    )


def _open_requests(*, now: datetime) -> QuerySet[Request]:
    """Open requests still within their needed-by date."""
    today = timezone.localdate(now)
    return Request.objects.filter(
        status=Request.Status.OPEN, personal_data_erased_at__isnull=True
    ).filter(Q(needed_by__isnull=True) | Q(needed_by__gte=today))


def fitting_requests(
    *, requests: Iterable[Request], member_ids: set[int], now: datetime
) -> dict[int, list[notifications.RequestNearby]]:
    """For each of `member_ids`, the requests whose eligible candidates (as the engine ranks
    them, the best CANDIDATES_PER_REQUEST) include them, leaving out those they made.
    One engine search per request."""
    by_group: dict[int, list[Request]] = defaultdict(list)
    groups: dict[int, Group] = {}
    for request in requests:
        by_group[request.group_id].append(request)
        groups[request.group_id] = request.group
    seconds, today = now.timestamp(), timezone.localdate(now)
    fitting: dict[int, list[notifications.RequestNearby]] = defaultdict(list)
    for group_id, group_requests in by_group.items():
        volunteers = group_volunteers(groups[group_id])
        for request in group_requests:
            need = volunteers.need_for(request, today=today)
            for candidate in volunteers.index.candidates(need, CANDIDATES_PER_REQUEST, now=seconds):
                member_id = int(candidate.volunteer_id)
                if member_id in member_ids and member_id != request.created_by_id:
                    fitting[member_id].append(
                        notifications.RequestNearby(
                            request=request, distance_km=candidate.distance_km
                        )
                    )
    return {
        member_id: sorted(items, key=notifications.RequestNearby.order)
        for member_id, items in fitting.items()
    }


def _nudge_context(
    *, items: list[notifications.RequestNearby], own_names: Mapping[tuple[int, str], str]
) -> dict[str, Any]:
    """What a nudge says: for each request listed its category, area, rough distance and link,
    never anything about who asked; how many more there are, and where to see them."""
    listed, rest = items[:NUDGE_LISTS], items[NUDGE_LISTS:]
    groups = {item.request.group_id: item.request.group for item in items}
    more_groups = {item.request.group_id: item.request.group for item in rest}
    return {
        "items": [
            {
                "category": notifications.category_label(item.request, own_names=own_names),
                "group_name": item.request.group.name,
                "area_name": item.request.area_name,
                "distance_km": notifications.rough_km(item.distance_km),
                "request_url": notifications.request_url(item.request),
            }
            for item in listed
        ],
        "total": len(items),
        "more_count": len(rest),
        "more_pages": [
            {
                "group_name": group.name,
                "url": notifications.absolute_url(
                    reverse("needs:request_list", kwargs={"slug": group.slug})
                ),
            }
            for group in more_groups.values()
        ],
        "several_groups": len(groups) > 1,
        "group_name": ", ".join(sorted(group.name for group in groups.values())),
        "profile_url": notifications.absolute_url(reverse("people:profile")),
    }


def _nudge_one(
    *,
    member_id: int,
    items: list[notifications.RequestNearby],
    own_names: Mapping[tuple[int, str], str],
    now: datetime,
) -> bool:
    # The member's row is locked while counting, so an email about a new request at the same
    # moment cannot take the last one of their day alongside this one.
    with transaction.atomic():
        member = (
            User.objects.select_for_update()
            .filter(pk=member_id, is_active=True, erased_at__isnull=True, notify_by_email=True)
            .first()
        )
        if member is None:
            return False
        if daily_allowance_left(user=member, kind=notifications.KIND_NEARBY, now=now) <= 0:
            return False
        delivery = email_send(
            key=nudge_key(member_id=member.pk, now=now),
            to=member.email,
            template="dispatch/email/idle_nudge",
            context={
                **_nudge_context(items=items, own_names=own_names),
                "member_name": member.public_name,
            },
            language=member_language(member),
            recipient_user=member,
            kind=KIND_NUDGE,
        )
    return delivery is not None


def idle_members_nudge(*, now: datetime | None = None) -> int:
    """Email each idle member (see idle_members) whom open requests fit, as the matching engine
    decides, a short list of up to NUDGE_LISTS of them: at most once an ISO week, never within
    NUDGE_GAP of the last, and only while their daily allowance of emails about requests near
    them is not used up. Returns how many were sent; a second run in the same week sends nothing
    more to anyone already written to."""
    if notifications.are_paused():
        return 0
    now = now or timezone.now()
    open_requests = _open_requests(now=now)
    idle = idle_members(now=now)
    member_ids = set(
        idle.filter(
            pk__in=Membership.objects.filter(group_id__in=open_requests.values("group_id")).values(
                "member_id"
            )
        ).values_list("pk", flat=True)
    )
    if not member_ids:
        return 0
    # Only groups with an idle member are searched. Nothing that identifies who asked is
    # loaded, nor what they asked in their own words.
    requests = list(
        open_requests.filter(
            group_id__in=Membership.objects.filter(member__in=idle).values("group_id")
        )
        .select_related("group", "area_group")
        .defer(*UNLISTED_FIELDS, "description")
        .order_by("group_id", "pk")
    )
    group_ids = {request.group_id for request in requests}
    fitting = fitting_requests(requests=requests, member_ids=member_ids, now=now)
    if not fitting:
        return 0
    own_names = {
        (group_id, code): name
        for group_id, code, name in GroupCategory.objects.filter(
            group_id__in=group_ids
        ).values_list("group_id", "code", "name")
    }
    sent = 0
    for member_id in sorted(fitting):
        sent += _nudge_one(
            member_id=member_id, items=fitting[member_id], own_names=own_names, now=now
        )
    return sent
