"""Checks on what members type about themselves."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Angle brackets and control characters have no place in a name or an area, and rejecting them
# keeps markup out of everything that is later shown to other members.
_NOT_PLAIN = re.compile(r"[<>\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-.]{4,30}$")


def validate_plain_text(value: str) -> None:
    if _NOT_PLAIN.search(value):
        raise ValidationError(
            _("Please use plain text: the characters < and > are not allowed."), code="markup"
        )


def validate_phone(value: str) -> None:
    if not _PHONE.match(value):
        raise ValidationError(
            _("Please enter a phone number using digits, spaces and an optional leading +."),
            code="phone",
        )
