"""Emails about requests for help, sent by the background worker once each.

Each task takes ids, loads fresh rows and hands every message to notify.services.email_send
with an idempotency key naming the event and the recipient, so a task that runs twice sends
nothing twice. Emails to members never carry the requester's personal data: the category, the
area name, the urgency, a rough distance and a link to the request page, where access is
decided. The requester's own address is read only to write to them, and never logged; the link
to their status page goes only to that address.

Members who asked for a daily summary (notify_digest) get no email for each new request near
them: request_digests_send, run once a day by the scheduler, lists for each of them the open
requests that came in since their last summary. Dispatchers still hear of every new request of
their group as it comes in, summary or not: triage is part of the role, not a preference.
"""

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django_tasks import task

from mutualaid.common.geo import distance_km
from mutualaid.groups.models import Group, Membership, Role, RoleGrant
from mutualaid.needs import services
from mutualaid.needs.models import (
    Assignment,
    BuiltInCategory,
    Channel,
    GroupCategory,
    Message,
    Request,
    Urgency,
)
from mutualaid.needs.selectors import UNLISTED_FIELDS, URGENCY_ORDER
from mutualaid.notify.models import Delivery
from mutualaid.notify.selectors import daily_allowance_left
from mutualaid.notify.services import email_send, interface_language, member_language
from mutualaid.people.models import Skill, User

_paused: ContextVar[bool] = ContextVar("needs_notifications_paused", default=False)


@contextmanager
def paused() -> Iterator[None]:
    """Tell nobody about what happens inside this block: for loading demo data, whose
    requesters and members are made up."""
    token = _paused.set(True)
    try:
        yield
    finally:
        _paused.reset(token)


def are_paused() -> bool:
    return _paused.get()


# The kind of the emails each member caps with notify_max_per_day.
KIND_NEARBY = "request_nearby"
# The kind of the daily summary, one a day and outside that cap.
KIND_DIGEST = "request_digest"
# How many requests a summary lists; it counts the rest and links to the requests pages.
DIGEST_LIMIT = 20
# A summary lists requests made since the member's last one when that was within
# DIGEST_CATCH_UP (so a day the job did not run is made up), else those of the last DIGEST_DAY.
DIGEST_DAY = timedelta(days=1)
DIGEST_CATCH_UP = timedelta(days=7)

# Categories that need a particular shared skill (people/migrations/0002_seed_shared_skills.py);
# for any other category every member nearby fits.
CATEGORY_SKILLS: dict[str, str] = {
    BuiltInCategory.RIDE: "Driving",
    BuiltInCategory.DOG_WALKING: "Dog walking",
    BuiltInCategory.CHECK_IN: "Befriending and phone chats",
    BuiltInCategory.TALK: "Befriending and phone chats",
    BuiltInCategory.CHILDCARE: "Childcare",
    BuiltInCategory.REPAIRS: "DIY repairs",
}


@dataclass(frozen=True)
class NearbyMember:
    member: User
    distance_km: float


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def request_url(request: Request) -> str:
    return absolute_url(reverse("needs:request_detail", kwargs={"pk": request.pk}))


def category_label(
    request: Request, *, own_names: Mapping[tuple[int, str], str] | None = None
) -> str | Promise:
    """The category's name, lazily translated for built-in ones so each email shows it in its
    reader's language. `own_names` maps (group id, code) to the groups' own categories' names,
    when the caller has loaded them for many requests at once."""
    if request.category in BuiltInCategory.values:
        return BuiltInCategory(request.category).label
    if own_names is not None:
        return own_names.get((request.group_id, request.category), request.category)
    own = GroupCategory.objects.filter(group_id=request.group_id, code=request.category).first()
    return own.name if own else request.category


def rough_km(distance: float) -> float:
    """A distance rounded to the nearest half kilometre, as members browsing see it, and never
    less than half a kilometre, since both points are rough."""
    return max(0.5, round(distance * 2) / 2)


def request_point(request: Request) -> tuple[float, float]:
    """Where a request roughly is: its own rough point, else the centre of the area the
    requester chose, else the centre of its group."""
    if request.rough_latitude is not None and request.rough_longitude is not None:
        return float(request.rough_latitude), float(request.rough_longitude)
    group: Group = request.area_group or request.group
    return float(group.centre_latitude), float(group.centre_longitude)


def dispatchers(group: Group) -> list[User]:
    """Members of `group` holding the dispatcher role now, who can be written to."""
    holder_ids = (
        RoleGrant.objects.in_force()
        .filter(group=group, role=Role.DISPATCHER, holder__memberships__group=group)
        .values("holder_id")
    )
    return list(
        User.objects.filter(pk__in=holder_ids, is_active=True, erased_at__isnull=True).order_by(
            "pk"
        )
    )


