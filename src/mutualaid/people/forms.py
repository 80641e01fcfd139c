from typing import TYPE_CHECKING, Any

from django import forms
from django.db import models
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mutualaid.people import selectors, services
from mutualaid.people.models import (
    DAY_PARTS,
    SPOKEN_LANGUAGES,
    WEEKDAYS,
    User,
    availability_bit,
)
from mutualaid.people.validators import validate_phone, validate_plain_text

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _display_name_field() -> forms.CharField:
    """The display name, asked the same way at signup and on the profile page."""
    return forms.CharField(
        label=_("Display name"),
        max_length=services.DISPLAY_NAME_MAX,
        help_text=_("What other members see. A pseudonym is welcome."),
        validators=[validate_plain_text],
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )


def _rough_coordinate_field(*, label: "StrOrPromise", limit: int) -> forms.FloatField:
    """Latitude (limit 90) or longitude (limit 180) of the home area; the service rounds it."""
    return forms.FloatField(
        label=label,
        required=False,
        min_value=-limit,
        max_value=limit,
        help_text=_("Rounded to about 1 km before it is stored; nobody sees your exact spot."),
    )


class SignupDetailsForm(forms.Form):
    """What allauth's signup form asks on top of the email address and optional password."""

    field_order = ["email", "display_name", "password1", "privacy_consent"]

    display_name = _display_name_field()
    privacy_consent = forms.BooleanField(
        required=True,
        error_messages={"required": _("Please agree to the privacy notice to sign up.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The label holds a link, built when the form is, so the URL is resolved per request.
        self.fields["privacy_consent"].label = mark_safe(  # noqa: S308
            gettext('I have read and agree to the <a href="%(url)s">privacy notice</a>.')
            % {"url": escape(reverse("directory:privacy"))}
        )

    def clean_display_name(self) -> str:
        return services.clean_display_name(self.cleaned_data["display_name"])

    def signup(self, request: HttpRequest, user: User) -> None:
        services.member_signup_complete(member=user, display_name=self.cleaned_data["display_name"])


class SkillChoiceField(forms.ModelMultipleChoiceField):
    def clean(self, value: Any) -> Any:
        # Django looks the chosen ids up with one IN query, which fails on an id past the
        # database's integer range instead of finding nothing: such an id is no choice.
        for pk in value or ():
            try:
                out_of_range = abs(int(pk)) > models.BigIntegerField.MAX_BIGINT
            except (TypeError, ValueError):
                continue
            if out_of_range:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": pk},
                )
        return super().clean(value)

    def label_from_instance(self, obj: Any) -> str:
        if obj.group_id is None:
            # The shared skills are seeded in English and translated when shown.
            return gettext(obj.name)
        return gettext("%(skill)s (%(group)s)") % {"skill": obj.name, "group": obj.group.name}


def _availability_choices() -> list[tuple[int, str]]:
    return [
        (
            availability_bit(day, part),
            # Translators: a time of the week, e.g. "Saturday morning"; part is morning,
            # afternoon or evening.
            gettext("%(day)s %(part)s") % {"day": day_label, "part": part_label},
        )
        for day, day_label in enumerate(WEEKDAYS)
        for part, part_label in enumerate(DAY_PARTS)
    ]


class ProfileForm(forms.Form):
    display_name = _display_name_field()
    languages = forms.MultipleChoiceField(
        label=_("Languages you speak"),
        choices=SPOKEN_LANGUAGES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    skills = SkillChoiceField(
        label=_("What you can help with"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    availability = forms.TypedMultipleChoiceField(
        label=_("When you are usually free"),
        coerce=int,
        choices=(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    home_area = forms.CharField(
        label=_("Home area"),
        max_length=services.HOME_AREA_MAX,
        required=False,
        validators=[validate_plain_text],
        help_text=_(
            "A postcode area or neighbourhood name, e.g. M14 or Levenshulme. Members of your "
            "groups see it."
        ),
    )
    home_latitude = _rough_coordinate_field(label=_("Latitude (optional)"), limit=90)
    home_longitude = _rough_coordinate_field(label=_("Longitude (optional)"), limit=180)
    travel_km = forms.IntegerField(
        label=_("How far you will travel (km)"),
        min_value=0,
        max_value=services.TRAVEL_KM_MAX,
    )
    max_open_tasks = forms.IntegerField(
        label=_("At most this many requests at a time"),
        min_value=services.OPEN_TASKS_MIN,
        max_value=services.OPEN_TASKS_MAX,
        # Left empty, it stays as it was (the service keeps it).
        required=False,
        help_text=_("Nobody will ask you to take more while you hold this many."),
    )
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=services.PHONE_MAX,
        required=False,
        validators=[validate_phone],
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
        help_text=_(
            "Stored encrypted. Seen only by you and by the dispatchers of your groups, to reach "
            "you about help you offered. Every look at it is recorded, and your data download "
            "shows who looked."
        ),
    )
    address = forms.CharField(
        label=_("Exact address (optional)"),
        max_length=services.ADDRESS_MAX,
        required=False,
        validators=[validate_plain_text],
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
        help_text=_(
            "Stored encrypted and seen only by you. Matching uses your rough home area, never "
            "this address."
        ),
    )
    notify_by_email = forms.BooleanField(
        label=_("Email me about new requests near me"), required=False
    )
    notify_digest = forms.BooleanField(label=_("Send one daily summary instead"), required=False)

    def __init__(self, *args: Any, member: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.member = member
        skills_field = self.fields["skills"]
        assert isinstance(skills_field, SkillChoiceField)
        skills_field.queryset = selectors.skill_choices(member=member)
        availability_field = self.fields["availability"]
        assert isinstance(availability_field, forms.TypedMultipleChoiceField)
        availability_field.choices = _availability_choices()

    @classmethod
    def initial_for(cls, member: User) -> dict[str, Any]:
        return {
            "display_name": member.display_name,
            "languages": list(member.languages),
            "skills": list(member.skills.all()),
            "availability": [
                availability_bit(day, part)
                for day, part in services.availability_slots(member.availability)
            ],
            "home_area": member.home_area,
            "home_latitude": member.home_latitude,
            "home_longitude": member.home_longitude,
            "travel_km": member.travel_km,
            "max_open_tasks": member.max_open_tasks,
            "phone": member.phone,
            "address": member.address,
            "notify_by_email": member.notify_by_email,
            "notify_digest": member.notify_digest,
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        has_lat = cleaned.get("home_latitude") is not None
        has_lon = cleaned.get("home_longitude") is not None
        if (
            has_lat != has_lon
            and not self.has_error("home_latitude")
            and not self.has_error("home_longitude")
        ):
            self.add_error(
                "home_longitude" if has_lat else "home_latitude",
                _("Please give both latitude and longitude, or neither."),
            )
        return cleaned

    def service_arguments(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["availability"] = sum(set(data["availability"]))
        return data

    def availability_rows(self) -> list[tuple[str, list[Any]]]:
        """The availability checkboxes as one row per weekday, for a 7 x 3 grid."""
        boxes = list(self["availability"])
        width = len(DAY_PARTS)
        return [
            (str(day_label), boxes[index * width : (index + 1) * width])
            for index, day_label in enumerate(WEEKDAYS)
        ]


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=60,
        validators=[validate_plain_text],
        help_text=_("To recognise the token later, e.g. the app or script that uses it."),
    )


class DeleteAccountForm(forms.Form):
    email = forms.EmailField(
        label=_("Type your email address to confirm"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args: Any, member: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.member = member

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if email != (self.member.email or "").lower():
            raise forms.ValidationError(
                _("That is not the email address of this account."), code="mismatch"
            )
        return email
