"""The checks on what members type: plain text, and the shape of a phone number."""

from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError

from mutualaid.people.validators import validate_phone, validate_plain_text

NOT_PLAIN = "Please use plain text: the characters < and > are not allowed."
NOT_A_PHONE = "Please enter a phone number using digits, spaces and an optional leading +."


@pytest.mark.parametrize(
    ("validate", "value"),
    [
        *((validate_plain_text, value) for value in ["Rosa P", "Łódź & Co", "O'Brien (Ro)", ""]),
        *(
            (validate_phone, value)
            for value in ["+44 7700 900123", "0161 496 0000", "0161 496-0000", "+1.212.555.0100"]
        ),
    ],
)
def test_what_fits_passes(validate: Callable[[str], None], value: str) -> None:
    validate(value)


@pytest.mark.parametrize(
    ("validate", "value", "code", "message"),
    [
        *(
            (validate_plain_text, value, "markup", NOT_PLAIN)
            for value in ["<b>", "a > b", "escape\x1b[0m", "bell\x07", "nul\x00", "del\x7f"]
        ),
        *(
            (validate_phone, value, "phone", NOT_A_PHONE)
            for value in ["call me maybe", "+44", "++447700900123", "07700 900123\n", "1" * 40, ""]
        ),
    ],
)
def test_what_does_not_fit_is_refused(
    validate: Callable[[str], None], value: str, code: str, message: str
) -> None:
    with pytest.raises(ValidationError) as refusal:
        validate(value)

    assert refusal.value.code == code
    assert refusal.value.messages == [message]
