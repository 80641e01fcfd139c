"""What the open books show: balances and totals, each movement with who and what (a requester
only as "neighbour" and a reference), monthly totals, and the totals-only public summary."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from mutualaid.funds import selectors, services
from mutualaid.funds.tests.factories import (
    books,
    contribute,
    make_claim,
    make_fund,
    make_request,
    paid,
)

pytestmark = pytest.mark.django_db


def test_fund_balances_shows_each_funds_balance_and_totals_in_one_query(
    django_assert_num_queries,
):
    # given: two funds, one with money in, out and a correction
    where = books(balance=5000)
    empty = make_fund(where.group, actor=where.treasurer, name="Aaa bail fund")
    done = paid(where, 1200)
    contribute(where, 300)
    services.transaction_reverse(transaction=done.transaction, actor=where.treasurer, reason="x")
    # when
    with django_assert_num_queries(1):
        funds = selectors.fund_balances(group=where.group)
        figures = [(f.name, f.balance_minor, f.in_minor, f.out_minor) for f in funds]
    # then
    assert figures == [(empty.name, 0, 0, 0), (where.fund.name, 5300, 5300, 0)]


def test_each_movement_line_says_who_without_a_requesters_name(django_assert_num_queries):
    # given
    where = books(balance=5000)
    contribute(where, 700, contributor=where.member)
    contribute(where, 200, contributor_name="St Mary's church")
    request = make_request(where.group, name="Maria Gonzalez")
    paid(where, 900, payee_kind="request", request=request, purpose="Prescription")
    paid(where, 400, payee_name="Northern Power")
    # when
    with django_assert_num_queries(2):
        lines = [selectors.movement_line(t) for t in selectors.fund_movements(fund=where.fund)]
    # then
    assert [(line["amount_minor"], line["who"], line["description"]) for line in lines] == [
        (-400, "Northern Power", "Paid to Northern Power"),
        (-900, f"neighbour {request.reference}", f"Paid for neighbour {request.reference}"),
        (200, "St Mary's church", "Contribution from St Mary's church"),
        (700, where.member.display_name, f"Contribution from {where.member.display_name}"),
        (5000, "anonymous", "Anonymous contribution"),
    ]
    assert all("Maria" not in str(value) for line in lines for value in line.values())
    assert {line["posted_by"] for line in lines} == {
        where.treasurer.display_name,
        where.member.display_name,
    }


def test_a_corrected_movement_and_its_correction_point_at_each_other(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    where = books(balance=5000)
    claim = make_claim(where.group, 800)
    from mutualaid.funds.tests.factories import attach

    attach(claim)
    done = paid(where, 800, payee_kind="reimbursement", reimbursement=claim, purpose="Food")
    reversal = services.transaction_reverse(
        transaction=done.transaction, actor=where.treasurer, reason="Wrong fund"
    )
    lines = {t.pk: selectors.movement_line(t) for t in selectors.fund_movements(fund=where.fund)}
    assert lines[done.transaction.pk]["reversed_by_id"] == reversal.pk
    assert lines[done.transaction.pk]["description"] == (
        f"Paid back to {claim.claimant.display_name} (for neighbour {claim.request.reference})"
    )
    assert (lines[reversal.pk]["reverses_id"], lines[reversal.pk]["amount_minor"]) == (
        done.transaction.pk,
        800,
    )
    assert lines[reversal.pk]["description"] == f"Correction of number {done.transaction.pk}"


def test_monthly_totals_cover_the_last_months_oldest_first_with_zeros():
    # given: money in two months ago and this month, money out this month
    where = books()
    now = timezone.now()
    contribute(where, 1000, received_at=now - timedelta(days=62))
    contribute(where, 500)
    paid(where, 300)
    # when
    months = selectors.monthly_totals(fund=where.fund, months=4)
    # then
    today = timezone.localdate()
    starts = []
    for back in (3, 2, 1, 0):
        index = today.year * 12 + today.month - 1 - back
        starts.append(date(index // 12, index % 12 + 1, 1))
    two_ago = timezone.localtime(now - timedelta(days=62)).date().replace(day=1)
    expected = dict.fromkeys(starts, (0, 0))
    expected[two_ago] = (1000, 0)
    expected[starts[-1]] = (500, 300)
    assert months == [(start, *expected[start]) for start in starts]


def test_the_public_summary_has_totals_only():
    where = books(balance=2500)
    paid(where, 500)
    summary = selectors.public_summary(group=where.group)
    assert summary == [
        selectors.FundTotals(
            name=where.fund.name,
            currency="GBP",
            balance_minor=2000,
            in_minor=2500,
            out_minor=500,
        )
    ]
