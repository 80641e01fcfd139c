"""Checks on what members type about themselves."""

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

# Angle brackets and control characters have no place in a name or an area, and rejecting them
# keeps markup out of everything that is later shown to other members.
validate_plain_text = RegexValidator(
    r"[<>\x00-\x08\x0b\x0c\x0e-\x1f\x7f]",
    inverse_match=True,
    message=_("Please use plain text: the characters < and > are not allowed."),
    code="markup",
)

validate_phone = RegexValidator(
    r"\A\+?[0-9][0-9 ()\-.]{4,30}\Z",
    message=_("Please enter a phone number using digits, spaces and an optional leading +."),
    code="phone",
)
