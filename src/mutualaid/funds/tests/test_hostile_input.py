"""The funds pages against odd and hostile input: every refusal is a 4xx with a clear message or
a form error, never a 500; another group's objects are not found under a group's address; the
requester's details never reach the books; and nothing changes without a POST and its CSRF
token."""

from typing import Any

import pytest
from django.test import Client

from mutualaid.api.tests.wire import token_for
from mutualaid.funds import services
from mutualaid.funds.models import Contribution, Disbursement, Fund, Receipt, Transaction
from mutualaid.funds.tests.factories import attach, make_claim
from mutualaid.funds.tests.test_views_support import (
    SECRET_NAME,
    Books,
    books_fixture,  # noqa: F401 (the fixture `books`)
    contribute,
    holder_of,
    messages_of,
    pay,
)
from mutualaid.groups.models import Role
from mutualaid.needs.models import ReimbursementClaim
from mutualaid.needs.tests.factories import make_group

pytestmark = pytest.mark.django_db

MARKUP = "Please leave out < and > and control characters."
NUL = "Null characters are not allowed."


def client_for(user: Any, **options: Any) -> Client:
    """A client that answers a server error with a 500, as a browser would see it."""
    client = Client(raise_request_exception=False, **options)
    client.force_login(user)
    return client


def ledger_counts() -> tuple[int, int, int]:
    return (
        Transaction.objects.count(),
        Contribution.objects.count(),
        Disbursement.objects.count(),
    )


# Nothing changes on a GET


@pytest.mark.parametrize(
    "name",
    [
        "contribute",
        "disburse",
        "disbursement_confirm",
        "disbursement_pay",
        "disbursement_cancel",
        "reverse",
        "reimbursement_pay",
        "reimbursement_reject",
    ],
)
def test_a_get_on_an_address_that_changes_money_is_405(books: Books, name: str) -> None:
    contribute(books, 10000)
    before = ledger_counts()

    response = client_for(books.treasurer).get(books.url(name, 1))

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert ledger_counts() == before


def test_a_post_without_the_csrf_token_is_refused_and_records_nothing(books: Books) -> None:
    client = client_for(books.treasurer, enforce_csrf_checks=True)

    response = client.post(
        books.url("contribute", books.fund.pk), {"amount": "5", "method": "cash"}
    )

    assert response.status_code == 403
    assert ledger_counts() == (0, 0, 0)


# Another group's objects


@pytest.fixture
def outsider_treasurer() -> Any:
    """A treasurer and a dispatcher of another group, which has a fund of its own."""
    other = make_group(spending_limit_minor=5000, currency="GBP")
    treasurer = holder_of(other, Role.TREASURER)
    dispatcher = holder_of(other, Role.DISPATCHER)
    services.fund_create(group=other, actor=treasurer, name="Other fund")
    return other, treasurer, dispatcher


