"""Every write about members: profiles, consent, API tokens, export and erasure."""

import hashlib
import secrets
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from mutualaid.common.audit import record_personal_data_access
from mutualaid.common.errors import ApplicationError
from mutualaid.common.geo import round_to_rough
from mutualaid.common.models import AuditEvent
from mutualaid.dispatch.volunteers import volunteers_changed
from mutualaid.groups.models import JoinRequest, Membership, RoleGrant
from mutualaid.groups.services import group_leave
from mutualaid.people import selectors
from mutualaid.people.models import (
    ALL_WEEK,
    DAY_PARTS,
    SPOKEN_LANGUAGES,
    WEEKDAYS,
    ApiToken,
    Skill,
    User,
    availability_bit,
)
from mutualaid.people.validators import validate_phone, validate_plain_text

TOKEN_PREFIX = "ma_"  # noqa: S105 (a marker that a string is a token, not a secret)
DISPLAY_NAME_MAX = 60
HOME_AREA_MAX = 60
ADDRESS_MAX = 300
PHONE_MAX = 32
TRAVEL_KM_MAX = 200
OPEN_TASKS_MIN = 1
OPEN_TASKS_MAX = 20


def _digest(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Make a personal API token. The raw token is returned once and never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name.strip()[:60] or "API", prefix=raw[:10], digest=_digest(raw)
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, user: User, token: ApiToken) -> None:
    """Revoke one of the member's own tokens; it stops working at once."""
    ApiToken.objects.filter(pk=token.pk, user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def api_token_authenticate(*, raw_token: str) -> User | None:
    """The active member a raw token belongs to, or None for an unknown or revoked token."""
    if not raw_token.startswith(TOKEN_PREFIX) or len(raw_token) > 200:
        return None
    token = (
        ApiToken.objects.filter(digest=_digest(raw_token), revoked_at__isnull=True)
        .select_related("user")
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def _clean_text(value: str, *, max_length: int, missing: str = "", too_long: str) -> str:
    """Strip, then check presence (when `missing` is given), length and plain text."""
    value = (value or "").strip()
    if missing and not value:
        raise ApplicationError(missing)
    if len(value) > max_length:
        raise ApplicationError(too_long % {"max": max_length})
    try:
        validate_plain_text(value)
    except ValidationError as error:
        raise ApplicationError(str(error.messages[0])) from error
    return value


def clean_display_name(value: str) -> str:
    return _clean_text(
        value,
        max_length=DISPLAY_NAME_MAX,
        missing=_("Please choose a display name. A pseudonym is fine."),
        too_long=_("Your display name can be at most %(max)d characters long."),
    )


def member_create(*, email: str, display_name: str, password: str | None = None) -> User:
    """An operator makes a member whose login address counts as verified. Without a password
    the member logs in with a code sent by email. One address, one member: the database has the
    last word when two are made at once."""
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as error:
        raise ApplicationError(
            _("“%(email)s” is not a valid email address.") % {"email": email}
        ) from error
    display_name = clean_display_name(display_name)
    taken = ApplicationError(
        _("A member with the email address “%(email)s” already exists.") % {"email": email}
    )
    if (
        User.objects.filter(email=email).exists()
        or EmailAddress.objects.filter(email=email).exists()
    ):
        raise taken
    if password is not None:
        try:
            validate_password(password, User(email=email, display_name=display_name))
        except ValidationError as error:
            raise ApplicationError(
                _("The password is too weak: %(reasons)s") % {"reasons": " ".join(error.messages)}
            ) from error
    try:
        with transaction.atomic():
            member = User.objects.create_user(email, password, display_name=display_name)
            EmailAddress.objects.create(user=member, email=email, verified=True, primary=True)
    except IntegrityError as error:
        raise taken from error
    return member


@transaction.atomic
def member_signup_complete(*, member: User, display_name: str) -> User:
    """Finish a signup: the member's display name, and their agreement to the privacy notice
    in force today (its version and the moment they agreed)."""
    member.display_name = clean_display_name(display_name)
    member.consent_version = settings.PRIVACY_NOTICE_VERSION
    member.consent_at = timezone.now()
    member.save(update_fields=["display_name", "consent_version", "consent_at"])
    return member


def availability_slots(mask: int) -> list[tuple[int, int]]:
    """The (weekday, part of day) pairs set in a bitmask, Monday morning first."""
    return [
        (day, part)
        for day in range(len(WEEKDAYS))
        for part in range(len(DAY_PARTS))
        if mask & availability_bit(day, part)
    ]


def _rough_point(
    latitude: Decimal | float | None, longitude: Decimal | float | None
) -> tuple[Decimal | None, Decimal | None]:
    if latitude is None and longitude is None:
        return None, None
    if latitude is None or longitude is None:
        raise ApplicationError(_("Please give both latitude and longitude, or neither."))
    rough_lat, rough_lon = round_to_rough(latitude), round_to_rough(longitude)
    if not (-90 <= rough_lat <= 90 and -180 <= rough_lon <= 180):
        raise ApplicationError(_("That location is not on Earth."))
    return rough_lat, rough_lon


@transaction.atomic
def member_profile_update(
    *,
    member: User,
    display_name: str,
    languages: Iterable[str] = (),
    skills: Iterable[Skill] = (),
    availability: int = 0,
    home_area: str = "",
    home_latitude: Decimal | float | None = None,
    home_longitude: Decimal | float | None = None,
    travel_km: int = 3,
    phone: str = "",
    address: str = "",
    notify_by_email: bool = True,
    notify_digest: bool = False,
    max_open_tasks: int | None = None,
) -> User:
    """Change what a member tells the groups about themselves.

    Only a rough location is kept: latitude and longitude are rounded to two decimals (about
    1 km) before they are stored. Skills must be shared ones or those of the member's groups.
    Everything is checked before anything changes, so a refusal leaves `member` as it was;
    an erased account is not changed. `max_open_tasks` (how many requests they hold at most
    before nobody proposes more) stays as it was when not given. The volunteer indexes hear of
    the change in the same transaction.
    """
    display_name = clean_display_name(display_name)
    known_languages = {code for code, _label in SPOKEN_LANGUAGES}
    chosen_languages = set(languages)
    if chosen_languages - known_languages:
        raise ApplicationError(_("Unknown language."))
    if not 0 <= availability <= ALL_WEEK:
        raise ApplicationError(_("Unknown time of the week."))
    home_area = _clean_text(
        home_area,
        max_length=HOME_AREA_MAX,
        too_long=_("The home area can be at most %(max)d characters long."),
    )
    rough_latitude, rough_longitude = _rough_point(home_latitude, home_longitude)
    if not 0 <= travel_km <= TRAVEL_KM_MAX:
        raise ApplicationError(
            _("How far you travel must be between 0 and %(max)d km.") % {"max": TRAVEL_KM_MAX}
        )
    if max_open_tasks is None:
        max_open_tasks = member.max_open_tasks
    if (
        isinstance(max_open_tasks, bool)
        or not isinstance(max_open_tasks, int)
        or not OPEN_TASKS_MIN <= max_open_tasks <= OPEN_TASKS_MAX
    ):
        raise ApplicationError(
            _("You can hold between %(min)d and %(max)d requests at a time.")
            % {"min": OPEN_TASKS_MIN, "max": OPEN_TASKS_MAX}
        )
    phone = _clean_text(
        phone,
        max_length=PHONE_MAX,
        too_long=_("The phone number can be at most %(max)d characters long."),
    )
    if phone:
        try:
            validate_phone(phone)
        except ValidationError as error:
            raise ApplicationError(str(error.messages[0])) from error
    address = _clean_text(
        address,
        max_length=ADDRESS_MAX,
        too_long=_("The address can be at most %(max)d characters long."),
    )
    chosen_skills = list(skills)
    allowed = set(
        selectors.skill_choices(member=member)
        .filter(pk__in=[skill.pk for skill in chosen_skills])
        .values_list("pk", flat=True)
    )
    if any(skill.pk not in allowed for skill in chosen_skills):
        raise ApplicationError(_("That skill is not offered in your groups."))

    changes = {
        "display_name": display_name,
        "languages": [code for code, _label in SPOKEN_LANGUAGES if code in chosen_languages],
        "availability": availability,
        "home_area": home_area,
        "home_latitude": rough_latitude,
        "home_longitude": rough_longitude,
        "travel_km": travel_km,
        "phone": phone,
        "address": address,
        "notify_by_email": notify_by_email,
        "notify_digest": notify_digest,
        "max_open_tasks": max_open_tasks,
    }
    # A conditional update, so a save racing the account's erasure cannot write the erased
    # details back: it waits for the erasure and then finds no row to change.
    if not User.objects.filter(pk=member.pk, erased_at__isnull=True).update(**changes):
        raise ApplicationError(_("This account has already been deleted."))
    for name, value in changes.items():
        setattr(member, name, value)
    member.skills.set(chosen_skills)
    volunteers_changed(member_ids=[member.pk])
    return member


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _decimal(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


def member_data_export(*, member: User, request: HttpRequest | None = None) -> dict[str, Any]:
    """Everything the platform holds about a member, in plain JSON types, for the member
    themselves; the download is written to the audit log here, once.

    API tokens appear as metadata only: their digests are never exported.
    """
    memberships = Membership.objects.filter(member=member).select_related("group", "vouched_by")
    grants = RoleGrant.objects.filter(holder=member).select_related(
        "group", "proposed_by", "confirmed_by"
    )
    join_requests = JoinRequest.objects.filter(applicant=member).select_related(
        "group", "vouched_by"
    )
    audit_events = AuditEvent.objects.filter(subject=member).select_related("actor")
    data = {
        "exported_at": timezone.now().isoformat(),
        "profile": {
            "id": member.pk,
            "email": member.email,
            "display_name": member.display_name,
            "phone": member.phone,
            "address": member.address,
            "home_area": member.home_area,
            "home_latitude": _decimal(member.home_latitude),
            "home_longitude": _decimal(member.home_longitude),
            "travel_km": member.travel_km,
            "notify_by_email": member.notify_by_email,
            "notify_digest": member.notify_digest,
            "date_joined": _when(member.date_joined),
            "last_login": _when(member.last_login),
            "has_password": member.has_usable_password(),
        },
        "languages": list(member.languages),
        "skills": [
            {"name": skill.name, "group": skill.group.name if skill.group else None}
            for skill in member.skills.select_related("group").order_by("name", "pk")
        ],
        "availability": [
            {"day": str(WEEKDAYS[day]), "part": str(DAY_PARTS[part])}
            for day, part in availability_slots(member.availability)
        ],
        "login_addresses": [
            {"email": address.email, "verified": address.verified, "primary": address.primary}
            for address in EmailAddress.objects.filter(user=member).order_by("pk")
        ],
        "two_factor": sorted(
            Authenticator.objects.filter(user=member).values_list("type", flat=True)
        ),
        "consent": {
            "privacy_notice_version": member.consent_version,
            "agreed_at": _when(member.consent_at),
        },
        "memberships": [
            {
                "group": membership.group.name,
                "group_slug": membership.group.slug,
                "joined_at": _when(membership.joined_at),
                "vouched_by": membership.vouched_by.public_name if membership.vouched_by else None,
            }
            for membership in memberships
        ],
        "role_grants": [
            {
                "group": grant.group.name,
                "role": grant.role,
                "reason": grant.reason,
                "proposed_by": grant.proposed_by.public_name if grant.proposed_by else None,
                "confirmed_by": grant.confirmed_by.public_name if grant.confirmed_by else None,
                "granted_at": _when(grant.granted_at),
                "confirmed_at": _when(grant.confirmed_at),
                "expires_at": _when(grant.expires_at),
                "revoked_at": _when(grant.revoked_at),
            }
            for grant in grants
        ],
        "join_requests": [
            {
                "group": join_request.group.name,
                "message": join_request.message,
                "status": join_request.status,
                "created_at": _when(join_request.created_at),
                "decided_at": _when(join_request.decided_at),
                "vouched_by": (
                    join_request.vouched_by.public_name if join_request.vouched_by else None
                ),
            }
            for join_request in join_requests
        ],
        "api_tokens": [
            {
                "name": token.name,
                "prefix": token.prefix,
                "created_at": _when(token.created_at),
                "last_used_at": _when(token.last_used_at),
                "revoked_at": _when(token.revoked_at),
            }
            for token in ApiToken.objects.filter(user=member)
        ],
        "audit_events": [
            {
                "at": _when(event.created_at),
                "by": event.actor.public_name if event.actor else None,
                "by_you": event.actor_id == member.pk,
                "action": event.action,
                "fields": event.fields,
                "reason": event.reason,
                "channel": event.channel,
                "where": event.where,
            }
            for event in audit_events
        ],
    }
    record_personal_data_access(
        actor=member,
        subject=member,
        fields=[
            gettext_noop("email"),
            *(
                field
                for field in (gettext_noop("phone"), gettext_noop("address"))
                if getattr(member, field)
            ),
            gettext_noop("profile"),
            gettext_noop("memberships"),
            gettext_noop("audit log"),
        ],
        reason=gettext_noop("own data download"),
        request=request,
        action=AuditEvent.Action.EXPORT,
    )
    return data


def _erased_email() -> str:
    return f"erased-{secrets.token_hex(12)}@erased.invalid"


@transaction.atomic
def member_erase(*, member: User, request: HttpRequest | None = None) -> None:
    """Erase a member's personal data on their request, and end everything they take part in.

    The account row stays so shared records (roles they proposed, audit rows) keep their
    attribution, which from now on reads "former member".
    """
    member = User.objects.select_for_update().get(pk=member.pk)
    if member.erased_at is not None:
        raise ApplicationError(_("This account has already been deleted."))
    now = timezone.now()
    for membership in Membership.objects.filter(member=member).select_related("group"):
        group_leave(group=membership.group, member=member)
    RoleGrant.objects.filter(holder=member, revoked_at__isnull=True).update(revoked_at=now)
    JoinRequest.objects.filter(applicant=member, status=JoinRequest.Status.PENDING).update(
        status=JoinRequest.Status.WITHDRAWN, decided_at=now
    )
    JoinRequest.objects.filter(applicant=member).update(message="")
    ApiToken.objects.filter(user=member, revoked_at__isnull=True).update(revoked_at=now)
    EmailAddress.objects.filter(user=member).delete()
    Authenticator.objects.filter(user=member).delete()

    member.email = _erased_email()
    member.display_name = ""
    member.phone = ""
    member.address = ""
    member.languages = []
    member.availability = 0
    member.home_area = ""
    member.home_latitude = None
    member.home_longitude = None
    member.travel_km = User._meta.get_field("travel_km").get_default()
    member.on_duty_until = None
    member.notify_by_email = False
    member.notify_digest = False
    member.is_active = False
    member.is_staff = False
    member.is_superuser = False
    member.last_login = None
    member.erased_at = now
    # A new unusable password also changes the session hash, so every other session of this
    # account stops being logged in.
    member.set_unusable_password()
    member.save()
    member.skills.clear()
    volunteers_changed(member_ids=[member.pk])
    record_personal_data_access(
        actor=member,
        subject=member,
        subject_label=f"member #{member.pk}",
        fields=[
            gettext_noop("email"),
            gettext_noop("display name"),
            gettext_noop("phone"),
            gettext_noop("address"),
            gettext_noop("home location"),
            gettext_noop("profile"),
        ],
        reason=gettext_noop("erasure on request"),
        request=request,
        action=AuditEvent.Action.ERASE,
    )
