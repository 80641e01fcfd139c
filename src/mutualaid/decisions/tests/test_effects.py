"""A passed proposal takes effect by itself when it closes, once, and links to what it did."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mutualaid.common.errors import ApplicationError
from mutualaid.decisions import effects, services
from mutualaid.decisions.models import Proposal
from mutualaid.decisions.tests.factories import (
    close,
    deciding_group,
    fund_with,
    make_proposal,
    member_of,
    spend,
    stances,
)
from mutualaid.funds.models import Disbursement, Transaction
from mutualaid.groups import services as group_services
from mutualaid.groups.models import Group, Role, RoleGrant

pytestmark = pytest.mark.django_db

AFTER = timedelta(seconds=1)


def _grant(group, *, role=Role.DISPATCHER, days=30):
    holder = member_of(group)
    grant = group_services.role_grant_propose(
        group=group,
        proposer=member_of(group),
        holder=holder,
        role=role,
        reason="Hotline",
        expires_at=timezone.now() + timedelta(days=days),
    )
    return group_services.role_grant_confirm(grant=grant, confirmer=member_of(group))


def test_a_passed_general_proposal_has_nothing_to_carry_out():
    proposal = make_proposal()
    close(proposal)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.effect_applied_at, proposal.effect_result) == (
        "passed",
        None,
        {},
    )
    assert proposal.effect_error == ""


def test_a_passed_role_grant_gives_the_role_at_once_and_links_it():
    # given
    group = deciding_group()
    holder = member_of(group)
    proposal = make_proposal(
        group,
        kind="role_grant",
        title="Sam keeps the books",
        effect={"holder": holder.pk, "role": "treasurer", "days": 90},
    )
    # when
    close(proposal)
    # then
    proposal.refresh_from_db()
    grant = RoleGrant.objects.get(holder=holder, role="treasurer")
    assert proposal.role_grant == grant
    assert proposal.effect_result == {"role_grant": grant.pk}
    assert proposal.effect_applied_at == proposal.closed_at
    assert grant.confirmed_at is not None
    assert grant.expires_at - grant.granted_at == timedelta(days=90)
    assert RoleGrant.objects.in_force().filter(pk=grant.pk).exists()


def test_closing_twice_gives_the_role_once():
    group = deciding_group()
    holder = member_of(group)
    proposal = make_proposal(
        group, kind="role_grant", effect={"holder": holder.pk, "role": "dispatcher", "days": 30}
    )
    close(proposal)
    close(proposal, after=timedelta(hours=1))
    services.proposals_close_due(now=proposal.closes_at + timedelta(days=1))
    assert RoleGrant.objects.filter(holder=holder, role="dispatcher").count() == 1


def test_a_passed_renewal_keeps_the_role_in_force_longer():
    # given a role ending in 10 days
    group = deciding_group()
    grant = _grant(group, days=10)
    proposal = make_proposal(group, kind="role_renew", effect={"grant": grant.pk, "days": 120})
    # when
    close(proposal)
    # then
    proposal.refresh_from_db()
    grant.refresh_from_db()
    assert proposal.role_grant == grant
    assert proposal.effect_result == {"role_grant": grant.pk}
    assert grant.expires_at > timezone.now() + timedelta(days=119)
    assert proposal.effect_applied_at is not None


def test_a_passed_revocation_takes_the_role_back():
    group = deciding_group()
    grant = _grant(group)
    proposal = make_proposal(group, kind="role_revoke", effect={"grant": grant.pk})
    close(proposal)
    proposal.refresh_from_db()
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert proposal.role_grant == grant
    assert not RoleGrant.objects.in_force().filter(pk=grant.pk).exists()


def test_a_role_proposal_that_does_not_pass_changes_nothing():
    group = deciding_group(rule="consent")
    holder = member_of(group)
    proposal = make_proposal(
        group, kind="role_grant", effect={"holder": holder.pk, "role": "treasurer", "days": 90}
    )
    stances(proposal, [member_of(group)], "block")
    close(proposal)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.role_grant, proposal.effect_applied_at) == (
        "not_passed",
        None,
        None,
    )
    assert not RoleGrant.objects.filter(holder=holder).exists()


def test_a_passed_policy_proposal_changes_the_group_and_records_before_and_after():
    # given
    group = deciding_group(rule="consent", quorum_percent=25)
    proposal = make_proposal(
        group,
        kind="policy",
        effect={
            "changes": {
                "decision_rule": "consensus",
                "quorum_percent": 40,
                "publishes_fund_summary": True,
            }
        },
    )
    # when
    close(proposal)
    # then
    group.refresh_from_db()
    proposal.refresh_from_db()
    assert (group.decision_rule, group.quorum_percent, group.publishes_fund_summary) == (
        "consensus",
        40,
        True,
    )
    assert proposal.effect_result == {
        "changes": {
            "decision_rule": {"before": "consent", "after": "consensus"},
            "quorum_percent": {"before": 25, "after": 40},
            "publishes_fund_summary": {"before": False, "after": True},
        }
    }
    assert proposal.effect_applied_at is not None


def test_a_failing_effect_is_recorded_and_the_outcome_stands():
    # given a role for a member who leaves before it closes
    group = deciding_group()
    holder = member_of(group)
    proposal = make_proposal(
        group, kind="role_grant", effect={"holder": holder.pk, "role": "treasurer", "days": 90}
    )
    group_services.group_leave(group=group, member=holder)
    # when
    close(proposal)
    # then
    proposal.refresh_from_db()
    assert (proposal.status, proposal.outcome) == ("passed", "passed")
    assert proposal.effect_error == "Roles can only be given to members of the group."
    assert (proposal.effect_applied_at, proposal.role_grant, proposal.effect_result) == (
        None,
        None,
        {},
    )
    assert not RoleGrant.objects.filter(holder=holder, role="treasurer").exists()


def test_an_unexpected_error_in_an_effect_never_escapes_the_close(monkeypatch):
    # given
    def broken(proposal):
        RoleGrant.objects.all().delete()  # half done, then it fails
        raise RuntimeError("boom")

    proposal = make_proposal()
    grants = RoleGrant.objects.count()
    monkeypatch.setattr(effects, "apply", broken)
    # when
    close(proposal)
    # then: the savepoint undid the half-done work, and the error is named
    proposal.refresh_from_db()
    assert proposal.status == "passed"
    assert proposal.effect_error == "The effect could not be carried out (RuntimeError)."
    assert RoleGrant.objects.count() == grants


def test_a_policy_that_has_become_invalid_is_recorded_not_applied(monkeypatch):
    group = deciding_group()
    proposal = make_proposal(group, kind="policy", effect={"changes": {"quorum_percent": 60}})
    Proposal.objects.filter(pk=proposal.pk).update(effect={"changes": {"name": "Renamed"}})
    close(proposal)
    proposal.refresh_from_db()
    group.refresh_from_db()
    assert proposal.effect_error == "That is not a policy a proposal can change."
    assert group.quorum_percent == 25
    assert not Group.objects.filter(name="Renamed").exists()


# Spending


def test_a_spend_proposal_proposes_a_payment_and_a_passed_one_pays_it():
    # given
    group = deciding_group()
    fund = fund_with(group, balance_minor=10_000)
    proposal = make_proposal(group, kind="spend", spend=spend(fund, 5_000))
    disbursement = Disbursement.objects.get(proposal=proposal)
    assert (disbursement.status, disbursement.amount_minor) == ("proposed", 5_000)
    # when
    close(proposal)
    # then
    proposal.refresh_from_db()
    disbursement.refresh_from_db()
    assert disbursement.status == "paid"
    assert proposal.effect_result == {"disbursement": disbursement.pk, "status": "paid"}
    assert proposal.effect_applied_at is not None
    assert Transaction.objects.filter(fund=fund, kind="disbursement").count() == 1


def test_a_passed_spend_waits_approved_when_the_fund_is_short():
    group = deciding_group()
    fund = fund_with(group, balance_minor=1_000)
    proposal = make_proposal(group, kind="spend", spend=spend(fund, 5_000))
    close(proposal)
    proposal.refresh_from_db()
    disbursement = Disbursement.objects.get(proposal=proposal)
    assert disbursement.status == "approved"
    assert proposal.effect_result == {"disbursement": disbursement.pk, "status": "approved"}
    assert not Transaction.objects.filter(fund=fund, kind="disbursement").exists()


def test_closing_a_spend_twice_pays_once():
    group = deciding_group()
    fund = fund_with(group, balance_minor=10_000)
    proposal = make_proposal(group, kind="spend", spend=spend(fund, 3_000))
    close(proposal)
    close(proposal, after=timedelta(hours=2))
    assert Transaction.objects.filter(fund=fund, kind="disbursement").count() == 1


def test_a_spend_that_does_not_pass_cancels_its_payment():
    group = deciding_group(rule="consent")
    fund = fund_with(group, balance_minor=10_000)
    proposal = make_proposal(group, kind="spend", spend=spend(fund, 3_000))
    stances(proposal, [member_of(group)], "block")
    close(proposal)
    proposal.refresh_from_db()
    disbursement = Disbursement.objects.get(proposal=proposal)
    assert disbursement.status == "cancelled"
    assert proposal.effect_applied_at is None
    assert proposal.effect_result == {"disbursement": disbursement.pk, "status": "cancelled"}


def test_withdrawing_a_spend_cancels_its_payment():
    group = deciding_group()
    fund = fund_with(group, balance_minor=10_000)
    proposal = make_proposal(group, kind="spend", spend=spend(fund, 3_000))
    services.proposal_withdraw(proposal=proposal, actor=proposal.proposed_by)
    assert Disbursement.objects.get(proposal=proposal).status == "cancelled"


def test_a_spend_from_another_groups_fund_is_refused():
    group = deciding_group()
    other_fund = fund_with(deciding_group())
    with pytest.raises(ApplicationError) as caught:
        make_proposal(group, kind="spend", spend=spend(other_fund, 3_000))
    assert caught.value.message == "That fund belongs to another group."
    assert not Proposal.objects.filter(group=group).exists()


def test_a_spend_the_fund_refuses_leaves_no_proposal():
    group = deciding_group()
    fund = fund_with(group)
    with pytest.raises(ApplicationError):
        make_proposal(group, kind="spend", spend=spend(fund, 0))
    assert not Proposal.objects.filter(group=group).exists()
    assert not Disbursement.objects.exists()
