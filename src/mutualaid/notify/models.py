"""The delivery log: every message the platform sends, once.

Each delivery has an idempotency key saying what it is about and for whom (e.g.
"request-claimed:42:claim-7:requester"), unique in the table, so a retried task or a repeated
event never sends the same message twice. The address, subject and body are encrypted, and
emptied some days after sending; the row itself stays, so the key keeps guarding against a
late repeat.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mutualaid.common.fields import EncryptedTextField


class Delivery(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("email")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        SKIPPED = "skipped", _("not sent")

    idempotency_key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(
        max_length=40,
        blank=True,
        help_text="What the message is about, e.g. 'request_nearby', for daily caps and counts.",
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
        help_text="The member it went to; empty for a requester without an account.",
    )
    recipient = EncryptedTextField(blank=True, help_text="The address it went to.")
    subject = EncryptedTextField(blank=True)
    body = EncryptedTextField(blank=True)
    html_body = EncryptedTextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    content_erased_at = models.DateTimeField(
        null=True, blank=True, help_text="When the address, subject and body were emptied."
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(
                fields=["recipient_user", "kind", "created_at"], name="delivery_recipient_day"
            ),
            models.Index(fields=["status", "created_at"], name="delivery_status"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.idempotency_key} ({self.status})"
