"""Forms for asking for help: the public page, the requester's messages, and the phone desk.

They parse and check input; the rules about requests live in needs/services.py.
"""

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from mutualaid.common.errors import ApplicationError
from mutualaid.groups.models import Group
from mutualaid.needs.models import ContactMethod, Recurrence, Urgency
from mutualaid.needs.services import (
    ACCESSIBILITY_MAX_LENGTH,
    ADDRESS_MAX_LENGTH,
    CONTACT_VIA_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    MESSAGE_MAX_LENGTH,
    NAME_MAX_LENGTH,
    normalise_phone,
)
from mutualaid.people.models import SPOKEN_LANGUAGES
from mutualaid.people.validators import validate_plain_text

# The services store at most 300 characters for the person to go through; on the public page
# their number or email is added to the name given here.
CONTACT_VIA_MAX = 200

PHONE_METHODS = {ContactMethod.PHONE, ContactMethod.SMS}


def parse_phone_number(value: str) -> str:
    """A phone number in E.164 form, as the services store it."""
    try:
        return normalise_phone(value)
    except ApplicationError as error:
        raise ValidationError(error.message, code="invalid") from error


def area_choices(group: Group, areas: list[Group]) -> list[tuple[str, str]]:
    """The group itself, then each ward or street inside it by name; a street inside a ward
    is named with its ward so that two streets of the same name can be told apart."""
    choices = [(str(group.pk), group.name)]
    for area in areas:
        ward = area.parent
        if ward is None or ward.pk == group.pk:
            choices.append((str(area.pk), area.name))
        else:
            label = _("%(street)s, %(ward)s") % {"street": area.name, "ward": ward.name}
            choices.append((str(area.pk), label))
    return choices


