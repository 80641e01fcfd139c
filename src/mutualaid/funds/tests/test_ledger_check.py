"""`mutualaid manage ledger_check` replays the books and says what disagrees."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from mutualaid.funds.ledger import ledger_replay
from mutualaid.funds.models import Account, Contribution, Disbursement
from mutualaid.funds.tests.factories import books, paid

pytestmark = pytest.mark.django_db


def _check(*args: str) -> str:
    out = StringIO()
    call_command("ledger_check", *args, stdout=out)
    return out.getvalue()


def test_sound_books_print_ok_for_each_fund():
    # given
    where = books(balance=3000)
    paid(where, 1000)
    fund = where.fund
    # when
    output = _check()
    # then
    assert output == (
        f"Fund {fund.pk} {fund.name!r} ({where.group.slug}): 2 transactions, 4 entries, "
        "balance £20.00 kept, £20.00 replayed: OK\n1 fund checked, 0 problems.\n"
    )


def test_a_balance_changed_by_hand_is_a_problem_and_exits_with_1():
    # given
    where = books(balance=3000)
    other = books(balance=10)
    holdings = where.fund.accounts.get(kind=Account.Kind.HOLDINGS)
    Account.objects.filter(pk=holdings.pk).update(balance_minor=9999)
    out = StringIO()
    # when
    with pytest.raises(CommandError) as failed:
        call_command("ledger_check", stdout=out)
    # then
    assert failed.value.returncode == 1
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("balance £99.99 kept, £30.00 replayed: PROBLEM")
    assert lines[1] == (
        f"  - account {holdings.pk} (holdings) shows 9999 but its entries sum to 3000"
    )
    assert lines[2].startswith(f"Fund {other.fund.pk} ")
    assert lines[2].endswith(": OK")
    assert lines[3] == "2 funds checked, 1 problem."
    assert _check("--fund", str(other.fund.pk)).endswith("1 fund checked, 0 problems.\n")


def test_a_missing_trigger_is_a_problem():
    # given: a migration that rebuilt the table dropped a trigger (inside this test's transaction)
    books(balance=100)
    name = "funds_entry_no_delete" if connection.vendor == "sqlite" else "funds_entry_no_change"
    drop = f"DROP TRIGGER {name}" + (" ON funds_entry" if connection.vendor != "sqlite" else "")
    with connection.cursor() as cursor:
        cursor.execute(drop)
    out = StringIO()
    # when
    with pytest.raises(CommandError):
        call_command("ledger_check", stdout=out)
    # then
    assert f"lacks the triggers that keep posted entries unchanged: {name}" in out.getvalue()


def test_an_unknown_fund_is_an_error():
    with pytest.raises(CommandError, match=re.escape("There is no fund 999999.")):
        call_command("ledger_check", "--fund", "999999")


def test_a_contribution_or_payment_that_disagrees_with_its_transaction_is_a_problem():
    # given: sound books, then two records changed by hand
    where = books(balance=3000)
    payment = paid(where, 1000)
    contribution = Contribution.objects.get(fund=where.fund)
    assert ledger_replay() == []
    Contribution.objects.filter(pk=contribution.pk).update(amount_minor=3500)
    Disbursement.objects.filter(pk=payment.pk).update(amount_minor=900)

    # when
    problems = [(problem.kind, problem.message) for problem in ledger_replay()]

    # then
    assert problems == [
        (
            "record",
            f"contribution {contribution.pk} is for 3500 but its transaction "
            f"{contribution.transaction_id} moved 3000 into or out of the money held",
        ),
        (
            "record",
            f"disbursement {payment.pk} is for 900 but its transaction "
            f"{payment.transaction_id} moved 1000 into or out of the money held",
        ),
    ]
