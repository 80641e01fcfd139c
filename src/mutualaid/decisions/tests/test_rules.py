"""The decision rules, alone: every rule's outcomes, quorum rounding, ties, the second round,
and properties that must hold for any count of stances."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mutualaid.decisions.rules import (
    CONSENSUS,
    CONSENSUS_THEN_VOTE,
    CONSENT,
    Decision,
    Outcome,
    decide,
    quorum,
)

PASSED = Outcome.PASSED
BLOCKED = Outcome.BLOCKED
NO_QUORUM = Outcome.NO_QUORUM
NOT_ENOUGH = Outcome.NOT_ENOUGH_AGREEMENT
VOTE_LOST = Outcome.VOTE_LOST


def _decide(rule, *, round=1, members=10, a=0, ab=0, d=0, b=0, q=25, m=67):
    return decide(
        rule=rule,
        round=round,
        members=members,
        agree=a,
        abstain=ab,
        disagree=d,
        block=b,
        quorum_percent=q,
        majority_percent=m,
    )


# Quorum: a share of the members, rounded up, and never below one.
@pytest.mark.parametrize(
    ("members", "percent", "expected"),
    [
        (10, 25, 3),  # 2.5 rounds up
        (8, 25, 2),  # exact
        (9, 25, 3),  # 2.25 rounds up
        (4, 100, 4),
        (3, 1, 1),  # 0.03 rounds up to 1
        (1, 50, 1),
        (0, 50, 1),  # at least one, even in a group with nobody in it
        (0, 1, 1),
        (200, 33, 66),
        (7, 51, 4),  # 3.57
    ],
)
def test_quorum_is_rounded_up_and_at_least_one(members, percent, expected):
    assert quorum(members=members, quorum_percent=percent) == expected


# consent: passes unless someone blocks; no quorum.
@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({}, PASSED),  # nobody said anything: consent is silence
        ({"a": 1}, PASSED),
        ({"d": 5}, PASSED),  # disagreeing is not blocking
        ({"d": 9, "a": 1}, PASSED),
        ({"ab": 10}, PASSED),
        ({"b": 1}, BLOCKED),
        ({"a": 9, "b": 1}, BLOCKED),
        ({"a": 1, "ab": 1, "d": 1, "b": 1}, BLOCKED),
    ],
)
def test_consent(counts, expected):
    assert _decide(CONSENT, **counts) == Decision(expected, next_round=False)


def test_consent_needs_no_quorum_even_with_a_large_quorum_percent():
    assert _decide(CONSENT, members=100, q=100) == Decision(PASSED)


# consensus: quorum, no block, more agree than disagree.
@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({"a": 3}, PASSED),  # quorum of 10 at 25% is 3
        ({"a": 2}, NO_QUORUM),
        ({"a": 2, "ab": 1}, PASSED),  # abstaining counts towards the quorum
        ({"a": 1, "ab": 2}, PASSED),  # 1 agree > 0 disagree
        ({"ab": 3}, NOT_ENOUGH),  # 0 agree is not more than 0 disagree
        ({"a": 2, "d": 2}, NOT_ENOUGH),  # a tie does not pass
        ({"a": 3, "d": 2}, PASSED),
        ({"a": 2, "d": 3}, NOT_ENOUGH),
        ({"a": 9, "b": 1}, BLOCKED),
        ({"b": 1}, BLOCKED),  # a block decides before the quorum
        ({"a": 1, "b": 1}, BLOCKED),
        ({}, NO_QUORUM),
        ({"d": 1}, NO_QUORUM),
    ],
)
def test_consensus(counts, expected):
    assert _decide(CONSENSUS, **counts) == Decision(expected, next_round=False)


def test_consensus_quorum_is_counted_on_the_members_at_close():
    # given 3 agree out of 11 members at 25%: the quorum is 3 (2.75 rounded up)
    assert _decide(CONSENSUS, members=11, a=3) == Decision(PASSED)
    # and 3 of 13 is not enough (3.25 rounds up to 4)
    assert _decide(CONSENSUS, members=13, a=3) == Decision(NO_QUORUM)


def test_consensus_with_a_full_quorum_needs_every_member():
    assert _decide(CONSENSUS, members=4, q=100, a=3) == Decision(NO_QUORUM)
    assert _decide(CONSENSUS, members=4, q=100, a=3, ab=1) == Decision(PASSED)


def test_consensus_in_a_group_of_one_needs_that_member():
    assert _decide(CONSENSUS, members=1, q=1) == Decision(NO_QUORUM)
    assert _decide(CONSENSUS, members=1, q=1, a=1) == Decision(PASSED)


def test_consensus_round_two_is_decided_as_round_one():
    # Under plain consensus there is no second round; a round number 2 changes nothing.
    assert _decide(CONSENSUS, round=2, a=3, b=1) == Decision(BLOCKED)


# consensus, then a vote: round 1 as consensus; a failed round 1 opens round 2.
@pytest.mark.parametrize(
    ("counts", "first_round_failure"),
    [
        ({"a": 9, "b": 1}, BLOCKED),
        ({"a": 2}, NO_QUORUM),
        ({"a": 2, "d": 2}, NOT_ENOUGH),
    ],
)
def test_consensus_then_vote_failed_first_round_opens_a_vote(counts, first_round_failure):
    assert _decide(CONSENSUS_THEN_VOTE, **counts) == Decision(first_round_failure, next_round=True)


def test_consensus_then_vote_passes_in_round_one_without_a_vote():
    assert _decide(CONSENSUS_THEN_VOTE, a=3) == Decision(PASSED, next_round=False)


@pytest.mark.parametrize(
    ("counts", "majority", "expected"),
    [
        ({"a": 2, "d": 1}, 67, VOTE_LOST),  # 66.6% < 67%
        ({"a": 2, "d": 1}, 66, PASSED),  # 66.6% >= 66%
        ({"a": 67, "d": 33}, 67, PASSED),  # exactly the majority passes
        ({"a": 66, "d": 34}, 67, VOTE_LOST),
        ({"a": 2, "b": 1}, 67, VOTE_LOST),  # a block counts as disagree
        ({"a": 3, "b": 1}, 67, PASSED),  # and no longer stops it alone: 75%
        ({"a": 2, "d": 2}, 51, VOTE_LOST),  # a tie never passes at 51% or more
        ({"a": 3, "ab": 10}, 100, PASSED),  # abstentions are left out of the share
        ({"ab": 3}, 51, VOTE_LOST),  # nobody agrees: 0 * 100 >= 0, but agree must be > 0
        ({"d": 3}, 51, VOTE_LOST),
        ({"a": 2}, 67, NO_QUORUM),  # the quorum (3 of 10) still applies
        ({"a": 1, "b": 1}, 51, NO_QUORUM),
    ],
)
def test_consensus_then_vote_round_two_is_a_vote(counts, majority, expected):
    assert _decide(CONSENSUS_THEN_VOTE, round=2, m=majority, **counts) == Decision(
        expected, next_round=False
    )


def test_a_decision_passes_only_when_final():
    assert Decision(PASSED).passed
    assert not Decision(BLOCKED).passed
    assert not Decision(BLOCKED, next_round=True).passed


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rule": "majority"},
        {"round": 3},
        {"round": 0},
        {"agree": -1},
        {"members": -1},
    ],
)
def test_nonsense_is_refused(kwargs):
    arguments = {
        "rule": CONSENSUS,
        "round": 1,
        "members": 3,
        "agree": 1,
        "abstain": 0,
        "disagree": 0,
        "block": 0,
        "quorum_percent": 25,
        "majority_percent": 67,
    }
    with pytest.raises(ValueError):  # noqa: PT011
        decide(**{**arguments, **kwargs})


# Properties over any counts.

RULES = st.sampled_from([CONSENSUS, CONSENT, CONSENSUS_THEN_VOTE])
COUNT = st.integers(min_value=0, max_value=60)


@st.composite
def situations(draw):
    agree, abstain, disagree, block = (draw(COUNT) for _ in range(4))
    took_part = agree + abstain + disagree + block
    return {
        "rule": draw(RULES),
        "round": draw(st.sampled_from([1, 2])),
        "members": took_part + draw(COUNT),
        "agree": agree,
        "abstain": abstain,
        "disagree": disagree,
        "block": block,
        "quorum_percent": draw(st.integers(min_value=1, max_value=100)),
        "majority_percent": draw(st.integers(min_value=51, max_value=100)),
    }


def _passes(situation) -> bool:
    return decide(**situation).passed


@given(situations())
def test_adding_a_block_never_turns_a_failing_proposal_into_a_passing_one(situation):
    # Where a block is a block: every round but the fallback vote (see the next test).
    if situation["rule"] == CONSENSUS_THEN_VOTE and situation["round"] == 2:
        situation = {**situation, "round": 1}
    if not _passes(situation):
        blocked = {
            **situation,
            "block": situation["block"] + 1,
            "members": situation["members"] + 1,
        }
        assert not _passes(blocked)


def test_in_the_vote_a_block_is_a_vote_against_that_also_counts_towards_the_quorum():
    # given a vote that lacks its quorum (3 of 10 at 30%)
    assert _decide(CONSENSUS_THEN_VOTE, round=2, q=30, m=51, a=2) == Decision(NO_QUORUM)
    # when one more member votes against, by blocking: the quorum is reached, 2 of 3 agree
    assert _decide(CONSENSUS_THEN_VOTE, round=2, q=30, m=51, a=2, b=1) == Decision(PASSED)


@given(situations())
def test_a_block_changed_from_agree_never_helps(situation):
    if situation["agree"] > 0 and not _passes(situation):
        moved = {**situation, "agree": situation["agree"] - 1, "block": situation["block"] + 1}
        assert not _passes(moved)


@given(situations())
def test_consent_passes_exactly_when_nobody_blocks(situation):
    consent = {**situation, "rule": CONSENT}
    assert _passes(consent) == (situation["block"] == 0)


@given(situations())
def test_no_proposal_passes_on_the_first_round_with_a_block(situation):
    first = {**situation, "round": 1}
    if situation["block"] > 0:
        assert not _passes(first)


@given(situations())
def test_adding_an_agree_never_turns_a_passing_proposal_into_a_failing_one(situation):
    if _passes(situation):
        more = {**situation, "agree": situation["agree"] + 1, "members": situation["members"] + 1}
        assert _passes(more)


@given(situations())
def test_only_consensus_then_vote_in_round_one_asks_for_another_round(situation):
    decision = decide(**situation)
    if decision.next_round:
        assert situation["rule"] == CONSENSUS_THEN_VOTE
        assert situation["round"] == 1
        assert decision.outcome is not PASSED


@given(situations())
def test_nothing_passes_without_anyone_agreeing_except_by_consent(situation):
    if situation["rule"] != CONSENT and situation["agree"] == 0:
        assert not _passes(situation)
