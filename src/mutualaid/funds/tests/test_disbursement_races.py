"""Twenty members confirm twenty payments from one fund at the same moment, each from its own
thread and database connection, when the fund can pay only some of them: exactly as many are
paid as fit, none overspends, every other one is told plainly and stays approved, and nothing
is lost. On PostgreSQL the payments really overlap and the row locks and the floor constraint
decide; on SQLite the IMMEDIATE transactions queue them, and the result must be the same."""

import pytest

from mutualaid.common.errors import ApplicationError
from mutualaid.funds import ledger, services
from mutualaid.funds.models import Account, Disbursement, Entry, Transaction
from mutualaid.funds.tests.factories import asked, books, member_of
from mutualaid.tests.races import on_postgresql, on_sqlite, run_at_once

PAYERS = 20
START = 1000
AMOUNT = 150
FITS = START // AMOUNT
NOT_ENOUGH = (
    409,
    "not_enough_money",
    "Confirmed, but there is not enough in this fund to pay it yet. A treasurer can pay it once "
    "money comes in.",
)


def _outcome(result: object) -> object:
    if isinstance(result, ApplicationError):
        return (result.status, result.code, result.message)
    if isinstance(result, Disbursement):
        return result.status
    return result


def _twenty_confirm_at_once() -> None:
    # given: a fund holding 1000 and twenty payments of 150 waiting for a second member
    where = books(balance=START)
    confirmers = [member_of(where.group) for _ in range(PAYERS)]
    waiting = [asked(where, AMOUNT) for _ in range(PAYERS)]

    # when
    def confirm(disbursement_id: int, member) -> object:
        def run() -> object:
            return services.disbursement_confirm(
                disbursement=Disbursement.objects.get(pk=disbursement_id), actor=member
            )

        return run

    results = run_at_once(
        [confirm(d.pk, member) for d, member in zip(waiting, confirmers, strict=True)]
    )

    # then: exactly what fits is paid, the rest are told why and wait approved
    outcomes = [_outcome(result) for result in results]
    assert outcomes.count("paid") == FITS, outcomes
    assert outcomes.count(NOT_ENOUGH) == PAYERS - FITS, outcomes
    rows = list(Disbursement.objects.filter(fund=where.fund).order_by("pk"))
    assert len(rows) == PAYERS
    assert sorted(row.status for row in rows) == ["approved"] * (PAYERS - FITS) + ["paid"] * FITS
    assert all(row.confirmed_by_id is not None for row in rows)
    paid = [row for row in rows if row.status == "paid"]
    assert sum(row.amount_minor for row in paid) == FITS * AMOUNT <= START
    assert all(row.transaction_id is not None for row in paid)
    balances = dict(where.fund.accounts.values_list("kind", "balance_minor"))
    assert balances == {
        Account.Kind.HOLDINGS: START - FITS * AMOUNT,
        Account.Kind.CONTRIBUTIONS: -START,
        Account.Kind.DISBURSEMENTS: FITS * AMOUNT,
    }
    assert Transaction.objects.filter(fund=where.fund).count() == 1 + FITS
    assert Entry.objects.filter(account__fund=where.fund).count() == 2 * (1 + FITS)
    assert ledger.ledger_replay(fund=where.fund) == []


def _ten_treasurers_pay_one_payment_at_once() -> None:
    # given: an approved payment that waited for money, which has now come in
    where = books(balance=100)
    waiting = asked(where, 500)
    with pytest.raises(ApplicationError):
        services.disbursement_confirm(disbursement=waiting, actor=where.member)
    from mutualaid.funds.tests.factories import contribute

    contribute(where, 1000)

    # when
    def pay() -> object:
        return services.disbursement_pay(
            disbursement=Disbursement.objects.get(pk=waiting.pk), actor=where.treasurer
        )

    results = run_at_once([pay for _ in range(10)])

    # then: paid once
    outcomes = [_outcome(result) for result in results]
    assert outcomes.count("paid") == 1, outcomes
    assert outcomes.count((409, "conflict", "This payment has already been made.")) == 9, outcomes
    assert Transaction.objects.filter(fund=where.fund, kind="disbursement").count() == 1
    assert where.fund.accounts.get(kind=Account.Kind.HOLDINGS).balance_minor == 600
    assert ledger.ledger_replay(fund=where.fund) == []


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_twenty_simultaneous_payments_pay_exactly_what_the_fund_holds():
    _twenty_confirm_at_once()


@on_sqlite
@pytest.mark.django_db(transaction=True)
def test_on_sqlite_twenty_simultaneous_payments_pay_exactly_what_the_fund_holds():
    _twenty_confirm_at_once()


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_one_payment_paid_by_many_at_once_is_paid_once():
    _ten_treasurers_pay_one_payment_at_once()


@on_sqlite
@pytest.mark.django_db(transaction=True)
def test_on_sqlite_one_payment_paid_by_many_at_once_is_paid_once():
    _ten_treasurers_pay_one_payment_at_once()
