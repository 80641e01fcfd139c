"""The one writer of the books: balanced lines only, summaries moved with the entries, the floor
held by the database, and posted rows that nobody can change, not even with raw SQL."""

import re

import pytest
from django.db import IntegrityError, connection, transaction

from mutualaid.common.errors import ApplicationError
from mutualaid.funds import ledger, triggers
from mutualaid.funds.models import Account, Entry, Transaction
from mutualaid.funds.tests.factories import books, contribute, paid
from mutualaid.people.models import User
from mutualaid.people.services import member_erase

pytestmark = pytest.mark.django_db

HOLDINGS = Account.Kind.HOLDINGS
IN = Account.Kind.CONTRIBUTIONS
OUT = Account.Kind.DISBURSEMENTS


def _balances(fund) -> dict[str, int]:
    return dict(fund.accounts.values_list("kind", "balance_minor"))


def _post(fund, lines, **fields):
    fields.setdefault("kind", Transaction.Kind.CONTRIBUTION)
    fields.setdefault("memo", "")
    fields.setdefault("posted_by", None)
    return ledger.transaction_post(fund=fund, lines=lines, **fields)


def test_a_balanced_transaction_moves_each_account_by_its_entry():
    # given
    fund = books().fund
    # when
    posted = _post(fund, [(HOLDINGS, 700), (IN, -700)], memo="Bake sale")
    # then
    assert sorted(posted.entries.values_list("account__kind", "amount_minor")) == [
        (IN, -700),
        (HOLDINGS, 700),
    ]
    assert _balances(fund) == {HOLDINGS: 700, IN: -700, OUT: 0}
    assert (posted.kind, posted.memo) == ("contribution", "Bake sale")
    assert ledger.ledger_replay(fund=fund) == []


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([(HOLDINGS, 700), (IN, -600)], "The sides of a movement must balance to zero."),
        ([(HOLDINGS, 0), (IN, 0)], "Each side of a movement needs an amount, and not too large."),
        ([(HOLDINGS, 700)], "A movement of money needs at least two sides."),
        ([], "A movement of money needs at least two sides."),
        ([(HOLDINGS, 5), (HOLDINGS, -5)], "Each side of a movement must name a different account."),
        (
            [(HOLDINGS, 5), ("savings", -5)],
            "Each side of a movement must name a different account.",
        ),
        ([(HOLDINGS, 5.0), (IN, -5.0)], "Amounts are whole numbers of cents."),
        ([(HOLDINGS, True), (IN, -1)], "Amounts are whole numbers of cents."),
    ],
)
def test_lines_that_are_not_a_balanced_movement_are_refused_and_nothing_is_written(lines, message):
    # given
    fund = books().fund
    # when
    with pytest.raises(ApplicationError) as refused:
        _post(fund, lines)
    # then
    assert refused.value.message == message
    assert (Transaction.objects.filter(fund=fund).count(), Entry.objects.count()) == (0, 0)
    assert _balances(fund) == {HOLDINGS: 0, IN: 0, OUT: 0}


def test_going_below_the_floor_is_refused_by_the_database_and_the_outer_transaction_goes_on():
    # given: a fund holding 500 that may not go below zero
    where = books(balance=500)
    fund = where.fund
    # when: inside one transaction, a payment of 600 fails and a payment of 200 follows
    with transaction.atomic():
        with pytest.raises(ApplicationError) as refused:
            _post(fund, [(HOLDINGS, -600), (OUT, 600)], kind=Transaction.Kind.DISBURSEMENT)
        _post(fund, [(HOLDINGS, -200), (OUT, 200)], kind=Transaction.Kind.DISBURSEMENT)
    # then
    assert (refused.value.message, refused.value.code) == (
        "There is not enough in this fund.",
        "not_enough_money",
    )
    assert _balances(fund) == {HOLDINGS: 300, IN: -500, OUT: 200}
    assert list(fund.transactions.values_list("kind", flat=True)) == [
        "disbursement",
        "contribution",
    ]
    assert ledger.ledger_replay(fund=fund) == []


def test_an_overdraft_lets_the_fund_go_below_zero_only_as_far_as_allowed():
    # given
    where = books()
    from mutualaid.funds.tests.factories import make_fund

    fund = make_fund(where.group, actor=where.treasurer, overdraft_limit_minor=1000)
    # when
    _post(fund, [(HOLDINGS, -1000), (OUT, 1000)], kind=Transaction.Kind.DISBURSEMENT)
    with pytest.raises(ApplicationError, match=re.escape("There is not enough in this fund.")):
        _post(fund, [(HOLDINGS, -1), (OUT, 1)], kind=Transaction.Kind.DISBURSEMENT)
    # then
    assert _balances(fund) == {HOLDINGS: -1000, IN: 0, OUT: 1000}


