"""Amounts of money: stored as whole minor units (cents, pence) with an ISO 4217 code."""

from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import ngettext

# Currencies whose smallest unit is the whole unit; every other one is taken to have cents.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
)
SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "JPY": "¥", "INR": "₹", "NGN": "₦"}


def minor_unit_digits(currency: str) -> int:
    return 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2


def to_minor_units(amount: Decimal, currency: str) -> int | None:
    """An amount typed in major units (12.50) as whole minor units (1250); None when it has
    more decimal places than the currency has."""
    minor = amount.scaleb(minor_unit_digits(currency))
    return int(minor) if minor == minor.to_integral_value() else None


def too_many_places_message(currency: str) -> str:
    """What to tell someone whose amount has more decimal places than the currency has."""
    digits = minor_unit_digits(currency)
    return ngettext(
        "This currency has no smaller unit than %(places)d decimal place.",
        "This currency has no smaller unit than %(places)d decimal places.",
        digits,
    ) % {"places": digits}


def format_money(amount_minor: int, currency: str) -> str:
    """E.g. 5000 GBP -> '£50.00'; 1500 CHF -> '15.00 CHF'. Numbers follow the active locale."""
    currency = currency.upper()
    digits = minor_unit_digits(currency)
    amount = number_format(
        Decimal(amount_minor).scaleb(-digits),
        decimal_pos=digits,
        use_l10n=True,
        force_grouping=True,
    )
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{amount}" if symbol else f"{amount}\u00a0{currency}"