@pytest.mark.parametrize("who", ["treasurer", "dispatcher"])
def test_another_groups_objects_are_not_found_under_this_groups_address(
    books: Books, outsider_treasurer: Any, who: str
) -> None:
    # given: group A's fund, payment, movement and a claim with its receipt
    contribute(books, 10000)
    claim = make_claim(books.group)
    attach(claim)
    waiting = services.disbursement_request(
        fund=books.fund,
        actor=books.treasurer,
        amount_minor=100,
        purpose="Top-up",
        payee_kind=Disbursement.PayeeKind.PAYEE,
        payee_name="Power Co",
    )
    movement = Transaction.objects.get()
    other, treasurer, dispatcher = outsider_treasurer
    client = client_for(treasurer if who == "treasurer" else dispatcher)
    base = f"/groups/{other.slug}/funds"
    fund = books.fund.pk

    # when: B's role holder names A's objects under B's address
    answers = [
        client.get(f"{base}/{fund}/").status_code,
        client.get(f"{base}/{fund}/chart.svg").status_code,
        client.get(f"{base}/{fund}/books.csv").status_code,
        client.post(f"{base}/{fund}/contribute/", {"amount": "1", "method": "cash"}).status_code,
        client.post(
            f"{base}/{fund}/disburse/",
            {"amount": "1", "payee_kind": "payee", "payee_name": "Shop", "purpose": "Food"},
        ).status_code,
        client.post(f"{base}/disbursements/{waiting.pk}/confirm/").status_code,
        client.post(f"{base}/disbursements/{waiting.pk}/pay/").status_code,
        client.post(f"{base}/disbursements/{waiting.pk}/cancel/").status_code,
        client.post(f"{base}/transactions/{movement.pk}/reverse/", {"reason": "x"}).status_code,
        client.post(f"{base}/reimbursements/{claim.pk}/pay/", {"fund": fund}).status_code,
        client.post(f"{base}/reimbursements/{claim.pk}/reject/", {"reason": "x"}).status_code,
        client.get(f"{base}/reimbursements/{claim.pk}/receipt/").status_code,
        client.get(f"{base}/reimbursements/{claim.pk}/receipt/upload/").status_code,
    ]

    # then: none of them exists there, and nothing moved
    assert answers == [404] * 13
    assert Transaction.objects.count() == 1
    waiting.refresh_from_db()
    assert waiting.status == Disbursement.Status.AWAITING_CONFIRMATION
    claim.refresh_from_db()
    assert claim.status == ReimbursementClaim.Status.PENDING


@pytest.mark.parametrize("who", ["treasurer", "dispatcher"])
def test_another_groups_role_holder_cannot_open_a_receipt_at_its_own_address(
    books: Books, outsider_treasurer: Any, who: str
) -> None:
    claim = make_claim(books.group)
    attach(claim)
    _other, treasurer, dispatcher = outsider_treasurer

    response = client_for(treasurer if who == "treasurer" else dispatcher).get(
        books.url("receipt", claim.pk)
    )

    assert response.status_code == 404


@pytest.mark.parametrize("number", ["0", str(2**63 - 1), str(2**63), "9" * 30])
def test_a_claim_number_no_row_can_have_finds_no_receipt(books: Books, number: str) -> None:
    response = client_for(books.treasurer).get(
        f"/groups/{books.group.slug}/funds/reimbursements/{number}/receipt/"
    )

    assert response.status_code == 404


@pytest.mark.parametrize("number", [str(2**63), "9" * 30])
@pytest.mark.parametrize(
    "path", ["{n}/", "{n}/chart.svg", "{n}/books.csv", "reimbursements/{n}/receipt/upload/"]
)
def test_a_number_past_63_bits_in_a_page_address_is_not_found(
    books: Books, number: str, path: str
) -> None:
    url = f"/groups/{books.group.slug}/funds/" + path.format(n=number)

    response = client_for(books.treasurer).get(url)

    assert response.status_code == 404


# Amounts, dates and choices


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        ("abc", "Enter a number."),
        ("NaN", "Enter a number."),
        ("Infinity", "Enter a number."),
        (
            "1e400",
            [
                "Ensure this value is less than or equal to 10000000.",
                "Ensure that there are no more than 12 digits in total.",
            ],
        ),
        ("12,50", "Enter a number."),
        ("", "This field is required."),
        ("-5", "Ensure this value is greater than or equal to 0.01."),
        ("0", "Ensure this value is greater than or equal to 0.01."),
        ("0.001", "Ensure this value is greater than or equal to 0.01."),
        ("1.234", "This currency has no smaller unit than 2 decimal places."),
        (
            "99999999999999",
            [
                "Ensure this value is less than or equal to 10000000.",
                "Ensure that there are no more than 12 digits in total.",
            ],
        ),
    ],
)
def test_an_odd_amount_is_a_form_error_and_records_nothing(
    books: Books, amount: str, error: str | list[str]
) -> None:
    response = client_for(books.treasurer).post(
        books.url("contribute", books.fund.pk), {"amount": amount, "method": "cash"}
    )

    assert response.status_code == 400
    errors = error if isinstance(error, list) else [error]
    assert response.context["contribution_form"].errors == {"amount": errors}
    assert ledger_counts() == (0, 0, 0)


