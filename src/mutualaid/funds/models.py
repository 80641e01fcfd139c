"""A group's funds and their books: a double-entry ledger in whole minor units.

Each fund has three accounts. `holdings` is the money the fund holds (its balance);
`contributions` is where money comes from and `disbursements` where it goes. Every
`Transaction` has entries that sum to zero (debits positive, credits negative): a contribution
of 100 is holdings +100 and contributions -100; a disbursement of 50 is holdings -50 and
disbursements +50. Each account keeps its balance as a summary updated in the same database
transaction as its entries, and a floor on holdings keeps a fund from going below zero unless
its policy allows an overdraft. Posted transactions and entries are never changed or deleted,
which triggers in the database enforce too; a mistake is corrected by a reversing transaction.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mutualaid.common.fields import EncryptedTextField


class Fund(models.Model):
    group = models.ForeignKey("groups.Group", on_delete=models.PROTECT, related_name="funds")
    name = models.CharField(_("name"), max_length=100)
    purpose = models.TextField(_("purpose"), max_length=2000, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    overdraft_limit_minor = models.PositiveBigIntegerField(
        _("how far below zero it may go (in cents)"),
        default=0,
        help_text=_("0: the fund never goes below zero."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["group", "name"], name="fund_name_once_per_group")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("funds:detail", kwargs={"slug": self.group.slug, "pk": self.pk})


class Account(models.Model):
    class Kind(models.TextChoices):
        HOLDINGS = "holdings", _("money held")
        CONTRIBUTIONS = "contributions", _("money in")
        DISBURSEMENTS = "disbursements", _("money out")

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="accounts")
    kind = models.CharField(max_length=15, choices=Kind.choices)
    balance_minor = models.BigIntegerField(default=0)
    floor_minor = models.BigIntegerField(
        null=True, blank=True, help_text="The lowest balance allowed; empty for no floor."
    )

    class Meta:
        ordering = ["fund", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "kind"], name="account_kind_once_per_fund"),
            models.CheckConstraint(
                condition=Q(floor_minor__isnull=True) | Q(balance_minor__gte=F("floor_minor")),
                name="account_balance_above_floor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fund}: {self.get_kind_display()}"


class Transaction(models.Model):
    """One movement of the books. Immutable once written; a correction is a reversal."""

    class Kind(models.TextChoices):
        CONTRIBUTION = "contribution", _("contribution")
        DISBURSEMENT = "disbursement", _("payment")
        REVERSAL = "reversal", _("correction")

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="transactions")
    kind = models.CharField(max_length=15, choices=Kind.choices)
    memo = models.CharField(
        _("what it was for"),
        max_length=300,
        blank=True,
        help_text=_("Shown in the open books. Never a requester's name."),
    )
    posted_at = models.DateTimeField(default=timezone.now)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reverses = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )

    class Meta:
        ordering = ["-posted_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="reversal", reverses__isnull=False)
                | (~Q(kind="reversal") & Q(reverses__isnull=True)),
                name="transaction_reversal_names_what_it_reverses",
            ),
            models.CheckConstraint(
                condition=~Q(reverses=F("pk")), name="transaction_not_own_reversal"
            ),
        ]
        indexes = [models.Index(fields=["fund", "posted_at"], name="transaction_fund_posted")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} in {self.fund}"


class Entry(models.Model):
    """One side of a transaction: an amount on an account, debits positive."""

    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount_minor = models.BigIntegerField()

    class Meta:
        ordering = ["transaction", "pk"]
        verbose_name_plural = "entries"
        constraints = [
            models.CheckConstraint(condition=~Q(amount_minor=0), name="entry_amount_not_zero")
        ]

    def __str__(self) -> str:
        return f"{self.amount_minor} on {self.account}"


class Contribution(models.Model):
    """Money given to a fund: by a member, by someone named, or anonymously."""

    class Method(models.TextChoices):
        CASH = "cash", _("cash")
        BANK_TRANSFER = "bank_transfer", _("bank transfer")
        OTHER = "other", _("other")

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="contributions")
    transaction = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, related_name="contribution"
    )
    amount_minor = models.PositiveBigIntegerField(validators=[MinValueValidator(1)])
    contributor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contributions",
        help_text="The member who gave it, when a member gave it under their name.",
    )
    contributor_name = EncryptedTextField(
        _("from"), blank=True, help_text=_("Leave empty for an anonymous contribution.")
    )
    method = models.CharField(_("how it came"), max_length=15, choices=Method.choices)
    reference = models.CharField(
        _("reference"),
        max_length=100,
        blank=True,
        help_text=_("A bank reference or receipt number, if any."),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_minor__gt=0), name="contribution_amount_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount_minor} to {self.fund}"

    @property
    def is_anonymous(self) -> bool:
        return self.contributor_id is None and not self.contributor_name


class Disbursement(models.Model):
    """Money the fund pays out: to a request, to reimburse a volunteer, or to a payee.

    It is paid only when a passed spend proposal covers it (`proposal`), or when it is within
    the group's spending limit and a second member confirmed it (`confirmed_by`).
    """

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("waiting for the group's decision")
        AWAITING_CONFIRMATION = "awaiting_confirmation", _("waiting for a second member")
        APPROVED = "approved", _("approved, waiting for money in the fund")
        PAID = "paid", _("paid")
        CANCELLED = "cancelled", pgettext_lazy("a payment", "cancelled")

    class PayeeKind(models.TextChoices):
        REQUEST = "request", _("a request")
        REIMBURSEMENT = "reimbursement", _("a volunteer's reimbursement")
        PAYEE = "payee", _("a payee")

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="disbursements")
    amount_minor = models.PositiveBigIntegerField(validators=[MinValueValidator(1)])
    payee_kind = models.CharField(max_length=15, choices=PayeeKind.choices)
    request = models.ForeignKey(
        "needs.Request",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="disbursements",
    )
    reimbursement = models.ForeignKey(
        "needs.ReimbursementClaim",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="disbursements",
    )
    payee_name = EncryptedTextField(
        _("paid to"), blank=True, help_text=_("A shop, a landlord, a utility company.")
    )
    purpose = models.CharField(
        _("what it is for"),
        max_length=300,
        help_text=_("Shown in the open books. Never a requester's name."),
    )
    status = models.CharField(max_length=25, choices=Status.choices)
    proposal = models.OneToOneField(
        "decisions.Proposal",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="disbursement",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    transaction = models.OneToOneField(
        Transaction,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="disbursement",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_minor__gt=0), name="disbursement_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(confirmed_by__isnull=True) | ~Q(confirmed_by=F("requested_by")),
                name="disbursement_two_people",
            ),
            models.CheckConstraint(
                condition=(
                    Q(payee_kind="request", request__isnull=False, reimbursement__isnull=True)
                    | Q(payee_kind="reimbursement", reimbursement__isnull=False)
                    | Q(payee_kind="payee", request__isnull=True, reimbursement__isnull=True)
                ),
                name="disbursement_payee_matches_kind",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="paid", transaction__isnull=False, paid_at__isnull=False)
                    | (~Q(status="paid") & Q(transaction__isnull=True))
                ),
                name="disbursement_paid_has_transaction",
            ),
            # Money leaves a fund only by a passed proposal or with a second member's
            # confirmation (confirmed_at stays when the confirmer's account is erased).
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "paid"])
                | Q(proposal__isnull=False)
                | Q(confirmed_at__isnull=False),
                name="disbursement_paid_only_when_authorised",
            ),
            models.UniqueConstraint(
                fields=["reimbursement"],
                condition=~Q(status="cancelled"),
                name="disbursement_one_live_per_reimbursement",
            ),
        ]
        indexes = [models.Index(fields=["fund", "status"], name="disbursement_fund_status")]

    def __str__(self) -> str:
        return f"{self.amount_minor} from {self.fund}"


def receipt_path(receipt: "Receipt", filename: str) -> str:
    return f"receipts/{receipt.claim_id}/{filename}"


class Receipt(models.Model):
    """The receipt for a reimbursement claim: an image or a PDF, stored encrypted.

    `file` holds the encrypted bytes in the private uploads folder (never served as a static
    file); only the claimant, the group's treasurers and dispatchers may open it, and each
    opening is audited.
    """

    claim = models.OneToOneField(
        "needs.ReimbursementClaim", on_delete=models.CASCADE, related_name="receipt"
    )
    file = models.FileField(upload_to=receipt_path, max_length=200)
    content_type = models.CharField(max_length=40)
    size_bytes = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Receipt for claim {self.claim_id}"
