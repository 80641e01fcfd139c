"""Forms of the funds pages. They parse what was typed (amounts in major units, like 12.50);
the rules of the books live in funds/services.py."""

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import RegexValidator
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from mutualaid.common.errors import ApplicationError
from mutualaid.funds import ledger, receipts, services
from mutualaid.funds.models import Contribution, Disbursement, Fund
from mutualaid.groups.models import Group
from mutualaid.groups.money import format_money, to_minor_units, too_many_places_message
from mutualaid.needs.models import ReimbursementClaim, Request

# The largest amount one form takes, in major units.
MAX_AMOUNT = Decimal("10000000")
RECEIPT_ACCEPT = "image/jpeg,image/png,image/webp,application/pdf"
# The earliest day money can be recorded as received: older history is not for these books,
# and a date near the year 1 cannot be shown in every time zone.
EARLIEST_DAY = date(2000, 1, 1)
# As services.MARKUP, less the NUL character, which every CharField refuses with its own message.
MARKUP = re.compile(r"[<>\x01-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def no_markup() -> RegexValidator:
    """Refuses what the services refuse in text for the books (< and > and control
    characters), so the form points at the field."""
    return RegexValidator(
        MARKUP,
        message=_("Please leave out < and > and control characters."),
        inverse_match=True,
    )


class AmountField(forms.DecimalField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", Decimal("0.01"))
        kwargs.setdefault("max_value", MAX_AMOUNT)
        kwargs.setdefault("max_digits", 12)
        super().__init__(**kwargs)
        self.widget.attrs.update(inputmode="decimal", autocomplete="off")


class _AmountForm(forms.Form):
    """A form with an `amount` in the fund's currency, cleaned into `amount_minor`."""

    amount: AmountField

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["amount"].label = _("Amount in %(currency)s") % {"currency": currency}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None
        amount = cleaned.get("amount")
        if amount is not None:
            cleaned["amount_minor"] = to_minor_units(amount, self.currency)
            if cleaned["amount_minor"] is None:
                self.add_error("amount", too_many_places_message(self.currency))
        return cleaned


class FundForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=services.NAME_MAX_LENGTH, validators=[no_markup()]
    )
    purpose = forms.CharField(
        label=_("What it is for"),
        max_length=services.PURPOSE_MAX_LENGTH,
        validators=[no_markup()],
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: rent, bills and food for neighbours in a hard month."),
    )
    currency = forms.RegexField(
        label=_("Currency"),
        regex=r"^[A-Za-z]{3}$",
        max_length=3,
        required=False,
        help_text=_("A three-letter code such as GBP or EUR. Leave empty for the group's own."),
        error_messages={"invalid": _("Give a three-letter currency code, such as GBP.")},
    )

    def clean_currency(self) -> str | None:
        currency: str = self.cleaned_data["currency"]
        return currency.upper() or None


class ContributionForm(_AmountForm):
    amount = AmountField(label=_("Amount"))
    method = forms.ChoiceField(label=_("How it came"), choices=Contribution.Method.choices)
    contributor_name = forms.CharField(
        label=_("From (optional)"),
        max_length=services.CONTRIBUTOR_NAME_MAX_LENGTH,
        validators=[no_markup()],
        required=False,
        help_text=_("Leave empty for an anonymous gift. Members of the group see this name."),
    )
    reference = forms.CharField(
        label=_("Reference (optional)"),
        max_length=services.REFERENCE_MAX_LENGTH,
        validators=[no_markup()],
        required=False,
        help_text=_("A bank reference or receipt number, if any."),
    )
    memo = forms.CharField(
        label=_("Note for the books (optional)"),
        max_length=ledger.MEMO_MAX_LENGTH,
        validators=[no_markup()],
        required=False,
        help_text=_("Every member can read it."),
    )
    received_at = forms.DateField(
        label=_("Received on (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for today."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "contribute_%s")
        super().__init__(*args, **kwargs)

    def clean_received_at(self) -> date | None:
        received_at: date | None = self.cleaned_data["received_at"]
        if received_at is not None and received_at > timezone.localdate():
            raise forms.ValidationError(_("The day it came cannot be in the future."))
        if received_at is not None and received_at < EARLIEST_DAY:
            raise forms.ValidationError(
                _("The day it came can be %(day)s at the earliest.")
                % {"day": date_format(EARLIEST_DAY, "DATE_FORMAT")}
            )
        return received_at


class DisbursementForm(_AmountForm):
    """Pay out of a fund: for a request (named by its reference), a volunteer's reimbursement
    claim, or a payee such as a shop. Above the group's spending limit it tells the member that
    a spend proposal is needed."""

    amount = AmountField(label=_("Amount"))
    purpose = forms.CharField(
        label=_("What it is for"),
        max_length=services.PAYMENT_PURPOSE_MAX_LENGTH,
        validators=[no_markup()],
        help_text=_("Every member reads this in the books. Never write the neighbour's name."),
    )
    payee_kind = forms.ChoiceField(
        label=_("Paid to"),
        choices=Disbursement.PayeeKind.choices,
        widget=forms.RadioSelect,
        initial=Disbursement.PayeeKind.PAYEE,
    )
    request_reference = forms.CharField(
        label=_("Request reference"),
        max_length=12,
        required=False,
        help_text=_("For a request: its reference, such as K7M-4QX."),
    )
    reimbursement = forms.TypedChoiceField(
        label=_("Reimbursement claim"), coerce=int, required=False, empty_value=None
    )
    payee_name = forms.CharField(
        label=_("Payee"),
        max_length=services.PAYEE_NAME_MAX_LENGTH,
        validators=[no_markup()],
        required=False,
        help_text=_("For a payee: a shop, a landlord, a utility company."),
    )

    def __init__(
        self,
        *args: Any,
        group: Group,
        claims: list[ReimbursementClaim] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("auto_id", "disburse_%s")
        super().__init__(*args, **kwargs)
        self.group = group
        self.claims = {claim.pk: claim for claim in claims or []}
        field = self.fields["reimbursement"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("Choose a claim"))] + [
            (claim.pk, _claim_label(claim)) for claim in claims or []
        ]
        self.needs_proposal = False

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        kind = cleaned.get("payee_kind")
        cleaned["request"] = None
        cleaned["claim"] = None
        if kind == Disbursement.PayeeKind.REQUEST:
            reference = cleaned.get("request_reference", "").strip().upper()
            need = (
                Request.objects.filter(group=self.group, reference=reference)
                .only("pk", "reference", "group_id")
                .first()
                if reference
                else None
            )
            if need is None and "request_reference" not in self.errors:
                self.add_error(
                    "request_reference", _("No request of this group has that reference.")
                )
            cleaned["request"] = need
        elif kind == Disbursement.PayeeKind.REIMBURSEMENT:
            claim = self.claims.get(cleaned.get("reimbursement") or 0)
            if claim is None and "reimbursement" not in self.errors:
                self.add_error("reimbursement", _("Choose a claim waiting to be paid."))
            cleaned["claim"] = claim
        elif (
            kind == Disbursement.PayeeKind.PAYEE
            and not cleaned.get("payee_name", "").strip()
            and "payee_name" not in self.errors
        ):
            self.add_error("payee_name", _("Say who is paid."))
        amount_minor = cleaned.get("amount_minor")
        if amount_minor is not None and amount_minor > self.group.spending_limit_minor:
            self.needs_proposal = True
            self.add_error(
                "amount",
                _(
                    "This is more than the group's spending limit, so it needs a spend "
                    "proposal that the group agrees to."
                ),
            )
        return cleaned


def _claim_label(claim: ReimbursementClaim) -> str:
    return _("%(amount)s for request %(reference)s") % {
        "amount": format_money(claim.amount_minor, claim.currency),
        "reference": claim.request.reference,
    }


class ReverseForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it is corrected"),
        max_length=services.REASON_MAX_LENGTH,
        validators=[no_markup()],
        error_messages={"required": _("Say why the movement is corrected.")},
        help_text=_("Every member reads this in the books."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "reverse_%s")
        super().__init__(*args, **kwargs)


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it is not paid"),
        max_length=services.REASON_MAX_LENGTH,
        validators=[no_markup()],
        help_text=_("The member who claimed it reads this."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "reject_%s")
        super().__init__(*args, **kwargs)


class PayClaimForm(forms.Form):
    """Pay a reimbursement claim from one of the group's funds in the claim's currency."""

    fund = forms.TypedChoiceField(label=_("From the fund"), coerce=int)

    def __init__(self, *args: Any, funds: list[Fund], **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "pay_%s")
        super().__init__(*args, **kwargs)
        self.funds = {fund.pk: fund for fund in funds}
        field = self.fields["fund"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(fund.pk, fund.name) for fund in funds]

    def clean_fund(self) -> Fund:
        return self.funds[self.cleaned_data["fund"]]


def checked_receipt(upload: UploadedFile | None) -> UploadedFile | None:
    """A receipt checked as the service that stores it will check it: at most 5 MB, and a
    JPEG, PNG, WebP or PDF by its first bytes (never by its name)."""
    if upload is None:
        return None
    size = upload.size or 0
    if size > receipts.MAX_BYTES:
        raise forms.ValidationError(
            _("This file is %(size)s. A receipt can be at most %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(receipts.MAX_BYTES)}
        )
    try:
        receipts.read_upload(upload)
    except ApplicationError as error:
        raise forms.ValidationError(error.message) from error
    upload.seek(0)
    return upload


class ReceiptForm(forms.Form):
    receipt = forms.FileField(
        label=_("Receipt"),
        help_text=_("A photo (JPEG, PNG or WebP) or a PDF, at most 5 MB."),
        widget=forms.FileInput(attrs={"accept": RECEIPT_ACCEPT}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "receipt_%s")
        super().__init__(*args, **kwargs)

    def clean_receipt(self) -> UploadedFile | None:
        return checked_receipt(self.cleaned_data["receipt"])
