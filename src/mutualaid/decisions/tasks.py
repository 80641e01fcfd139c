"""Background work of decisions: closing proposals whose time has come, reminding members a
day before a round closes, and the emails about proposals.

Each task takes ids, loads fresh rows and is safe to run again: closing holds the proposal's
row and does nothing to one already closed, a reminder is marked on the proposal by a
conditional update, and every email has an idempotency key naming the proposal, the round and
the recipient.
"""

from django_tasks import task

from mutualaid.decisions import notifications, services
from mutualaid.decisions.models import Proposal, Stance


@task()
def proposals_close_due_task() -> int:
    return services.proposals_close_due()


@task()
def proposals_remind_closing_task() -> int:
    return services.proposals_remind_closing()


@task()
def proposal_opened_notify(proposal_id: int) -> int:
    """Tell every member but the proposer that a proposal is open, until when, and where to
    take a stance."""
    proposal = notifications.load(proposal_id)
    if proposal is None or proposal.status != Proposal.Status.OPEN or proposal.round != 1:
        return 0
    context = {**notifications.about(proposal), "proposal": proposal}
    words = notifications.EffectWords(proposal)
    sent = 0
    for member in notifications.members(proposal.group):
        if member.pk == proposal.proposed_by_id:
            continue
        sent += notifications.to_member(
            member,
            key=f"proposal-opened:{proposal.pk}:member-{member.pk}",
            template="decisions/email/proposal_opened",
            context=context,
            words=words,
        )
    return sent


@task()
def proposal_round_two_notify(proposal_id: int) -> int:
    """Tell every member that a proposal's first round found no consensus and a vote is open."""
    proposal = notifications.load(proposal_id)
    if proposal is None or proposal.status != Proposal.Status.OPEN or proposal.round != 2:
        return 0
    context = {**notifications.about(proposal), "proposal": proposal}
    words = notifications.EffectWords(proposal)
    sent = 0
    for member in notifications.members(proposal.group):
        sent += notifications.to_member(
            member,
            key=f"proposal-round-2:{proposal.pk}:member-{member.pk}",
            template="decisions/email/proposal_round_two",
            context=context,
            words=words,
        )
    return sent


@task()
def proposal_closing_notify(proposal_id: int) -> int:
    """Remind every member that a proposal's round closes within a day, with the stance they
    took in it, if any, which they may still change."""
    proposal = notifications.load(proposal_id)
    if proposal is None or proposal.status != Proposal.Status.OPEN:
        return 0
    context = {**notifications.about(proposal), "proposal": proposal}
    words = notifications.EffectWords(proposal)
    stances = notifications.stances_by_member(proposal)
    sent = 0
    for member in notifications.members(proposal.group):
        stance = stances.get(member.pk)
        sent += notifications.to_member(
            member,
            key=f"proposal-closing:{proposal.pk}:round-{proposal.round}:member-{member.pk}",
            template="decisions/email/proposal_closing",
            context={
                **context,
                "stance": Stance.Position(stance.position).label if stance else "",
            },
            words=words,
        )
    return sent


@task()
def proposal_closed_notify(proposal_id: int) -> int:
    """Tell the proposer how their proposal ended and, when it passed, what it did or why its
    effect could not be carried out."""
    proposal = notifications.load(proposal_id)
    if (
        proposal is None
        or proposal.proposed_by is None
        or proposal.status not in (Proposal.Status.PASSED, Proposal.Status.NOT_PASSED)
    ):
        return 0
    return notifications.to_member(
        proposal.proposed_by,
        key=f"proposal-closed:{proposal.pk}:proposer",
        template="decisions/email/proposal_closed",
        context={
            **notifications.about(proposal),
            "proposal": proposal,
            "passed": proposal.status == Proposal.Status.PASSED,
            "outcome": proposal.get_outcome_display(),
            "effect_applied": proposal.effect_applied_at is not None,
            "effect_error": proposal.effect_error,
        },
        words=notifications.EffectWords(proposal),
    )
