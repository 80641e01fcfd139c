"""A fund's books as CSV, one row per movement, oldest first, as the open books show them.

Spreadsheet programs run a cell that starts with = + - or @ as a formula; a name or a memo
typed by someone could do that to whoever opens the file, so such a cell is written with a
leading apostrophe, which spreadsheets show as text. Amounts are written without a sign, in
separate "in" and "out" columns, so no number needs that treatment.
"""

import csv
from decimal import Decimal
from typing import Any, Protocol

from django.utils import timezone
from django.utils.translation import gettext as _

from mutualaid.funds import selectors
from mutualaid.funds.models import Fund, Transaction
from mutualaid.groups.money import minor_unit_digits

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def safe_cell(value: object) -> str:
    """The value as text a spreadsheet shows and never runs."""
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _major(amount_minor: int, currency: str) -> str:
    """1250 GBP -> '12.50': a plain number a spreadsheet reads in any locale."""
    digits = minor_unit_digits(currency)
    return f"{Decimal(abs(amount_minor)).scaleb(-digits):.{digits}f}"


def header() -> list[str]:
    return [
        _("Date"),
        _("Number"),
        _("Kind"),
        _("Who"),
        _("What"),
        _("In"),
        _("Out"),
        _("Currency"),
        _("Corrects number"),
    ]


def book_row(transaction: Transaction, currency: str) -> list[str]:
    line = selectors.movement_line(transaction)
    amount = int(line["amount_minor"])
    return [
        safe_cell(value)
        for value in (
            timezone.localtime(transaction.posted_at).date().isoformat(),
            transaction.pk,
            line["kind_display"],
            line["who"],
            line["what"],
            _major(amount, currency) if amount > 0 else "",
            _major(amount, currency) if amount < 0 else "",
            currency,
            line["reverses_id"] or "",
        )
    ]


def write_books_csv(out: _Writable, *, fund: Fund) -> None:
    writer = csv.writer(out)
    writer.writerow([safe_cell(cell) for cell in header()])
    movements = selectors.fund_movements(fund=fund).order_by("posted_at", "pk")
    for transaction in movements:
        writer.writerow(book_row(transaction, fund.currency))
