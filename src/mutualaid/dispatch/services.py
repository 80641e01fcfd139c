"""Proposals: matching all open requests of a group at once, and passing a proposal on when the
volunteer declines or does not answer in time; and going on duty, for a member ready to help
for the next few hours, who comes first in suggestions and proposals near them until then.
Keyword-only; one transaction each.

A proposal is an `Assignment` with source "matching" and an `expires_at`. It is made, accepted
and declined through the same rules as a dispatcher's own ask (one pending per request, accept is
a claim). Locks are always taken in the same order, group, then request, then member, so that
a match-all, a claim, an accept, a decline and an expiry never wait for each other in a circle.
"""

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from mutualaid.common.errors import ApplicationError
from mutualaid.dispatch import permissions
from mutualaid.dispatch.selectors import member_who_asked
from mutualaid.dispatch.volunteers import (
    GroupVolunteers,
    group_volunteers,
    member_loads,
    volunteers_changed,
)
from mutualaid.groups.models import Group
from mutualaid.matching import Need, Reason, VolunteerIndex, assign
from mutualaid.needs.models import Assignment, LeftoverReason, Request
from mutualaid.needs.selectors import UNLISTED_FIELDS
from mutualaid.people.models import User

# Candidates looked at when passing a request on; past the first few the database may say
# they are busy after all (their load changed in another process a moment ago).
PASS_ON_CANDIDATES = 5


@dataclass
class MatchAllOutcome:
    """What one "match all" did: the proposals made, the requests left over with the reason
    (a LeftoverReason value), and how many were skipped because someone took or was asked for
    them meanwhile."""

    proposals: list[Assignment] = field(default_factory=list)
    leftovers: dict[int, str] = field(default_factory=dict)
    skipped: int = 0


def _notify(task_name: str, object_id: int) -> None:
    """Enqueue one of dispatch.tasks' emails once the current transaction has committed; nobody
    is told anything while needs' notifications are paused (demo data)."""
    from mutualaid.dispatch import tasks
    from mutualaid.needs import notifications

    if notifications.are_paused():
        return

    def enqueue() -> None:
        getattr(tasks, task_name).enqueue(object_id)

    transaction.on_commit(enqueue)


def matchable_requests(*, group: Group) -> QuerySet[Request]:
    """Open requests of the group that wait for nobody's answer, oldest first, without
    anything that identifies who asked."""
    waiting = Assignment.objects.filter(request=OuterRef("pk"), answer=Assignment.Answer.PENDING)
    return (
        Request.objects.filter(
            group=group, status=Request.Status.OPEN, personal_data_erased_at__isnull=True
        )
        .filter(~Exists(waiting))
        .select_related("group", "area_group")
        .defer(*UNLISTED_FIELDS, "description")
        .order_by("created_at", "pk")
    )


def _not_to_ask(requests: Collection[Request]) -> dict[int, set[int]]:
    """For each of these requests, the members never to propose it to: everyone already asked
    for it (whatever they answered), and the member who asked for help themself. Requests with
    nobody to leave out are left out."""
    excluded: dict[int, set[int]] = defaultdict(set)
    for request_id, member_id in Assignment.objects.filter(
        request__in=[request.pk for request in requests]
    ).values_list("request_id", "member_id"):
        excluded[request_id].add(member_id)
    for request in requests:
        asker = member_who_asked(request)
        if asker is not None:
            excluded[request.pk].add(asker)
    return dict(excluded)


def _leftover_reason(
    index: VolunteerIndex, need: Need, *, now: float, asked: Collection[int]
) -> LeftoverReason:
    """Why nobody is left for `need`: the engine's reason, or "everyone asked" when someone
    would fit but every one of them has been asked already."""
    unasked = index.leftover_reason(need, now=now, exclude=asked)
    anyone = index.leftover_reason(need, now=now) if asked else unasked
    if asked and anyone is None:
        return LeftoverReason.EVERYONE_ASKED
    reason = anyone or unasked or Reason.NOBODY_IN_RANGE
    return LeftoverReason(reason.value)


def _first_free(
    index: VolunteerIndex,
    need: Need,
    *,
    now: float,
    exclude: Collection[int],
    taken: Counter[int],
) -> int | None:
    """The best candidate for `need` outside `exclude` with capacity left after `taken` (the
    proposals already made in this batch)."""
    for candidate in index.candidates(need, len(taken) + 1, now=now, exclude=exclude):
        free = index.volunteer(candidate.volunteer_id)
        if free["capacity"] - free["load"] > taken[candidate.volunteer_id]:
            return candidate.volunteer_id
    return None


def _lock_members(member_ids: Iterable[int]) -> dict[int, int]:
    """Hold the members' rows until commit and return each one's room for more tasks, as the
    database has it now (their load may have changed in another group a moment ago)."""
    ids = sorted(set(member_ids))
    capacity = dict(
        User.objects.select_for_update()
        .filter(pk__in=ids, is_active=True, erased_at__isnull=True)
        .order_by("pk")
        .values_list("pk", "max_open_tasks")
    )
    loads = member_loads(member_ids=ids)
    return {pk: capacity[pk] - loads.get(pk, 0) for pk in capacity}


