"""Several workers close the same proposal at the same moment, each from its own thread and
database connection: it is decided once and its effect is carried out once. On PostgreSQL the
closes really run at once and the row lock decides; on SQLite the IMMEDIATE transactions queue
them, and the same code must still act once."""

from datetime import timedelta

import pytest

from mutualaid.decisions import services
from mutualaid.decisions.models import Proposal
from mutualaid.decisions.tests.factories import (
    deciding_group,
    fund_with,
    make_proposal,
    member_of,
    spend,
)
from mutualaid.funds.models import Disbursement, Transaction
from mutualaid.groups.models import RoleGrant
from mutualaid.tests.races import on_postgresql, run_at_once

CLOSERS = 6


def _closer(proposal_id: int, now):
    def close() -> object:
        # Each worker loads the proposal as the job would, before the race starts.
        return services.proposal_close(proposal=Proposal.objects.get(pk=proposal_id), now=now)

    return close


def _many_workers_close_one_role_proposal() -> None:
    # given
    group = deciding_group()
    holder = member_of(group)
    proposal = make_proposal(
        group, kind="role_grant", effect={"holder": holder.pk, "role": "treasurer", "days": 90}
    )
    now = proposal.closes_at + timedelta(seconds=1)
    # when
    results = run_at_once([_closer(proposal.pk, now) for _ in range(CLOSERS)])
    # then
    assert all(isinstance(result, Proposal) for result in results), results
    proposal.refresh_from_db()
    grants = list(RoleGrant.objects.filter(holder=holder, role="treasurer"))
    assert len(grants) == 1
    assert (proposal.status, proposal.role_grant, proposal.effect_applied_at) == (
        "passed",
        grants[0],
        now,
    )


@pytest.mark.django_db(transaction=True)
def test_many_simultaneous_closes_give_the_role_once():
    _many_workers_close_one_role_proposal()


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_many_simultaneous_closes_pay_a_spend_once():
    # given
    group = deciding_group()
    fund = fund_with(group, balance_minor=10_000)
    proposal = make_proposal(group, kind="spend", spend=spend(fund, 4_000))
    now = proposal.closes_at + timedelta(seconds=1)
    # when
    results = run_at_once([_closer(proposal.pk, now) for _ in range(CLOSERS)])
    # then
    assert all(isinstance(result, Proposal) for result in results), results
    assert Disbursement.objects.get(proposal=proposal).status == "paid"
    assert Transaction.objects.filter(fund=fund, kind="disbursement").count() == 1
    fund_holdings = fund.accounts.get(kind="holdings")
    assert fund_holdings.balance_minor == 6_000
