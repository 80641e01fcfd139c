"""How a proposal's stances become an outcome, under each of the three decision rules.

Plain Python with no Django import, so the rules are tested alone and read as the help page
states them:

- consent: a proposal passes unless someone blocks it. There is no quorum.
- consensus: it passes when at least `quorum_percent` of the members took a stance (rounded up,
  and at least one member), nobody blocks, and more agree than disagree.
- consensus, then a vote: the first round is decided as consensus. If it fails, a second round
  opens, a vote, in which a block counts as disagreeing: it passes when the quorum took part
  and `agree` is at least `majority_percent` of agree, disagree and block together (abstentions
  are left out), with at least one agree.
"""

from dataclasses import dataclass
from enum import StrEnum

CONSENSUS = "consensus"
CONSENT = "consent"
CONSENSUS_THEN_VOTE = "consensus_then_vote"
RULES = (CONSENSUS, CONSENT, CONSENSUS_THEN_VOTE)


class Outcome(StrEnum):
    """The same values as decisions.models.Proposal.Outcome."""

    PASSED = "passed"
    BLOCKED = "blocked"
    NO_QUORUM = "no_quorum"
    NOT_ENOUGH_AGREEMENT = "not_enough_agreement"
    VOTE_LOST = "vote_lost"


@dataclass(frozen=True)
class Decision:
    """The outcome of a round. `next_round` is true when the round failed under consensus,
    then a vote, and a vote opens: the proposal is then still open and `outcome` says only why
    the first round failed."""

    outcome: Outcome
    next_round: bool = False

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED and not self.next_round


def quorum(*, members: int, quorum_percent: int) -> int:
    """How many members must take a stance: `quorum_percent` of them rounded up, at least 1."""
    return max(1, -(-members * quorum_percent // 100))


def _consensus(
    *, members: int, agree: int, abstain: int, disagree: int, block: int, quorum_percent: int
) -> Outcome:
    if block > 0:
        return Outcome.BLOCKED
    if agree + abstain + disagree + block < quorum(members=members, quorum_percent=quorum_percent):
        return Outcome.NO_QUORUM
    if agree <= disagree:
        return Outcome.NOT_ENOUGH_AGREEMENT
    return Outcome.PASSED


def _vote(
    *,
    members: int,
    agree: int,
    abstain: int,
    disagree: int,
    block: int,
    quorum_percent: int,
    majority_percent: int,
) -> Outcome:
    if agree + abstain + disagree + block < quorum(members=members, quorum_percent=quorum_percent):
        return Outcome.NO_QUORUM
    against = disagree + block
    if agree > 0 and agree * 100 >= majority_percent * (agree + against):
        return Outcome.PASSED
    return Outcome.VOTE_LOST


def decide(
    *,
    rule: str,
    round: int,
    members: int,
    agree: int,
    abstain: int,
    disagree: int,
    block: int,
    quorum_percent: int,
    majority_percent: int,
) -> Decision:
    """The outcome of a proposal's `round` (1 or 2) under `rule`, from the number of `members`
    of the group when it closes and the count of each stance taken in that round."""
    if rule not in RULES:
        raise ValueError(f"Unknown decision rule: {rule!r}")
    if round not in (1, 2):
        raise ValueError(f"A proposal has round 1 or 2, not {round!r}")
    if min(members, agree, abstain, disagree, block) < 0:
        raise ValueError("Counts cannot be negative")
    counts = {"agree": agree, "abstain": abstain, "disagree": disagree, "block": block}
    if rule == CONSENT:
        return Decision(Outcome.BLOCKED if block > 0 else Outcome.PASSED)
    if rule == CONSENSUS_THEN_VOTE and round == 2:
        return Decision(
            _vote(
                members=members,
                quorum_percent=quorum_percent,
                majority_percent=majority_percent,
                **counts,
            )
        )
    outcome = _consensus(members=members, quorum_percent=quorum_percent, **counts)
    if rule == CONSENSUS_THEN_VOTE and outcome is not Outcome.PASSED:
        return Decision(outcome, next_round=True)
    return Decision(outcome)