def listening_members() -> QuerySet[User]:
    """Members who asked to hear by email of requests near them, can be written to and gave a
    rough home; each loaded with `shared_skills`, the shared skills they have."""
    return User.objects.filter(
        is_active=True,
        erased_at__isnull=True,
        notify_by_email=True,
        home_latitude__isnull=False,
        home_longitude__isnull=False,
    ).prefetch_related(
        Prefetch(
            "skills",
            queryset=Skill.objects.filter(group__isnull=True).only("pk", "name"),
            to_attr="shared_skills",
        )
    )


def shared_skill_names(member: User) -> set[str]:
    """The names of a member's shared skills, as listening_members loads them."""
    return {skill.name for skill in getattr(member, "shared_skills", [])}


def distance_if_fits(
    *,
    member: User,
    skill_names: Collection[str],
    request: Request,
    point: tuple[float, float] | None = None,
) -> float | None:
    """How far `member` lives from `request` when they fit it: their home within their travel
    distance of it, speaking its language if one was given, and having (`skill_names`) the
    shared skill its category needs. None when they do not fit. This one rule decides both who
    is emailed about each new request and what each daily summary lists."""
    skill = CATEGORY_SKILLS.get(request.category)
    if skill and skill not in skill_names:
        return None
    if request.language and request.language not in (member.languages or []):
        return None
    if member.home_latitude is None or member.home_longitude is None:
        return None
    latitude, longitude = point or request_point(request)
    distance = distance_km(
        float(member.home_latitude), float(member.home_longitude), latitude, longitude
    )
    return distance if distance <= member.travel_km else None


def members_nearby(*, request: Request, exclude: Collection[int] = ()) -> list[NearbyMember]:
    """Members of the request's group who asked to hear of each request near them as it comes
    in (not in a daily summary) and fit it, as distance_if_fits decides. Nearest first."""
    members = (
        listening_members()
        .filter(memberships__group_id=request.group_id, notify_digest=False)
        .exclude(pk__in=exclude)
        .defer("email", "phone", "address")
    )
    point = request_point(request)
    nearby = []
    for member in members.order_by("pk"):
        distance = distance_if_fits(
            member=member,
            skill_names=shared_skill_names(member),
            request=request,
            point=point,
        )
        if distance is not None:
            nearby.append(NearbyMember(member=member, distance_km=distance))
    return sorted(nearby, key=lambda found: (found.distance_km, found.member.pk))


def _nearby_key(*, request_id: int, member_id: int) -> str:
    return f"request-nearby:{request_id}:member-{member_id}"


def _nearby_key_request_id(key: str) -> int | None:
    """The request a request-nearby key names."""
    parts = key.split(":")
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


def _phone_desk(request: Request) -> User | None:
    """The dispatcher who took the request on the phone, who hears what becomes of it."""
    if request.channel != Channel.PHONE or request.created_by is None:
        return None
    return request.created_by


def _load_request(request_id: int) -> Request | None:
    request = (
        Request.objects.select_related("group", "area_group", "created_by", "claimed_by")
        .filter(pk=request_id)
        .first()
    )
    if request is None or request.personal_data_erased_at is not None:
        return None
    return request


def _about(request: Request) -> dict[str, Any]:
    """What every email about a request may say: nothing that identifies the requester."""
    return {
        "reference": request.reference,
        "group_name": request.group.name,
        "category": category_label(request),
        "area_name": request.area_name,
        "urgency": Urgency(request.urgency).label if request.urgency in Urgency.values else "",
        "needed_by": request.needed_by,
        "request_url": request_url(request),
        "ask_url": absolute_url(reverse("needs:ask", kwargs={"slug": request.group.slug})),
        "group_phone": request.group.hotline_phone,
        "group_email": request.group.contact_email,
    }


def _to_member(
    member: User, *, key: str, template: str, context: dict[str, Any], kind: str = ""
) -> int:
    """1 when an email to `member` was recorded, 0 when it already was or cannot be."""
    return int(
        email_send(
            key=key,
            to=member.email,
            template=template,
            context={**context, "member_name": member.public_name},
            language=member_language(member),
            recipient_user=member,
            kind=kind,
        )
        is not None
    )


