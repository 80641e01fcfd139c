"""The open books: the list of funds and a fund's page, and what each person may do there."""

from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from mutualaid.funds import services
from mutualaid.funds.models import Contribution, Disbursement, Fund, Transaction
from mutualaid.funds.tests.test_views_support import (
    SECRET_NAME,
    Books,
    books_fixture,  # noqa: F401 (the fixture `books`)
    contribute,
    logged_in,
    messages_of,
    pay,
)
from mutualaid.needs.tests.factories import make_group, make_request

pytestmark = pytest.mark.django_db


# The list of funds


def test_members_see_every_fund_with_its_balance_and_totals(books: Books) -> None:
    contribute(books, 10000)
    pay(books, 2550)
    services.fund_create(group=books.group, actor=books.treasurer, name="Bail fund")

    response = logged_in(books.member).get(books.url("list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<a href="{books.detail}">Hardship fund</a>' in html
    assert "<dt>Holds</dt><dd>£74.50</dd>" in html
    assert "<dt>In so far</dt><dd>£100.00</dd>" in html
    assert "<dt>Out so far</dt><dd>£25.50</dd>" in html
    assert "Bail fund" in html
    assert books.url("create") not in html


def test_treasurers_see_the_link_to_open_a_fund(books: Books) -> None:
    response = logged_in(books.treasurer).get(books.url("list"))

    assert books.url("create") in response.content.decode()


@pytest.mark.parametrize("who", ["outsider", "anonymous"])
def test_people_outside_the_group_do_not_see_its_funds(books: Books, who: str) -> None:
    user = books.outsider if who == "outsider" else None

    response = logged_in(user).get(books.url("list"))

    assert response.status_code == (403 if user else 302)


def test_the_list_costs_the_same_queries_for_one_fund_or_many(
    books: Books, django_assert_num_queries: Any
) -> None:
    client = logged_in(books.member)
    client.get(books.url("list"))  # the session and the like are warm
    with django_assert_num_queries(9) as one:
        client.get(books.url("list"))
    for n in range(5):
        services.fund_create(group=books.group, actor=books.treasurer, name=f"Fund {n}")

    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(books.url("list"))

    assert response.content.decode().count('<li class="card">') == 6


# Opening a fund


def test_a_treasurer_opens_a_fund(books: Books) -> None:
    response = logged_in(books.treasurer).post(
        books.url("create"), {"name": "Bail fund", "purpose": "Bail", "currency": "eur"}
    )

    fund = Fund.objects.get(group=books.group, name="Bail fund")
    assert response.status_code == 302
    assert response["Location"] == books.url("detail", fund.pk)
    assert (fund.purpose, fund.currency) == ("Bail", "EUR")


def test_a_plain_member_cannot_open_a_fund(books: Books) -> None:
    client = logged_in(books.member)

    assert client.get(books.url("create")).status_code == 403
    assert client.post(books.url("create"), {"name": "Mine"}).status_code == 403
    assert not Fund.objects.filter(name="Mine").exists()


# One fund's books


def test_the_books_show_every_movement_and_never_the_requesters_name(books: Books) -> None:
    contribute(books, 10000, contributor_name="Ada Giver", reference="BANK-1")
    contribute(books, 500)
    pay(
        books,
        2500,
        purpose="Electricity top-up",
        payee_kind=Disbursement.PayeeKind.REQUEST,
        request=books.request,
    )

    response = logged_in(books.member).get(books.detail)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>£80.00</strong>" in html
    assert "Ada Giver" in html
    assert "anonymous" in html
    assert f"neighbour {books.request.reference}" in html
    assert SECRET_NAME not in html
    assert response["Cache-Control"].startswith("max-age=0")
    # The chart and its table of figures are on the page.
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html
    assert '<title id="fund-chart-title">' in html
    assert books.url("export", books.fund.pk) in html


def test_plain_members_see_no_treasurer_forms(books: Books) -> None:
    contribute(books, 1000)

    html = logged_in(books.member).get(books.detail).content.decode()

    assert books.url("contribute", books.fund.pk) not in html
    assert books.url("disburse", books.fund.pk) not in html
    assert "/reverse/" not in html


def test_treasurers_see_the_forms_and_a_correct_button(books: Books) -> None:
    contribution = contribute(books, 1000)

    html = logged_in(books.treasurer).get(books.detail).content.decode()

    assert books.url("contribute", books.fund.pk) in html
    assert books.url("disburse", books.fund.pk) in html
    assert books.url("reverse", contribution.transaction_id) in html


@pytest.mark.parametrize("who", ["outsider", "anonymous"])
def test_people_outside_the_group_cannot_read_the_books(books: Books, who: str) -> None:
    user = books.outsider if who == "outsider" else None

    response = logged_in(user).get(books.detail)

    assert response.status_code == (403 if user else 302)


def test_a_fund_of_another_group_is_not_found_under_this_one(books: Books) -> None:
    other = make_group()
    url = reverse("funds:detail", kwargs={"slug": other.slug, "pk": books.fund.pk})

    assert logged_in(books.member).get(url).status_code == 404


@pytest.mark.parametrize("movements", [5, 50])
def test_the_fund_page_costs_the_same_queries_however_many_movements(
    books: Books, django_assert_num_queries: Any, movements: int
) -> None:
    for n in range(movements):
        if n % 5 == 4:
            pay(books, 100, payee_kind=Disbursement.PayeeKind.REQUEST, request=books.request)
        else:
            contribute(books, 1000, contributor_name=f"Giver {n}" if n % 2 else "")
    client = logged_in(books.member)

    with django_assert_num_queries(QUERIES_ON_FUND_PAGE):
        response = client.get(books.detail)

    assert response.status_code == 200


QUERIES_ON_FUND_PAGE = 12


def test_the_books_are_paged(books: Books) -> None:
    for _ in range(30):
        contribute(books, 100)
    client = logged_in(books.member)

    first = client.get(books.detail).content.decode()
    second = client.get(books.detail + "?page=2").content.decode()

    assert "Page 1 of 2" in first
    assert first.count('<tr id="movement-') == 25
    assert second.count('<tr id="movement-') == 5


# Money in


def test_a_treasurer_records_a_contribution_in_major_units(books: Books) -> None:
    response = logged_in(books.treasurer).post(
        books.url("contribute", books.fund.pk),
        {
            "amount": "12.50",
            "method": "bank_transfer",
            "contributor_name": "Ada Giver",
            "reference": "REF 7",
            "memo": "",
            "received_at": "",
        },
    )

    assert response.status_code == 302
    contribution = Contribution.objects.get(fund=books.fund)
    assert (contribution.amount_minor, contribution.method) == (1250, "bank_transfer")
    assert (contribution.contributor_name, contribution.reference) == ("Ada Giver", "REF 7")


def test_a_contribution_received_on_an_earlier_day_is_booked_on_that_day(books: Books) -> None:
    response = logged_in(books.treasurer).post(
        books.url("contribute", books.fund.pk),
        {"amount": "5", "method": "cash", "received_at": "2025-01-15"},
    )

    assert response.status_code == 302
    posted_at = Contribution.objects.get().transaction.posted_at
    assert timezone.localtime(posted_at).date() == date(2025, 1, 15)


def test_a_contribution_cannot_be_received_tomorrow(books: Books) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)

    response = logged_in(books.treasurer).post(
        books.url("contribute", books.fund.pk),
        {"amount": "5", "method": "cash", "received_at": tomorrow.isoformat()},
    )

    assert response.status_code == 400
    assert response.context["contribution_form"].errors == {
        "received_at": ["The day it came cannot be in the future."]
    }
    assert not Contribution.objects.exists()


def test_an_amount_with_too_many_decimals_is_a_form_error(books: Books) -> None:
    response = logged_in(books.treasurer).post(
        books.url("contribute", books.fund.pk), {"amount": "12.505", "method": "cash"}
    )

    assert response.status_code == 400
    assert not Contribution.objects.exists()


def test_a_plain_member_cannot_record_a_contribution(books: Books) -> None:
    response = logged_in(books.member).post(
        books.url("contribute", books.fund.pk), {"amount": "5", "method": "cash"}
    )

    assert response.status_code == 403
    assert not Contribution.objects.exists()


# Money out


def test_a_treasurer_asks_to_pay_and_it_waits_for_a_second_member(books: Books) -> None:
    contribute(books, 10000)

    response = logged_in(books.treasurer).post(
        books.url("disburse", books.fund.pk),
        {
            "amount": "20",
            "purpose": "Food shop",
            "payee_kind": "request",
            "request_reference": books.request.reference.lower(),
        },
    )

    assert response.status_code == 302
    disbursement = Disbursement.objects.get(fund=books.fund)
    assert disbursement.status == Disbursement.Status.AWAITING_CONFIRMATION
    assert (disbursement.amount_minor, disbursement.request_id) == (2000, books.request.pk)


def test_above_the_spending_limit_the_form_points_to_a_spend_proposal(books: Books) -> None:
    contribute(books, 100000)

    response = logged_in(books.treasurer).post(
        books.url("disburse", books.fund.pk),
        {"amount": "50.01", "purpose": "Rent", "payee_kind": "payee", "payee_name": "Landlord"},
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "more than the group&#x27;s spending limit" in html
    proposal_url = reverse("decisions:create", kwargs={"slug": books.group.slug})
    assert f"{proposal_url}?kind=spend&amp;fund={books.fund.pk}" in html
    assert not Disbursement.objects.exists()


def test_a_request_reference_of_another_group_is_refused(books: Books) -> None:
    contribute(books, 10000)
    elsewhere = make_request(make_group())

    response = logged_in(books.treasurer).post(
        books.url("disburse", books.fund.pk),
        {
            "amount": "20",
            "purpose": "Food",
            "payee_kind": "request",
            "request_reference": elsewhere.reference,
        },
    )

    assert response.status_code == 400
    assert "No request of this group has that reference." in response.content.decode()


def test_a_plain_member_cannot_ask_to_pay(books: Books) -> None:
    contribute(books, 10000)

    response = logged_in(books.member).post(
        books.url("disburse", books.fund.pk),
        {"amount": "20", "purpose": "Food", "payee_kind": "payee", "payee_name": "Shop"},
    )

    assert response.status_code == 403
    assert not Disbursement.objects.exists()


def _asked(books: Books, amount_minor: int = 2000) -> Disbursement:
    return services.disbursement_request(
        fund=books.fund,
        actor=books.treasurer,
        amount_minor=amount_minor,
        purpose="Food",
        payee_kind=Disbursement.PayeeKind.PAYEE,
        payee_name="Corner Shop Ltd",
    )


def test_another_member_confirms_and_it_is_paid(books: Books) -> None:
    contribute(books, 10000)
    disbursement = _asked(books)
    client = logged_in(books.member)
    assert (
        books.url("disbursement_confirm", disbursement.pk)
        in client.get(books.detail).content.decode()
    )

    response = client.post(books.url("disbursement_confirm", disbursement.pk))

    assert response.status_code == 302
    disbursement.refresh_from_db()
    assert disbursement.status == Disbursement.Status.PAID
    assert disbursement.confirmed_by == books.member
    assert messages_of(response) == ["Confirmed and paid. It is in the books."]


def test_the_member_who_asked_cannot_confirm(books: Books) -> None:
    contribute(books, 10000)
    disbursement = _asked(books)
    client = logged_in(books.treasurer)
    assert (
        books.url("disbursement_confirm", disbursement.pk)
        not in client.get(books.detail).content.decode()
    )

    response = client.post(books.url("disbursement_confirm", disbursement.pk))

    assert response.status_code == 403
    disbursement.refresh_from_db()
    assert disbursement.status == Disbursement.Status.AWAITING_CONFIRMATION


def test_an_outsider_cannot_confirm(books: Books) -> None:
    disbursement = _asked(books)

    response = logged_in(books.outsider).post(books.url("disbursement_confirm", disbursement.pk))

    assert response.status_code == 403


def test_confirmed_without_money_waits_and_a_treasurer_pays_it_later(books: Books) -> None:
    disbursement = _asked(books)
    logged_in(books.member).post(books.url("disbursement_confirm", disbursement.pk))
    disbursement.refresh_from_db()
    assert disbursement.status == Disbursement.Status.APPROVED
    contribute(books, 10000)
    treasurer = logged_in(books.treasurer)
    assert (
        books.url("disbursement_pay", disbursement.pk)
        in treasurer.get(books.detail).content.decode()
    )
    assert (
        logged_in(books.member).post(books.url("disbursement_pay", disbursement.pk)).status_code
        == 403
    )

    response = treasurer.post(books.url("disbursement_pay", disbursement.pk))

    assert response.status_code == 302
    disbursement.refresh_from_db()
    assert disbursement.status == Disbursement.Status.PAID


def test_a_treasurer_cancels_a_payment_and_a_member_cannot(books: Books) -> None:
    disbursement = _asked(books)

    refused = logged_in(books.member).post(books.url("disbursement_cancel", disbursement.pk))
    response = logged_in(books.treasurer).post(books.url("disbursement_cancel", disbursement.pk))

    assert refused.status_code == 403
    assert response.status_code == 302
    disbursement.refresh_from_db()
    assert disbursement.status == Disbursement.Status.CANCELLED


# Corrections


def test_a_treasurer_reverses_a_movement_with_a_reason(books: Books) -> None:
    contribution = contribute(books, 1000)

    response = logged_in(books.treasurer).post(
        books.url("reverse", contribution.transaction_id), {"reason": "Typed twice"}
    )

    assert response.status_code == 302
    reversal = Transaction.objects.get(reverses_id=contribution.transaction_id)
    assert reversal.kind == Transaction.Kind.REVERSAL
    html = logged_in(books.treasurer).get(books.detail).content.decode()
    assert books.url("reverse", contribution.transaction_id) not in html
    assert books.url("reverse", reversal.pk) not in html
    assert f'<a href="?movement={reversal.pk}">corrected by number {reversal.pk}</a>' in html
    assert (
        f'<a href="?movement={contribution.transaction_id}">corrects number '
        f"{contribution.transaction_id}</a>" in html
    )


def test_a_reversal_needs_a_reason(books: Books) -> None:
    contribution = contribute(books, 1000)

    response = logged_in(books.treasurer).post(
        books.url("reverse", contribution.transaction_id), {"reason": "  "}
    )

    assert response.status_code == 302
    assert messages_of(response) == ["Say why the movement is corrected."]
    assert not Transaction.objects.filter(kind=Transaction.Kind.REVERSAL).exists()


def test_a_plain_member_cannot_reverse(books: Books) -> None:
    contribution = contribute(books, 1000)

    response = logged_in(books.member).post(
        books.url("reverse", contribution.transaction_id), {"reason": "I say so"}
    )

    assert response.status_code == 403
    assert not Transaction.objects.filter(kind=Transaction.Kind.REVERSAL).exists()


def test_a_link_to_one_movement_opens_the_page_of_the_books_that_shows_it(books: Books) -> None:
    # given: 30 movements, newest first at 25 a page, so the first two are on page 2
    first = contribute(books, 100)
    second = contribute(books, 200)
    for _ in range(28):
        contribute(books, 300)
    client = logged_in(books.member)

    oldest = client.get(f"{books.detail}?movement={first.transaction_id}")
    newest = client.get(f"{books.detail}?movement={Transaction.objects.latest('pk').pk}")
    unknown = client.get(f"{books.detail}?movement=999999999")
    garbage = client.get(f"{books.detail}?movement=9{'9' * 40}")

    assert (oldest.status_code, oldest.url) == (
        302,
        f"{books.detail}?page=2#movement-{first.transaction_id}",
    )
    assert newest.url.startswith(f"{books.detail}?page=1#movement-")
    assert (unknown.status_code, garbage.status_code) == (200, 200)
    page_two = client.get(oldest.url).content.decode()
    assert f'id="movement-{second.transaction_id}"' in page_two
