"""Every write about groups, memberships and roles. Keyword-only; one transaction each."""

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from mutualaid.common.errors import ApplicationError
from mutualaid.dispatch.volunteers import volunteers_changed
from mutualaid.groups import permissions
from mutualaid.groups.models import (
    FOUNDING_STEWARD_DAYS,
    FOUNDING_STEWARD_REASON,
    MAX_ROLE_DAYS,
    Group,
    JoinRequest,
    Membership,
    Role,
    RoleGrant,
)
from mutualaid.people.models import Skill, User

# How a group decides and spends: after its founding period no role holder changes these alone,
# only a passed policy proposal.
DECIDED_TOGETHER_AFTER_FOUNDING = (
    "decision_rule",
    "quorum_percent",
    "fallback_majority_percent",
    "spending_limit_minor",
    "reimbursement_limit_minor",
    "publishes_fund_summary",
)

EDITABLE_GROUP_FIELDS = {
    "name",
    "description",
    "place",
    "centre_latitude",
    "centre_longitude",
    "radius_km",
    "languages",
    "hotline_phone",
    "contact_email",
    "retention_days",
    "request_pacing_days",
    "match_radius_km",
    "answer_within_hours",
    "join_needs_vouch",
    "spending_limit_minor",
    "currency",
    "parent",
    "decision_rule",
    "quorum_percent",
    "fallback_majority_percent",
    "reimbursement_limit_minor",
    "publishes_fund_summary",
}


def _check_nesting(*, kind: str, parent: Group | None) -> None:
    """A group sits inside one of the same size or bigger: streets in wards or areas, wards in
    areas or wards, areas in areas."""
    if parent is None:
        return
    if parent.kind == Group.Kind.STREET:
        raise ApplicationError(_("A street group cannot have groups inside it."))
    if kind == Group.Kind.AREA and parent.kind != Group.Kind.AREA:
        raise ApplicationError(_("An area group can only be inside another area group."))


# Web addresses the group pages use for themselves (/groups/new/).
RESERVED_SLUGS = frozenset({"new"})


COORDINATE_PLACES = Decimal("0.00001")
# How many times a new group looks for a free generated web address when others take it first.
SLUG_ATTEMPTS = 5
SLUG_TAKEN = gettext_noop("That web address is taken; please choose another.")


def round_coordinate(value: Decimal | float) -> Decimal:
    """Degrees to the five decimal places a group's centre keeps (about a metre)."""
    try:
        return Decimal(str(value)).quantize(COORDINATE_PLACES, rounding=ROUND_HALF_UP)
    except InvalidOperation as error:
        raise ApplicationError(_("Enter the centre as a latitude and a longitude.")) from error


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "group"
    slug, n = base, 2
    while slug in RESERVED_SLUGS or Group.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _save_new_group(group: Group, *, slug_chosen: bool) -> None:
    """Save a new group. Its web address was free when it was looked up, but a group started at
    the same moment may take it first: the unique index decides, and a generated address moves
    on to the next free one while a chosen one is refused."""
    for _attempt in range(SLUG_ATTEMPTS):
        try:
            with transaction.atomic():
                group.save(force_insert=True)
            return
        except IntegrityError:
            if not Group.objects.filter(slug=group.slug).exists():
                raise
            if slug_chosen:
                raise ApplicationError(_(SLUG_TAKEN)) from None
            group.slug = _unique_slug(group.name)
    raise ApplicationError(_(SLUG_TAKEN))


@transaction.atomic
def group_create(
    *,
    creator: User,
    name: str,
    centre_latitude: Decimal | float,
    centre_longitude: Decimal | float,
    radius_km: Decimal | float = 2,
    slug: str = "",
    kind: str = Group.Kind.AREA,
    parent: Group | None = None,
    **details: Any,
) -> Group:
    """Create a group. Its creator becomes its first member and holds steward for 30 days,
    after which roles come from the group itself."""
    unknown = set(details) - EDITABLE_GROUP_FIELDS
    if unknown:
        raise TypeError(f"Unknown group fields: {sorted(unknown)}")
    if parent is not None and not permissions.is_member(creator, parent):
        raise PermissionDenied(_("Only members of a group can start a group inside it."))
    if kind not in Group.Kind.values:
        raise ApplicationError(_("Unknown kind of group."))
    _check_nesting(kind=kind, parent=parent)
    slug_chosen = bool(slug)
    if slug_chosen:
        slug = slugify(slug)
        if slug in RESERVED_SLUGS or Group.objects.filter(slug=slug).exists():
            raise ApplicationError(_(SLUG_TAKEN))
    group = Group(
        name=name,
        slug=slug if slug_chosen else _unique_slug(name),
        kind=kind,
        parent=parent,
        centre_latitude=round_coordinate(centre_latitude),
        centre_longitude=round_coordinate(centre_longitude),
        radius_km=radius_km,
        created_by=creator,
        **details,
    )
    # The unique index, not the look-up above, decides who gets an address (_save_new_group).
    group.full_clean(validate_unique=False)
    _save_new_group(group, slug_chosen=slug_chosen)
    Membership.objects.create(group=group, member=creator)
    volunteers_changed(member_ids=[creator.pk])
    now = timezone.now()
    RoleGrant.objects.create(
        group=group,
        holder=creator,
        role=Role.STEWARD,
        reason=FOUNDING_STEWARD_REASON,
        proposed_by=creator,
        granted_at=now,
        confirmed_at=now,
        expires_at=now + timedelta(days=FOUNDING_STEWARD_DAYS),
    )
    return group