@pytest.mark.parametrize(
    ("day", "error"),
    [
        ("0001-01-01", "The day it came can be Jan. 1, 2000 at the earliest."),
        ("1999-12-31", "The day it came can be Jan. 1, 2000 at the earliest."),
        ("9999-12-31", "The day it came cannot be in the future."),
        ("2020-02-30", "Enter a valid date."),
        ("10000-01-01", "Enter a valid date."),
    ],
)
def test_a_day_far_away_or_impossible_is_a_form_error(books: Books, day: str, error: str) -> None:
    response = client_for(books.treasurer).post(
        books.url("contribute", books.fund.pk),
        {"amount": "5", "method": "cash", "received_at": day},
    )

    assert response.status_code == 400
    assert response.context["contribution_form"].errors == {"received_at": [error]}
    assert ledger_counts() == (0, 0, 0)


def test_the_first_day_allowed_is_recorded(books: Books) -> None:
    response = client_for(books.treasurer).post(
        books.url("contribute", books.fund.pk),
        {"amount": "5", "method": "cash", "received_at": "2000-01-01"},
    )

    assert response.status_code == 302
    assert Transaction.objects.get().posted_at.isoformat() == "2000-01-01T12:00:00+00:00"


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"method": "gold"},
            {"method": ["Select a valid choice. gold is not one of the available choices."]},
        ),
        ({"memo": "<script>alert(1)</script>"}, {"memo": [MARKUP]}),
        ({"memo": "Cash\x00"}, {"memo": [NUL]}),
        ({"memo": "Cash\x07"}, {"memo": [MARKUP]}),
        (
            {"memo": "x" * 301},
            {"memo": ["Ensure this value has at most 300 characters (it has 301)."]},
        ),
        ({"contributor_name": "<b>Ann</b>"}, {"contributor_name": [MARKUP]}),
        (
            {"contributor_name": "x" * 101},
            {"contributor_name": ["Ensure this value has at most 100 characters (it has 101)."]},
        ),
        ({"reference": "R\x00"}, {"reference": [NUL]}),
    ],
)
def test_hostile_contribution_fields_are_form_errors(
    books: Books, data: dict[str, str], errors: dict[str, list[str]]
) -> None:
    response = client_for(books.treasurer).post(
        books.url("contribute", books.fund.pk), {"amount": "5", "method": "cash", **data}
    )

    assert response.status_code == 400
    assert response.context["contribution_form"].errors == errors
    assert ledger_counts() == (0, 0, 0)


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"payee_kind": "bogus"},
            {"payee_kind": ["Select a valid choice. bogus is not one of the available choices."]},
        ),
        (
            {"payee_kind": "reimbursement", "reimbursement": "9" * 30},
            {
                "reimbursement": [
                    "Select a valid choice. "
                    "999999999999999999999999999999 is not one of the available choices."
                ]
            },
        ),
        (
            {"payee_kind": "request", "request_reference": "K7M\x00"},
            {"request_reference": [NUL]},
        ),
        ({"payee_name": "<img src=x onerror=alert(1)>"}, {"payee_name": [MARKUP]}),
        ({"purpose": "Rent\x00"}, {"purpose": [NUL]}),
        (
            {"purpose": "x" * 301},
            {"purpose": ["Ensure this value has at most 300 characters (it has 301)."]},
        ),
    ],
)
def test_hostile_payment_fields_are_form_errors(
    books: Books, data: dict[str, str], errors: dict[str, list[str]]
) -> None:
    contribute(books, 10000)
    form = {"amount": "5", "payee_kind": "payee", "payee_name": "Shop", "purpose": "Food"}

    response = client_for(books.treasurer).post(
        books.url("disburse", books.fund.pk), {**form, **data}
    )

    assert response.status_code == 400
    assert response.context["disbursement_form"].errors == errors
    assert Disbursement.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"name": "Rent\x00"}, {"name": [NUL]}),
        ({"name": "<script>"}, {"name": [MARKUP]}),
        (
            {"name": "x" * 101},
            {"name": ["Ensure this value has at most 100 characters (it has 101)."]},
        ),
        (
            {"name": "Bail", "currency": "G\x00P"},
            {"currency": [NUL, "Give a three-letter currency code, such as GBP."]},
        ),
        (
            {"name": "Bail", "currency": "POUNDS"},
            {
                "currency": [
                    "Ensure this value has at most 3 characters (it has 6).",
                    "Give a three-letter currency code, such as GBP.",
                ]
            },
        ),
    ],
)
def test_hostile_fund_fields_are_a_400_with_form_errors(
    books: Books, data: dict[str, str], errors: dict[str, list[str]]
) -> None:
    response = client_for(books.treasurer).post(books.url("create"), data)

    assert response.status_code == 400
    assert response.context["form"].errors == errors
    assert Fund.objects.count() == 1