def _to_requester(request: Request, *, key: str, template: str, context: dict[str, Any]) -> int:
    """1 when an email to the requester was recorded, 0 when they gave no address or it was.

    Only here is the link to their status page added: it goes to the address they gave, and
    into no email to anyone else."""
    if not request.email:
        return 0
    return int(
        email_send(
            key=key,
            to=request.email,
            template=template,
            context={**context, "status_url": services.request_status_url(request)},
            language=interface_language([request.language]),
        )
        is not None
    )


@task()
def request_received_notify(request_id: int) -> int:
    """Confirm a new request to the requester who gave an email address: its reference, what
    they asked, and the link to their status page, where they can follow or cancel it."""
    request = _load_request(request_id)
    if request is None or request.is_closed:
        return 0
    return _to_requester(
        request,
        key=f"request-received:{request.pk}:requester",
        template="needs/email/request_received_requester",
        context={**_about(request), "description": request.description},
    )


@task()
def request_created_notify(request_id: int) -> int:
    """Tell the group's dispatchers about a new open request, and the members nearby who fit
    it, each member at most notify_max_per_day such emails a day. Members who asked for a daily
    summary hear of it there instead, unless they are dispatchers of its group: those are told
    now, as dispatchers. Returns how many were sent."""
    request = _load_request(request_id)
    if request is None or request.status != Request.Status.OPEN:
        return 0
    about = _about(request)
    sent = 0
    told = {request.created_by_id} if request.created_by_id else set()
    for dispatcher in dispatchers(request.group):
        if dispatcher.pk in told:
            continue
        told.add(dispatcher.pk)
        sent += _to_member(
            dispatcher,
            key=f"request-created:{request.pk}:dispatcher-{dispatcher.pk}",
            template="needs/email/request_created_dispatcher",
            context=about,
        )
    for found in members_nearby(request=request, exclude=told):
        # The member's row is locked while counting, so two new requests at once cannot both
        # take the last email of their day.
        with transaction.atomic():
            member = User.objects.select_for_update().get(pk=found.member.pk)
            if daily_allowance_left(user=member, kind=KIND_NEARBY) <= 0:
                continue
            sent += _to_member(
                member,
                key=_nearby_key(request_id=request.pk, member_id=member.pk),
                template="needs/email/request_nearby",
                context={
                    **about,
                    "distance_km": rough_km(found.distance_km),
                    "max_per_day": member.notify_max_per_day,
                    "profile_url": absolute_url(reverse("people:profile")),
                },
                kind=KIND_NEARBY,
            )
    return sent


def _to_requester_and_desk(
    request: Request,
    *,
    key: str,
    template: str,
    context: dict[str, Any],
    volunteer_id: int | None,
) -> int:
    """Tell the requester (`<template>_requester`) and the dispatcher who took their call
    (`<template>_desk`) of one event, unless that dispatcher is the volunteer themself."""
    sent = _to_requester(
        request, key=f"{key}:requester", template=f"{template}_requester", context=context
    )
    desk = _phone_desk(request)
    if desk is not None and desk.pk != volunteer_id:
        sent += _to_member(desk, key=f"{key}:desk", template=f"{template}_desk", context=context)
    return sent


@task()
def request_claimed_notify(request_id: int) -> int:
    """Tell the requester (when they gave an email) and the dispatcher who took their call
    that someone has taken the request."""
    request = _load_request(request_id)
    if request is None or request.status != Request.Status.CLAIMED:
        return 0
    claim = request.claims.filter(released_at__isnull=True).select_related("member").first()
    if claim is None:
        return 0
    return _to_requester_and_desk(
        request,
        key=f"request-claimed:{request.pk}:claim-{claim.pk}",
        template="needs/email/request_claimed",
        context={**_about(request), "volunteer_name": claim.member.public_name},
        volunteer_id=claim.member_id,
    )


@task()
def request_done_notify(request_id: int) -> int:
    """Thank the requester, inviting them to say on their status page whether anything is
    still needed, and tell the dispatcher who took their call."""
    request = _load_request(request_id)
    if request is None or request.status != Request.Status.DONE:
        return 0
    claim = request.claims.filter(done_at__isnull=False).select_related("member").first()
    return _to_requester_and_desk(
        request,
        key=f"request-done:{request.pk}",
        template="needs/email/request_done",
        context={**_about(request), "volunteer_name": claim.member.public_name if claim else ""},
        volunteer_id=claim.member_id if claim else None,
    )


@task()
def request_released_notify(request_id: int) -> int:
    """Tell the requester, who heard their request was taken, that it is open again (never
    why), and the dispatcher who took their call."""
    request = _load_request(request_id)
    if request is None or request.status != Request.Status.OPEN:
        return 0
    claim = request.claims.filter(released_at__isnull=False).order_by("-released_at").first()
    if claim is None:
        return 0
    return _to_requester_and_desk(
        request,
        key=f"request-released:{request.pk}:claim-{claim.pk}",
        template="needs/email/request_released",
        context=_about(request),
        volunteer_id=claim.member_id,
    )


