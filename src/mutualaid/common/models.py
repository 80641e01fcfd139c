from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One sighting or handling of someone's personal data: who, whose, what, when, where, why.

    Append-only: nothing in the product updates or deletes these rows.
    """

    class Action(models.TextChoices):
        VIEW = "view", _("viewed")
        EXPORT = "export", _("exported")
        ERASE = "erase", _("erased")

    class Channel(models.TextChoices):
        WEB = "web", _("web page")
        API = "api", _("API")
        COMMAND = "command", _("command line")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="audit_events_as_actor",
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="audit_events_as_subject",
        help_text="The member whose data it was, when the data belongs to a member.",
    )
    subject_label = models.CharField(max_length=200, help_text="Whose data, e.g. 'request R-7Q2K'.")
    action = models.CharField(max_length=16, choices=Action.choices, default=Action.VIEW)
    fields = models.JSONField(default=list, help_text="Which personal fields were shown.")
    reason = models.CharField(max_length=200)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    where = models.CharField(max_length=300, help_text="The page or endpoint.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["subject", "-created_at"], name="audit_subject_recent")]

    def __str__(self) -> str:
        when = f"{self.created_at:%Y-%m-%d %H:%M}"
        return f"{self.actor_id} {self.action} {self.subject_label} at {when}"


class ScheduledRun(models.Model):
    """One run of a periodic job for one time slot (see common/schedule.py).

    The unique (job, slot) pair lets the database decide which of several schedulers, on one
    machine or many, enqueues a due run: the one whose row goes in.
    """

    job = models.CharField(max_length=100)
    slot = models.DateTimeField(help_text="The start of the interval this run is for.")
    enqueued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-slot", "job"]
        constraints = [
            models.UniqueConstraint(fields=["job", "slot"], name="scheduled_run_once_per_slot")
        ]

    def __str__(self) -> str:
        return f"{self.job} for {self.slot:%Y-%m-%d %H:%M}"