# Corrections, claims and receipts


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "Say why the movement is corrected."),
        ("   ", "Say why the movement is corrected."),
        ("Typo\x00", NUL),
        ("<script>alert(1)</script>", MARKUP),
        ("x" * 201, "Ensure this value has at most 200 characters (it has 201)."),
    ],
)
def test_a_correction_without_a_sound_reason_is_refused_with_a_message(
    books: Books, reason: str, message: str
) -> None:
    contribute(books, 10000)
    movement = Transaction.objects.get()

    response = client_for(books.treasurer).post(
        books.url("reverse", movement.pk), {"reason": reason}
    )

    assert response.status_code == 302
    assert messages_of(response) == [message]
    assert Transaction.objects.count() == 1


def test_a_correction_sent_twice_is_made_once(books: Books) -> None:
    contribute(books, 10000)
    movement = Transaction.objects.get()
    client = client_for(books.treasurer)
    client.post(books.url("reverse", movement.pk), {"reason": "Counted twice"})

    response = client.post(books.url("reverse", movement.pk), {"reason": "Counted twice"})

    assert messages_of(response) == [
        "Corrected. The correction is in the books below.",
        "This has already been corrected.",
    ]
    assert Transaction.objects.filter(kind=Transaction.Kind.REVERSAL).count() == 1


def test_a_confirmation_sent_twice_pays_once(books: Books) -> None:
    contribute(books, 10000)
    waiting = services.disbursement_request(
        fund=books.fund,
        actor=books.treasurer,
        amount_minor=1000,
        purpose="Top-up",
        payee_kind=Disbursement.PayeeKind.PAYEE,
        payee_name="Power Co",
    )
    client = client_for(books.member)
    client.post(books.url("disbursement_confirm", waiting.pk))

    response = client.post(books.url("disbursement_confirm", waiting.pk))

    assert response.status_code == 302
    assert messages_of(response) == [
        "Confirmed and paid. It is in the books.",
        "This payment has already been confirmed or cancelled.",
    ]
    assert Transaction.objects.filter(kind=Transaction.Kind.DISBURSEMENT).count() == 1


@pytest.mark.parametrize(
    ("reason", "error"),
    [
        ("", "This field is required."),
        ("No\x00", NUL),
        ("<i>no</i>", MARKUP),
        ("x" * 201, "Ensure this value has at most 200 characters (it has 201)."),
    ],
)
def test_turning_down_a_claim_needs_a_sound_reason(books: Books, reason: str, error: str) -> None:
    claim = make_claim(books.group)

    response = client_for(books.treasurer).post(
        books.url("reimbursement_reject", claim.pk), {"reason": reason}
    )

    assert response.status_code == 400
    assert response.context["rows"][0]["reject_form"].errors == {"reason": [error]}
    claim.refresh_from_db()
    assert claim.status == ReimbursementClaim.Status.PENDING


