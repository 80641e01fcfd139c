"""Every write about proposals: making, withdrawing, taking a stance, commenting and closing.

Keyword-only; one transaction each. A proposal copies its group's decision rule when it opens,
so a later change of policy does not change how it is counted. Closing holds the proposal's
row, so however many workers close it at once, it is decided once and its effect is carried out
once, in the same transaction as its outcome.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from mutualaid.common.errors import ApplicationError
from mutualaid.decisions import effects, permissions, rules
from mutualaid.decisions.models import (
    COMMENT_MAX_LENGTH,
    REASON_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Comment,
    Proposal,
    Stance,
)
from mutualaid.groups.models import Group, Membership
from mutualaid.people.models import User

logger = logging.getLogger(__name__)

# How long a proposal stays open: at least a day, so every member can read it, at most a month.
MIN_OPEN = timedelta(hours=24)
MAX_OPEN = timedelta(days=30)
# Members are reminded this long before a round closes, once per round.
REMIND_BEFORE = timedelta(hours=24)
# A round this short gets no reminder: the email opening it already said when it closes.
REMIND_ONLY_ROUNDS_LONGER_THAN = REMIND_BEFORE + timedelta(hours=1)
# An effect's error is kept this long (the model's field).
EFFECT_ERROR_MAX_LENGTH = 300

# Control characters, and the bidirectional overrides that could make text read backwards.
CONTROL_CHARACTERS = ({chr(code) for code in range(32)} - {"\n", "\r", "\t"}) | {
    chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
}


@dataclass(frozen=True)
class SpendDetails:
    """What a spend proposal pays if it passes; it becomes a proposed Disbursement."""

    fund: Any
    amount_minor: int
    purpose: str
    payee_kind: str
    request: Any = None
    reimbursement: Any = None
    payee_name: str = ""


def _notify(task_name: str, proposal_id: int) -> None:
    """Enqueue one of decisions.tasks' emails once the current transaction has committed."""
    from mutualaid.needs.notifications import are_paused

    if are_paused():
        return

    def enqueue() -> None:
        from mutualaid.decisions import tasks

        getattr(tasks, task_name).enqueue(proposal_id)

    transaction.on_commit(enqueue)


