from decimal import Decimal

import pytest
from django import forms
from django.test import override_settings

from mutualaid.groups.forms import parse_phone_number
from mutualaid.groups.money import format_money
from mutualaid.groups.templatetags.group_format import phone, plain_number


@pytest.mark.parametrize(
    ("minor", "currency", "shown"),
    [
        (5000, "GBP", "£50.00"),
        (123456, "gbp", "£1,234.56"),
        (0, "EUR", "€0.00"),
        (1500, "CHF", "15.00\u00a0CHF"),
        (500, "JPY", "¥500"),
    ],
)
def test_money_is_shown_with_its_currency(minor, currency, shown):
    assert format_money(minor, currency) == shown


@override_settings(PHONE_REGION="US")
def test_a_national_number_is_read_in_the_region_from_settings():
    assert parse_phone_number("(201) 555-0123") == "+12015550123"


@override_settings(PHONE_REGION="ES")
def test_an_international_number_is_read_in_any_region():
    assert parse_phone_number("+44 161 496 0000") == "+441614960000"


@override_settings(PHONE_REGION="US")
def test_a_number_from_another_region_needs_its_country_code():
    with pytest.raises(forms.ValidationError):
        parse_phone_number("0161 496 0000")


def test_a_stored_number_is_spaced_for_reading():
    assert phone("+441614960000") == "+44 161 496 0000"
    assert phone("not a number") == "not a number"


@pytest.mark.parametrize(
    ("value", "shown"), [("1.50", "1.5"), ("2.00", "2"), ("53.45000", "53.45"), ("100", "100")]
)
def test_plain_numbers_lose_their_trailing_zeros(value, shown):
    assert plain_number(Decimal(value)) == shown