@task()
def message_posted_notify(message_id: int) -> int:
    """Relay a new message: to the requester by email when someone else wrote (the body
    included, since this is how they read it); to whoever holds the request, or else the
    dispatchers, when the requester wrote (a link only: they read it on the site)."""
    message = (
        Message.objects.select_related("request__group", "request__claimed_by", "author")
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        return 0
    request = message.request
    if request.personal_data_erased_at is not None:
        return 0
    about = _about(request)
    if message.author_kind != Message.Author.REQUESTER:
        return _to_requester(
            request,
            key=f"message:{message.pk}:requester",
            template="needs/email/message_to_requester",
            context={
                **about,
                "author_name": message.author.public_name if message.author else "",
                "author_is_dispatcher": message.author_kind == Message.Author.DISPATCHER,
                "body": message.body,
            },
        )
    holder = request.claimed_by if request.status == Request.Status.CLAIMED else None
    readers = [holder] if holder is not None else dispatchers(request.group)
    sent = 0
    for reader in readers:
        sent += _to_member(
            reader,
            key=f"message:{message.pk}:member-{reader.pk}",
            template="needs/email/message_to_member",
            context=about,
        )
    return sent


@task()
def assignment_made_notify(assignment_id: int) -> int:
    """Ask the member a dispatcher chose to take a request, with the page to answer on."""
    assignment = (
        Assignment.objects.select_related("request__group", "member", "assigned_by")
        .filter(pk=assignment_id)
        .first()
    )
    if assignment is None or assignment.answer != Assignment.Answer.PENDING:
        return 0
    request = assignment.request
    if request.personal_data_erased_at is not None:
        return 0
    return _to_member(
        assignment.member,
        key=f"assignment:{assignment.pk}:member",
        template="needs/email/assignment_made",
        context={
            **_about(request),
            "dispatcher_name": (
                assignment.assigned_by.public_name if assignment.assigned_by else ""
            ),
        },
    )


# The daily summary.


@dataclass(frozen=True)
class RequestNearby:
    """A request listed to a member (in a daily summary or a nudge) with how far it is."""

    request: Request
    distance_km: float

    def order(self) -> tuple[int, float, datetime, int]:
        """Most urgent first, then nearest, then oldest."""
        return (
            URGENCY_ORDER.get(self.request.urgency, len(URGENCY_ORDER)),
            self.distance_km,
            self.request.created_at,
            self.request.pk,
        )


def _digest_key(*, member_id: int, day: str) -> str:
    return f"digest:{member_id}:{day}"


def _digest_requests(
    *, since: datetime, until: datetime, member_ids: QuerySet[User, Any]
) -> list[Request]:
    """Open requests made in [since, until) in any group one of `member_ids` belongs to, with
    nothing that identifies who asked."""
    return list(
        Request.objects.filter(
            status=Request.Status.OPEN,
            personal_data_erased_at__isnull=True,
            created_at__gte=since,
            created_at__lt=until,
            group_id__in=Membership.objects.filter(member__in=member_ids).values("group_id"),
        )
        .select_related("group", "area_group")
        .defer(*UNLISTED_FIELDS)
        .order_by("created_at", "pk")
    )


def _digest_context(
    *,
    items: list[RequestNearby],
    own_names: Mapping[tuple[int, str], str],
    request_urls: Mapping[int, str],
) -> dict[str, Any]:
    """What a summary says: for each request its category, area, urgency, rough distance and
    link, never anything about who asked; and for those past DIGEST_LIMIT, how many and where
    to see them. `request_urls` holds each request's link, made once for every summary."""
    listed, rest = items[:DIGEST_LIMIT], items[DIGEST_LIMIT:]
    groups = {item.request.group_id: item.request.group for item in items}
    more_groups = {item.request.group_id: item.request.group for item in rest}
    more_pages = [
        {
            "group_name": group.name,
            "url": absolute_url(reverse("needs:request_list", kwargs={"slug": group.slug})),
        }
        for group in more_groups.values()
    ]
    return {
        "items": [
            {
                "category": category_label(item.request, own_names=own_names),
                "group_name": item.request.group.name,
                "area_name": item.request.area_name,
                "urgency": (
                    Urgency(item.request.urgency).label
                    if item.request.urgency in Urgency.values
                    else ""
                ),
                "distance_km": rough_km(item.distance_km),
                "request_url": request_urls[item.request.pk],
            }
            for item in listed
        ],
        "total": len(items),
        "more_count": len(rest),
        "more_pages": more_pages,
        "several_groups": len(groups) > 1,
        "group_name": ", ".join(sorted(group.name for group in groups.values())),
        "profile_url": absolute_url(reverse("people:profile")),
    }


def _fitting_items(
    *,
    member: User,
    since: datetime,
    requests: Iterable[Request],
    points: Mapping[int, tuple[float, float]],
    told: Collection[tuple[int, int]],
) -> list[RequestNearby]:
    skill_names = shared_skill_names(member)
    items = []
    for request in requests:
        if (
            request.created_at < since
            or request.created_by_id == member.pk
            or (member.pk, request.pk) in told
        ):
            continue
        distance = distance_if_fits(
            member=member, skill_names=skill_names, request=request, point=points[request.pk]
        )
        if distance is not None:
            items.append(RequestNearby(request=request, distance_km=distance))
    return sorted(items, key=RequestNearby.order)


def request_digests_send(*, now: datetime | None = None) -> int:
    """Send each member who asked for a daily summary one email listing the open requests made
    since their last summary (else in the last day) that they fit by the rule of the emails
    sent for each request, most urgent first. Left out: requests they made, were emailed about
    singly, or heard of as a dispatcher of the group. Nothing to a member nothing fits, and
    nothing more to one who had their summary today, however often this runs. Returns how many
    were sent.

    The queries are the same few whatever the number of members and requests, plus one email's
    worth for each member written to."""
    now = now or timezone.now()
    today = timezone.localdate(now).isoformat()
    oldest = now - DIGEST_CATCH_UP
    digest_members = (
        listening_members().filter(notify_digest=True).defer("phone", "address").order_by("pk")
    )
    member_ids = digest_members.prefetch_related(None).values("pk")
    last_digest: dict[int, datetime] = dict(
        Delivery.objects.filter(
            kind=KIND_DIGEST, recipient_user__in=member_ids, created_at__gte=oldest
        )
        .order_by()
        .values("recipient_user_id")
        .annotate(last=Max("created_at"))
        .values_list("recipient_user_id", "last")
    )
    members = [
        member
        for member in digest_members
        if member.pk not in last_digest
        or timezone.localdate(last_digest[member.pk]).isoformat() != today
    ]
    if not members:
        return 0
    since_of = {member.pk: last_digest.get(member.pk, now - DIGEST_DAY) for member in members}
    requests = _digest_requests(since=min(since_of.values()), until=now, member_ids=member_ids)
    if not requests:
        return 0
    group_ids = {request.group_id for request in requests}
    by_group: dict[int, list[Request]] = defaultdict(list)
    for request in requests:
        by_group[request.group_id].append(request)
    points = {request.pk: request_point(request) for request in requests}
    request_urls = {request.pk: request_url(request) for request in requests}
    groups_of: dict[int, set[int]] = defaultdict(set)
    for member_id, group_id in Membership.objects.filter(
        member__in=member_ids, group_id__in=group_ids
    ).values_list("member_id", "group_id"):
        groups_of[member_id].add(group_id)
    dispatching = set(
        RoleGrant.objects.in_force(now)
        .filter(role=Role.DISPATCHER, group_id__in=group_ids, holder__in=member_ids)
        .values_list("holder_id", "group_id")
    )
    told: set[tuple[int, int]] = set()
    for member_id, key in Delivery.objects.filter(
        kind=KIND_NEARBY, recipient_user__in=member_ids, created_at__gte=min(since_of.values())
    ).values_list("recipient_user_id", "idempotency_key"):
        request_id = _nearby_key_request_id(key)
        if request_id is not None:
            told.add((member_id, request_id))
    own_names = {
        (group_id, code): name
        for group_id, code, name in GroupCategory.objects.filter(
            group_id__in=group_ids
        ).values_list("group_id", "code", "name")
    }
    sent = 0
    for member in members:
        items = _fitting_items(
            member=member,
            since=since_of[member.pk],
            requests=[
                request
                for group_id in sorted(groups_of[member.pk])
                if (member.pk, group_id) not in dispatching
                for request in by_group[group_id]
            ],
            points=points,
            told=told,
        )
        if not items:
            continue
        sent += _to_member(
            member,
            key=_digest_key(member_id=member.pk, day=today),
            template="needs/email/digest",
            context=_digest_context(items=items, own_names=own_names, request_urls=request_urls),
            kind=KIND_DIGEST,
        )
    return sent