def _propose(
    *, request_id: int, member_id: int, assigned_by: User | None, group: Group, now: datetime
) -> Assignment | None:
    """A pending proposal, or None when the request got another pending ask meanwhile."""
    try:
        with transaction.atomic():
            return Assignment.objects.create(
                request_id=request_id,
                member_id=member_id,
                assigned_by=assigned_by,
                source=Assignment.Source.MATCHING,
                created_at=now,
                expires_at=now + timedelta(hours=group.answer_within_hours),
            )
    except IntegrityError:
        return None


def _record_leftovers(leftovers: Mapping[int, str], *, now: datetime) -> None:
    by_reason: dict[str, list[int]] = defaultdict(list)
    for request_id, reason in leftovers.items():
        by_reason[reason].append(request_id)
    for reason, request_ids in by_reason.items():
        Request.objects.filter(pk__in=request_ids, status=Request.Status.OPEN).update(
            leftover_reason=reason, leftover_at=now
        )


@transaction.atomic
def requests_match_all(
    *, group: Group, dispatcher: User, now: datetime | None = None
) -> MatchAllOutcome:
    """A dispatcher proposes every open request of the group that waits for nobody's answer
    to a volunteer: as many requests served as the volunteers' free capacity allows, then the
    least total distance (`mutualaid.matching.assign`), never to a member asked for it before
    nor to the member who asked for help.
    Each volunteer is emailed a link to accept or decline within the group's answer time; each
    request left over records why.

    One match-all per group runs at a time (the group's row is held), so two dispatchers
    clicking at once never propose a request twice; a request taken or asked for meanwhile is
    skipped."""
    if not permissions.can_match_all(dispatcher, group):
        raise PermissionDenied(_("Only a dispatcher of this group can match all open requests."))
    list(Group.objects.select_for_update().filter(pk=group.pk).values_list("pk", flat=True))
    now = now or timezone.now()
    seconds = now.timestamp()
    outcome = MatchAllOutcome()
    requests = list(matchable_requests(group=group))
    if not requests:
        return outcome
    volunteers = group_volunteers(group)
    index = volunteers.index
    needs = {request.pk: volunteers.need_for(request) for request in requests}
    not_to_ask = _not_to_ask(requests)

    # Requests nobody was asked for yet are shared out by the engine, for the most served and
    # the least distance; the few with members not to ask (asked before, or the one who asked
    # for help) then take, oldest first, the best of the others with room left.
    fresh = [need for pk, need in needs.items() if pk not in not_to_ask]
    result = assign(fresh, index, now=seconds)
    chosen = {match.need_id: match.volunteer_id for match in result.matches}
    taken = Counter(chosen.values())
    leftovers: dict[int, str] = {
        need_id: LeftoverReason(reason.value) for need_id, reason in result.leftovers.items()
    }
    for request_id in (pk for pk in needs if pk in not_to_ask):
        need, excluded = needs[request_id], not_to_ask[request_id]
        volunteer_id = _first_free(index, need, now=seconds, exclude=excluded, taken=taken)
        if volunteer_id is None:
            leftovers[request_id] = _leftover_reason(index, need, now=seconds, asked=excluded)
        else:
            chosen[request_id] = volunteer_id
            taken[volunteer_id] += 1

    still_open = set(
        Request.objects.select_for_update(of=("self",))
        .filter(pk__in=chosen, status=Request.Status.OPEN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    room = _lock_members(taken)
    for request_id in sorted(chosen):
        member_id = chosen[request_id]
        if request_id not in still_open or room.get(member_id, 0) <= 0:
            outcome.skipped += 1
            continue
        assignment = _propose(
            request_id=request_id,
            member_id=member_id,
            assigned_by=dispatcher,
            group=group,
            now=now,
        )
        if assignment is None:
            outcome.skipped += 1
            continue
        room[member_id] -= 1
        outcome.proposals.append(assignment)

    proposed = [assignment.request_id for assignment in outcome.proposals]
    Request.objects.filter(pk__in=proposed).update(leftover_reason="", leftover_at=None)
    _record_leftovers(leftovers, now=now)
    outcome.leftovers = {pk: str(reason) for pk, reason in sorted(leftovers.items())}
    volunteers_changed(member_ids=[assignment.member_id for assignment in outcome.proposals])
    for assignment in outcome.proposals:
        _notify("proposal_made_notify", assignment.pk)
    return outcome


def _next_volunteer(
    volunteers: GroupVolunteers, need: Need, *, now: float, asked: Collection[int]
) -> int | None:
    """The best candidate not asked yet who, as the database has it now, has room."""
    candidates = volunteers.index.candidates(need, PASS_ON_CANDIDATES, now=now, exclude=asked)
    if not candidates:
        return None
    room = _lock_members(candidate.volunteer_id for candidate in candidates)
    for candidate in candidates:
        if room.get(candidate.volunteer_id, 0) > 0:
            return candidate.volunteer_id
    return None


@transaction.atomic
def assignment_pass_on(*, assignment: Assignment, now: datetime | None = None) -> Assignment | None:
    """A proposal declined or not answered in time goes to the next candidate who was not asked
    for this request yet. When nobody is left, the request records why and the group's
    dispatchers are told. Nothing happens when the request was taken, closed or asked for
    meanwhile. Returns the new proposal, if one was made."""
    now = now or timezone.now()
    request = (
        Request.objects.select_for_update(of=("self",))
        .select_related("group", "area_group")
        .defer(*UNLISTED_FIELDS, "description")
        .filter(pk=assignment.request_id)
        .first()
    )
    if request is None or request.status != Request.Status.OPEN:
        return None
    if request.personal_data_erased_at is not None:
        return None
    if Assignment.objects.filter(request=request, answer=Assignment.Answer.PENDING).exists():
        return None
    group = request.group
    volunteers = group_volunteers(group)
    need = volunteers.need_for(request)
    asked = _not_to_ask([request]).get(request.pk, set())
    seconds = now.timestamp()
    volunteer_id = _next_volunteer(volunteers, need, now=seconds, asked=asked)
    if volunteer_id is None:
        reason = _leftover_reason(volunteers.index, need, now=seconds, asked=asked)
        Request.objects.filter(pk=request.pk).update(leftover_reason=reason, leftover_at=now)
        _notify("proposal_leftover_notify", assignment.pk)
        return None
    proposal = _propose(
        request_id=request.pk,
        member_id=volunteer_id,
        assigned_by=assignment.assigned_by,
        group=group,
        now=now,
    )
    if proposal is None:
        return None
    Request.objects.filter(pk=request.pk).update(leftover_reason="", leftover_at=None)
    volunteers_changed(member_ids=[volunteer_id])
    _notify("proposal_made_notify", proposal.pk)
    return proposal


def assignments_expire_overdue(*, now: datetime | None = None) -> int:
    """Proposals not answered by their time expire, and each request passes on to the next
    volunteer. Each expiry is a conditional update in its own transaction, so of two workers
    only one expires a proposal and passes it on, and an accept that came first wins. Returns
    how many expired."""
    now = now or timezone.now()
    due = list(
        Assignment.objects.filter(
            answer=Assignment.Answer.PENDING,
            source=Assignment.Source.MATCHING,
            expires_at__lte=now,
        )
        .order_by("expires_at", "pk")
        .values_list("pk", "request_id")
    )
    return sum(_assignment_expire(pk, request_id, now=now) for pk, request_id in due)


@transaction.atomic
def _assignment_expire(pk: int, request_id: int, *, now: datetime) -> int:
    # The request's row first, as an accept takes it (see the module's docstring).
    list(Request.objects.select_for_update().filter(pk=request_id).values_list("pk", flat=True))
    expired = Assignment.objects.filter(
        pk=pk, answer=Assignment.Answer.PENDING, expires_at__lte=now
    ).update(answer=Assignment.Answer.EXPIRED, answered_at=now)
    if not expired:
        return 0
    assignment = Assignment.objects.select_related("assigned_by").get(pk=pk)
    volunteers_changed(member_ids=[assignment.member_id])
    assignment_pass_on(assignment=assignment, now=now)
    return 1


# How many hours a member can go on duty for at once.
DUTY_HOURS = (2, 4, 8)


@transaction.atomic
def member_duty_start(*, member: User, hours: int, now: datetime | None = None) -> datetime:
    """The member is on duty for the next `hours` (2, 4 or 8) from now; starting again while on
    duty sets a new end. Returns when the duty ends."""
    if not permissions.can_go_on_duty(member):
        raise PermissionDenied(_("Only members with an account can go on duty."))
    if isinstance(hours, bool) or hours not in DUTY_HOURS:
        raise ApplicationError(_("You can go on duty for 2, 4 or 8 hours."))
    until = (now or timezone.now()) + timedelta(hours=hours)
    # Conditional, so a switch racing the account's erasure changes nothing.
    if not User.objects.filter(pk=member.pk, erased_at__isnull=True).update(on_duty_until=until):
        raise ApplicationError(_("This account has already been deleted."))
    member.on_duty_until = until
    volunteers_changed(member_ids=[member.pk])
    return until


@transaction.atomic
def member_duty_end(*, member: User) -> None:
    """The member is no longer on duty. Ending when not on duty is harmless."""
    if not permissions.can_go_on_duty(member):
        raise PermissionDenied(_("Only members with an account can go on duty."))
    User.objects.filter(pk=member.pk).update(on_duty_until=None)
    member.on_duty_until = None
    volunteers_changed(member_ids=[member.pk])
