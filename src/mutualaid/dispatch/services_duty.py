"""Going on duty: a member says they are ready to help for the next few hours, and comes first
in suggestions and proposals near them until then."""

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mutualaid.common.errors import ApplicationError
from mutualaid.dispatch.permissions import can_go_on_duty
from mutualaid.dispatch.volunteers import volunteers_changed
from mutualaid.people.models import User

# How many hours a member can go on duty for at once.
DUTY_HOURS = (2, 4, 8)


@transaction.atomic
def member_duty_start(*, member: User, hours: int, now: datetime | None = None) -> datetime:
    """The member is on duty for the next `hours` (2, 4 or 8) from now; starting again while on
    duty sets a new end. Returns when the duty ends."""
    if not can_go_on_duty(member):
        raise PermissionDenied(_("Only members with an account can go on duty."))
    if isinstance(hours, bool) or hours not in DUTY_HOURS:
        raise ApplicationError(_("You can go on duty for 2, 4 or 8 hours."))
    until = (now or timezone.now()) + timedelta(hours=hours)
    # Conditional, so a switch racing the account's erasure changes nothing.
    if not User.objects.filter(pk=member.pk, erased_at__isnull=True).update(on_duty_until=until):
        raise ApplicationError(_("This account has already been deleted."))
    member.on_duty_until = until
    volunteers_changed(member_ids=[member.pk])
    return until


@transaction.atomic
def member_duty_end(*, member: User) -> None:
    """The member is no longer on duty. Ending when not on duty is harmless."""
    if not can_go_on_duty(member):
        raise PermissionDenied(_("Only members with an account can go on duty."))
    User.objects.filter(pk=member.pk).update(on_duty_until=None)
    member.on_duty_until = None
    volunteers_changed(member_ids=[member.pk])