def test_a_transaction_is_reversed_once():
    # given
    where = books()
    contribution = contribute(where, 900)
    first = _post(
        where.fund,
        [(HOLDINGS, -900), (IN, 900)],
        kind=Transaction.Kind.REVERSAL,
        reverses=contribution.transaction,
    )
    # when
    with pytest.raises(ApplicationError) as refused:
        _post(
            where.fund,
            [(HOLDINGS, -900), (IN, 900)],
            kind=Transaction.Kind.REVERSAL,
            reverses=contribution.transaction,
        )
    # then
    assert refused.value.message == "This has already been corrected."
    assert list(Transaction.objects.filter(reverses=contribution.transaction)) == [first]
    assert _balances(where.fund) == {HOLDINGS: 0, IN: 0, OUT: 0}


def test_the_replay_finds_a_summary_that_drifted_from_its_entries():
    # given: someone changed a balance by hand
    where = books(balance=1000)
    holdings = where.fund.accounts.get(kind=HOLDINGS)
    Account.objects.filter(pk=holdings.pk).update(balance_minor=1500)
    # when
    problems = ledger.ledger_replay(fund=where.fund)
    # then
    assert problems == [
        ledger.LedgerProblem(
            fund_id=where.fund.pk,
            kind="balance",
            message=f"account {holdings.pk} (holdings) shows 1500 but its entries sum to 1000",
            account_id=holdings.pk,
        )
    ]
    assert ledger.ledger_replay(fund=books(balance=5).fund) == []


# The triggers


def _raw(sql: str, params: list) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_posted_entry_cannot_be_changed_with_raw_sql():
    # given
    entry = contribute(books(), 400).transaction.entries.first()
    # when / then
    with pytest.raises(IntegrityError, match="posted"):
        _raw("UPDATE funds_entry SET amount_minor = %s WHERE id = %s", [1, entry.pk])
    entry.refresh_from_db()
    assert entry.amount_minor in (400, -400)


def test_a_posted_entry_cannot_be_deleted_with_raw_sql_or_the_orm():
    # given
    posted = contribute(books(), 400).transaction
    # when / then
    with pytest.raises(IntegrityError, match="posted"):
        _raw("DELETE FROM funds_entry WHERE transaction_id = %s", [posted.pk])
    with pytest.raises(IntegrityError, match="posted"), transaction.atomic():
        Entry.objects.filter(transaction=posted)._raw_delete(connection.alias)
    assert posted.entries.count() == 2


def test_a_posted_transaction_cannot_be_deleted_or_changed_with_raw_sql():
    # given
    posted = contribute(books(), 400).transaction
    # when / then
    with pytest.raises(IntegrityError, match="posted"):
        _raw("DELETE FROM funds_transaction WHERE id = %s", [posted.pk])
    for column, value in [
        ("memo", "Nothing to see"),
        ("kind", "disbursement"),
        ("fund_id", books().fund.pk),
        ("posted_at", "2001-01-01 00:00:00"),
    ]:
        with pytest.raises(IntegrityError, match="posted"):
            _raw(f"UPDATE funds_transaction SET {column} = %s WHERE id = %s", [value, posted.pk])  # noqa: S608
    other = User.objects.exclude(pk=posted.posted_by_id).first()
    with pytest.raises(IntegrityError, match="posted"):
        _raw("UPDATE funds_transaction SET posted_by_id = %s WHERE id = %s", [other.pk, posted.pk])
    posted.refresh_from_db()
    assert (posted.memo, posted.kind) == ("", "contribution")


def test_saving_a_transaction_unchanged_is_harmless():
    # given
    posted = contribute(books(), 400).transaction
    # when
    Transaction.objects.get(pk=posted.pk).save()
    # then
    posted.refresh_from_db()
    assert posted.entries.count() == 2


def test_the_poster_of_a_transaction_may_become_null_when_their_account_is_deleted():
    # given: a treasurer who posted a contribution
    where = books()
    posted = contribute(where, 400).transaction
    # when: their account row is deleted (Django sets posted_by to NULL)
    where.treasurer.delete()
    # then
    posted.refresh_from_db()
    assert (posted.posted_by_id, posted.entries.count()) == (None, 2)


def test_a_treasurer_erasing_their_account_keeps_the_books_as_they_were():
    # given
    where = books()
    posted = contribute(where, 400).transaction
    # when
    member_erase(member=where.treasurer)
    # then
    posted.refresh_from_db()
    assert (posted.posted_by_id, posted.entries.count()) == (where.treasurer.pk, 2)
    assert ledger.ledger_replay(fund=where.fund) == []


def test_the_database_has_every_ledger_trigger():
    assert triggers.missing_triggers(connection) == set()
    assert triggers.installed_triggers(connection) == triggers.EXPECTED_TRIGGERS[connection.vendor]


def test_paying_out_is_a_disbursement_transaction_on_both_sides():
    # given
    where = books(balance=3000)
    # when
    disbursement = paid(where, 1200)
    # then
    assert sorted(
        disbursement.transaction.entries.values_list("account__kind", "amount_minor")
    ) == [
        (OUT, 1200),
        (HOLDINGS, -1200),
    ]
    assert _balances(where.fund) == {HOLDINGS: 1800, IN: -3000, OUT: 1200}
