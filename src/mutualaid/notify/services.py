"""Sending messages once: every email is a Delivery row keyed by what it is about.

email_send renders and records a message and queues its delivery after commit; the worker's
delivery_send claims the row with a conditional update, so a message is sent at most once
however often its task runs. Nothing here logs an address, a subject or a body.
"""

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation

from mutualaid.notify.models import Delivery
from mutualaid.people.models import User

logger = logging.getLogger(__name__)

# A failed delivery is tried again by the scheduler this many times in all, within a day.
MAX_ATTEMPTS = 3
RETRY_WITHIN = timedelta(days=1)
# Addresses, subjects and bodies of deliveries are kept this long, then emptied.
CONTENT_KEEP_DAYS = 30


def interface_language(codes: Iterable[str]) -> str:
    """The first of `codes` the site is translated into, or the site's default language."""
    available = {code for code, _name in settings.LANGUAGES}
    for code in codes:
        if code in available:
            return code
    return settings.LANGUAGE_CODE


def member_language(user: User) -> str:
    """The language to write to a member in: the first language they speak that the site has."""
    return interface_language(user.languages or [])


def _render(template: str, context: Mapping[str, Any], language: str) -> tuple[str, str]:
    with translation.override(language):
        subject = render_to_string(f"{template}_subject.txt", dict(context))
        body = render_to_string(f"{template}_message.txt", dict(context))
        prefix = str(settings.ACCOUNT_EMAIL_SUBJECT_PREFIX)
    # A subject is one line, whatever the template's line breaks.
    one_line = " ".join(subject.split())
    return f"{prefix}{one_line}"[:300], body.strip() + "\n"


def email_send(
    *,
    key: str,
    to: str,
    template: str,
    context: Mapping[str, Any] | None = None,
    language: str = "",
    recipient_user: User | None = None,
    kind: str = "",
) -> Delivery | None:
    """Record one email and queue its delivery after commit, once per idempotency `key`.

    `template` names two templates, `<template>_subject.txt` and `<template>_message.txt`,
    rendered in `language` (the site's default if empty). Returns None, sending nothing, when a
    delivery with this key exists already, or when there is no address or the member has left.
    """
    if not to.strip():
        return None
    if recipient_user is not None and (
        recipient_user.erased_at is not None or not recipient_user.is_active
    ):
        return None
    if Delivery.objects.filter(idempotency_key=key).exists():
        return None
    subject, body = _render(template, context or {}, interface_language([language]))
    try:
        with transaction.atomic():
            delivery = Delivery.objects.create(
                idempotency_key=key,
                kind=kind,
                channel=Delivery.Channel.EMAIL,
                recipient_user=recipient_user,
                recipient=to.strip(),
                subject=subject,
                body=body,
            )
            transaction.on_commit(lambda: _enqueue_delivery(delivery.pk))
    except IntegrityError:
        # Another worker recorded the same message between the check and the insert.
        return None
    return delivery


def _enqueue_delivery(delivery_id: int) -> None:
    from mutualaid.notify.tasks import deliver

    deliver.enqueue(delivery_id)


def delivery_send(*, delivery_id: int) -> str:
    """Send one recorded email if nobody else is sending or has sent it; returns its status.

    Claiming is a conditional update from queued (or failed, for a retry) to sending, so two
    workers running the same task never both send. A failure is recorded with the kind of
    error only, never the server's words, which may quote an address.
    """
    claimed = Delivery.objects.filter(
        pk=delivery_id, status__in=[Delivery.Status.QUEUED, Delivery.Status.FAILED]
    ).update(status=Delivery.Status.SENDING, attempts=F("attempts") + 1)
    if not claimed:
        current = Delivery.objects.filter(pk=delivery_id).values_list("status", flat=True).first()
        return current or "missing"
    delivery = Delivery.objects.select_related("recipient_user").get(pk=delivery_id)
    member = delivery.recipient_user
    if member is not None and (member.erased_at is not None or not member.is_active):
        Delivery.objects.filter(pk=delivery_id).update(status=Delivery.Status.SKIPPED)
        return Delivery.Status.SKIPPED

    message = EmailMessage(
        subject=delivery.subject,
        body=delivery.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.recipient],
        headers={"Auto-Submitted": "auto-generated"},
    )
    try:
        connection = get_connection(backend=settings.EMAIL_DELIVERY_BACKEND, fail_silently=False)
        connection.send_messages([message])
    except Exception as error:
        error_kind = type(error).__name__
        Delivery.objects.filter(pk=delivery_id).update(
            status=Delivery.Status.FAILED, error=error_kind[:300]
        )
        logger.warning("Delivery #%s failed: %s", delivery_id, error_kind)
        return Delivery.Status.FAILED
    Delivery.objects.filter(pk=delivery_id).update(
        status=Delivery.Status.SENT, sent_at=timezone.now(), error=""
    )
    return Delivery.Status.SENT


def deliveries_retry_failed(*, now: datetime | None = None) -> int:
    """Queue again the failed deliveries of the last day that have attempts left."""
    now = now or timezone.now()
    ids = list(
        Delivery.objects.filter(
            status=Delivery.Status.FAILED,
            attempts__lt=MAX_ATTEMPTS,
            created_at__gte=now - RETRY_WITHIN,
        ).values_list("pk", flat=True)
    )
    for delivery_id in ids:
        transaction.on_commit(lambda delivery_id=delivery_id: _enqueue_delivery(delivery_id))  # type: ignore[misc]
    return len(ids)


def deliveries_erase_content(*, now: datetime | None = None) -> int:
    """Empty the address, subject and body of deliveries older than CONTENT_KEEP_DAYS.

    The rows stay, with their keys, kinds and times, so nothing is ever sent twice and daily
    counts hold; what was written and to whom goes.
    """
    now = now or timezone.now()
    return Delivery.objects.filter(
        created_at__lt=now - timedelta(days=CONTENT_KEEP_DAYS), content_erased_at__isnull=True
    ).update(recipient="", subject="", body="", html_body="", content_erased_at=now)
