"""Forms for the group pages. They parse and check input; the rules live in services.py."""

from decimal import Decimal
from typing import Any

import phonenumbers
from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from mutualaid.groups.models import DEFAULT_ROLE_DAYS, MAX_ROLE_DAYS, Group, Membership, Role
from mutualaid.groups.money import minor_unit_digits, to_minor_units, too_many_places_message
from mutualaid.groups.permissions import in_founding_period
from mutualaid.groups.services import (
    DECIDED_TOGETHER_AFTER_FOUNDING,
    EDITABLE_GROUP_FIELDS,
    round_coordinate,
)
from mutualaid.people.models import SPOKEN_LANGUAGES, User


def default_phone_region() -> str:
    """The country a phone number without a +code is read in (ISO 3166 code, e.g. GB)."""
    return str(getattr(settings, "PHONE_REGION", "GB")).upper()


def parse_phone_number(value: str) -> str:
    """A phone number in E.164 form, read in international form or in the default region."""
    try:
        number = phonenumbers.parse(value, default_phone_region())
    except phonenumbers.NumberParseException as error:
        raise forms.ValidationError(
            _("Enter a phone number, for example +44 161 496 0000."), code="invalid"
        ) from error
    if not phonenumbers.is_valid_number(number):
        raise forms.ValidationError(
            _("This is not a valid phone number. Check the digits and the country code."),
            code="invalid",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class GroupForm(forms.ModelForm):
    """A group's details and policies, for starting a group and for its settings page."""

    centre_latitude = forms.DecimalField(
        label=_("Centre latitude"),
        min_value=-90,
        max_value=90,
        help_text=_("In decimal degrees, e.g. 53.45."),
    )
    centre_longitude = forms.DecimalField(
        label=_("Centre longitude"),
        min_value=-180,
        max_value=180,
        help_text=_("In decimal degrees, e.g. -2.22."),
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages the group works in"),
        choices=SPOKEN_LANGUAGES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    hotline_phone = forms.CharField(
        label=_("Hotline phone"),
        max_length=32,
        required=False,
        help_text=_("People without internet call this number to ask for help."),
    )
    spending_limit = forms.DecimalField(
        label=_("Spending limit without a proposal"),
        min_value=0,
        max_value=Decimal("1000000"),
        decimal_places=2,
        initial=Decimal("50.00"),
        help_text=_("Spending above this needs a group decision."),
    )
    reimbursement_limit = forms.DecimalField(
        label=_("Most a volunteer can claim back at once"),
        min_value=0,
        max_value=Decimal("1000000"),
        decimal_places=2,
        initial=Decimal("50.00"),
        help_text=_(
            "A safeguarding limit: larger claims are refused, and every claim needs a receipt."
        ),
    )
    currency = forms.CharField(
        label=_("Currency"),
        min_length=3,
        max_length=3,
        initial="GBP",
        validators=[RegexValidator(r"^[A-Za-z]{3}$", _("Enter a three-letter currency code."))],
        help_text=_("A three-letter code, e.g. GBP, EUR or USD."),
    )

    SECTIONS = [
        (_("The group"), ["name", "description", "kind", "parent"]),
        (_("Where it works"), ["place", "centre_latitude", "centre_longitude", "radius_km"]),
        (_("How to reach it"), ["languages", "hotline_phone", "contact_email"]),
        (
            _("How it works"),
            [
                "join_needs_vouch",
                "retention_days",
                "request_pacing_days",
                "match_radius_km",
                "answer_within_hours",
                "spending_limit",
                "reimbursement_limit",
                "currency",
            ],
        ),
        (
            _("How the group decides"),
            [
                "decision_rule",
                "quorum_percent",
                "fallback_majority_percent",
                "publishes_fund_summary",
            ],
        ),
    ]
    # After the founding period these change only by a policy proposal (the form's names of
    # services.DECIDED_TOGETHER_AFTER_FOUNDING).
    DECIDED_BY_PROPOSAL = tuple(
        name.removesuffix("_minor") for name in DECIDED_TOGETHER_AFTER_FOUNDING
    )
    # Amounts typed in major units, kept in minor units.
    MONEY_FIELDS = {
        "spending_limit": "spending_limit_minor",
        "reimbursement_limit": "reimbursement_limit_minor",
    }

    class Meta:
        model = Group
        # What the services accept, with the kind, chosen once when the group starts; the
        # limits are entered in major units, as the fields of MONEY_FIELDS above.
        fields = sorted(
            (EDITABLE_GROUP_FIELDS - {"spending_limit_minor", "reimbursement_limit_minor"})
            | {"kind"}
        )
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        group = self.instance if self.instance.pk else None
        # A group can only be placed inside groups its member belongs to (or stay where it is).
        parents = Group.objects.filter(
            pk__in=Membership.objects.filter(member=user).values("group")
        )
        if group is not None:
            parents = Group.objects.filter(
                Q(pk__in=parents.values("pk")) | Q(pk=group.parent_id)
            ).exclude(pk=group.pk)
            self.fields.pop("kind")
            if not in_founding_period(group):
                for name in self.DECIDED_BY_PROPOSAL:
                    self.fields[name].disabled = True
                    self.fields[name].help_text = _("The group changes this by a policy proposal.")
            for field, minor_field in self.MONEY_FIELDS.items():
                self.initial.setdefault(field, self._major(group, getattr(group, minor_field)))
        else:
            self.fields["kind"].help_text = _(
                "An area can hold wards and streets; a ward can hold streets."
            )
        parent_field = self.fields["parent"]
        assert isinstance(parent_field, forms.ModelChoiceField)
        parent_field.queryset = parents.order_by("name")
        parent_field.help_text = _(
            "Optional: a bigger group you belong to that this one is part of."
        )
        parent_field.empty_label = _("(none)")

    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        """The fields in groups, each shown as one fieldset."""
        return [
            (str(legend), [self[name] for name in names if name in self.fields])
            for legend, names in self.SECTIONS
        ]

    @staticmethod
    def _major(group: Group, amount_minor: int) -> Decimal:
        return Decimal(amount_minor).scaleb(-minor_unit_digits(group.currency))

    def clean_centre_latitude(self) -> Decimal:
        return round_coordinate(self.cleaned_data["centre_latitude"])

    def clean_centre_longitude(self) -> Decimal:
        return round_coordinate(self.cleaned_data["centre_longitude"])

    def clean_hotline_phone(self) -> str:
        value = self.cleaned_data["hotline_phone"].strip()
        return parse_phone_number(value) if value else ""

    def clean_currency(self) -> str:
        return str(self.cleaned_data["currency"]).upper()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None
        currency = cleaned.get("currency")
        for field, minor_field in self.MONEY_FIELDS.items():
            amount = cleaned.get(field)
            if amount is None or not currency:
                continue
            minor = to_minor_units(amount, currency)
            if minor is None:
                self.add_error(field, too_many_places_message(currency))
            else:
                cleaned[minor_field] = minor
        return cleaned

    def group_fields(self) -> dict[str, Any]:
        """The cleaned values in the shape the group services take."""
        fields = {
            name: self.cleaned_data[name] for name in self._meta.fields or [] if name in self.fields
        }
        for minor_field in self.MONEY_FIELDS.values():
            fields[minor_field] = self.cleaned_data[minor_field]
        return fields


class JoinForm(forms.Form):
    message = forms.CharField(
        label=_("A few words to the group (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Say who you are or who can vouch for you. Members of the group will read it."),
    )


class RoleProposeForm(forms.Form):
    holder = forms.TypedChoiceField(label=_("Who"), coerce=int)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    reason = forms.CharField(label=_("Reason"), max_length=300)
    days = forms.IntegerField(
        label=_("For how many days"),
        min_value=1,
        max_value=MAX_ROLE_DAYS,
        initial=DEFAULT_ROLE_DAYS,
        help_text=_("From 1 to 365 days. The role ends by itself then."),
    )

    def __init__(self, *args: Any, members: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = {member.pk: member for member in members}
        holder_field = self.fields["holder"]
        assert isinstance(holder_field, forms.TypedChoiceField)
        holder_field.choices = [("", _("Choose a member"))] + [
            (member.pk, member.public_name) for member in members
        ]

    def clean_holder(self) -> User:
        return self.members[self.cleaned_data["holder"]]


class SkillForm(forms.Form):
    name = forms.CharField(label=_("Skill"), max_length=60)
