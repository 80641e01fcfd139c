"""Forms for the member and dispatcher pages about requests. They parse and check input; the
rules live in needs/services.py."""

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mutualaid.funds.forms import RECEIPT_ACCEPT, checked_receipt
from mutualaid.groups.money import format_money, to_minor_units, too_many_places_message
from mutualaid.needs.models import Offer, Urgency

# The largest amount a reimbursement claim may hold, in major units (pounds, euros).
MAX_SPENT = Decimal("100000")


class RequestFilterForm(forms.Form):
    """Narrow the open requests by kind and urgency. Every field may be left empty."""

    category = forms.ChoiceField(label=_("Kind of help"), required=False)
    urgency = forms.ChoiceField(
        label=_("How soon"),
        required=False,
        choices=[("", _("Any time")), *list(Urgency.choices)],
    )

    def __init__(self, *args: Any, categories: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("All kinds")), *categories]


class ReleaseForm(forms.Form):
    reason = forms.CharField(
        label=_("Why you are letting it go"),
        max_length=500,
        help_text=_("A few words for the next volunteer and the dispatchers."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Another form on the same page has a field of the same name.
        kwargs.setdefault("auto_id", "release_%s")
        super().__init__(*args, **kwargs)


class CompleteForm(forms.Form):
    """Marking a request done, with what was spent in the group's currency if anything."""

    notes = forms.CharField(
        label=_("Notes (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Anything the dispatchers should know. Leave out the person's details."),
    )
    spent = forms.DecimalField(
        label=_("What you spent (optional)"),
        required=False,
        min_value=Decimal("0.01"),
        max_value=MAX_SPENT,
        max_digits=12,
        help_text=_("The group pays it back. For example 12.50."),
    )
    spent_note = forms.CharField(
        label=_("What it was for (optional)"),
        max_length=500,
        required=False,
        help_text=_("For example: groceries from the corner shop."),
    )
    receipt = forms.FileField(
        label=_("Receipt (optional)"),
        required=False,
        help_text=_(
            "A photo (JPEG, PNG or WebP) or a PDF, at most 5 MB. You can also add it later."
        ),
        widget=forms.FileInput(attrs={"accept": RECEIPT_ACCEPT}),
    )

    def __init__(
        self, *args: Any, currency: str, claim_limit_minor: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        spent = self.fields["spent"]
        spent.label = _("What you spent in %(currency)s (optional)") % {"currency": currency}
        if claim_limit_minor is not None:
            spent.help_text = _(
                "The group pays it back, up to %(limit)s per claim. For example 12.50."
            ) % {"limit": format_money(claim_limit_minor, currency)}
        spent.widget.attrs.update(inputmode="decimal", autocomplete="off")

    def clean_receipt(self) -> UploadedFile | None:
        return checked_receipt(self.cleaned_data.get("receipt"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None
        spent = cleaned.get("spent")
        cleaned["spent_minor"] = None
        if spent is not None:
            cleaned["spent_minor"] = to_minor_units(spent, self.currency)
            if cleaned["spent_minor"] is None:
                self.add_error("spent", too_many_places_message(self.currency))
        if cleaned.get("receipt") is not None and spent is None and "spent" not in self.errors:
            self.add_error("spent", _("Say what you spent, so the receipt goes with it."))
        return cleaned


class MemberAskForm(forms.Form):
    """Ask one member of the request's group, named by id (the "Ask them" button of a
    suggestion), to take a request. The view finds the member among the group's."""

    member = forms.IntegerField(
        label=_("Member"),
        min_value=1,
        max_value=models.BigIntegerField.MAX_BIGINT,
        widget=forms.HiddenInput,
        error_messages={"required": _("Please choose a member to ask.")},
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(label=_("Why (optional)"), max_length=500, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "decline_%s")
        super().__init__(*args, **kwargs)


class ReopenForm(forms.Form):
    needed_by = forms.DateField(
        label=_("New needed-by date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty if there is no date."),
    )

    def clean_needed_by(self) -> date | None:
        needed_by: date | None = self.cleaned_data["needed_by"]
        if needed_by is not None and needed_by < timezone.localdate():
            raise forms.ValidationError(_("Choose today or a later date."))
        return needed_by


class OfferChoiceForm(forms.Form):
    offer = forms.TypedChoiceField(label=_("Offer"), coerce=int)

    def __init__(self, *args: Any, offers: list[Offer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offers = {offer.pk: offer for offer in offers}
        field = self.fields["offer"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("Choose an offer"))] + [
            (offer.pk, f"{offer.title} ({offer.member.public_name})") for offer in offers
        ]

    def clean_offer(self) -> Offer:
        return self.offers[self.cleaned_data["offer"]]


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Message"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The person who asked and the dispatchers read it. No need to share numbers."),
    )


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name of the kind of help"), max_length=60)