@transaction.atomic
def group_update(*, actor: User, group: Group, **changes: Any) -> Group:
    """Change a group's details and policies. Only a steward in office may."""
    if not permissions.can_edit_group(actor, group):
        raise PermissionDenied(_("Only a steward of this group can change its settings."))
    unknown = set(changes) - EDITABLE_GROUP_FIELDS
    if unknown:
        raise TypeError(f"Unknown group fields: {sorted(unknown)}")
    if not permissions.in_founding_period(group) and any(
        changes[field] != getattr(group, field)
        for field in DECIDED_TOGETHER_AFTER_FOUNDING
        if field in changes
    ):
        raise PermissionDenied(
            _(
                "After a group's first 30 days, how it decides and spends changes only by a "
                "policy proposal."
            )
        )
    new_parent = changes.get("parent", group.parent)
    moved_into = new_parent if new_parent and new_parent.pk != group.parent_id else None
    if moved_into is not None and not permissions.is_member(actor, moved_into):
        raise PermissionDenied(_("Only members of a group can place a group inside it."))
    ancestor = new_parent
    while ancestor is not None:
        if ancestor.pk == group.pk:
            raise ApplicationError(_("A group cannot be inside itself."))
        ancestor = ancestor.parent
    if "parent" in changes:
        _check_nesting(kind=group.kind, parent=new_parent)
    for field in ("centre_latitude", "centre_longitude"):
        if field in changes:
            changes[field] = round_coordinate(changes[field])
    for field, value in changes.items():
        setattr(group, field, value)
    group.full_clean()
    group.save()
    return group


@transaction.atomic
def group_join(*, group: Group, member: User, message: str = "") -> Membership | JoinRequest:
    """Join a group, or ask to join where the group wants a vouch from one member. A group
    whose last member has left has nobody to vouch, so the next person joins straight away.

    Joining twice is harmless: it returns the existing membership or pending request.
    """
    existing = Membership.objects.filter(group=group, member=member).first()
    if existing:
        return existing
    if group.join_needs_vouch and Membership.objects.filter(group=group).exists():
        pending = JoinRequest.objects.filter(
            group=group, applicant=member, status=JoinRequest.Status.PENDING
        ).first()
        if pending:
            return pending
        try:
            with transaction.atomic():
                return JoinRequest.objects.create(
                    group=group, applicant=member, message=message.strip()[:1000]
                )
        except IntegrityError:
            # The same person asked twice at once: one pending request is what they wanted.
            return JoinRequest.objects.get(
                group=group, applicant=member, status=JoinRequest.Status.PENDING
            )
    try:
        with transaction.atomic():
            membership = Membership.objects.create(group=group, member=member)
    except IntegrityError:
        # Another request joined at the same moment: the membership exists, which is the goal.
        return Membership.objects.get(group=group, member=member)
    volunteers_changed(member_ids=[member.pk])
    # A request made while the group still wanted a vouch is answered by joining.
    JoinRequest.objects.filter(
        group=group, applicant=member, status=JoinRequest.Status.PENDING
    ).update(status=JoinRequest.Status.ACCEPTED, decided_at=membership.joined_at)
    return membership


@transaction.atomic
def join_request_vouch(*, join_request: JoinRequest, voucher: User) -> Membership:
    """Any member may vouch for someone asking to join; the vouch lets them in."""
    if not permissions.can_vouch(voucher, join_request.group):
        raise PermissionDenied(_("Only members of this group can vouch for someone."))
    if voucher.pk == join_request.applicant_id:
        raise ApplicationError(_("You cannot vouch for yourself."))
    updated = JoinRequest.objects.filter(
        pk=join_request.pk, status=JoinRequest.Status.PENDING
    ).update(status=JoinRequest.Status.ACCEPTED, vouched_by=voucher, decided_at=timezone.now())
    if not updated:
        raise ApplicationError(_("This request to join has already been answered."))
    membership, _created = Membership.objects.get_or_create(
        group=join_request.group,
        member_id=join_request.applicant_id,
        defaults={"vouched_by": voucher},
    )
    volunteers_changed(member_ids=[join_request.applicant_id])
    return membership


