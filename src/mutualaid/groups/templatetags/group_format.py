from decimal import Decimal

import phonenumbers
from django import template
from django.utils.formats import number_format

from mutualaid.groups.money import format_money

register = template.Library()


@register.filter
def money(amount_minor: int, currency: str) -> str:
    """{{ group.spending_limit_minor|money:group.currency }} -> £50.00"""
    return format_money(amount_minor, currency)


@register.filter
def plain_number(value: Decimal | float | int | None) -> str:
    """A decimal without trailing zeros, in the active locale: 1.50 -> 1.5, 2.00 -> 2."""
    if value is None:
        return ""
    number = Decimal(str(value)).normalize()
    if number == number.to_integral_value():
        number = number.quantize(Decimal(1))
    return number_format(number, use_l10n=True)


@register.filter
def phone(value: str) -> str:
    """An E.164 number spaced for reading: +441614960000 -> +44 161 496 0000."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
