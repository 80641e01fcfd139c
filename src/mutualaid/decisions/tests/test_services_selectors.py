"""The shared reads of proposals: counts of the current round, in a fixed number of queries."""

import pytest

from mutualaid.decisions import selectors
from mutualaid.decisions.tests.factories import (
    close,
    deciding_group,
    make_proposal,
    members_of,
    stances,
)

pytestmark = pytest.mark.django_db


def test_group_proposals_counts_the_current_round_in_one_query(django_assert_num_queries):
    # given
    group = deciding_group(rule="consensus_then_vote")
    people = members_of(group, 4)
    voting = make_proposal(group, proposer=people[0], title="Voting")
    stances(voting, people[:2], "agree")
    stances(voting, people[2:3], "block")
    close(voting)  # a vote opens; the first round's stances stay in round 1
    stances(voting, people[:1], "disagree")
    fresh = make_proposal(group, proposer=people[0], title="Fresh")
    stances(fresh, people, "abstain")
    make_proposal(deciding_group(), title="Elsewhere")
    # when
    with django_assert_num_queries(1):
        rows = [
            (p.title, p.round, p.count_agree, p.count_abstain, p.count_disagree, p.count_block)
            for p in selectors.group_proposals(group=group)
            if p.proposed_by.public_name
        ]
    # then
    assert rows == [("Fresh", 1, 0, 4, 0, 0), ("Voting", 2, 0, 0, 1, 0)]


def test_group_proposals_filters_by_status():
    group = deciding_group()
    closed = make_proposal(group, title="Closed")
    make_proposal(group, title="Open")
    close(closed)
    assert [p.title for p in selectors.group_proposals(group=group, status="open")] == ["Open"]


def test_proposal_for_group_loads_stances_and_comments_for_the_tally(django_assert_num_queries):
    # given
    group = deciding_group()
    people = members_of(group, 3)
    proposal = make_proposal(group, proposer=people[0])
    stances(proposal, people[:2], "agree")
    stances(proposal, people[2:], "block")
    # when
    with django_assert_num_queries(3):
        loaded = selectors.proposal_for_group(group=group, pk=proposal.pk)
        tally = selectors.stance_tally(proposal=loaded)
        mine = selectors.member_stance(proposal=loaded, member=people[2])
        names = [stance.member.public_name for stance in selectors.round_stances(proposal=loaded)]
    # then
    assert tally == {"agree": 2, "abstain": 0, "disagree": 0, "block": 1}
    assert mine.position == "block"
    assert len(names) == 3
    assert selectors.proposal_for_group(group=deciding_group(), pk=proposal.pk) is None
