"""Proposals, the stances members take on them, and what a passed proposal does.

A proposal is decided by its group's rule, copied onto the proposal when it opens so a later
change of policy does not change how an open proposal is counted. Under "consensus, then a vote"
a failed first round opens a second round (`round` 2) in which members vote by majority.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mutualaid.groups.models import DecisionRule

TITLE_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 5000
REASON_MAX_LENGTH = 1000
COMMENT_MAX_LENGTH = 2000


class Proposal(models.Model):
    class Kind(models.TextChoices):
        GENERAL = "general", _("general")
        SPEND = "spend", _("spend from a fund")
        ROLE_GRANT = "role_grant", _("give a role")
        ROLE_RENEW = "role_renew", _("renew a role")
        ROLE_REVOKE = "role_revoke", _("take back a role")
        POLICY = "policy", _("change a group policy")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        PASSED = "passed", _("passed")
        NOT_PASSED = "not_passed", _("did not pass")
        WITHDRAWN = "withdrawn", _("withdrawn")

    class Outcome(models.TextChoices):
        """Why a closed proposal ended as it did."""

        PASSED = "passed", _("passed")
        BLOCKED = "blocked", _("blocked")
        NO_QUORUM = "no_quorum", _("too few members took a stance")
        NOT_ENOUGH_AGREEMENT = "not_enough_agreement", _("not enough agreement")
        VOTE_LOST = "vote_lost", _("the fallback vote did not reach the majority")
        WITHDRAWN = "withdrawn", _("withdrawn by the proposer")

    group = models.ForeignKey("groups.Group", on_delete=models.CASCADE, related_name="proposals")
    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=TITLE_MAX_LENGTH)
    text = models.TextField(_("proposal"), max_length=TEXT_MAX_LENGTH)
    effect = models.JSONField(
        default=dict,
        blank=True,
        help_text=(
            "What a passed proposal does, by kind: role_grant {holder, role, days}; role_renew "
            "{grant, days}; role_revoke {grant}; policy {changes: {field: value}}. A spend "
            "proposal's effect is its Disbursement (status 'proposed' until it closes)."
        ),
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="proposals",
    )
    created_at = models.DateTimeField(default=timezone.now)
    closes_at = models.DateTimeField(_("closes at"))
    rule = models.CharField(max_length=20, choices=DecisionRule.choices)
    quorum_percent = models.PositiveSmallIntegerField()
    majority_percent = models.PositiveSmallIntegerField()
    round = models.PositiveSmallIntegerField(default=1)
    round_started_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    outcome = models.CharField(max_length=25, choices=Outcome.choices, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    members_at_close = models.PositiveIntegerField(null=True, blank=True)
    effect_applied_at = models.DateTimeField(null=True, blank=True)
    effect_result = models.JSONField(
        default=dict,
        blank=True,
        help_text="What the effect did, e.g. {'role_grant': 7} or {'changes': {...}}.",
    )
    effect_error = models.CharField(max_length=300, blank=True)
    role_grant = models.ForeignKey(
        "groups.RoleGrant",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="decided_by",
    )
    reminder_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("created_at")), name="proposal_closes_after_opening"
            ),
            models.CheckConstraint(condition=Q(round__in=[1, 2]), name="proposal_round_1_or_2"),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | (~Q(status="open") & Q(closed_at__isnull=False)),
                name="proposal_closed_has_time",
            ),
            models.CheckConstraint(
                condition=Q(effect_applied_at__isnull=True) | Q(status="passed"),
                name="proposal_effect_only_when_passed",
            ),
        ]
        indexes = [models.Index(fields=["status", "closes_at"], name="proposal_due")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("decisions:detail", kwargs={"slug": self.group.slug, "pk": self.pk})


class Stance(models.Model):
    class Position(models.TextChoices):
        AGREE = "agree", _("agree")
        ABSTAIN = "abstain", _("abstain")
        DISAGREE = "disagree", _("disagree")
        BLOCK = "block", _("block")

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="stances")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stances"
    )
    round = models.PositiveSmallIntegerField(default=1)
    position = models.CharField(_("your stance"), max_length=10, choices=Position.choices)
    reason = models.TextField(_("reason"), max_length=REASON_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "member", "round"], name="stance_once_per_member_and_round"
            ),
            models.CheckConstraint(
                condition=Q(position__in=["agree", "abstain"]) | ~Q(reason=""),
                name="stance_disagree_or_block_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member}: {self.position} on {self.proposal}"


class Comment(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(_("comment"), max_length=COMMENT_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Comment on {self.proposal}"
