"""Every write about requests for help and offers. Keyword-only; one transaction each.

Pages, the phone desk, the API and tasks all call these, so they behave the same. Rules that
must hold under concurrency (one claim per request) are decided by the database.
"""

import calendar
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from mutualaid.common.audit import record_personal_data_access
from mutualaid.common.errors import ApplicationError
from mutualaid.common.geo import round_to_rough
from mutualaid.common.models import AuditEvent
from mutualaid.groups.models import Group
from mutualaid.groups.money import format_money
from mutualaid.groups.permissions import is_member
from mutualaid.needs import permissions, references
from mutualaid.needs.models import (
    Assignment,
    BuiltInCategory,
    Channel,
    Claim,
    ContactMethod,
    GroupCategory,
    Message,
    Offer,
    Recurrence,
    ReimbursementClaim,
    Request,
    StandingNeed,
    Urgency,
)
from mutualaid.people.models import User

# Raise ApplicationError (translatable message; code="conflict", status=409 for a lost race) or
# PermissionDenied, never anything else, for a rule that says no.

NAME_MAX_LENGTH = 100
DESCRIPTION_MAX_LENGTH = 2000
ADDRESS_MAX_LENGTH = 300
CONTACT_VIA_MAX_LENGTH = 300
ACCESSIBILITY_MAX_LENGTH = 1000
MESSAGE_MAX_LENGTH = 2000
NOTES_MAX_LENGTH = 2000
REASON_MAX_LENGTH = 500
OFFER_TITLE_MAX_LENGTH = 120
OFFER_DESCRIPTION_MAX_LENGTH = 2000
OFFER_AVAILABILITY_MAX_LENGTH = 200
AREA_NAME_MAX_LENGTH = 100
CATEGORY_NAME_MAX_LENGTH = 60
OFFER_MAX_QUANTITY = 100_000
SPENT_MAX_MINOR = 10_000_000
# How many times a new request draws another reference when one is already taken: with about
# 887 million codes, a second draw is already rare.
REFERENCE_ATTEMPTS = 8
# Rows erased per transaction by the retention task.
PURGE_BATCH = 500
# When a request given no date is needed by, in days after asking, by urgency; a flexible one
# has no date.
DAYS_FOR_URGENCY: dict[str, int] = {Urgency.TODAY: 0, Urgency.THIS_WEEK: 7}

