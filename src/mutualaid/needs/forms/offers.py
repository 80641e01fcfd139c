"""The form for offering time, a skill or goods. It parses and checks input; the rules live in
needs/services.py."""

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mutualaid.needs.models import Offer

MAX_QUANTITY = 100_000


class OfferForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What you offer"), choices=Offer.Kind.choices, widget=forms.RadioSelect
    )
    category = forms.ChoiceField(label=_("Kind of help"))
    title = forms.CharField(
        label=_("In a few words"),
        max_length=120,
        help_text=_("For example: lifts to the hospital, or a box of children's books."),
    )
    description = forms.CharField(
        label=_("Details (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    area_name = forms.CharField(
        label=_("Area (optional)"),
        max_length=100,
        required=False,
        help_text=_("Where you can help, e.g. a neighbourhood. Never your address."),
    )
    availability = forms.CharField(
        label=_("When (optional)"),
        max_length=200,
        required=False,
        help_text=_("For example: weekday evenings."),
    )
    quantity = forms.IntegerField(
        label=_("How many (goods only)"),
        min_value=1,
        max_value=MAX_QUANTITY,
        required=False,
    )
    available_until = forms.DateField(
        label=_("Until (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty if the offer stands until you withdraw it."),
    )

    def __init__(self, *args: Any, categories: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Choose a kind of help")), *categories]

    def clean_available_until(self) -> date | None:
        until: date | None = self.cleaned_data["available_until"]
        if until is not None and until < timezone.localdate():
            raise forms.ValidationError(_("Choose today or a later date."))
        return until

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None
        quantity, kind = cleaned.get("quantity"), cleaned.get("kind")
        if quantity is not None and kind != Offer.Kind.GOODS:
            self.add_error("quantity", _("Only goods have a quantity. Leave it empty."))
        elif quantity is None and kind == Offer.Kind.GOODS and "quantity" not in self.errors:
            self.add_error("quantity", _("Please say how many you can give."))
        return cleaned

    def offer_fields(self) -> dict[str, Any]:
        """The cleaned values in the shape services.offer_create takes."""
        return {name: self.cleaned_data[name] for name in self.fields}
