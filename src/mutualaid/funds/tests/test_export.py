"""The books as CSV: exact rows, no requester's name, and no cell a spreadsheet would run."""

import csv
import io
from datetime import datetime

import pytest
from django.utils import timezone

from mutualaid.funds import services
from mutualaid.funds.exports import safe_cell
from mutualaid.funds.models import Disbursement
from mutualaid.funds.tests.test_views_support import (
    SECRET_NAME,
    Books,
    books_fixture,  # noqa: F401 (the fixture `books`)
    contribute,
    logged_in,
    pay,
)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+44 7700 900000", "'+44 7700 900000"),
        ("-1", "'-1"),
        ("@cmd", "'@cmd"),
        ("\t=1", "'\t=1"),
        ("Ada = kind", "Ada = kind"),
        ("12.50", "12.50"),
        (7, "7"),
    ],
)
def test_a_cell_a_spreadsheet_would_run_starts_with_an_apostrophe(value: object, cell: str) -> None:
    assert safe_cell(value) == cell


def rows_of(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.django_db
def test_the_csv_has_one_row_per_movement_oldest_first(books: Books) -> None:
    when = datetime(2025, 3, 4, 12, tzinfo=timezone.get_current_timezone())
    given = contribute(
        books,
        10000,
        contributor_name='=HYPERLINK("http://evil.example")',
        memo="Spring appeal",
        received_at=when,
    )
    anonymous = contribute(books, 250)
    paid = pay(
        books,
        2500,
        purpose="Electricity top-up",
        payee_kind=Disbursement.PayeeKind.REQUEST,
        request=books.request,
    )
    correction = services.transaction_reverse(
        transaction=anonymous.transaction, actor=books.treasurer, reason="Counted twice"
    )
    today = timezone.localdate().isoformat()
    reference = books.request.reference

    response = logged_in(books.member).get(books.url("export", books.fund.pk))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="hardship-fund-{books.fund.pk}-books.csv"'
    )
    assert rows_of(response) == [
        ["Date", "Number", "Kind", "Who", "What", "In", "Out", "Currency", "Corrects number"],
        [
            "2025-03-04",
            str(given.transaction_id),
            "contribution",
            '\'=HYPERLINK("http://evil.example")',
            "Spring appeal",
            "100.00",
            "",
            "GBP",
            "",
        ],
        [
            today,
            str(anonymous.transaction_id),
            "contribution",
            "anonymous",
            "",
            "2.50",
            "",
            "GBP",
            "",
        ],
        [
            today,
            str(paid.transaction_id),
            "payment",
            f"neighbour {reference}",
            f"Electricity top-up, for neighbour {reference}",
            "",
            "25.00",
            "GBP",
            "",
        ],
        [
            today,
            str(correction.pk),
            "correction",
            "",
            f"Correction of movement {anonymous.transaction_id}: Counted twice",
            "",
            "2.50",
            "GBP",
            str(anonymous.transaction_id),
        ],
    ]
    assert SECRET_NAME not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["outsider", "anonymous"])
def test_people_outside_the_group_cannot_download_the_books(books: Books, who: str) -> None:
    response = logged_in(books.outsider if who == "outsider" else None).get(
        books.url("export", books.fund.pk)
    )

    assert response.status_code == (403 if who == "outsider" else 302)
