"""Funds, contributions, payments out, corrections and claims, through the services."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from mutualaid.common.errors import ApplicationError
from mutualaid.funds import ledger, services
from mutualaid.funds.models import Account, Contribution, Disbursement, Fund, Transaction
from mutualaid.funds.tests.factories import (
    asked,
    attach,
    books,
    contribute,
    make_claim,
    make_fund,
    make_group,
    make_request,
    member_of,
    paid,
    treasurer_of,
)
from mutualaid.groups.models import Group
from mutualaid.needs.models import ReimbursementClaim

pytestmark = pytest.mark.django_db


def _holdings(fund: Fund) -> int:
    return fund.accounts.get(kind=Account.Kind.HOLDINGS).balance_minor


# Funds


def test_a_steward_opens_a_fund_with_its_three_accounts_in_the_groups_currency():
    # given
    group = make_group(currency="EUR")
    # when
    fund = services.fund_create(
        group=group, actor=group.created_by, name=" Bail fund ", purpose="Bail and fines"
    )
    # then
    assert (fund.name, fund.purpose, fund.currency, fund.created_by) == (
        "Bail fund",
        "Bail and fines",
        "EUR",
        group.created_by,
    )
    assert sorted(fund.accounts.values_list("kind", "balance_minor", "floor_minor")) == [
        ("contributions", 0, None),
        ("disbursements", 0, None),
        ("holdings", 0, 0),
    ]


def test_a_fund_with_an_overdraft_has_its_floor_below_zero():
    fund = make_fund(overdraft_limit_minor=2500, currency="gbp")
    assert fund.accounts.get(kind=Account.Kind.HOLDINGS).floor_minor == -2500
    assert fund.currency == "GBP"


def test_a_plain_member_cannot_open_a_fund():
    group = make_group()
    with pytest.raises(PermissionDenied):
        services.fund_create(group=group, actor=member_of(group), name="Fund")
    assert not Fund.objects.filter(group=group).exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "  "}, "Please give the fund a name."),
        ({"name": "x" * 101}, "Please keep the name to 100 characters."),
        (
            {"name": "Food", "currency": "pounds"},
            "Please give the currency as its three-letter code, like GBP.",
        ),
        (
            {"name": "Food", "overdraft_limit_minor": -1},
            "Please give how far below zero it may go as zero or more.",
        ),
        ({"name": "<b>Food</b>"}, "Please leave out < and > and control characters."),
    ],
)
def test_a_fund_needs_a_name_a_currency_code_and_no_negative_overdraft(fields, message):
    group = make_group()
    with pytest.raises(ApplicationError) as refused:
        services.fund_create(group=group, actor=group.created_by, **fields)
    assert refused.value.message == message


def test_two_funds_of_a_group_cannot_share_a_name():
    fund = make_fund(name="Hardship")
    with pytest.raises(ApplicationError, match="already has a fund with that name"):
        make_fund(fund.group, name="hardship")
    assert make_fund(name="Hardship").name == "Hardship"  # another group may


def test_a_funds_currency_changes_only_until_money_moved():
    # given
    where = books()
    # when
    services.fund_update(fund=where.fund, actor=where.treasurer, currency="EUR", name="Food")
    contribute(where, 100)
    # then
    where.fund.refresh_from_db()
    assert (where.fund.currency, where.fund.name) == ("EUR", "Food")
    with pytest.raises(ApplicationError, match="cannot change once money has moved"):
        services.fund_update(fund=where.fund, actor=where.treasurer, currency="USD")
    with pytest.raises(PermissionDenied):
        services.fund_update(fund=where.fund, actor=where.member, name="Mine")


# Contributions


def test_a_treasurer_records_a_named_contribution_and_the_fund_holds_it():
    # given
    where = books()
    received = timezone.now() - timedelta(days=2)
    # when
    contribution = contribute(
        where,
        2500,
        method=Contribution.Method.BANK_TRANSFER,
        contributor=where.member,
        contributor_name="ignored when a member gave it",
        reference="SO 123",
        memo="Monthly standing order",
        received_at=received,
    )
    # then
    assert (
        contribution.amount_minor,
        contribution.contributor,
        contribution.contributor_name,
        contribution.reference,
        contribution.recorded_by,
    ) == (2500, where.member, "", "SO 123", where.treasurer)
    posted = contribution.transaction
    assert (posted.kind, posted.memo, posted.posted_at, posted.posted_by) == (
        "contribution",
        "Monthly standing order",
        received,
        where.treasurer,
    )
    assert _holdings(where.fund) == 2500


def test_an_anonymous_contribution_has_neither_member_nor_name():
    contribution = contribute(books(), 300)
    assert contribution.is_anonymous


def test_only_treasurers_record_contributions():
    where = books()
    steward = where.group.created_by
    for someone in (where.member, steward, member_of(make_group())):
        with pytest.raises(PermissionDenied):
            services.contribution_record(
                fund=where.fund, actor=someone, amount_minor=100, method="cash"
            )
    assert not Transaction.objects.filter(fund=where.fund).exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount_minor": 0}, "Please give an amount of money above zero."),
        ({"amount_minor": -5}, "Please give an amount of money above zero."),
        ({"amount_minor": "100"}, "Please give an amount of money above zero."),
        ({"amount_minor": 10**13}, "That amount is too large."),
        ({"method": "bitcoin"}, "Please choose how the money came."),
        (
            {"received_at": timezone.now() + timedelta(days=1)},
            "The date it came cannot be in the future.",
        ),
    ],
)
def test_a_contribution_needs_a_positive_amount_a_known_method_and_a_past_date(fields, message):
    where = books()
    fields = {"amount_minor": 100, "method": "cash", **fields}
    with pytest.raises(ApplicationError) as refused:
        services.contribution_record(fund=where.fund, actor=where.treasurer, **fields)
    assert refused.value.message == message
    assert _holdings(where.fund) == 0


def test_a_named_contributor_must_be_a_member():
    where = books()
    with pytest.raises(ApplicationError, match="must be a member"):
        contribute(where, 100, contributor=member_of(make_group()))


# Payments out


def test_a_payment_within_the_limit_waits_for_a_second_member_then_is_paid():
    # given
    where = books(balance=5000)
    # when
    waiting = asked(where, 1500)
    status_before = waiting.status
    done = services.disbursement_confirm(disbursement=waiting, actor=where.member)
    # then
    assert (status_before, waiting.requested_by) == ("awaiting_confirmation", where.treasurer)
    assert (done.status, done.confirmed_by, done.transaction.posted_by) == (
        "paid",
        where.member,
        where.member,
    )
    assert done.paid_at is not None
    assert done.transaction.memo == "Electricity top-up"
    assert _holdings(where.fund) == 3500


def test_a_payment_above_the_spending_limit_must_be_proposed():
    where = books(balance=10000, spending_limit_minor=2000)
    with pytest.raises(ApplicationError) as refused:
        asked(where, 2001)
    assert refused.value.code == "needs_proposal"
    assert refused.value.message == (
        "This is more than the group's spending limit of £20.00. Please propose it to the "
        "group as a spending proposal instead."
    )
    assert asked(where, 2000).status == "awaiting_confirmation"


def test_only_treasurers_ask_to_pay_out():
    where = books(balance=1000)
    with pytest.raises(PermissionDenied):
        services.disbursement_request(
            fund=where.fund,
            actor=where.member,
            amount_minor=100,
            purpose="Food",
            payee_kind="payee",
            payee_name="Shop",
        )


def test_the_treasurer_who_asked_cannot_confirm_their_own_payment():
    where = books(balance=1000)
    waiting = asked(where, 100)
    with pytest.raises(PermissionDenied):
        services.disbursement_confirm(disbursement=waiting, actor=where.treasurer)
    with pytest.raises(PermissionDenied):
        services.disbursement_confirm(disbursement=waiting, actor=member_of(make_group()))
    waiting.refresh_from_db()
    assert waiting.status == "awaiting_confirmation"


def test_a_payment_is_confirmed_once():
    where = books(balance=1000)
    waiting = asked(where, 100)
    services.disbursement_confirm(disbursement=waiting, actor=where.member)
    with pytest.raises(ApplicationError, match="already been confirmed or cancelled"):
        services.disbursement_confirm(disbursement=waiting, actor=member_of(where.group))
    assert _holdings(where.fund) == 900


def test_a_confirmed_payment_the_fund_cannot_afford_waits_approved_and_is_paid_later():
    # given
    where = books(balance=100)
    waiting = asked(where, 400)
    # when
    with pytest.raises(ApplicationError) as refused:
        services.disbursement_confirm(disbursement=waiting, actor=where.member)
    waiting.refresh_from_db()
    # then
    assert refused.value.code == "not_enough_money"
    assert (waiting.status, waiting.confirmed_by, waiting.transaction) == (
        "approved",
        where.member,
        None,
    )
    with pytest.raises(ApplicationError, match=re.escape("There is not enough in this fund.")):
        services.disbursement_pay(disbursement=waiting, actor=where.treasurer)
    contribute(where, 500)
    with pytest.raises(PermissionDenied):
        services.disbursement_pay(disbursement=waiting, actor=where.member)
    done = services.disbursement_pay(disbursement=waiting, actor=where.treasurer)
    assert (done.status, _holdings(where.fund)) == ("paid", 200)
    with pytest.raises(ApplicationError, match="already been made"):
        services.disbursement_pay(disbursement=waiting, actor=where.treasurer)


def test_a_payment_for_a_request_names_only_neighbour_and_its_reference_in_the_books():
    # given
    where = books(balance=5000)
    request = make_request(where.group, name="Maria Gonzalez")
    # when
    done = paid(where, 900, payee_kind="request", request=request, purpose="Prescription")
    # then
    assert done.transaction.memo == f"Prescription, for neighbour {request.reference}"
    assert "Maria" not in done.transaction.memo


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"purpose": " "}, "Please say what the money is for."),
        ({"payee_kind": "payee", "payee_name": ""}, "Please say who is paid."),
        ({"payee_kind": "request"}, "Please choose the request this pays for."),
        ({"payee_kind": "reimbursement"}, "Please choose the reimbursement claim this pays."),
        ({"payee_kind": "friend"}, "Please choose who the money goes to."),
        ({"amount_minor": 0}, "Please give an amount of money above zero."),
    ],
)
def test_a_payment_needs_a_purpose_and_a_payee_of_its_kind(fields, message):
    where = books(balance=1000)
    fields = {
        "amount_minor": 100,
        "purpose": "Food",
        "payee_kind": "payee",
        "payee_name": "Shop",
        **fields,
    }
    with pytest.raises(ApplicationError) as refused:
        services.disbursement_request(fund=where.fund, actor=where.treasurer, **fields)
    assert refused.value.message == message


def test_a_payment_for_another_groups_request_is_refused():
    where = books(balance=1000)
    with pytest.raises(ApplicationError, match="belongs to another group"):
        asked(where, 100, payee_kind="request", request=make_request())


def test_a_waiting_payment_is_cancelled_by_a_treasurer_but_not_once_paid():
    where = books(balance=1000)
    waiting = asked(where, 100)
    with pytest.raises(PermissionDenied):
        services.disbursement_cancel(disbursement=waiting, actor=where.member)
    cancelled = services.disbursement_cancel(disbursement=waiting, actor=where.treasurer)
    assert cancelled.status == "cancelled"
    assert cancelled.cancelled_at is not None
    with pytest.raises(ApplicationError):
        services.disbursement_confirm(disbursement=waiting, actor=where.member)
    done = paid(where, 100)
    with pytest.raises(ApplicationError, match="already been made or cancelled"):
        services.disbursement_cancel(disbursement=done, actor=where.treasurer)


# Reimbursements


def _claim_payment(where, claim, amount=None):
    return asked(
        where,
        amount or claim.amount_minor,
        payee_kind="reimbursement",
        reimbursement=claim,
        purpose="Shopping",
    )


def test_a_reimbursement_is_paid_once_its_receipt_is_attached_and_the_claim_is_then_paid():
    # given
    where = books(balance=5000)
    claim = make_claim(where.group, 1250)
    waiting = _claim_payment(where, claim)
    # when: confirmed without a receipt
    with pytest.raises(ApplicationError) as refused:
        services.disbursement_confirm(disbursement=waiting, actor=where.member)
    # then
    assert refused.value.message == (
        "Confirmed, but not paid yet: A reimbursement is paid once its receipt is attached."
    )
    waiting.refresh_from_db()
    assert waiting.status == "approved"
    # when: the receipt comes and a treasurer pays
    attach(claim)
    done = services.disbursement_pay(disbursement=waiting, actor=where.treasurer)
    # then
    claim.refresh_from_db()
    assert (done.status, claim.status, _holdings(where.fund)) == ("paid", "paid", 3750)
    assert done.transaction.memo == (f"Shopping, paid back for neighbour {claim.request.reference}")


def test_the_volunteer_paid_back_cannot_confirm_their_own_reimbursement():
    where = books(balance=5000)
    claim = make_claim(where.group, 1000)
    attach(claim)
    waiting = _claim_payment(where, claim)
    with pytest.raises(PermissionDenied):
        services.disbursement_confirm(disbursement=waiting, actor=claim.claimant)


def test_a_reimbursement_above_the_groups_limit_is_refused():
    # given: a claim made before the group lowered its limit
    where = books(balance=10000, reimbursement_limit_minor=2000)
    claim = make_claim(where.group, 1500)
    Group.objects.filter(pk=where.group.pk).update(reimbursement_limit_minor=1000)
    where.group.refresh_from_db()
    claim.request.group.refresh_from_db()
    with pytest.raises(ApplicationError) as refused:
        _claim_payment(where, claim)
    assert refused.value.message == "The group pays back at most £10.00 per claim."


def test_a_reimbursement_pays_at_most_what_was_claimed_and_once():
    where = books(balance=10000)
    claim = make_claim(where.group, 1500)
    with pytest.raises(ApplicationError, match=re.escape("at most what was claimed: £15.00")):
        _claim_payment(where, claim, 1501)
    _claim_payment(where, claim)
    with pytest.raises(ApplicationError, match="already on its way"):
        _claim_payment(where, claim)


def test_a_claim_of_another_group_or_currency_or_no_longer_pending_is_refused():
    where = books(balance=10000)
    with pytest.raises(ApplicationError, match="belongs to another group"):
        _claim_payment(where, make_claim(make_group()))
    euro = make_fund(where.group, actor=where.treasurer, currency="EUR")
    claim = make_claim(where.group)
    with pytest.raises(ApplicationError, match="another currency"):
        services.disbursement_request(
            fund=euro,
            actor=where.treasurer,
            amount_minor=100,
            purpose="Shopping",
            payee_kind="reimbursement",
            reimbursement=claim,
        )
    services.reimbursement_reject(claim=claim, actor=where.treasurer, reason="Not for us")
    with pytest.raises(ApplicationError, match="already been paid or turned down"):
        _claim_payment(where, claim)


def test_a_treasurer_turns_down_a_claim_and_its_waiting_payment_is_cancelled():
    # given
    where = books(balance=5000)
    claim = make_claim(where.group)
    waiting = _claim_payment(where, claim)
    # when
    with pytest.raises(PermissionDenied):
        services.reimbursement_reject(claim=claim, actor=where.member, reason="No")
    with pytest.raises(ApplicationError, match=re.escape("Please give the reason.")):
        services.reimbursement_reject(claim=claim, actor=where.treasurer, reason=" ")
    rejected = services.reimbursement_reject(
        claim=claim, actor=where.treasurer, reason="Bought for another group"
    )
    # then
    waiting.refresh_from_db()
    assert (rejected.status, waiting.status) == (ReimbursementClaim.Status.REJECTED, "cancelled")
    assert rejected.not_paid_reason == "Bought for another group"
    assert rejected.decided_at is not None
    with pytest.raises(ApplicationError, match="already been paid or turned down"):
        services.reimbursement_reject(claim=claim, actor=where.treasurer, reason="Again")


# Corrections


def test_a_treasurer_reverses_a_payment_which_stays_paid_and_the_money_comes_back():
    # given
    where = books(balance=5000)
    done = paid(where, 2000)
    # when
    reversal = services.transaction_reverse(
        transaction=done.transaction, actor=where.treasurer, reason="Paid twice by mistake"
    )
    # then
    done.refresh_from_db()
    assert done.status == "paid"
    assert (reversal.kind, reversal.reverses, reversal.posted_by) == (
        "reversal",
        done.transaction,
        where.treasurer,
    )
    assert reversal.memo == f"Correction of movement {done.transaction.pk}: Paid twice by mistake"
    assert sorted(reversal.entries.values_list("account__kind", "amount_minor")) == [
        ("disbursements", -2000),
        ("holdings", 2000),
    ]
    assert _holdings(where.fund) == 5000
    assert ledger.ledger_replay(fund=where.fund) == []


def test_a_movement_is_corrected_once_and_a_correction_never():
    where = books(balance=5000)
    posted = Transaction.objects.get(fund=where.fund)
    reversal = services.transaction_reverse(transaction=posted, actor=where.treasurer, reason="x")
    with pytest.raises(ApplicationError, match="already been corrected"):
        services.transaction_reverse(transaction=posted, actor=where.treasurer, reason="x")
    with pytest.raises(ApplicationError, match="cannot be corrected again"):
        services.transaction_reverse(transaction=reversal, actor=where.treasurer, reason="x")


def test_undoing_a_contribution_already_spent_is_refused():
    where = books(balance=1000)
    contribution = Contribution.objects.get(fund=where.fund)
    paid(where, 800)
    with pytest.raises(ApplicationError, match=re.escape("There is not enough in this fund.")):
        services.transaction_reverse(
            transaction=contribution.transaction, actor=where.treasurer, reason="Bounced"
        )
    assert _holdings(where.fund) == 200


def test_only_treasurers_correct_and_with_a_reason():
    where = books(balance=1000)
    posted = Transaction.objects.get(fund=where.fund)
    with pytest.raises(PermissionDenied):
        services.transaction_reverse(transaction=posted, actor=where.member, reason="x")
    with pytest.raises(PermissionDenied):
        services.transaction_reverse(
            transaction=posted, actor=treasurer_of(make_group()), reason="x"
        )
    with pytest.raises(
        ApplicationError, match=re.escape("Please give the reason for the correction.")
    ):
        services.transaction_reverse(transaction=posted, actor=where.treasurer, reason="")


# Spend proposals


def _proposal(group, proposer):
    from mutualaid.decisions.models import Proposal

    now = timezone.now()
    return Proposal.objects.create(
        group=group,
        kind=Proposal.Kind.SPEND,
        title="Rent help",
        text="Pay a month's rent top-up",
        proposed_by=proposer,
        closes_at=now + timedelta(days=2),
        rule=group.decision_rule,
        quorum_percent=group.quorum_percent,
        majority_percent=group.fallback_majority_percent,
    )


def _proposed(where, amount):
    return services.disbursement_propose(
        fund=where.fund,
        proposal=_proposal(where.group, where.member),
        amount_minor=amount,
        purpose="Rent top-up",
        payee_kind="payee",
        payee_name="Housing co-op",
    )


def test_a_proposed_payment_above_the_limit_is_paid_when_the_proposal_passes():
    # given
    where = books(balance=20000, spending_limit_minor=1000)
    proposed = _proposed(where, 15000)
    # when
    done = services.disbursement_for_passed_proposal(proposal=proposed.proposal)
    # then
    assert (proposed.status, proposed.requested_by) == ("proposed", where.member)
    assert (done.status, done.transaction.posted_by, _holdings(where.fund)) == ("paid", None, 5000)
    again = services.disbursement_for_passed_proposal(proposal=proposed.proposal)
    assert (again.status, _holdings(where.fund)) == ("paid", 5000)


def test_a_passed_proposal_the_fund_cannot_pay_yet_leaves_it_approved():
    where = books(balance=100)
    proposed = _proposed(where, 15000)
    done = services.disbursement_for_passed_proposal(proposal=proposed.proposal)
    assert (done.status, done.transaction) == ("approved", None)
    assert _holdings(where.fund) == 100


def test_a_failed_proposal_cancels_its_payment_and_a_proposed_one_is_not_cancelled_by_hand():
    where = books(balance=100)
    proposed = _proposed(where, 500)
    with pytest.raises(ApplicationError, match="withdraw the proposal instead"):
        services.disbursement_cancel(disbursement=proposed, actor=where.treasurer)
    with pytest.raises(ApplicationError):
        services.disbursement_confirm(disbursement=proposed, actor=member_of(where.group))
    cancelled = services.disbursement_for_failed_proposal(proposal=proposed.proposal)
    assert cancelled.status == "cancelled"
    assert (
        services.disbursement_for_failed_proposal(proposal=_proposal(where.group, where.member))
        is None
    )


def test_a_fund_of_another_group_cannot_pay_a_proposal():
    where = books()
    with pytest.raises(ApplicationError, match="must belong to the proposal's group"):
        services.disbursement_propose(
            fund=books().fund,
            proposal=_proposal(where.group, where.member),
            amount_minor=100,
            purpose="Food",
            payee_kind="payee",
            payee_name="Shop",
        )
    assert not Disbursement.objects.exists()


def test_the_database_refuses_to_approve_a_payment_nobody_confirmed_or_decided():
    # given: a payment a treasurer asked for, still waiting for a second member
    where = books(balance=5000)
    waiting = asked(where, 2000)

    # when / then: approving it behind the services' back is refused by a constraint
    with (
        pytest.raises(IntegrityError, match="disbursement_paid_only_when_authorised"),
        transaction.atomic(),
    ):
        Disbursement.objects.filter(pk=waiting.pk).update(status=Disbursement.Status.APPROVED)
    waiting.refresh_from_db()
    assert waiting.status == Disbursement.Status.AWAITING_CONFIRMATION
