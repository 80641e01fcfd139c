"""Requests for help, offers, and what happens to them: claims, assignments, messages,
standing needs and reimbursement claims.

A requester's name, phone, email, exact address and words are encrypted at rest. Members
browsing see the category, the area name and a rough point; the claimer and the group's
dispatchers see the rest, and every such view is audited.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mutualaid.common.fields import EncryptedEmailField, EncryptedTextField


class BuiltInCategory(models.TextChoices):
    """What people ask for. A group can add its own (GroupCategory) beside these."""

    SHOPPING = "shopping", _("shopping")
    PRESCRIPTION = "prescription", _("prescription pickup")
    FOOD = "food", _("food or a meal")
    RIDE = "ride", _("a ride")
    DOG_WALKING = "dog_walking", _("dog walking")
    CHECK_IN = "check_in", _("a check-in call")
    HOUSEHOLD = "household", _("household task")
    CHILDCARE = "childcare", _("childcare")
    TALK = "talk", _("someone to talk to")
    MONEY = "money", _("money for rent or bills")
    HOUSING = "housing", _("housing")
    REPAIRS = "repairs", _("repairs")
    OTHER = "other", _("other")


class GroupCategory(models.Model):
    """A category a group adds for itself, e.g. "school uniform swap"."""

    group = models.ForeignKey(
        "groups.Group", on_delete=models.CASCADE, related_name="request_categories"
    )
    code = models.SlugField(max_length=40)
    name = models.CharField(_("name"), max_length=60)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["group", "code"], name="group_category_unique_code")
        ]

    def __str__(self) -> str:
        return self.name


class Urgency(models.TextChoices):
    TODAY = "today", _("today")
    THIS_WEEK = "this_week", _("this week")
    FLEXIBLE = "flexible", _("flexible")


class ContactMethod(models.TextChoices):
    PHONE = "phone", _("phone call")
    SMS = "sms", _("text message")
    EMAIL = "email", _("email")
    CONTACT = "contact", _("through someone I name")


class Channel(models.TextChoices):
    WEB = "web", _("web form")
    PHONE = "phone", _("phone")
    SMS = "sms", _("text message")
    API = "api", _("API")


class Recurrence(models.TextChoices):
    DAILY = "daily", _("every day")
    WEEKLY = "weekly", _("every week")
    FORTNIGHTLY = "fortnightly", _("every two weeks")
    MONTHLY = "monthly", _("every month")


class StandingNeed(models.Model):
    """A need that comes back (weekly groceries, a daily check-in call). Each occurrence is its
    own Request; one member may take the whole commitment, so each new occurrence is theirs."""

    group = models.ForeignKey("groups.Group", on_delete=models.CASCADE, related_name="+")
    recurrence = models.CharField(_("how often"), max_length=12, choices=Recurrence.choices)
    until = models.DateField(_("until"), null=True, blank=True)
    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="standing_commitments",
        help_text="The member who takes every occurrence, if one has.",
    )
    next_due = models.DateField(help_text="The needed-by date of the next occurrence to create.")
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["ended_at", "next_due"], name="standing_need_due")]

    def __str__(self) -> str:
        return f"standing need #{self.pk} ({self.recurrence})"


class LeftoverReason(models.TextChoices):
    """Why matching found nobody for a request, in plain words. The values are those of
    mutualaid.matching.Reason, and one more: everyone who fits was asked and none took it."""

    NOBODY_IN_RANGE = "nobody_in_range", _("nobody lives near enough")
    NO_SKILL_OR_LANGUAGE = (
        "no_skill_or_language",
        _("nobody near enough has the skill or speaks the language"),
    )
    NOT_AVAILABLE = "not_available", _("nobody who fits is free when it is needed")
    AT_CAPACITY = "at_capacity", _("everyone who fits already has enough to do")
    EVERYONE_ASKED = "everyone_asked", _("everyone who fits was asked, and nobody could take it")


class Request(models.Model):
    """Someone's request for help. No eligibility or means question is ever asked."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLAIMED = "claimed", _("claimed")
        DONE = "done", _("done")
        CANCELLED = "cancelled", _("cancelled")
        UNMET = "unmet", _("unmet")

    CLOSED_STATUSES = (Status.DONE, Status.CANCELLED, Status.UNMET)

    group = models.ForeignKey("groups.Group", on_delete=models.PROTECT, related_name="requests")
    reference = models.CharField(
        max_length=12, unique=True, help_text="The short code the requester quotes, e.g. K7M-4QX."
    )
    secret_digest = models.CharField(
        max_length=64,
        blank=True,
        help_text="SHA-256 of the secret in the requester's status link; blank once purged.",
    )
    secret_sealed = EncryptedTextField(
        blank=True,
        help_text=(
            "The status-link secret, encrypted, so it can be emailed to the requester; erased "
            "with the personal data."
        ),
    )

    category = models.CharField(
        _("what kind of help"),
        max_length=40,
        help_text="A BuiltInCategory value or the code of one of the group's categories.",
    )
    description = EncryptedTextField(_("what you need"))
    urgency = models.CharField(
        _("how soon"), max_length=10, choices=Urgency.choices, default=Urgency.THIS_WEEK
    )
    needed_by = models.DateField(_("needed by"), null=True, blank=True)
    language = models.CharField(_("preferred language"), max_length=8, blank=True)
    accessibility_notes = EncryptedTextField(_("access needs"), blank=True)

    name = EncryptedTextField(_("name"), blank=True)
    phone = EncryptedTextField(_("phone"), blank=True)
    email = EncryptedEmailField(_("email"), blank=True)
    address = EncryptedTextField(_("exact address"), blank=True)
    contact_method = models.CharField(
        _("how to reach you"),
        max_length=10,
        choices=ContactMethod.choices,
        default=ContactMethod.PHONE,
    )
    contact_via = EncryptedTextField(
        _("the person to go through"), blank=True, help_text="Name and number of a named contact."
    )
    household_key = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="A keyed hash of the phone or email, to pace one household's repeat requests.",
    )

    # What volunteers browsing see instead of the address.
    area_name = models.CharField(_("area"), max_length=100, blank=True)
    area_group = models.ForeignKey(
        "groups.Group",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The ward or street group the requester chose as their area.",
    )
    rough_latitude = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    rough_longitude = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)

    channel = models.CharField(
        _("came by"), max_length=8, choices=Channel.choices, default=Channel.WEB
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requests_entered",
        help_text="The dispatcher who took it by phone, or the member who asked.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    paced = models.BooleanField(
        default=False,
        help_text="The same household asked for this category recently: listed after others.",
    )

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requests_claimed",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    first_claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="Kept through releases, for time-to-claim figures."
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    offer = models.ForeignKey(
        "needs.Offer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requests",
        verbose_name=_("fulfilled by offer"),
    )
    standing_need = models.ForeignKey(
        StandingNeed, null=True, blank=True, on_delete=models.SET_NULL, related_name="occurrences"
    )
    personal_data_erased_at = models.DateTimeField(null=True, blank=True)
    leftover_reason = models.CharField(
        _("why nobody was found"),
        max_length=24,
        choices=LeftoverReason.choices,
        blank=True,
        help_text="Why the last matching found nobody for it; blank once someone takes it.",
    )
    leftover_at = models.DateTimeField(
        null=True, blank=True, help_text="When the leftover reason was recorded."
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="claimed") | Q(claimed_by__isnull=False),
                name="request_claimed_has_claimer",
            ),
            models.CheckConstraint(
                condition=~Q(status="open") | Q(claimed_by__isnull=True),
                name="request_open_has_no_claimer",
            ),
            models.CheckConstraint(
                condition=Q(rough_latitude__gte=-90, rough_latitude__lte=90)
                | Q(rough_latitude=None),
                name="request_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(rough_longitude__gte=-180, rough_longitude__lte=180)
                | Q(rough_longitude=None),
                name="request_longitude_range",
            ),
        ]
        indexes = [
            models.Index(fields=["group", "status", "-created_at"], name="request_group_status"),
            models.Index(fields=["status", "needed_by"], name="request_status_needed_by"),
            models.Index(fields=["status", "closed_at"], name="request_status_closed"),
        ]

    def __str__(self) -> str:
        return f"request {self.reference}"

    @property
    def is_closed(self) -> bool:
        return self.status in self.CLOSED_STATUSES

    @property
    def audit_label(self) -> str:
        return f"request {self.reference}"


