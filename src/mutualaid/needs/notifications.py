"""Emails about requests for help, sent by the background worker once each.

Each task takes ids, loads fresh rows and hands every message to notify.services.email_send
with an idempotency key naming the event and the recipient, so a task that runs twice sends
nothing twice. Emails to members never carry the requester's personal data: the category, the
area name, the urgency, a rough distance and a link to the request page, where access is
decided. The requester's own address is read only to write to them, and never logged; the link
to their status page goes only to that address.
"""

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.functional import Promise
from django_tasks import task

from mutualaid.common.geo import distance_km
from mutualaid.groups.models import Group, Role, RoleGrant
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
from mutualaid.notify.selectors import daily_allowance_left
from mutualaid.notify.services import email_send, interface_language, member_language
from mutualaid.people.models import User

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


def category_label(request: Request) -> str | Promise:
    """The category's name, lazily translated for built-in ones so each email shows it in its
    reader's language."""
    if request.category in BuiltInCategory.values:
        return BuiltInCategory(request.category).label
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


def members_nearby(*, request: Request, exclude: Collection[int] = ()) -> list[NearbyMember]:
    """Members of the request's group who asked to hear about requests near them and fit it:
    active, home within their travel distance of the request, speaking its language if one was
    given, and with the skill its category needs. Nearest first."""
    latitude, longitude = request_point(request)
    members = (
        User.objects.filter(
            memberships__group_id=request.group_id,
            is_active=True,
            erased_at__isnull=True,
            notify_by_email=True,
            home_latitude__isnull=False,
            home_longitude__isnull=False,
        )
        .exclude(pk__in=exclude)
        .defer("email", "phone", "address")
    )
    skill = CATEGORY_SKILLS.get(request.category)
    if skill:
        members = members.filter(skills__name=skill, skills__group__isnull=True)
    nearby = []
    for member in members.order_by("pk"):
        if request.language and request.language not in (member.languages or []):
            continue
        if member.home_latitude is None or member.home_longitude is None:
            continue
        distance = distance_km(
            float(member.home_latitude), float(member.home_longitude), latitude, longitude
        )
        if distance <= member.travel_km:
            nearby.append(NearbyMember(member=member, distance_km=distance))
    return sorted(nearby, key=lambda found: (found.distance_km, found.member.pk))


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
    it, each member at most notify_max_per_day such emails a day. Returns how many were sent."""
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
                key=f"request-nearby:{request.pk}:member-{member.pk}",
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
    context = {**_about(request), "volunteer_name": claim.member.public_name}
    sent = _to_requester(
        request,
        key=f"request-claimed:{request.pk}:claim-{claim.pk}:requester",
        template="needs/email/request_claimed_requester",
        context=context,
    )
    desk = _phone_desk(request)
    if desk is not None and desk.pk != claim.member_id:
        sent += _to_member(
            desk,
            key=f"request-claimed:{request.pk}:claim-{claim.pk}:desk",
            template="needs/email/request_claimed_desk",
            context=context,
        )
    return sent


@task()
def request_done_notify(request_id: int) -> int:
    """Thank the requester, inviting them to say on their status page whether anything is
    still needed, and tell the dispatcher who took their call."""
    request = _load_request(request_id)
    if request is None or request.status != Request.Status.DONE:
        return 0
    claim = request.claims.filter(done_at__isnull=False).select_related("member").first()
    context = {
        **_about(request),
        "volunteer_name": claim.member.public_name if claim else "",
    }
    sent = _to_requester(
        request,
        key=f"request-done:{request.pk}:requester",
        template="needs/email/request_done_requester",
        context=context,
    )
    desk = _phone_desk(request)
    if desk is not None and (claim is None or desk.pk != claim.member_id):
        sent += _to_member(
            desk,
            key=f"request-done:{request.pk}:desk",
            template="needs/email/request_done_desk",
            context=context,
        )
    return sent


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
    about = _about(request)
    sent = _to_requester(
        request,
        key=f"request-released:{request.pk}:claim-{claim.pk}:requester",
        template="needs/email/request_released_requester",
        context=about,
    )
    desk = _phone_desk(request)
    if desk is not None and desk.pk != claim.member_id:
        sent += _to_member(
            desk,
            key=f"request-released:{request.pk}:claim-{claim.pk}:desk",
            template="needs/email/request_released_desk",
            context=about,
        )
    return sent


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