class _RequestForm(forms.Form):
    """What the public page and the phone desk share: the request itself, its area, and the
    optional details. Subclasses add how to reach the person."""

    OPTIONAL_FIELDS: tuple[str, ...] = ()

    category = forms.ChoiceField(label=_("What kind of help"))
    description = forms.CharField(
        label=_("What you need"),
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    name = forms.CharField(
        label=_("Your name"),
        max_length=NAME_MAX_LENGTH,
        validators=[validate_plain_text],
        help_text=_("Any name we can call you by. It need not be your full name."),
    )
    area = forms.ChoiceField(label=_("Your area"))
    urgency = forms.ChoiceField(
        label=_("How soon"),
        choices=Urgency.choices,
        initial=Urgency.THIS_WEEK,
        required=False,
        widget=forms.RadioSelect(attrs={"class": "check"}),
    )
    needed_by = forms.DateField(
        label=_("Needed by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The last day the help is still useful, if there is one."),
    )
    address = forms.CharField(
        label=_("Exact address"),
        max_length=ADDRESS_MAX_LENGTH,
        required=False,
        help_text=_(
            "Only the volunteer who takes your request, and the group's dispatchers, see it. "
            "Other members see only your area."
        ),
    )
    language = forms.ChoiceField(
        label=_("Preferred language"),
        choices=[("", _("No preference")), *SPOKEN_LANGUAGES],
        required=False,
    )
    accessibility_notes = forms.CharField(
        label=_("Access needs"),
        max_length=ACCESSIBILITY_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example: ring twice, I am slow to the door; steps at the entrance."),
    )
    recurrence = forms.ChoiceField(
        label=_("Repeat"),
        choices=[("", _("No, just once")), *Recurrence.choices],
        required=False,
        help_text=_("For a need that comes back, such as weekly shopping."),
    )
    recurrence_until = forms.DateField(
        label=_("Repeat until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Leave empty to repeat until you stop it."),
    )

    def __init__(
        self,
        *args: Any,
        group: Group,
        categories: list[tuple[str, str]],
        areas: list[Group],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.group = group
        category_field = self.fields["category"]
        assert isinstance(category_field, forms.ChoiceField)
        category_field.choices = [("", _("Choose one"))] + [
            (code, capfirst(label)) for code, label in categories
        ]
        # A group without wards or streets is its own only area: nothing to choose.
        self.areas = {str(group.pk): group} | {str(area.pk): area for area in areas}
        if areas:
            area_field = self.fields["area"]
            assert isinstance(area_field, forms.ChoiceField)
            area_field.choices = [("", _("Choose your area")), *area_choices(group, areas)]
            area_field.help_text = _("Choose %(group)s if you are not sure.") % {
                "group": group.name
            }
        else:
            del self.fields["area"]

    def optional_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.OPTIONAL_FIELDS if name in self.fields]

    def optional_has_errors(self) -> bool:
        return any(self[name].errors for name in self.OPTIONAL_FIELDS if name in self.fields)

    def clean_needed_by(self) -> date | None:
        needed_by = self.cleaned_data["needed_by"]
        if needed_by is not None and needed_by < timezone.localdate():
            raise ValidationError(_("This date has passed. Choose today or a later day."))
        return needed_by

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None
        recurrence, until = cleaned.get("recurrence"), cleaned.get("recurrence_until")
        if until is not None and not recurrence:
            self.add_error("recurrence", _("Choose how often it repeats, or leave the end empty."))
        elif until is not None and until < (cleaned.get("needed_by") or timezone.localdate()):
            self.add_error("recurrence_until", _("The repeats cannot end before they start."))
        return cleaned

    def _area(self) -> Group:
        if "area" not in self.fields:
            return self.group
        return self.areas[self.cleaned_data["area"]]

    def request_fields(self) -> dict[str, Any]:
        """The cleaned values in the shape services.request_create takes."""
        data = self.cleaned_data
        area = self._area()
        return {
            "category": data["category"],
            "description": data["description"],
            "name": data["name"],
            "address": data["address"],
            # The service places the request at the centre of the area chosen.
            "area_name": area.name,
            "area_group": None if area.pk == self.group.pk else area,
            "urgency": data["urgency"] or Urgency.THIS_WEEK,
            "needed_by": data["needed_by"],
            "language": data["language"],
            "accessibility_notes": data["accessibility_notes"],
            "recurrence": data["recurrence"],
            "recurrence_until": data["recurrence_until"],
        }


class AskForm(_RequestForm):
    """The public "Ask for help" page. Six questions at most are required: the kind of help,
    what is needed, a name, how to reach the person, one phone number or email address for
    that, and the area (only when the group has wards or streets to choose from)."""

    OPTIONAL_FIELDS = (
        "urgency",
        "needed_by",
        "address",
        "language",
        "accessibility_notes",
        "contact_via",
        "recurrence",
        "recurrence_until",
    )

    contact_method = forms.ChoiceField(
        label=_("How to reach you"),
        choices=ContactMethod.choices,
        initial=ContactMethod.PHONE,
        widget=forms.RadioSelect(attrs={"class": "check"}),
    )
    contact = forms.CharField(
        label=_("Your phone number or email"),
        max_length=254,
        help_text=_(
            "A phone number for a call or a text message; an email address for email. If we "
            "should go through someone, their phone number or email."
        ),
    )
    contact_via = forms.CharField(
        label=_("Who to go through"),
        max_length=CONTACT_VIA_MAX,
        required=False,
        validators=[validate_plain_text],
        help_text=_(
            "Only if you chose to be reached through someone: their name, for example "
            "“my neighbour Sam”. We reach them at the number or email you gave above."
        ),
    )

    field_order = [
        "category",
        "description",
        "name",
        "contact_method",
        "contact",
        "area",
        *OPTIONAL_FIELDS,
    ]

    CONTACT_ERRORS = {
        ContactMethod.PHONE: _("Enter a phone number, for example 0161 496 0000, or choose email."),
        ContactMethod.SMS: _("Enter a mobile number, for example 07700 900123, or choose email."),
        ContactMethod.EMAIL: _("Enter an email address, like name@example.org, or choose a call."),
        ContactMethod.CONTACT: _(
            "Enter the phone number or the email address of the person to go through."
        ),
    }

    def required_fields(self) -> list[forms.BoundField]:
        return [field for field in self if field.name not in self.OPTIONAL_FIELDS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        method, value = cleaned.get("contact_method"), cleaned.get("contact", "")
        who = cleaned.get("contact_via", "")
        cleaned["phone"] = cleaned["email"] = ""
        if method == ContactMethod.CONTACT and not who:
            self.add_error("contact_via", _("Tell us who to ask for."))
        if not method or not value:
            return cleaned
        wants_email = method == ContactMethod.EMAIL or (
            method == ContactMethod.CONTACT and "@" in value
        )
        try:
            if wants_email:
                validate_email(value)
                reach = value.lower()
            else:
                reach = parse_phone_number(value)
        except ValidationError:
            self.add_error("contact", self.CONTACT_ERRORS[method])
            return cleaned
        if method == ContactMethod.CONTACT:
            # The number is the other person's: it goes with their name, never as the
            # requester's own (it would pace their household with the helper's).
            cleaned["contact_via"] = f"{who}, {value}" if who else ""
        elif wants_email:
            cleaned["email"] = reach
        else:
            cleaned["phone"] = reach
        return cleaned

    def request_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return super().request_fields() | {
            "phone": data["phone"],
            "email": data["email"],
            "contact_method": data["contact_method"],
            "contact_via": data["contact_via"],
        }


class PhoneDeskForm(_RequestForm):
    """A caller's request as a dispatcher takes it, in the order a call goes: who, their
    number, what kind of help, what exactly, where, how soon, the address; then the rest."""

    OPTIONAL_FIELDS = (
        "contact_method",
        "email",
        "contact_via",
        "needed_by",
        "language",
        "accessibility_notes",
        "recurrence",
        "recurrence_until",
    )

    phone = forms.CharField(
        label=_("Phone"),
        max_length=40,
        required=False,
        help_text=_("Needed unless the caller is reached by email or through someone."),
    )
    contact_method = forms.ChoiceField(
        label=_("How to reach them"),
        choices=ContactMethod.choices,
        initial=ContactMethod.PHONE,
        required=False,
        widget=forms.RadioSelect(attrs={"class": "check"}),
    )
    email = forms.EmailField(label=_("Email"), required=False)
    contact_via = forms.CharField(
        label=_("Who to go through"),
        max_length=CONTACT_VIA_MAX_LENGTH,
        required=False,
        validators=[validate_plain_text],
        help_text=_("Name and number of the person, if the caller is reached through someone."),
    )

    field_order = [
        "name",
        "phone",
        "category",
        "description",
        "area",
        "urgency",
        "address",
        *OPTIONAL_FIELDS,
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].label = _("Caller's name")
        self.fields["name"].widget.attrs["autofocus"] = True
        self.fields["name"].help_text = ""
        self.fields["description"].label = _("What they need")
        if "area" in self.fields:
            self.fields["area"].label = _("Area")
        self.fields["address"].help_text = _("Seen only by the volunteer who takes it.")
        if self.group.languages:
            self.initial.setdefault("language", self.group.languages[0])

    def full_clean(self) -> None:
        super().full_clean()
        # After a mistake the dispatcher lands on the first field to correct.
        first_wrong = next((name for name in self.fields if name in self.errors), None)
        if first_wrong is not None:
            self.fields["name"].widget.attrs.pop("autofocus", None)
            self.fields[first_wrong].widget.attrs["autofocus"] = True

    def main_fields(self) -> list[forms.BoundField]:
        return [field for field in self if field.name not in self.OPTIONAL_FIELDS]

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"]
        return parse_phone_number(value) if value else ""

    def clean_email(self) -> str:
        return self.cleaned_data["email"].lower()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        method = cleaned.get("contact_method") or ContactMethod.PHONE
        cleaned["contact_method"] = method
        if method in PHONE_METHODS and not cleaned.get("phone") and "phone" not in self.errors:
            self.add_error("phone", _("Enter the caller's phone number."))
        elif method == ContactMethod.EMAIL and not cleaned.get("email"):
            if "email" not in self.errors:
                self.add_error("email", _("Enter the caller's email address."))
        elif method == ContactMethod.CONTACT and not cleaned.get("contact_via"):
            self.add_error("contact_via", _("Enter who to go through and their number."))
        return cleaned

    def request_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return super().request_fields() | {
            "phone": data["phone"],
            "email": data["email"],
            "contact_method": data["contact_method"],
            "contact_via": data["contact_via"],
        }


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Your message"),
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "The volunteer who has your request and the group's dispatchers read it. You need "
            "not share your number or address here."
        ),
    )