class Claim(models.Model):
    """A member holding a request. At most one claim per request is active (not released);
    the database refuses a second one."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="claims")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="claims"
    )
    claimed_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.CharField(_("why you are letting it go"), max_length=500, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_notes = models.TextField(_("notes"), max_length=2000, blank=True)

    class Meta:
        ordering = ["-claimed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(released_at__isnull=True),
                name="claim_one_active_per_request",
            ),
            models.CheckConstraint(
                condition=Q(released_at__isnull=True) | Q(done_at__isnull=True),
                name="claim_released_or_done_not_both",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} holds {self.request}"


class Assignment(models.Model):
    """A member is asked to take a request, by a dispatcher directly or proposed by matching all
    open requests; the member accepts or declines. A proposal expires when not answered in
    time, and is then passed on to the next volunteer, as when declined."""

    class Answer(models.TextChoices):
        PENDING = "pending", _("waiting for an answer")
        ACCEPTED = "accepted", _("accepted")
        DECLINED = "declined", _("declined")
        WITHDRAWN = "withdrawn", _("withdrawn")
        EXPIRED = "expired", _("no answer in time")

    class Source(models.TextChoices):
        DISPATCHER = "dispatcher", _("asked by a dispatcher")
        MATCHING = "matching", _("proposed by matching")

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="assignments")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    answer = models.CharField(max_length=10, choices=Answer.choices, default=Answer.PENDING)
    answered_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.DISPATCHER)
    expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="A proposal not answered by then passes to the next volunteer.",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(answer="pending"),
                name="assignment_one_pending_per_request",
            ),
            models.CheckConstraint(
                condition=Q(source="dispatcher") | Q(expires_at__isnull=False),
                name="assignment_proposal_expires",
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=Q(answer="pending", source="matching"),
                name="assignment_proposal_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.request} offered to {self.member}"


class Message(models.Model):
    """One message in a request's thread, so nobody has to share a number or an address."""

    class Author(models.TextChoices):
        REQUESTER = "requester", _("the person who asked")
        MEMBER = "member", _("volunteer")
        DISPATCHER = "dispatcher", _("dispatcher")

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="messages")
    author_kind = models.CharField(max_length=10, choices=Author.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty when the requester wrote it.",
    )
    body = EncryptedTextField(_("message"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"message on {self.request}"


class ReimbursementClaim(models.Model):
    """What a volunteer spent on a request, for the group's funds to pay back."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting to be paid")
        PAID = "paid", _("paid")
        REJECTED = "rejected", _("not paid")

    request = models.ForeignKey(
        Request, on_delete=models.PROTECT, related_name="reimbursement_claims"
    )
    claimant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reimbursement_claims"
    )
    amount_minor = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    currency = models.CharField(max_length=3)
    note = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    not_paid_reason = models.CharField(
        max_length=200, blank=True, help_text="Why a treasurer turned the claim down."
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_minor__gt=0), name="reimbursement_amount_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount_minor} {self.currency} for {self.request}"


class Offer(models.Model):
    """What a member offers: their time, a skill, or goods."""

    class Kind(models.TextChoices):
        TIME = "time", _("time")
        SKILL = "skill", _("a skill")
        GOODS = "goods", _("goods")

    class Status(models.TextChoices):
        ACTIVE = "active", _("available")
        WITHDRAWN = "withdrawn", _("withdrawn")
        USED_UP = "used_up", _("all given")

    group = models.ForeignKey("groups.Group", on_delete=models.CASCADE, related_name="offers")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="offers"
    )
    kind = models.CharField(_("what you offer"), max_length=8, choices=Kind.choices)
    category = models.CharField(_("kind of help"), max_length=40)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("details"), max_length=2000, blank=True)
    area_name = models.CharField(_("area"), max_length=100, blank=True)
    availability = models.CharField(
        _("when"), max_length=200, blank=True, help_text=_("For example: weekday evenings.")
    )
    quantity = models.PositiveIntegerField(
        _("how many"), null=True, blank=True, help_text=_("For goods: how many you can give.")
    )
    available_until = models.DateField(_("until"), null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="goods") | Q(quantity__isnull=True),
                name="offer_quantity_only_for_goods",
            )
        ]
        indexes = [models.Index(fields=["group", "status", "-created_at"], name="offer_current")]

    def __str__(self) -> str:
        return self.title