PERSONAL_FIELDS = ("name", "phone", "email", "address", "contact_via", "accessibility_notes")
LANGUAGE_CODE = re.compile(r"\A[a-z]{2,3}(-[a-z0-9]{2,4})?\Z")
MARKUP = re.compile(r"[<>\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _notify(task_name: str, object_id: int) -> None:
    """Enqueue one of needs.notifications' tasks once the current transaction has committed."""
    from mutualaid.needs import notifications

    if notifications.are_paused():
        return

    def enqueue() -> None:
        getattr(notifications, task_name).enqueue(object_id)

    transaction.on_commit(enqueue)


def _volunteers_changed(member_ids: Iterable[int | None]) -> None:
    """Tell matching, in the current transaction, that these members' load changed."""
    from mutualaid.dispatch.volunteers import volunteers_changed

    ids = sorted({member_id for member_id in member_ids if member_id is not None})
    if ids:
        volunteers_changed(member_ids=ids)


def _conflict(message: str) -> ApplicationError:
    return ApplicationError(message, code="conflict", status=409)


def _local_today(now: datetime | None = None) -> date:
    return timezone.localdate(now or timezone.now())


def _text(value: str | None, *, max_length: int, too_long: str, missing: str | None = None) -> str:
    """The value stripped, refused when longer than `max_length` or, with `missing`, empty."""
    text = (value or "").strip()
    if len(text) > max_length:
        raise ApplicationError(too_long % {"count": max_length})
    if missing is not None and not text:
        raise ApplicationError(missing)
    return text


def _plain(value: str, message: str) -> str:
    if MARKUP.search(value):
        raise ApplicationError(message)
    return value


def _check_category(group: Group, category: str) -> str:
    category = (category or "").strip()
    if category in BuiltInCategory.values:
        return category
    if category and GroupCategory.objects.filter(group=group, code=category).exists():
        return category
    raise ApplicationError(_("Please choose what kind of help from the list."))


def normalise_phone(phone: str) -> str:
    """A phone number in E.164 form ("+447700900123"), read as a number of the region the site
    serves unless it starts with +. A number of the right length for its country is accepted
    even where no operator has it yet (new ranges, the ranges kept for examples)."""
    try:
        number = phonenumbers.parse(phone, settings.PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if (
        number is None
        or phonenumbers.is_possible_number_with_reason(number)
        != phonenumbers.ValidationResult.IS_POSSIBLE
    ):
        raise ApplicationError(
            _("That phone number does not look complete. Please check it and try again.")
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _normalise_email(email: str) -> str:
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ApplicationError(_("Please enter a valid email address.")) from None
    return email


def _rough_point(value: Decimal | float, *, limit: int) -> Decimal:
    try:
        rough = round_to_rough(value)
    except (InvalidOperation, ValueError, TypeError):
        raise ApplicationError(_("That location is not on the map.")) from None
    if not rough.is_finite() or not -limit <= rough <= limit:
        raise ApplicationError(_("That location is not on the map."))
    return rough


def _is_within(area_group: Group, group: Group) -> bool:
    node: Group | None = area_group
    seen: set[int] = set()
    while node is not None and node.pk not in seen:
        if node.pk == group.pk:
            return True
        seen.add(node.pk)
        node = node.parent
    return False


def _next_due(day: date, recurrence: str) -> date:
    if recurrence == Recurrence.DAILY:
        return day + timedelta(days=1)
    if recurrence == Recurrence.WEEKLY:
        return day + timedelta(days=7)
    if recurrence == Recurrence.FORTNIGHTLY:
        return day + timedelta(days=14)
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def _is_paced(*, group: Group, category: str, keys: list[str], now: datetime) -> bool:
    """Whether the same household asked for the same kind of help within the group's pacing
    days: such a request is listed after first requests, never refused."""
    if not keys or group.request_pacing_days == 0:
        return False
    return Request.objects.filter(
        group=group,
        category=category,
        household_key__in=keys,
        created_at__gte=now - timedelta(days=group.request_pacing_days),
    ).exists()


def _household_key(*, phone: str, email: str) -> tuple[str, list[str]]:
    """The stored household key and every key that matches it while field keys rotate."""
    keys = references.household_keys(phone or email)
    return (keys[0] if keys else ""), keys


def _save_with_new_reference(request: Request) -> str:
    """Save a new request under a fresh reference and return it. The unique index decides: a
    reference taken meanwhile is drawn again."""
    for _attempt in range(REFERENCE_ATTEMPTS):
        request.reference = references.new_reference()
        try:
            with transaction.atomic():
                request.save(force_insert=True)
        except IntegrityError:
            if not Request.objects.filter(reference=request.reference).exists():
                raise
            request.pk = None
            continue
        return request.reference
    raise ApplicationError(_("Something went wrong saving your request. Please try again."))


@transaction.atomic
def request_create(
    *,
    group: Group,
    category: str,
    description: str,
    name: str = "",
    phone: str = "",
    email: str = "",
    address: str = "",
    contact_method: str = ContactMethod.PHONE,
    contact_via: str = "",
    area_name: str = "",
    area_group: Group | None = None,
    latitude: Decimal | float | None = None,
    longitude: Decimal | float | None = None,
    urgency: str = Urgency.THIS_WEEK,
    needed_by: date | None = None,
    language: str = "",
    accessibility_notes: str = "",
    channel: str = Channel.WEB,
    created_by: User | None = None,
    recurrence: str = "",
    recurrence_until: date | None = None,
    now: datetime | None = None,
) -> tuple[Request, str]:
    """Record a request for help and return it with the secret of the requester's status link.

    The secret is found again by its digest; it is also kept encrypted, only so it can be
    emailed to the requester's own address (see request_status_url), and is erased with the
    personal data.

    It asks only what is needed to deliver the help: what, a name to ask for, and a way to reach
    the person. A request without a date is needed by the end of today (urgency "today") or
    within a week ("this week"); a flexible one has no date. Only a dispatcher enters requests
    taken by phone.
    """
    now = now or timezone.now()
    today = _local_today(now)
    if channel not in Channel.values:
        raise ApplicationError(_("Unknown way of asking."))
    if channel == Channel.PHONE and not permissions.can_take_phone_requests(created_by, group):
        raise PermissionDenied(_("Only a dispatcher of this group can enter phone requests."))
    category = _check_category(group, category)
    description = _text(
        description,
        max_length=DESCRIPTION_MAX_LENGTH,
        too_long=_("Please describe what you need in at most %(count)d characters."),
        missing=_("Please say what you need."),
    )
    name = _text(
        name,
        max_length=NAME_MAX_LENGTH,
        too_long=_("A name can be at most %(count)d characters."),
        missing=_("Please give a name we can ask for. Any name will do."),
    )
    _plain(name, _("Please use plain text in the name: the characters < and > are not allowed."))
    if urgency not in Urgency.values:
        raise ApplicationError(_("Please choose how soon you need help."))
    if contact_method not in ContactMethod.values:
        raise ApplicationError(_("Please choose how we can reach you."))
    phone = (phone or "").strip()
    email = (email or "").strip()
    contact_via = _text(
        contact_via,
        max_length=CONTACT_VIA_MAX_LENGTH,
        too_long=_("The person to go through can be at most %(count)d characters."),
    )
    if contact_method in (ContactMethod.PHONE, ContactMethod.SMS) and not phone:
        raise ApplicationError(_("Please give a phone number, or choose another way to reach you."))
    if contact_method == ContactMethod.EMAIL and not email:
        raise ApplicationError(
            _("Please give an email address, or choose another way to reach you.")
        )
    if contact_method == ContactMethod.CONTACT and not contact_via:
        raise ApplicationError(
            _("Please name the person we should go through, and how to reach them.")
        )
    if phone:
        phone = normalise_phone(phone)
    if email:
        email = _normalise_email(email)
    address = _text(
        address,
        max_length=ADDRESS_MAX_LENGTH,
        too_long=_("An address can be at most %(count)d characters."),
    )
    accessibility_notes = _text(
        accessibility_notes,
        max_length=ACCESSIBILITY_MAX_LENGTH,
        too_long=_("Access needs can be at most %(count)d characters."),
    )
    language = (language or "").strip().lower()
    if language and not LANGUAGE_CODE.match(language):
        raise ApplicationError(_("Unknown language."))
    if needed_by is not None and needed_by < today:
        raise ApplicationError(_("The date you need help by cannot be in the past."))
    if needed_by is None and urgency in DAYS_FOR_URGENCY:
        needed_by = today + timedelta(days=DAYS_FOR_URGENCY[urgency])

    if area_group is not None and not _is_within(area_group, group):
        raise ApplicationError(_("Please choose an area inside this group."))
    area_name = _text(
        area_name or (area_group.name if area_group else ""),
        max_length=AREA_NAME_MAX_LENGTH,
        too_long=_("An area name can be at most %(count)d characters."),
    )
    _plain(
        area_name, _("Please use plain text in the area: the characters < and > are not allowed.")
    )
    if (latitude is None) != (longitude is None):
        raise ApplicationError(_("Please give both a latitude and a longitude, or neither."))
    if latitude is not None and longitude is not None:
        rough_latitude = _rough_point(latitude, limit=90)
        rough_longitude = _rough_point(longitude, limit=180)
    else:
        centre = area_group or group
        rough_latitude = round_to_rough(centre.centre_latitude)
        rough_longitude = round_to_rough(centre.centre_longitude)

    if recurrence and recurrence not in Recurrence.values:
        raise ApplicationError(_("Please choose how often you need this."))
    first_due = needed_by or today
    if recurrence and recurrence_until is not None and recurrence_until < first_due:
        raise ApplicationError(_("The last date of a repeating need must be after the first."))

    household_key, keys = _household_key(phone=phone, email=email)
    request = Request(
        group=group,
        category=category,
        description=description,
        urgency=urgency,
        needed_by=needed_by,
        language=language,
        accessibility_notes=accessibility_notes,
        name=name,
        phone=phone,
        email=email,
        address=address,
        contact_method=contact_method,
        contact_via=contact_via,
        household_key=household_key,
        area_name=area_name,
        area_group=area_group,
        rough_latitude=rough_latitude,
        rough_longitude=rough_longitude,
        channel=channel,
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
        created_at=now,
        paced=_is_paced(group=group, category=category, keys=keys, now=now),
    )
    if recurrence:
        request.standing_need = StandingNeed.objects.create(
            group=group,
            recurrence=recurrence,
            until=recurrence_until,
            next_due=_next_due(first_due, recurrence),
            created_at=now,
        )
    secret = references.new_secret()
    request.secret_digest = references.secret_digest(secret)
    request.secret_sealed = secret
    _save_with_new_reference(request)
    _notify("request_created_notify", request.pk)
    if email:
        _notify("request_received_notify", request.pk)
    return request, secret


NOT_FOUND = gettext_noop("We could not find a request with that reference and link.")


def request_find_by_secret(*, reference: str, secret: str) -> Request:
    """The request a status link points to. A wrong reference, a wrong secret and a request
    whose personal data has been erased all get the same answer."""
    code = references.normalise_reference(reference or "")
    request = (
        Request.objects.select_related("group").filter(reference=code).first() if code else None
    )
    digest = ""
    if request is not None and request.personal_data_erased_at is None:
        digest = request.secret_digest
    if not references.secret_matches(secret or "", digest):
        raise ApplicationError(_(NOT_FOUND), code="not_found", status=404)
    assert request is not None
    return request


def request_status_url(request: Request) -> str | None:
    """The absolute address of the requester's status page, to write to their own email
    address and to nobody else; None once the personal data is erased, or when the secret was
    never kept."""
    if request.personal_data_erased_at is not None or not request.secret_sealed:
        return None
    path = reverse(
        "needs:status", kwargs={"reference": request.reference, "secret": request.secret_sealed}
    )
    return f"{settings.SITE_URL}{path}"


def _secret_opens(request: Request, secret: str | None) -> bool:
    """Whether `secret` is the requester's: that of this request, or of any occurrence of the
    same standing need (each occurrence has its own reference; the requester has one link)."""
    if not secret or len(secret) > 200:
        return False
    same = Q(pk=request.pk)
    if request.standing_need_id:
        same |= Q(standing_need_id=request.standing_need_id)
    return (
        Request.objects.filter(same, personal_data_erased_at__isnull=True)
        .filter(secret_digest=references.secret_digest(secret))
        .exists()
    )


def _sync(instance: Any, **values: Any) -> None:
    """Keep the caller's instance in step with what a conditional update wrote."""
    for field, value in values.items():
        setattr(instance, field, value)


def _withdraw_assignments(request_id: int, *, now: datetime, except_member: Any = None) -> None:
    pending = Assignment.objects.filter(request_id=request_id, answer=Assignment.Answer.PENDING)
    if except_member is not None:
        pending = pending.exclude(member=except_member)
    asked = list(pending.values_list("member_id", flat=True))
    if asked:
        pending.update(answer=Assignment.Answer.WITHDRAWN, answered_at=now)
        _volunteers_changed(asked)


def _claim_if_open(request: Request, member: User, now: datetime) -> Claim | None:
    """Take an open request for `member` with one conditional update; None if it was not open.

    The update is the whole decision: of any number of claims at once, the database lets exactly
    one change the row from open.
    """
    updated = Request.objects.filter(pk=request.pk, status=Request.Status.OPEN).update(
        status=Request.Status.CLAIMED,
        claimed_by=member,
        claimed_at=now,
        first_claimed_at=Coalesce(F("first_claimed_at"), Value(now, output_field=DateTimeField())),
        leftover_reason="",
        leftover_at=None,
    )
    if not updated:
        return None
    claim = Claim.objects.create(request_id=request.pk, member=member, claimed_at=now)
    _withdraw_assignments(request.pk, now=now, except_member=member)
    _volunteers_changed([member.pk])
    _sync(
        request,
        status=Request.Status.CLAIMED,
        claimed_by=member,
        claimed_at=now,
        first_claimed_at=request.first_claimed_at or now,
        leftover_reason="",
        leftover_at=None,
    )
    return claim


def _why_not_open(request: Request, member: User) -> ApplicationError:
    current = Request.objects.filter(pk=request.pk).values("status", "claimed_by_id").first()
    if current and current["status"] == Request.Status.CLAIMED:
        if current["claimed_by_id"] == member.pk:
            return _conflict(_("You already hold this request."))
        return _conflict(_("Someone else has already taken this request."))
    return _conflict(_("This request is no longer open."))


@transaction.atomic
def request_claim(*, request: Request, member: User, now: datetime | None = None) -> Claim:
    """A member of the group takes an open request. Under any concurrency exactly one claimer
    succeeds; the others are told someone else has it (409). Claiming a request that was
    offered to someone else withdraws that offer."""
    if not permissions.can_claim(member, request):
        raise PermissionDenied(_("Only members of this group can take its requests."))
    now = now or timezone.now()
    claim = _claim_if_open(request, member, now)
    if claim is None:
        raise _why_not_open(request, member)
    Assignment.objects.filter(
        request_id=request.pk, member=member, answer=Assignment.Answer.PENDING
    ).update(answer=Assignment.Answer.ACCEPTED, answered_at=now)
    _notify("request_claimed_notify", request.pk)
    return claim


@transaction.atomic
def request_release(*, request: Request, member: User, reason: str) -> None:
    """The member holding a request lets it go, saying why; it is open again for others."""
    if not permissions.can_release(member, request):
        raise PermissionDenied(_("Only the member holding this request can let it go."))
    reason = _text(
        reason,
        max_length=REASON_MAX_LENGTH,
        too_long=_("Please keep the reason to %(count)d characters."),
        missing=_("Please say why you are letting it go."),
    )
    now = timezone.now()
    updated = Request.objects.filter(
        pk=request.pk, status=Request.Status.CLAIMED, claimed_by=member
    ).update(status=Request.Status.OPEN, claimed_by=None, claimed_at=None)
    if not updated:
        raise _conflict(_("You no longer hold this request."))
    Claim.objects.filter(
        request_id=request.pk, member=member, released_at__isnull=True, done_at__isnull=True
    ).update(released_at=now, release_reason=reason)
    _volunteers_changed([member.pk])
    _sync(request, status=Request.Status.OPEN, claimed_by=None, claimed_at=None)
    _notify("request_released_notify", request.pk)


@transaction.atomic
def request_complete(
    *,
    request: Request,
    member: User,
    notes: str = "",
    spent_minor: int | None = None,
    spent_note: str = "",
    now: datetime | None = None,
) -> ReimbursementClaim | None:
    """The member holding a request marks it done. What they spent, if anything, becomes a
    reimbursement claim in the group's currency for the group's funds to pay back."""
    if not permissions.can_complete(member, request):
        raise PermissionDenied(_("Only the member holding this request can mark it done."))
    notes = _text(
        notes,
        max_length=NOTES_MAX_LENGTH,
        too_long=_("Please keep the notes to %(count)d characters."),
    )
    spent_note = _text(
        spent_note,
        max_length=REASON_MAX_LENGTH,
        too_long=_("Please keep the note on what you spent to %(count)d characters."),
    )
    if spent_minor is not None and (
        isinstance(spent_minor, bool) or not isinstance(spent_minor, int) or spent_minor < 0
    ):
        raise ApplicationError(_("Please give what you spent as an amount of money."))
    if spent_minor is not None and spent_minor > SPENT_MAX_MINOR:
        raise ApplicationError(_("That amount is too large to claim back here."))
    limit = request.group.reimbursement_limit_minor
    if spent_minor and spent_minor > limit:
        raise ApplicationError(
            _(
                "The group pays back at most %(limit)s per claim. Claim up to that, and ask a "
                "treasurer about the rest."
            )
            % {"limit": format_money(limit, request.group.currency)}
        )
    now = now or timezone.now()
    updated = Request.objects.filter(
        pk=request.pk, status=Request.Status.CLAIMED, claimed_by=member
    ).update(status=Request.Status.DONE, closed_at=now)
    if not updated:
        raise _conflict(_("You no longer hold this request."))
    Claim.objects.filter(
        request_id=request.pk, member=member, released_at__isnull=True, done_at__isnull=True
    ).update(done_at=now, done_notes=notes)
    _volunteers_changed([member.pk])
    _sync(request, status=Request.Status.DONE, closed_at=now)
    reimbursement = None
    if spent_minor:
        reimbursement = ReimbursementClaim.objects.create(
            request_id=request.pk,
            claimant=member,
            amount_minor=spent_minor,
            currency=request.group.currency,
            note=spent_note,
            created_at=now,
        )
    _notify("request_done_notify", request.pk)
    return reimbursement


def _release_active_claim(request_id: int, *, now: datetime, reason: str) -> None:
    active = Claim.objects.filter(
        request_id=request_id, released_at__isnull=True, done_at__isnull=True
    )
    holders = list(active.values_list("member_id", flat=True))
    if holders:
        active.update(released_at=now, release_reason=reason)
        _volunteers_changed(holders)


@transaction.atomic
def request_cancel(
    *, request: Request, actor: User | None = None, secret: str | None = None
) -> None:
    """The requester (by their status link's secret) or a dispatcher of the group cancels a
    request that is still open or claimed; whoever held it is let go."""
    if secret is not None:
        if not _secret_opens(request, secret):
            raise PermissionDenied(_("Only the person who asked can cancel this request."))
    elif not permissions.can_cancel(actor, request):
        raise PermissionDenied(_("Only a dispatcher of this group can cancel a request."))
    now = timezone.now()
    updated = Request.objects.filter(
        pk=request.pk, status__in=[Request.Status.OPEN, Request.Status.CLAIMED]
    ).update(status=Request.Status.CANCELLED, closed_at=now)
    if not updated:
        raise _conflict(_("This request is already closed."))
    _release_active_claim(request.pk, now=now, reason=_("The request was cancelled."))
    _withdraw_assignments(request.pk, now=now)
    _sync(request, status=Request.Status.CANCELLED, closed_at=now)


@transaction.atomic
def request_reopen(*, request: Request, dispatcher: User, needed_by: date | None) -> None:
    """A dispatcher opens an unmet request again (or moves the date of an open one whose date
    has passed) with a new needed-by date, so members see it again."""
    if not permissions.can_reopen(dispatcher, request):
        raise PermissionDenied(_("Only a dispatcher of this group can reopen a request."))
    today = _local_today()
    if needed_by is not None and needed_by < today:
        raise ApplicationError(_("The new date cannot be in the past."))
    updated = (
        Request.objects.filter(pk=request.pk, personal_data_erased_at__isnull=True)
        .filter(Q(status=Request.Status.UNMET) | Q(status=Request.Status.OPEN, needed_by__lt=today))
        .update(status=Request.Status.OPEN, needed_by=needed_by, closed_at=None)
    )
    if not updated:
        raise _conflict(
            _("Only an unmet request, or an open one whose date has passed, can be reopened.")
        )
    _sync(request, status=Request.Status.OPEN, needed_by=needed_by, closed_at=None)


@transaction.atomic
def request_assign(*, request: Request, member: User, dispatcher: User) -> Assignment:
    """A dispatcher asks one member of the group to take an open request. One request waits for
    one answer at a time."""
    if not permissions.can_assign(dispatcher, request):
        raise PermissionDenied(_("Only a dispatcher of this group can ask a member to help."))
    if not is_member(member, request.group):
        raise ApplicationError(_("You can only ask a member of this group."))
    # The request's row is held until commit so a claim cannot slip in between.
    status = (
        Request.objects.select_for_update()
        .filter(pk=request.pk)
        .values_list("status", flat=True)
        .first()
    )
    if status != Request.Status.OPEN:
        raise _conflict(_("This request is no longer open."))
    if Assignment.objects.filter(request_id=request.pk, answer=Assignment.Answer.PENDING).exists():
        raise _conflict(_("This request is already waiting for a member's answer."))
    try:
        with transaction.atomic():
            assignment = Assignment.objects.create(
                request_id=request.pk, member=member, assigned_by=dispatcher
            )
    except IntegrityError:
        raise _conflict(_("This request is already waiting for a member's answer.")) from None
    _volunteers_changed([member.pk])
    _notify("assignment_made_notify", assignment.pk)
    return assignment


def _check_can_answer(assignment: Assignment, member: User) -> None:
    if permissions.can_answer_assignment(member, assignment):
        return
    if getattr(member, "is_authenticated", False) and assignment.member_id == member.pk:
        # Their own question, already settled: a claim by someone else or an earlier answer.
        raise _conflict(_("This request is no longer waiting for your answer."))
    raise PermissionDenied(_("Only the member who was asked can answer."))


@transaction.atomic
def assignment_accept(*, assignment: Assignment, member: User) -> Claim:
    """The member asked accepts: they take the request through the same conditional update as
    any claim, so a claim made meanwhile by someone else wins."""
    _check_can_answer(assignment, member)
    request = assignment.request
    if not permissions.can_claim(member, request):
        raise PermissionDenied(_("Only members of this group can take its requests."))
    now = timezone.now()
    claim = _claim_if_open(request, member, now)
    if claim is None:
        raise _why_not_open(request, member)
    accepted = Assignment.objects.filter(pk=assignment.pk, answer=Assignment.Answer.PENDING).update(
        answer=Assignment.Answer.ACCEPTED, answered_at=now
    )
    if not accepted:
        raise _conflict(_("This request is no longer waiting for your answer."))
    _sync(assignment, answer=Assignment.Answer.ACCEPTED, answered_at=now)
    _notify("request_claimed_notify", request.pk)
    return claim


@transaction.atomic
def assignment_decline(*, assignment: Assignment, member: User, reason: str = "") -> None:
    """The member asked says no, with a reason if they like; the request stays open. A
    proposal made by matching passes on to the next volunteer at once
    (dispatch.services.assignment_pass_on); a dispatcher's own ask waits for the dispatcher."""
    _check_can_answer(assignment, member)
    reason = _text(
        reason,
        max_length=REASON_MAX_LENGTH,
        too_long=_("Please keep the reason to %(count)d characters."),
    )
    now = timezone.now()
    # The request's row first, as a claim, an accept and an expiry take it, so that none of
    # them waits for another in the opposite order.
    Request.objects.select_for_update().filter(pk=assignment.request_id).values_list(
        "pk", flat=True
    ).first()
    declined = Assignment.objects.filter(pk=assignment.pk, answer=Assignment.Answer.PENDING).update(
        answer=Assignment.Answer.DECLINED, answered_at=now, decline_reason=reason
    )
    if not declined:
        raise _conflict(_("This request is no longer waiting for your answer."))
    _volunteers_changed([assignment.member_id])
    _sync(assignment, answer=Assignment.Answer.DECLINED, answered_at=now, decline_reason=reason)
    if assignment.source == Assignment.Source.MATCHING:
        from mutualaid.dispatch.services import assignment_pass_on

        assignment_pass_on(assignment=assignment, now=now)


@transaction.atomic
def request_link_offer(*, request: Request, offer: Offer, actor: User) -> None:
    """The member holding a request, or a dispatcher, records the offer that fulfils it. Goods
    are counted down by one, and an offer whose goods are all given is no longer listed."""
    if not permissions.can_link_offer(actor, request, offer):
        raise PermissionDenied(
            _("Only the member holding this request or a dispatcher can link an offer.")
        )
    if request.status in (Request.Status.CANCELLED, Request.Status.UNMET):
        raise ApplicationError(_("This request is closed."))
    if request.offer_id == offer.pk:
        return
    active = Offer.objects.filter(pk=offer.pk, status=Offer.Status.ACTIVE)
    if offer.kind == Offer.Kind.GOODS:
        used = active.filter(quantity__gte=1).update(quantity=F("quantity") - 1)
        Offer.objects.filter(pk=offer.pk, quantity=0).update(status=Offer.Status.USED_UP)
    else:
        used = active.exists()
    if not used:
        raise ApplicationError(_("This offer is no longer available."))
    Request.objects.filter(pk=request.pk).update(offer=offer)
    request.offer = offer
    offer.refresh_from_db(fields=["quantity", "status"])


def request_contact_details(
    *, request: Request, viewer: User, http_request: Any = None
) -> dict[str, str]:
    """How to reach the requester, for the member holding the request or a dispatcher of the
    group; every showing is recorded in the audit log."""
    fresh = Request.objects.select_related("group").get(pk=request.pk)
    if not permissions.can_view_contact(viewer, fresh):
        raise PermissionDenied(
            _(
                "Only the member holding this request and the dispatchers can see how to "
                "reach the person."
            )
        )
    details = {field: getattr(fresh, field) for field in PERSONAL_FIELDS}
    details["contact_method"] = fresh.contact_method
    reason = (
        "claimed the request"
        if permissions.holds_request(viewer, fresh)
        else "dispatcher for the group"
    )
    record_personal_data_access(
        actor=viewer,
        subject_label=fresh.audit_label,
        fields=[field for field in PERSONAL_FIELDS if details[field]],
        reason=reason,
        request=http_request,
    )
    return details


@transaction.atomic
def message_post(
    *,
    request: Request,
    body: str,
    author: User | None = None,
    secret: str | None = None,
) -> Message:
    """A message in the request's thread, from the requester (by their link's secret), the
    member holding the request, or a dispatcher, so nobody has to share a number."""
    request.refresh_from_db(
        fields=["status", "claimed_by", "personal_data_erased_at", "standing_need"]
    )
    if secret is not None:
        if not _secret_opens(request, secret):
            raise PermissionDenied(_("Only the person who asked can write here."))
        kind, author = Message.Author.REQUESTER, None
    elif author is not None and permissions.can_use_thread(author, request):
        kind = (
            Message.Author.MEMBER
            if permissions.holds_request(author, request)
            else Message.Author.DISPATCHER
        )
    else:
        raise PermissionDenied(
            _(
                "Only the person who asked, the member holding the request and the "
                "dispatchers can write here."
            )
        )
    if request.personal_data_erased_at is not None or request.status == Request.Status.CANCELLED:
        raise ApplicationError(_("This conversation is closed."))
    body = _text(
        body,
        max_length=MESSAGE_MAX_LENGTH,
        too_long=_("A message can be at most %(count)d characters."),
        missing=_("Please write a message."),
    )
    message = Message.objects.create(request=request, author_kind=kind, author=author, body=body)
    _notify("message_posted_notify", message.pk)
    return message


@transaction.atomic
def standing_need_commit(*, standing_need: StandingNeed, member: User) -> None:
    """A member of the group takes a standing need: every later occurrence is created already
    theirs, and occurrences still open are taken for them now."""
    if not is_member(member, standing_need.group):
        raise PermissionDenied(_("Only members of this group can take a standing need."))
    updated = StandingNeed.objects.filter(
        pk=standing_need.pk, volunteer__isnull=True, ended_at__isnull=True
    ).update(volunteer=member)
    if not updated:
        current = StandingNeed.objects.filter(pk=standing_need.pk).values(
            "volunteer_id", "ended_at"
        )[0]
        if current["ended_at"] is not None:
            raise ApplicationError(_("This standing need has ended."))
        if current["volunteer_id"] == member.pk:
            raise _conflict(_("You have already taken this standing need."))
        raise _conflict(_("Someone else has already taken this standing need."))
    standing_need.volunteer = member
    now = timezone.now()
    for occurrence in Request.objects.filter(
        standing_need=standing_need, status=Request.Status.OPEN
    ).only("pk", "first_claimed_at"):
        if _claim_if_open(occurrence, member, now) is not None:
            _notify("request_claimed_notify", occurrence.pk)


@transaction.atomic
def standing_need_release(*, standing_need: StandingNeed, member: User) -> None:
    """The member who took a standing need gives it back; occurrences they already hold stay
    theirs until they let each go or finish it."""
    if standing_need.volunteer_id != member.pk:
        raise PermissionDenied(_("Only the member who took this standing need can give it back."))
    updated = StandingNeed.objects.filter(pk=standing_need.pk, volunteer=member).update(
        volunteer=None
    )
    if not updated:
        raise _conflict(_("You no longer hold this standing need."))
    standing_need.volunteer = None


# Stored as the release reason, in the platform's words.
LEFT_THE_GROUP = gettext_noop("Left the group")


@transaction.atomic
def member_left_group(*, group: Group, member: User) -> int:
    """What a member held in a group goes back to it when they leave: their requests open
    again, assignments to them are withdrawn, and standing needs they took have no volunteer.
    Returns how many requests opened again."""
    now = timezone.now()
    held = list(
        Request.objects.filter(group=group, status=Request.Status.CLAIMED, claimed_by=member)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    reopened = Request.objects.filter(
        pk__in=held, status=Request.Status.CLAIMED, claimed_by=member
    ).update(status=Request.Status.OPEN, claimed_by=None, claimed_at=None)
    Claim.objects.filter(
        request_id__in=held, member=member, released_at__isnull=True, done_at__isnull=True
    ).update(released_at=now, release_reason=LEFT_THE_GROUP)
    Assignment.objects.filter(
        request__group=group, member=member, answer=Assignment.Answer.PENDING
    ).update(answer=Assignment.Answer.WITHDRAWN, answered_at=now)
    StandingNeed.objects.filter(group=group, volunteer=member).update(volunteer=None)
    _volunteers_changed([member.pk])
    for request_id in held:
        _notify("request_released_notify", request_id)
    return reopened


@transaction.atomic
def standing_need_end(
    *, standing_need: StandingNeed, actor: User | None = None, secret: str | None = None
) -> None:
    """The requester (by the secret of any occurrence) or a dispatcher stops a standing need:
    no more occurrences are created."""
    if secret is not None:
        allowed = bool(secret) and (
            Request.objects.filter(
                standing_need=standing_need,
                personal_data_erased_at__isnull=True,
                secret_digest=references.secret_digest(secret),
            ).exists()
        )
    else:
        allowed = permissions.can_dispatch(actor, standing_need.group)
    if not allowed:
        raise PermissionDenied(
            _("Only the person who asked or a dispatcher can stop a standing need.")
        )
    now = timezone.now()
    updated = StandingNeed.objects.filter(pk=standing_need.pk, ended_at__isnull=True).update(
        ended_at=now
    )
    if not updated:
        raise ApplicationError(_("This standing need has already ended."))
    standing_need.ended_at = now


@transaction.atomic
def offer_create(
    *,
    group: Group,
    member: User,
    kind: str,
    category: str,
    title: str,
    description: str = "",
    area_name: str = "",
    availability: str = "",
    quantity: int | None = None,
    available_until: date | None = None,
) -> Offer:
    """A member offers time, a skill or goods. Goods come with how many; time and skills
    don't."""
    if not permissions.can_offer(member, group):
        raise PermissionDenied(_("Only members of this group can make an offer."))
    if kind not in Offer.Kind.values:
        raise ApplicationError(_("Please choose what you offer: time, a skill or goods."))
    category = _check_category(group, category)
    title = _text(
        title,
        max_length=OFFER_TITLE_MAX_LENGTH,
        too_long=_("A title can be at most %(count)d characters."),
        missing=_("Please give your offer a title."),
    )
    description = _text(
        description,
        max_length=OFFER_DESCRIPTION_MAX_LENGTH,
        too_long=_("Details can be at most %(count)d characters."),
    )
    area_name = _text(
        area_name,
        max_length=AREA_NAME_MAX_LENGTH,
        too_long=_("An area name can be at most %(count)d characters."),
    )
    availability = _text(
        availability,
        max_length=OFFER_AVAILABILITY_MAX_LENGTH,
        too_long=_("When you are available can be at most %(count)d characters."),
    )
    for text in (title, area_name, availability):
        _plain(text, _("Please use plain text: the characters < and > are not allowed."))
    if kind == Offer.Kind.GOODS:
        if quantity is None or isinstance(quantity, bool) or quantity < 1:
            raise ApplicationError(_("Please say how many you can give."))
        if quantity > OFFER_MAX_QUANTITY:
            raise ApplicationError(
                _("You can offer at most %(count)d at once.") % {"count": OFFER_MAX_QUANTITY}
            )
    elif quantity is not None:
        raise ApplicationError(_("Only goods have a quantity."))
    if available_until is not None and available_until < _local_today():
        raise ApplicationError(_("The last day of an offer cannot be in the past."))
    return Offer.objects.create(
        group=group,
        member=member,
        kind=kind,
        category=category,
        title=title,
        description=description,
        area_name=area_name,
        availability=availability,
        quantity=quantity,
        available_until=available_until,
    )


@transaction.atomic
def offer_withdraw(*, offer: Offer, member: User) -> None:
    """The member who made an offer withdraws it. Withdrawing twice changes nothing."""
    if not permissions.can_withdraw_offer(member, offer):
        raise PermissionDenied(_("Only the member who made an offer can withdraw it."))
    Offer.objects.filter(pk=offer.pk, status=Offer.Status.ACTIVE).update(
        status=Offer.Status.WITHDRAWN
    )
    offer.refresh_from_db(fields=["status"])


@transaction.atomic
def group_category_add(*, group: Group, name: str, actor: User) -> GroupCategory:
    """A dispatcher or steward adds a kind of help to the group's list. Its code is made from
    the name and unique in the group, built-in kinds included."""
    if not permissions.can_add_category(actor, group):
        raise PermissionDenied(
            _("Only a dispatcher or a steward of this group can add a kind of help.")
        )
    name = " ".join((name or "").split())
    if not name:
        raise ApplicationError(_("Please name the kind of help."))
    if len(name) > CATEGORY_NAME_MAX_LENGTH:
        raise ApplicationError(
            _("A name can be at most %(count)d characters.") % {"count": CATEGORY_NAME_MAX_LENGTH}
        )
    _plain(name, _("Please use plain text: the characters < and > are not allowed."))
    code = slugify(name, allow_unicode=True)[: GroupCategory._meta.get_field("code").max_length]
    code = code.strip("-_")
    if not code:
        raise ApplicationError(_("Please use letters or numbers in the name."))
    taken = _("That kind of help is already on the list.")
    builtin_labels = {str(label).casefold() for label in BuiltInCategory.labels}
    if (
        code in BuiltInCategory.values
        or code.replace("-", "_") in BuiltInCategory.values
        or name.casefold() in builtin_labels
        or GroupCategory.objects.filter(group=group, name__iexact=name).exists()
    ):
        raise ApplicationError(taken)
    try:
        with transaction.atomic():
            return GroupCategory.objects.create(group=group, code=code, name=name)
    except IntegrityError:
        raise ApplicationError(taken) from None


def requests_mark_unmet(*, now: datetime | None = None) -> int:
    """Open requests whose needed-by date has passed become unmet and land on the dispatchers'
    follow-up list. Returns how many changed."""
    now = now or timezone.now()
    today = _local_today(now)
    with transaction.atomic():
        changed = Request.objects.filter(status=Request.Status.OPEN, needed_by__lt=today).update(
            status=Request.Status.UNMET, closed_at=now
        )
        pending = Assignment.objects.filter(
            answer=Assignment.Answer.PENDING, request__status=Request.Status.UNMET
        )
        asked = list(pending.values_list("member_id", flat=True))
        if asked:
            pending.update(answer=Assignment.Answer.WITHDRAWN, answered_at=now)
            _volunteers_changed(asked)
    return changed


def _latest_occurrences_of_active_standing_needs() -> set[int]:
    """The latest occurrence of each standing need still running: the next occurrence is copied
    from it, so its details are kept until there is a newer one."""
    latest: dict[int, int] = {}
    for standing_need_id, pk in Request.objects.filter(
        standing_need__ended_at__isnull=True, standing_need__isnull=False
    ).values_list("standing_need_id", "pk"):
        latest[standing_need_id] = max(pk, latest.get(standing_need_id, 0))
    return set(latest.values())


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def requests_purge_personal_data(*, now: datetime | None = None) -> int:
    """Erase the personal data of requests closed longer ago than their group's retention days:
    who asked, how to reach them, what they wrote and the thread. The category, area, dates and
    outcome stay for the group's figures. Each erasure is recorded in the audit log. Returns how
    many requests were erased."""
    now = now or timezone.now()
    keep = _latest_occurrences_of_active_standing_needs()
    erased = 0
    for group_id, retention_days in (
        Group.objects.filter(
            requests__personal_data_erased_at__isnull=True,
            requests__status__in=Request.CLOSED_STATUSES,
        )
        .distinct()
        .values_list("pk", "retention_days")
    ):
        due = list(
            Request.objects.filter(
                group_id=group_id,
                status__in=Request.CLOSED_STATUSES,
                personal_data_erased_at__isnull=True,
                closed_at__lt=now - timedelta(days=retention_days),
            )
            .exclude(pk__in=keep)
            .values_list("pk", flat=True)
            .order_by("pk")
        )
        for chunk in _chunks(due, PURGE_BATCH):
            erased += _erase_batch(chunk, now=now)
    return erased


def _erase_batch(ids: list[int], *, now: datetime) -> int:
    with transaction.atomic():
        rows = list(
            Request.objects.select_for_update()
            .filter(pk__in=ids, personal_data_erased_at__isnull=True)
            .values_list("pk", "reference")
        )
        if not rows:
            return 0
        pks = [pk for pk, _reference in rows]
        Request.objects.filter(pk__in=pks).update(
            name="",
            phone="",
            email="",
            address="",
            contact_via="",
            accessibility_notes="",
            description="",
            household_key="",
            secret_digest="",
            secret_sealed="",
            personal_data_erased_at=now,
        )
        Message.objects.filter(request_id__in=pks).delete()
        Claim.objects.filter(request_id__in=pks).update(done_notes="", release_reason="")
        Assignment.objects.filter(request_id__in=pks).update(decline_reason="")
        AuditEvent.objects.bulk_create(
            AuditEvent(
                subject_label=f"request {reference}",
                action=AuditEvent.Action.ERASE,
                fields=sorted([*PERSONAL_FIELDS, "description", "messages"]),
                reason="retention period ended",
                channel=AuditEvent.Channel.COMMAND,
                where="requests_purge_personal_data",
            )
            for _pk, reference in rows
        )
    return len(rows)


def standing_needs_create_due(*, today: date | None = None) -> int:
    """Create the next occurrence of every running standing need due by tomorrow, copied from
    its latest occurrence, and give it to the member who took the need, if one has. Occurrences
    missed while nothing ran are skipped, not made late. Running it twice creates nothing more.
    Returns how many occurrences were created."""
    today = today or _local_today()
    horizon = today + timedelta(days=1)
    created = 0
    for pk in StandingNeed.objects.filter(ended_at__isnull=True, next_due__lte=horizon).values_list(
        "pk", flat=True
    ):
        created += _standing_need_catch_up(pk, today=today, horizon=horizon)
    return created


@transaction.atomic
def _standing_need_catch_up(pk: int, *, today: date, horizon: date) -> int:
    need = (
        StandingNeed.objects.select_for_update(of=("self",))
        .select_related("group", "volunteer")
        .filter(pk=pk, ended_at__isnull=True, next_due__lte=horizon)
        .first()
    )
    if need is None:
        return 0
    now = timezone.now()
    template = (
        Request.objects.filter(standing_need=need, personal_data_erased_at__isnull=True)
        .order_by("-created_at", "-pk")
        .first()
    )
    due = need.next_due
    while due < today:
        due = _next_due(due, need.recurrence)
    created = 0
    while template is not None and due <= horizon and (need.until is None or due <= need.until):
        occurrence = _copy_occurrence(template, needed_by=due, now=now)
        volunteer = need.volunteer
        if volunteer is not None and is_member(volunteer, need.group):
            _claim_if_open(occurrence, volunteer, now)
        else:
            _notify("request_created_notify", occurrence.pk)
        created += 1
        due = _next_due(due, need.recurrence)
    finished = template is None or (need.until is not None and due > need.until)
    StandingNeed.objects.filter(pk=need.pk).update(next_due=due, ended_at=now if finished else None)
    return created


COPIED_FIELDS = (
    "group_id",
    "category",
    "description",
    "urgency",
    "language",
    "accessibility_notes",
    "name",
    "phone",
    "email",
    "address",
    "contact_method",
    "contact_via",
    "household_key",
    "area_name",
    "area_group_id",
    "rough_latitude",
    "rough_longitude",
    "channel",
    "created_by_id",
    "standing_need_id",
)


def _copy_occurrence(template: Request, *, needed_by: date, now: datetime) -> Request:
    """A new occurrence of a standing need. It has its own reference and the requester's one
    secret: their link opens it under its own reference, and keeps working after the
    occurrences before it have been erased."""
    occurrence = Request(**{field: getattr(template, field) for field in COPIED_FIELDS})
    occurrence.needed_by = needed_by
    occurrence.created_at = now
    occurrence.secret_digest = template.secret_digest
    occurrence.secret_sealed = template.secret_sealed
    occurrence.paced = _is_paced(
        group=template.group,
        category=template.category,
        keys=[template.household_key] if template.household_key else [],
        now=now,
    )
    _save_with_new_reference(occurrence)
    return occurrence
