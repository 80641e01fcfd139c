"""Reads about what was sent: the daily cap on emails a member asked to limit."""

from datetime import datetime

from django.utils import timezone

from mutualaid.notify.models import Delivery
from mutualaid.people.models import User


def start_of_today(now: datetime | None = None) -> datetime:
    """Midnight at the start of the current day in the site's time zone."""
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def deliveries_today(*, user: User, kind: str, now: datetime | None = None) -> int:
    """How many messages of `kind` were made for `user` since midnight, sent or not yet."""
    return Delivery.objects.filter(
        recipient_user=user, kind=kind, created_at__gte=start_of_today(now)
    ).count()


def daily_allowance_left(*, user: User, kind: str, now: datetime | None = None) -> int:
    """How many more messages of `kind` `user` may get today under their notify_max_per_day."""
    return max(0, user.notify_max_per_day - deliveries_today(user=user, kind=kind, now=now))