def _clean_text(value: str, *, max_length: int, empty: str, too_long: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ApplicationError(empty)
    if len(value) > max_length:
        raise ApplicationError(too_long % {"count": max_length})
    if any(character in CONTROL_CHARACTERS for character in value):
        raise ApplicationError(_("Please remove the unusual characters from the text."))
    return value


@transaction.atomic
def proposal_create(
    *,
    group: Group,
    proposer: User,
    kind: str,
    title: str,
    text: str,
    closes_at: datetime,
    effect: dict[str, Any] | None = None,
    spend: SpendDetails | None = None,
) -> Proposal:
    """Any member may propose. The proposal is open from now until `closes_at` (a day to a
    month ahead) and is decided by the group's rule as it is now; an acting kind carries its
    effect, checked now and carried out when it passes. Members are told by email."""
    if not permissions.can_propose(proposer, group):
        raise PermissionDenied(_("Only members of this group can make proposals."))
    if kind not in Proposal.Kind.values:
        raise ApplicationError(_("Unknown kind of proposal."))
    title = _clean_text(
        title,
        max_length=TITLE_MAX_LENGTH,
        empty=_("Please give the proposal a title."),
        too_long=_("A title can be at most %(count)d characters."),
    )
    text = _clean_text(
        text,
        max_length=TEXT_MAX_LENGTH,
        empty=_("Please say what you propose."),
        too_long=_("A proposal can be at most %(count)d characters."),
    )
    if timezone.is_naive(closes_at):
        raise ApplicationError(_("Please give the closing time with its time zone."))
    now = timezone.now()
    if closes_at < now + MIN_OPEN:
        raise ApplicationError(_("A proposal stays open for at least 24 hours."))
    if closes_at > now + MAX_OPEN:
        raise ApplicationError(_("A proposal can stay open for at most 30 days."))
    if kind == Proposal.Kind.SPEND:
        if spend is None:
            raise ApplicationError(_("Say which fund to spend from, how much and for what."))
        if spend.fund.group_id != group.pk:
            raise ApplicationError(_("That fund belongs to another group."))
    elif spend is not None:
        raise ApplicationError(_("Only a spending proposal spends from a fund."))
    cleaned_effect = effects.effect_clean(group=group, kind=kind, effect=effect)
    proposal = Proposal.objects.create(
        group=group,
        kind=kind,
        title=title,
        text=text,
        effect=cleaned_effect,
        proposed_by=proposer,
        created_at=now,
        closes_at=closes_at,
        rule=group.decision_rule,
        quorum_percent=group.quorum_percent,
        majority_percent=group.fallback_majority_percent,
        round=1,
        round_started_at=now,
    )
    if spend is not None:
        from mutualaid.funds import services as fund_services

        fund_services.disbursement_propose(
            fund=spend.fund,
            proposal=proposal,
            amount_minor=spend.amount_minor,
            purpose=spend.purpose,
            payee_kind=spend.payee_kind,
            request=spend.request,
            reimbursement=spend.reimbursement,
            payee_name=spend.payee_name,
        )
    _notify("proposal_opened_notify", proposal.pk)
    return proposal


def _locked(proposal: Proposal) -> Proposal:
    # Only the proposal's row: holding its group's row too would queue every stance in the group.
    return (
        Proposal.objects.select_for_update(of=("self",)).select_related("group").get(pk=proposal.pk)
    )


def _copy_state(target: Proposal, source: Proposal) -> None:
    """Bring the caller's instance up to date with what was written."""
    for field in Proposal._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


@transaction.atomic
def proposal_withdraw(*, proposal: Proposal, actor: User) -> Proposal:
    """The proposer may withdraw their proposal while it is open; a spend's disbursement is
    cancelled with it. To change a proposal, withdraw it and propose again."""
    locked = _locked(proposal)
    if not permissions.can_withdraw(actor, locked):
        if locked.proposed_by_id == actor.pk and not permissions.is_open(locked):
            raise ApplicationError(
                _("This proposal has already closed."), code="closed", status=409
            )
        raise PermissionDenied(
            _("Only the member who made a proposal can withdraw it, while it is open.")
        )
    now = timezone.now()
    locked.status = Proposal.Status.WITHDRAWN
    locked.outcome = Proposal.Outcome.WITHDRAWN
    locked.closed_at = now
    locked.save(update_fields=["status", "outcome", "closed_at"])
    effects.unwind_failed(locked)
    _copy_state(proposal, locked)
    return proposal


@transaction.atomic
def proposal_edit(*, proposal: Proposal, actor: User, title: str, text: str) -> Proposal:
    """The proposer rewords an open proposal before anyone has taken a stance on it. Holding
    the proposal's row, so a stance taken meanwhile is either before (and the text stays) or
    after (and it is on the new text)."""
    title = _clean_text(
        title,
        max_length=TITLE_MAX_LENGTH,
        empty=_("Please give the proposal a title."),
        too_long=_("A title can be at most %(count)d characters."),
    )
    text = _clean_text(
        text,
        max_length=TEXT_MAX_LENGTH,
        empty=_("Please say what you propose."),
        too_long=_("A proposal can be at most %(count)d characters."),
    )
    locked = _locked(proposal)
    if not permissions.can_edit(actor, locked):
        if permissions.can_withdraw(actor, locked):
            raise ApplicationError(
                _(
                    "Members have taken stances on this text, so it can no longer change. "
                    "Withdraw it and propose again."
                ),
                code="frozen",
                status=409,
            )
        raise PermissionDenied(
            _("Only the member who made a proposal can change it, while it is open.")
        )
    locked.title, locked.text = title, text
    locked.save(update_fields=["title", "text"])
    _copy_state(proposal, locked)
    return proposal


@transaction.atomic
def stance_take(*, proposal: Proposal, member: User, position: str, reason: str = "") -> Stance:
    """A member takes a stance on an open proposal, or changes the one they took in this round,
    until it closes. Disagreeing and blocking need a reason, so the group can answer it."""
    if not permissions.is_member(member, proposal.group):
        raise PermissionDenied(_("Only members of this group can take a stance."))
    if position not in Stance.Position.values:
        raise ApplicationError(_("Choose agree, abstain, disagree or block."))
    reason = (reason or "").strip()
    if position in (Stance.Position.DISAGREE, Stance.Position.BLOCK) and not reason:
        raise ApplicationError(_("Please give a reason when you disagree or block."))
    if len(reason) > REASON_MAX_LENGTH:
        raise ApplicationError(
            _("A reason can be at most %(count)d characters.") % {"count": REASON_MAX_LENGTH}
        )
    if any(character in CONTROL_CHARACTERS for character in reason):
        raise ApplicationError(_("Please remove the unusual characters from the text."))
    # Holding the proposal's row orders this stance before or after its closing, never during.
    locked = _locked(proposal)
    now = timezone.now()
    if not permissions.is_open(locked, now=now):
        raise ApplicationError(
            _("This proposal has closed; stances can no longer be taken."),
            code="closed",
            status=409,
        )
    stance, created = Stance.objects.get_or_create(
        proposal=locked,
        member=member,
        round=locked.round,
        defaults={"position": position, "reason": reason, "created_at": now, "updated_at": now},
    )
    if not created:
        stance.position = position
        stance.reason = reason
        stance.updated_at = now
        stance.save(update_fields=["position", "reason", "updated_at"])
    return stance


@transaction.atomic
def comment_add(*, proposal: Proposal, author: User, text: str) -> Comment:
    """Any member may add to the discussion under a proposal, open or closed."""
    if not permissions.can_comment(author, proposal):
        raise PermissionDenied(_("Only members of this group can comment on its proposals."))
    text = _clean_text(
        text,
        max_length=COMMENT_MAX_LENGTH,
        empty=_("Please write a comment."),
        too_long=_("A comment can be at most %(count)d characters."),
    )
    return Comment.objects.create(proposal=proposal, author=author, text=text)


def stance_counts(proposal: Proposal) -> dict[str, int]:
    """How many current members took each stance in the proposal's current round. Stances of
    members who have left the group no longer count."""
    current = Stance.objects.filter(
        proposal=proposal,
        round=proposal.round,
        member__in=Membership.objects.filter(group_id=proposal.group_id).values("member_id"),
    )
    counted = current.aggregate(
        **{
            position: Count("pk", filter=Q(position=position))
            for position in Stance.Position.values
        }
    )
    return {position: counted[position] or 0 for position in Stance.Position.values}


def _error_text(error: Exception) -> str:
    if isinstance(error, ApplicationError):
        return str(error.message)[:EFFECT_ERROR_MAX_LENGTH]
    return _("The effect could not be carried out (%(error)s).") % {"error": type(error).__name__}


@transaction.atomic
def proposal_close(*, proposal: Proposal, now: datetime | None = None) -> Proposal:
    """Decide an open proposal whose closing time has come, by the rule it opened with.

    Under consensus, then a vote, a failed first round opens the second round for as long as
    the first lasted. Otherwise the proposal closes, and a passed one's effect is carried out
    here, once: a failed effect is recorded on the proposal and never raises. A proposal that
    is not due or no longer open is returned as it is, so closing twice does nothing."""
    now = now or timezone.now()
    locked = _locked(proposal)
    if locked.status != Proposal.Status.OPEN or locked.closes_at > now:
        _copy_state(proposal, locked)
        return proposal
    members = Membership.objects.filter(group_id=locked.group_id).count()
    counts = stance_counts(locked)
    decision = rules.decide(
        rule=locked.rule,
        round=locked.round,
        members=members,
        quorum_percent=locked.quorum_percent,
        majority_percent=locked.majority_percent,
        **counts,
    )
    if decision.next_round:
        first_round_length = locked.closes_at - locked.round_started_at
        locked.round = 2
        locked.round_started_at = now
        locked.closes_at = now + first_round_length
        locked.reminder_sent_at = None
        locked.save(update_fields=["round", "round_started_at", "closes_at", "reminder_sent_at"])
        _notify("proposal_round_two_notify", locked.pk)
        _copy_state(proposal, locked)
        return proposal

    locked.outcome = decision.outcome.value
    locked.status = Proposal.Status.PASSED if decision.passed else Proposal.Status.NOT_PASSED
    locked.closed_at = now
    locked.members_at_close = members
    fields = ["outcome", "status", "closed_at", "members_at_close"]
    locked.save(update_fields=fields)
    try:
        # A savepoint: a failed effect leaves nothing half done, and the outcome stands.
        with transaction.atomic():
            if decision.passed:
                result = effects.apply(locked)
                if locked.kind in effects.ACTING_KINDS:
                    locked.effect_applied_at = now
            else:
                result = effects.unwind_failed(locked)
            locked.effect_result = result
            locked.save(update_fields=["effect_result", "effect_applied_at", "role_grant"])
    except Exception as error:
        if not isinstance(error, ApplicationError):
            logger.exception("The effect of proposal #%s failed", locked.pk)
        locked.refresh_from_db()
        locked.effect_error = _error_text(error)
        locked.save(update_fields=["effect_error"])
    _notify("proposal_closed_notify", locked.pk)
    _copy_state(proposal, locked)
    return proposal


def proposals_close_due(*, now: datetime | None = None) -> int:
    """Close every open proposal whose time has come (or open its second round); answers how
    many were closed or moved on. Each is closed in its own transaction."""
    now = now or timezone.now()
    due = list(
        Proposal.objects.filter(status=Proposal.Status.OPEN, closes_at__lte=now)
        .order_by("closes_at", "pk")
        .values_list("pk", "round")
    )
    done = 0
    for pk, round_before in due:
        proposal = Proposal(pk=pk)
        try:
            proposal_close(proposal=proposal, now=now)
        except Exception:
            # One broken proposal must not keep the others open; the next run tries it again.
            logger.exception("Closing proposal #%s failed", pk)
            continue
        if proposal.status != Proposal.Status.OPEN or proposal.round != round_before:
            done += 1
    return done


def proposals_remind_closing(*, now: datetime | None = None) -> int:
    """Remind members of each open proposal that closes within the next 24 hours, once per
    round; answers how many reminders were queued. Marking the proposal is a conditional
    update, so two runs at once remind once. A round of barely more than a day is only marked:
    its opening email said when it closes."""
    now = now or timezone.now()
    candidates = list(
        Proposal.objects.filter(
            status=Proposal.Status.OPEN,
            reminder_sent_at__isnull=True,
            closes_at__gt=now,
            closes_at__lte=now + REMIND_BEFORE,
        )
        .order_by("closes_at", "pk")
        .values_list("pk", "round", "round_started_at", "closes_at")
    )
    reminded = 0
    for pk, round_number, round_started_at, closes_at in candidates:
        with transaction.atomic():
            marked = Proposal.objects.filter(
                pk=pk,
                status=Proposal.Status.OPEN,
                round=round_number,
                reminder_sent_at__isnull=True,
            ).update(reminder_sent_at=now)
            if marked and closes_at - round_started_at > REMIND_ONLY_ROUNDS_LONGER_THAN:
                _notify("proposal_closing_notify", pk)
                reminded += 1
    return reminded
