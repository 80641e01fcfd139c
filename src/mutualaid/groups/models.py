from datetime import datetime, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from mutualaid.people.models import SPOKEN_LANGUAGES

DEFAULT_ROLE_DAYS = 90
MAX_ROLE_DAYS = 365
FOUNDING_STEWARD_DAYS = 30
# Stored in English and shown in each reader's language, since these are the platform's words.
FOUNDING_STEWARD_REASON = gettext_noop("Started the group")


class DecisionRule(models.TextChoices):
    """How a group's proposals pass; explained on the decisions help page."""

    CONSENSUS = "consensus", _("consensus")
    CONSENT = "consent", _("consent")
    CONSENSUS_THEN_VOTE = "consensus_then_vote", _("consensus, then a vote if it fails")


class Group(models.Model):
    """A mutual aid group: an area, a ward or a street, nested inside one another."""

    class Kind(models.TextChoices):
        AREA = "area", _("area")
        WARD = "ward", _("ward")
        STREET = "street", _("street")

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("web address"), max_length=60, unique=True)
    description = models.TextField(_("description"), max_length=4000, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.AREA)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("part of"),
    )
    place = models.CharField(
        _("place"), max_length=100, blank=True, help_text=_("Town, city or neighbourhood.")
    )
    centre_latitude = models.DecimalField(max_digits=8, decimal_places=5)
    centre_longitude = models.DecimalField(max_digits=8, decimal_places=5)
    radius_km = models.DecimalField(
        _("radius (km)"),
        max_digits=6,
        decimal_places=2,
        default=2,
        validators=[MinValueValidator(0.1), MaxValueValidator(500)],
    )
    languages = models.JSONField(_("languages"), default=list, blank=True)
    hotline_phone = models.CharField(_("hotline phone"), max_length=32, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)

    retention_days = models.PositiveIntegerField(
        _("days to keep personal data of closed requests"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
    )
    join_needs_vouch = models.BooleanField(_("joining needs a vouch from a member"), default=False)
    spending_limit_minor = models.PositiveIntegerField(
        _("spending limit without a proposal (in cents)"), default=5000
    )
    currency = models.CharField(_("currency"), max_length=3, default="GBP")
    request_pacing_days = models.PositiveSmallIntegerField(
        _("days before the same household's next request of a kind comes first again"),
        default=7,
        validators=[MaxValueValidator(90)],
        help_text=_(
            "Fair pacing, not a limit: a household can always ask, and a repeat request within "
            "these days is listed after first requests. 0 turns pacing off."
        ),
    )
    match_radius_km = models.PositiveSmallIntegerField(
        _("how far to look for volunteers for a request (km)"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(200)],
    )
    answer_within_hours = models.PositiveSmallIntegerField(
        _("hours a volunteer has to answer a proposed request"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(168)],
        help_text=_(
            "After this, or when they decline, the request is offered to the next volunteer."
        ),
    )
    decision_rule = models.CharField(
        _("how proposals pass"),
        max_length=20,
        choices=DecisionRule.choices,
        default=DecisionRule.CONSENT,
    )
    quorum_percent = models.PositiveSmallIntegerField(
        _("quorum (% of members who must take a stance)"),
        default=25,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("For consensus: a proposal passes only if this share of members took part."),
    )
    fallback_majority_percent = models.PositiveSmallIntegerField(
        _("majority needed in a fallback vote (%)"),
        default=67,
        validators=[MinValueValidator(51), MaxValueValidator(100)],
        help_text=_("For consensus with a fallback vote: the share of agree among those voting."),
    )
    reimbursement_limit_minor = models.PositiveIntegerField(
        _("most a volunteer can claim back at once (in cents)"), default=5000
    )
    publishes_fund_summary = models.BooleanField(
        _("publish a summary of the funds (totals only)"), default=False
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(centre_latitude__gte=-90, centre_latitude__lte=90),
                name="group_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(centre_longitude__gte=-180, centre_longitude__lte=180),
                name="group_longitude_range",
            ),
            models.CheckConstraint(condition=Q(radius_km__gt=0), name="group_radius_positive"),
            models.CheckConstraint(
                condition=~Q(parent=models.F("pk")), name="group_not_own_parent"
            ),
            models.CheckConstraint(
                condition=Q(quorum_percent__gte=1, quorum_percent__lte=100),
                name="group_quorum_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(fallback_majority_percent__gte=51, fallback_majority_percent__lte=100),
                name="group_fallback_majority_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("groups:detail", kwargs={"slug": self.slug})

    @property
    def founding_period_ends_at(self) -> datetime:
        """Until then roles are given by the two-person rule; afterwards by proposals."""
        return self.created_at + timedelta(days=FOUNDING_STEWARD_DAYS)

    @property
    def language_names(self) -> list[str]:
        """The names of the languages the group works in, in the reader's language."""
        names = dict(SPOKEN_LANGUAGES)
        return [str(names.get(code, code)) for code in self.languages]


class Membership(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    joined_at = models.DateTimeField(default=timezone.now)
    vouched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["joined_at"]
        constraints = [
            models.UniqueConstraint(fields=["group", "member"], name="membership_once_per_group")
        ]

    def __str__(self) -> str:
        return f"{self.member} in {self.group}"


class JoinRequest(models.Model):
    """Asking to join a group whose policy wants a vouch from one member."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for a vouch")
        ACCEPTED = "accepted", _("vouched for")
        WITHDRAWN = "withdrawn", _("withdrawn")

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="join_requests")
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="join_requests"
    )
    message = models.TextField(_("a few words to the group"), max_length=1000, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    vouched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "applicant"],
                condition=Q(status="pending"),
                name="join_request_one_pending",
            ),
            models.CheckConstraint(
                condition=~Q(vouched_by=models.F("applicant")), name="join_request_no_self_vouch"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.applicant} asks to join {self.group}"


class Role(models.TextChoices):
    DISPATCHER = "dispatcher", _("dispatcher")
    TREASURER = "treasurer", _("treasurer")
    HUB_KEEPER = "hub_keeper", _("hub keeper")
    COORDINATOR = "coordinator", _("coordinator")
    STEWARD = "steward", _("steward")


class RoleGrantQuerySet(models.QuerySet["RoleGrant"]):
    def in_force(self, at: datetime | None = None) -> "RoleGrantQuerySet":
        """Confirmed, not revoked and not yet expired: the grants that give power now."""
        at = at or timezone.now()
        return self.filter(confirmed_at__isnull=False, revoked_at__isnull=True, expires_at__gt=at)

    def awaiting_confirmation(self) -> "RoleGrantQuerySet":
        return self.filter(
            confirmed_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )


class RoleGrant(models.Model):
    """A hat a member wears for a while, given by the group. It stops working when it expires."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="role_grants")
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_grants"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    reason = models.CharField(_("reason"), max_length=300)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    granted_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = RoleGrantQuerySet.as_manager()

    class Meta:
        ordering = ["role", "expires_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("granted_at")),
                name="role_grant_expires_after_granted",
            ),
            models.CheckConstraint(
                condition=Q(confirmed_by=None) | ~Q(confirmed_by=models.F("proposed_by")),
                name="role_grant_two_people",
            ),
            models.CheckConstraint(
                condition=Q(confirmed_by=None) | ~Q(confirmed_by=models.F("holder")),
                name="role_grant_not_confirmed_by_holder",
            ),
        ]
        indexes = [models.Index(fields=["group", "holder", "role"], name="role_grant_lookup")]

    def __str__(self) -> str:
        return f"{self.holder} is {self.get_role_display()} in {self.group}"

    @property
    def reason_display(self) -> str:
        if self.reason == FOUNDING_STEWARD_REASON:
            return gettext(FOUNDING_STEWARD_REASON)
        return self.reason

    @staticmethod
    def default_expiry(start: datetime) -> datetime:
        return start + timedelta(days=DEFAULT_ROLE_DAYS)
