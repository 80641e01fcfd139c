"""Closing proposals by each rule, the second round, the periodic jobs and the reminders."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mutualaid.decisions import services
from mutualaid.decisions.models import Proposal
from mutualaid.decisions.tests.factories import (
    close,
    deciding_group,
    make_proposal,
    members_of,
    stances,
)
from mutualaid.groups import services as group_services

pytestmark = pytest.mark.django_db


def _state(proposal):
    proposal.refresh_from_db()
    return (proposal.status, proposal.outcome, proposal.round)


def _group_of(rule, *, members, **policies):
    """A group of exactly `members` members (its founder among them) and the others as a list."""
    group = deciding_group(rule=rule, **policies)
    return group, members_of(group, members - 1)


# Consent


def test_consent_passes_in_silence():
    group, _ = _group_of("consent", members=4)
    proposal = make_proposal(group, proposer=group.created_by)
    close(proposal)
    assert _state(proposal) == ("passed", "passed", 1)
    assert proposal.members_at_close == 4
    assert proposal.closed_at == proposal.closes_at + timedelta(seconds=1)


def test_consent_is_stopped_by_one_block():
    group, others = _group_of("consent", members=4)
    proposal = make_proposal(group, proposer=group.created_by)
    stances(proposal, others[:2], "agree")
    stances(proposal, others[2:], "block")
    close(proposal)
    assert _state(proposal) == ("not_passed", "blocked", 1)


def test_a_block_withdrawn_before_close_no_longer_blocks():
    group, others = _group_of("consent", members=2)
    proposal = make_proposal(group, proposer=group.created_by)
    stances(proposal, others, "block")
    stances(proposal, others, "abstain")
    close(proposal)
    assert _state(proposal) == ("passed", "passed", 1)


# Consensus


def test_consensus_passes_with_a_quorum_and_more_agree_than_disagree():
    # given 10 members at 25%: the quorum is 3
    group, others = _group_of("consensus", members=10, quorum_percent=25)
    proposal = make_proposal(group, proposer=group.created_by)
    stances(proposal, others[:2], "agree")
    stances(proposal, others[2:3], "disagree")
    stances(proposal, others[3:4], "agree")
    close(proposal)
    assert _state(proposal) == ("passed", "passed", 1)


def test_consensus_fails_without_a_quorum():
    group, others = _group_of("consensus", members=10, quorum_percent=25)
    proposal = make_proposal(group, proposer=group.created_by)
    stances(proposal, others[:2], "agree")
    close(proposal)
    assert _state(proposal) == ("not_passed", "no_quorum", 1)


def test_consensus_fails_on_a_tie():
    group, others = _group_of("consensus", members=4, quorum_percent=25)
    proposal = make_proposal(group, proposer=group.created_by)
    stances(proposal, others[:1], "agree")
    stances(proposal, others[1:2], "disagree")
    close(proposal)
    assert _state(proposal) == ("not_passed", "not_enough_agreement", 1)


def test_consensus_is_blocked_by_one_member():
    group, others = _group_of("consensus", members=4, quorum_percent=25)
    proposal = make_proposal(group, proposer=group.created_by)
    stances(proposal, others[:2], "agree")
    stances(proposal, others[2:], "block")
    close(proposal)
    assert _state(proposal) == ("not_passed", "blocked", 1)


def test_stances_of_members_who_left_do_not_count_and_neither_do_they():
    # given 4 members at 50%: two agree, then one of them leaves
    group, others = _group_of("consensus", members=4, quorum_percent=50)
    proposal = make_proposal(group, proposer=group.created_by)
    stances(proposal, others[:2], "agree")
    group_services.group_leave(group=group, member=others[0])
    # when: 3 members are left, the quorum of 50% is 2 and only one agree counts
    close(proposal)
    # then
    assert _state(proposal) == ("not_passed", "no_quorum", 1)
    assert proposal.members_at_close == 3


# Consensus, then a vote


def test_a_failed_first_round_opens_a_vote_as_long_as_the_first_round():
    # given
    group, others = _group_of("consensus_then_vote", members=5, quorum_percent=25)
    proposal = make_proposal(group, proposer=group.created_by, open_for=timedelta(days=4))
    first_length = proposal.closes_at - proposal.round_started_at
    stances(proposal, others[:3], "agree")
    stances(proposal, others[3:], "block")
    services.proposals_remind_closing(now=proposal.closes_at - timedelta(hours=2))
    now = proposal.closes_at + timedelta(minutes=3)
    # when
    services.proposal_close(proposal=proposal, now=now)
    # then
    proposal.refresh_from_db()
    assert (proposal.status, proposal.outcome, proposal.round) == ("open", "", 2)
    assert proposal.round_started_at == now
    assert proposal.closes_at == now + first_length
    assert proposal.reminder_sent_at is None
    assert proposal.closed_at is None


def test_in_the_vote_a_block_counts_against_and_the_majority_decides():
    # given a first round blocked by one of 5
    group, others = _group_of(
        "consensus_then_vote", members=5, quorum_percent=25, majority_percent=67
    )
    proposal = make_proposal(group, proposer=group.created_by)
    stances(proposal, others[:3], "agree")
    stances(proposal, others[3:], "block")
    close(proposal)
    # when: in the vote three agree and the blocker blocks again (3 of 4 = 75%)
    stances(proposal, others[:3], "agree")
    stances(proposal, others[3:], "block")
    close(proposal)
    # then
    assert _state(proposal) == ("passed", "passed", 2)


def test_the_vote_is_lost_below_the_majority():
    group, others = _group_of(
        "consensus_then_vote", members=5, quorum_percent=25, majority_percent=67
    )
    proposal = make_proposal(group, proposer=group.created_by)
    stances(proposal, others[:1], "block")
    close(proposal)
    stances(proposal, others[:2], "agree")
    stances(proposal, others[2:3], "disagree")  # 2 of 3 = 66.6%
    close(proposal)
    assert _state(proposal) == ("not_passed", "vote_lost", 2)


def test_the_vote_needs_its_quorum_and_first_round_stances_do_not_carry_over():
    group, others = _group_of("consensus_then_vote", members=8, quorum_percent=50)
    proposal = make_proposal(group, proposer=group.created_by)
    stances(proposal, others[:4], "agree")
    stances(proposal, others[4:5], "block")
    close(proposal)
    stances(proposal, others[:1], "agree")
    close(proposal)
    assert _state(proposal) == ("not_passed", "no_quorum", 2)


def test_a_first_round_reaching_consensus_passes_without_a_vote():
    group, others = _group_of("consensus_then_vote", members=3, quorum_percent=50)
    proposal = make_proposal(group, proposer=group.created_by)
    stances(proposal, others, "agree")
    close(proposal)
    assert _state(proposal) == ("passed", "passed", 1)


# Closing once


def test_a_proposal_not_yet_due_is_not_closed():
    proposal = make_proposal()
    services.proposal_close(proposal=proposal, now=proposal.closes_at - timedelta(seconds=1))
    assert _state(proposal) == ("open", "", 1)


def test_closing_twice_changes_nothing_the_second_time():
    # given
    proposal = make_proposal()
    close(proposal)
    first = Proposal.objects.values().get(pk=proposal.pk)
    # when
    services.proposal_close(proposal=proposal, now=proposal.closes_at + timedelta(days=2))
    # then
    assert Proposal.objects.values().get(pk=proposal.pk) == first


def test_closing_updates_the_callers_copy():
    proposal = make_proposal()
    stale = Proposal.objects.get(pk=proposal.pk)
    result = close(stale)
    assert result is stale
    assert (stale.status, stale.outcome) == ("passed", "passed")


def test_the_job_closes_every_due_proposal_once():
    # given
    group, others = _group_of("consensus_then_vote", members=3, quorum_percent=50)
    now = timezone.now()
    due_passing = make_proposal(group, proposer=others[0])
    due_to_vote = make_proposal(group, proposer=others[0])
    not_due = make_proposal(group, proposer=others[0], open_for=timedelta(days=10))
    stances(due_passing, others, "agree")
    stances(due_to_vote, others[:1], "block")
    later = now + timedelta(days=5)
    # when
    closed = services.proposals_close_due(now=later)
    again = services.proposals_close_due(now=later)
    # then
    assert (closed, again) == (2, 0)
    assert _state(due_passing) == ("passed", "passed", 1)
    assert _state(due_to_vote) == ("open", "", 2)
    assert _state(not_due) == ("open", "", 1)


# Reminders


def test_members_are_reminded_once_a_day_before_a_round_closes():
    # given
    proposal = make_proposal(open_for=timedelta(days=3))
    before = proposal.closes_at - timedelta(hours=25)
    within = proposal.closes_at - timedelta(hours=23)
    # when
    counts = [
        services.proposals_remind_closing(now=before),
        services.proposals_remind_closing(now=within),
        services.proposals_remind_closing(now=within + timedelta(hours=1)),
    ]
    # then
    assert counts == [0, 1, 0]
    proposal.refresh_from_db()
    assert proposal.reminder_sent_at == within


def test_a_round_of_barely_a_day_is_not_reminded():
    proposal = make_proposal(open_for=timedelta(hours=24, minutes=30))
    reminded = services.proposals_remind_closing(now=proposal.created_at + timedelta(hours=1))
    proposal.refresh_from_db()
    assert reminded == 0
    assert proposal.reminder_sent_at is not None


def test_the_second_round_is_reminded_again():
    # given a proposal reminded in round 1 that goes to a vote
    group, others = _group_of("consensus_then_vote", members=3)
    proposal = make_proposal(group, proposer=group.created_by, open_for=timedelta(days=3))
    stances(proposal, others[:1], "block")
    assert services.proposals_remind_closing(now=proposal.closes_at - timedelta(hours=2)) == 1
    close(proposal)
    # when
    reminded = services.proposals_remind_closing(now=proposal.closes_at - timedelta(hours=2))
    # then
    assert reminded == 1


def test_closed_and_withdrawn_proposals_are_not_reminded():
    closed = make_proposal()
    withdrawn = make_proposal(closed.group)
    services.proposal_withdraw(proposal=withdrawn, actor=withdrawn.proposed_by)
    close(closed)
    assert services.proposals_remind_closing(now=closed.closes_at - timedelta(hours=2)) == 0