@transaction.atomic
def join_request_withdraw(*, join_request: JoinRequest, applicant: User) -> None:
    if join_request.applicant_id != applicant.pk:
        raise PermissionDenied(_("Only the person asking can withdraw a request to join."))
    JoinRequest.objects.filter(pk=join_request.pk, status=JoinRequest.Status.PENDING).update(
        status=JoinRequest.Status.WITHDRAWN, decided_at=timezone.now()
    )


@transaction.atomic
def group_leave(*, group: Group, member: User) -> None:
    """Leave a group. Roles held in it end at once, and requests held in it open again for
    others; records made in it stay."""
    deleted, _rows = Membership.objects.filter(group=group, member=member).delete()
    if not deleted:
        raise ApplicationError(_("You are not a member of this group."))
    # Marked for the group left, whose index no longer finds them among its members.
    volunteers_changed(member_ids=[member.pk], group_id=group.pk)
    RoleGrant.objects.filter(group=group, holder=member, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    # Imported here: the needs app builds on groups, not the other way round.
    from mutualaid.needs.services import member_left_group

    member_left_group(group=group, member=member)
    # Requests they held are let go, which changes their load in their other groups too.
    volunteers_changed(member_ids=[member.pk])


@transaction.atomic
def role_grant_propose(
    *,
    group: Group,
    proposer: User,
    holder: User,
    role: str,
    reason: str,
    expires_at: datetime | None = None,
) -> RoleGrant:
    """Propose that a member wears a role until a date (default 90 days, at most 365).

    The grant gives no power until a second member confirms it (the two-person rule).
    Proposing a role someone already holds renews it from the confirmation on.
    """
    if not permissions.can_propose_role(proposer, group):
        raise PermissionDenied(_("Only members of this group can propose a role."))
    _check_founding_period(group)
    if not permissions.is_member(holder, group):
        raise ApplicationError(_("Roles can only be given to members of the group."))
    if role not in Role.values:
        raise ApplicationError(_("Unknown role."))
    if not reason.strip():
        raise ApplicationError(_("Please give a reason."))
    now = timezone.now()
    expires_at = expires_at or RoleGrant.default_expiry(now)
    if expires_at <= now:
        raise ApplicationError(_("The end date must be in the future."))
    if expires_at > now + timedelta(days=MAX_ROLE_DAYS):
        raise ApplicationError(_("A role can be given for at most 365 days."))
    return RoleGrant.objects.create(
        group=group,
        holder=holder,
        role=role,
        reason=reason.strip(),
        proposed_by=proposer,
        granted_at=now,
        expires_at=expires_at,
    )


def _check_founding_period(group: Group) -> None:
    if not permissions.in_founding_period(group):
        raise ApplicationError(
            _(
                "After a group's first 30 days, roles are given and renewed by a proposal the "
                "group decides on."
            )
        )


@transaction.atomic
def role_grant_confirm(*, grant: RoleGrant, confirmer: User) -> RoleGrant:
    """A second member confirms a proposed grant; from then on it is in force until it expires.

    The confirmation is a conditional update, so two members confirming at once confirm once.
    """
    if not permissions.can_confirm_role_grant(confirmer, grant):
        raise PermissionDenied(
            _("A member other than the proposer and the holder must confirm a role.")
        )
    _check_founding_period(grant.group)
    now = timezone.now()
    updated = RoleGrant.objects.filter(
        pk=grant.pk, confirmed_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    ).update(confirmed_by=confirmer, confirmed_at=now)
    if not updated:
        raise ApplicationError(_("This role has already been confirmed, withdrawn or expired."))
    grant.refresh_from_db()
    return grant


@transaction.atomic
def role_grant_step_down(*, grant: RoleGrant, holder: User) -> RoleGrant:
    """A holder may give a role back (or decline a proposed one) at any time; the proposer may
    withdraw a proposal until it is confirmed. `holder` is whoever asks.

    The withdrawal is a conditional update, so it cannot undo a confirmation made meanwhile.
    """
    not_revoked = RoleGrant.objects.filter(pk=grant.pk, revoked_at__isnull=True)
    now = timezone.now()
    if permissions.can_step_down(holder, grant):
        not_revoked.update(revoked_at=now)
    elif permissions.can_withdraw_role_grant(holder, grant):
        withdrawn = not_revoked.filter(confirmed_at__isnull=True).update(revoked_at=now)
        if not withdrawn and not_revoked.exists():
            raise ApplicationError(_("This role has already been confirmed, withdrawn or expired."))
    else:
        raise PermissionDenied(_("Only the holder can step down from a role."))
    grant.refresh_from_db()
    return grant


def _role_expiry(now: datetime, days: int) -> datetime:
    if not 1 <= days <= MAX_ROLE_DAYS:
        raise ApplicationError(_("A role can be given for at most 365 days."))
    return now + timedelta(days=days)


@transaction.atomic
def role_grant_by_decision(*, proposal: Any, holder: User, role: str, days: int) -> RoleGrant:
    """A passed role proposal gives the role: in force at once, for `days` days. The group's
    decision stands in for the second member of the two-person rule."""
    group = proposal.group
    if role not in Role.values:
        raise ApplicationError(_("Unknown role."))
    if not permissions.is_member(holder, group):
        raise ApplicationError(_("Roles can only be given to members of the group."))
    now = timezone.now()
    return RoleGrant.objects.create(
        group=group,
        holder=holder,
        role=role,
        reason=proposal.title[: RoleGrant._meta.get_field("reason").max_length],
        proposed_by=proposal.proposed_by,
        granted_at=now,
        confirmed_at=now,
        expires_at=_role_expiry(now, days),
    )


@transaction.atomic
def role_grant_renew_by_decision(*, proposal: Any, grant: RoleGrant, days: int) -> RoleGrant:
    """A passed renewal keeps a role in force until `days` days from now (never shortening it).
    A role that ended meanwhile is given afresh."""
    now = timezone.now()
    expires_at = _role_expiry(now, days)
    renewed = (
        RoleGrant.objects.in_force(now)
        .filter(pk=grant.pk, group=proposal.group, expires_at__lt=expires_at)
        .update(expires_at=expires_at)
    )
    if renewed or RoleGrant.objects.in_force(now).filter(pk=grant.pk).exists():
        grant.refresh_from_db()
        return grant
    return role_grant_by_decision(
        proposal=proposal, holder=grant.holder, role=grant.role, days=days
    )


@transaction.atomic
def role_grant_revoke_by_decision(*, proposal: Any, grant: RoleGrant) -> RoleGrant:
    """A passed proposal takes a role back. Taking back one already ended changes nothing."""
    if grant.group_id != proposal.group_id:
        raise ApplicationError(_("That role belongs to another group."))
    RoleGrant.objects.filter(pk=grant.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    grant.refresh_from_db()
    return grant


# The policies a group changes by deciding on a proposal.
DECIDED_POLICY_FIELDS = (
    "decision_rule",
    "quorum_percent",
    "fallback_majority_percent",
    "spending_limit_minor",
    "reimbursement_limit_minor",
    "publishes_fund_summary",
    "join_needs_vouch",
    "retention_days",
    "request_pacing_days",
    "match_radius_km",
    "answer_within_hours",
)


@transaction.atomic
def group_policy_change_by_decision(*, proposal: Any, changes: dict[str, Any]) -> dict[str, Any]:
    """A passed policy proposal changes the group's policies. Answers what changed, as
    {field: {"before": old, "after": new}}."""
    unknown = set(changes) - set(DECIDED_POLICY_FIELDS)
    if unknown:
        raise ApplicationError(_("That is not a policy a proposal can change."))
    group = Group.objects.select_for_update().get(pk=proposal.group_id)
    before = {field: getattr(group, field) for field in changes}
    for field, value in changes.items():
        setattr(group, field, value)
    try:
        group.full_clean()
    except ValidationError as error:
        raise ApplicationError(" ".join(error.messages)) from error
    group.save(update_fields=list(changes))
    return {field: {"before": before[field], "after": changes[field]} for field in changes}


@transaction.atomic
def group_skill_add(*, group: Group, member: User, name: str) -> Skill:
    """Any member may add a skill to the list their group offers; names are unique per group,
    ignoring case, and a skill already on the shared list is not added again."""
    if not permissions.can_add_skill(member, group):
        raise PermissionDenied(_("Only members of this group can add skills to its list."))
    name = " ".join(name.split())
    if not name:
        raise ApplicationError(_("Please name the skill."))
    max_length = Skill._meta.get_field("name").max_length or 60
    if len(name) > max_length:
        raise ApplicationError(
            _("A skill name can be at most %(count)d characters.") % {"count": max_length}
        )
    # The database keeps names unique per group ignoring case; no index can also keep a group's
    # skill from repeating a shared one, so members of a group add skills one at a time,
    # holding the group's row.
    Group.objects.select_for_update().only("pk").get(pk=group.pk)
    if Skill.objects.filter(Q(group=group) | Q(group__isnull=True), name__iexact=name).exists():
        raise ApplicationError(_("That skill is already on the list."))
    try:
        with transaction.atomic():
            return Skill.objects.create(group=group, name=name)
    except IntegrityError as error:
        raise ApplicationError(_("That skill is already on the list.")) from error