@pytest.mark.parametrize("fund", ["abc", "9" * 30, "1\x00", ""])
def test_paying_a_claim_from_an_odd_fund_is_a_form_error(books: Books, fund: str) -> None:
    claim = make_claim(books.group)

    response = client_for(books.treasurer).post(
        books.url("reimbursement_pay", claim.pk), {"fund": fund}
    )

    assert response.status_code == 400
    assert list(response.context["rows"][0]["pay_form"].errors) == ["fund"]
    assert Disbursement.objects.count() == 0


def test_an_upload_without_a_file_is_a_400_that_asks_for_it(books: Books) -> None:
    claim = make_claim(books.group)

    response = client_for(claim.claimant).post(books.url("receipt_upload", claim.pk), {})

    assert response.status_code == 400
    assert response.context["form"].errors == {"receipt": ["This field is required."]}
    assert Receipt.objects.count() == 0


def test_a_receipt_is_never_kept_in_a_cache(books: Books) -> None:
    claim = make_claim(books.group)
    attach(claim)

    response = client_for(books.treasurer).get(books.url("receipt", claim.pk))

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store, private"
    assert response["X-Content-Type-Options"] == "nosniff"


# What the books show


def test_text_a_member_typed_is_escaped_in_the_page_the_chart_and_the_csv(books: Books) -> None:
    # given: a fund name with characters that mean something in HTML and XML, and a memo
    # that a spreadsheet would run as a formula
    Fund.objects.filter(pk=books.fund.pk).update(name='Tom & "Jerry\'s" fund')
    contribute(books, 500, memo='=HYPERLINK("http://evil.example","click")')
    client = client_for(books.member)

    page = client.get(books.detail).content.decode()
    chart = client.get(books.url("chart", books.fund.pk)).content.decode()
    csv = client.get(books.url("export", books.fund.pk)).content.decode()

    assert "Tom &amp; &quot;Jerry&#x27;s&quot; fund" in page
    assert '<title id="fund-chart-title">Money in and out of Tom &amp; "Jerry\'s" fund' in chart
    assert 'Tom & "Jerry' not in chart
    assert csv.splitlines()[1].endswith(
        ',anonymous,"\'=HYPERLINK(""http://evil.example"",""click"")",5.00,,GBP,'
    )


def test_the_requester_never_appears_in_the_books_the_chart_the_csv_or_the_summary(
    books: Books,
) -> None:
    # given: money paid for a request whose requester is named SECRET_NAME
    books.group.publishes_fund_summary = True
    books.group.save(update_fields=["publishes_fund_summary"])
    contribute(books, 10000)
    pay(books, 2500, payee_kind=Disbursement.PayeeKind.REQUEST, request=books.request)
    client = client_for(books.member)
    api = Client()
    secrets = [
        SECRET_NAME,
        books.request.phone,
        books.request.address,
        books.request.description,
    ]

    # when: every way the books are read
    answers = [
        client.get(books.detail).content.decode(),
        client.get(books.url("chart", books.fund.pk)).content.decode(),
        client.get(books.url("export", books.fund.pk)).content.decode(),
        client.get(books.url("list")).content.decode(),
        Client().get(books.url("public_summary")).content.decode(),
        api.get(
            f"/api/funds/{books.fund.pk}/transactions", headers=token_for(books.member)
        ).content.decode(),
        api.get(f"/api/funds/{books.fund.pk}", headers=token_for(books.member)).content.decode(),
    ]

    # then: the requester is "neighbour" and the reference, and none of their details shows
    assert f"neighbour {books.request.reference}" in answers[0]
    assert f"neighbour {books.request.reference}" in answers[2]
    for answer in answers:
        for secret in secrets:
            assert secret not in answer
