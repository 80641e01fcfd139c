"""Outgoing email goes through the background worker, so a slow mail server never holds up a
page. The queued message is encrypted, because it holds an address and often a login code."""

import json
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction

from mutualaid.common import crypto


def seal_message(message: EmailMessage) -> str:
    alternatives = getattr(message, "alternatives", [])
    payload = {
        "subject": str(message.subject),
        "body": str(message.body),
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": dict(message.extra_headers),
        "alternatives": [[str(content), mimetype] for content, mimetype in alternatives],
    }
    return crypto.encrypt(json.dumps(payload))


def unseal_message(sealed: str) -> EmailMultiAlternatives:
    payload: dict[str, Any] = json.loads(crypto.decrypt(sealed))
    alternatives = payload.pop("alternatives")
    message = EmailMultiAlternatives(**payload)
    for content, mimetype in alternatives:
        message.attach_alternative(content, mimetype)
    return message


class QueuedEmailBackend(BaseEmailBackend):
    """Queues each message as a task once the surrounding transaction commits; the worker
    delivers it with the backend configured by EMAIL_URL (settings.EMAIL_DELIVERY_BACKEND)."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        from mutualaid.common.tasks import deliver_email

        for message in email_messages:
            sealed = seal_message(message)
            transaction.on_commit(lambda sealed=sealed: deliver_email.enqueue(sealed))  # type: ignore[misc]
        return len(email_messages)


def deliver_now(sealed: str) -> None:
    connection = get_connection(backend=settings.EMAIL_DELIVERY_BACKEND, fail_silently=False)
    connection.send_messages([unseal_message(sealed)])
