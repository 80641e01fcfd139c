"""A state machine of the books: random contributions, payments, retries and corrections on a
fund with or without an overdraft. After every step every transaction sums to zero, every
account's balance equals the sum of its entries, the replay finds nothing, the holdings are
never below the fund's floor, and they equal a plain model of the money."""

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from mutualaid.common.errors import ApplicationError
from mutualaid.funds import ledger, services
from mutualaid.funds.models import Account, Contribution, Disbursement, Entry, Transaction
from mutualaid.funds.tests.factories import Books, books, make_fund


def _attempt(action):
    """What the action returned and None, or None and the ApplicationError it raised."""
    try:
        return action(), None
    except ApplicationError as error:
        return None, error


AMOUNTS = st.integers(min_value=1, max_value=5000)  # within the default spending limit


class LedgerMachine(RuleBasedStateMachine):
    where: Books  # the group, treasurer and member, made once per test

    def __init__(self) -> None:
        super().__init__()
        # Each example runs in a transaction rolled back at its end, so examples never meet.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.fund = None
        self.holdings = 0
        self.floor = 0
        self.reversible: list[int] = []
        self.waiting: list[int] = []

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    @initialize(overdraft=st.sampled_from([0, 0, 700, 5000]))
    def open_fund(self, overdraft: int) -> None:
        self.fund = make_fund(
            self.where.group, actor=self.where.treasurer, overdraft_limit_minor=overdraft
        )
        self.floor = -overdraft

    @rule(amount=AMOUNTS, anonymous=st.booleans())
    def contribute(self, amount: int, anonymous: bool) -> None:
        contribution = services.contribution_record(
            fund=self.fund,
            actor=self.where.treasurer,
            amount_minor=amount,
            method=Contribution.Method.BANK_TRANSFER,
            contributor=None if anonymous else self.where.member,
        )
        self.holdings += amount
        self.reversible.append(contribution.transaction_id)

    @rule(amount=AMOUNTS)
    def pay_out(self, amount: int) -> None:
        asked = services.disbursement_request(
            fund=self.fund,
            actor=self.where.treasurer,
            amount_minor=amount,
            purpose="Rent top-up",
            payee_kind=Disbursement.PayeeKind.PAYEE,
            payee_name="Housing co-op",
        )
        fits = self.holdings - amount >= self.floor
        result, error = _attempt(
            lambda: services.disbursement_confirm(disbursement=asked, actor=self.where.member)
        )
        if error is not None:
            assert not fits
            assert error.code == "not_enough_money"
            asked.refresh_from_db()
            assert asked.status == Disbursement.Status.APPROVED
            self.waiting.append(asked.pk)
        else:
            assert fits
            assert result.status == Disbursement.Status.PAID
            self.holdings -= amount
            self.reversible.append(result.transaction_id)

    @precondition(lambda self: self.waiting)
    @rule(data=st.data())
    def retry_a_waiting_payment(self, data: st.DataObject) -> None:
        pk = data.draw(st.sampled_from(self.waiting))
        waiting = Disbursement.objects.get(pk=pk)
        fits = self.holdings - waiting.amount_minor >= self.floor
        result, error = _attempt(
            lambda: services.disbursement_pay(disbursement=waiting, actor=self.where.treasurer)
        )
        if error is not None:
            assert not fits
            assert error.message == "There is not enough in this fund."
        else:
            assert fits
            self.holdings -= waiting.amount_minor
            self.waiting.remove(pk)
            self.reversible.append(result.transaction_id)

    @precondition(lambda self: self.reversible)
    @rule(data=st.data())
    def correct_a_movement(self, data: st.DataObject) -> None:
        pk = data.draw(st.sampled_from(self.reversible))
        original = Transaction.objects.get(pk=pk)
        change = -Entry.objects.get(
            transaction=original, account__kind=Account.Kind.HOLDINGS
        ).amount_minor
        fits = self.holdings + change >= self.floor
        reversal, error = _attempt(
            lambda: services.transaction_reverse(
                transaction=original, actor=self.where.treasurer, reason="Entered twice"
            )
        )
        if error is not None:
            assert not fits
            assert error.message == "There is not enough in this fund."
        else:
            assert fits
            assert reversal.reverses_id == pk
            self.holdings += change
            self.reversible.remove(pk)
            with pytest.raises(ApplicationError):
                services.transaction_reverse(
                    transaction=reversal, actor=self.where.treasurer, reason="Undo the undo"
                )

    @invariant()
    def every_transaction_sums_to_zero(self) -> None:
        if self.fund is None:
            return
        sums = (
            Transaction.objects.filter(fund=self.fund)
            .annotate(total=Sum("entries__amount_minor"))
            .values_list("total", flat=True)
        )
        assert set(sums) <= {0}

    @invariant()
    def every_balance_is_the_sum_of_its_entries(self) -> None:
        if self.fund is None:
            return
        for account in Account.objects.filter(fund=self.fund):
            total = account.entries.aggregate(total=Sum("amount_minor"))["total"] or 0
            assert account.balance_minor == total, account.kind
        assert ledger.ledger_replay(fund=self.fund) == []

    @invariant()
    def the_holdings_are_the_model_and_never_below_the_floor(self) -> None:
        if self.fund is None:
            return
        holdings = Account.objects.get(fund=self.fund, kind=Account.Kind.HOLDINGS)
        assert holdings.balance_minor == self.holdings >= self.floor
        assert holdings.floor_minor == self.floor


@pytest.mark.django_db
def test_the_books_stay_balanced_whatever_happens():
    LedgerMachine.where = books()
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
