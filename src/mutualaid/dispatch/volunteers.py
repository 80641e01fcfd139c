"""The members of a group as the matching engine sees them, kept current in every process.

Each process holds, per group it has been asked about, a `GroupVolunteers`: a
`mutualaid.matching.VolunteerIndex` of the group's members who gave a rough home, and the
numbering of skills and languages as bits. Every write that changes what matching knows about
members (their profile, their memberships, the tasks they hold) calls `volunteers_changed` in
its own transaction, which inserts one `VolunteerChange` row per member. `group_volunteers`
reads the rows written since the index last looked (less a safety margin, for transactions that
committed late and clocks that differ a little), reloads those members from the database and
puts them in or takes them out. Reloading a member is idempotent, so reading a row twice does no
harm; rows already read are remembered and skipped. A look from inside a transaction may load
that transaction's own uncommitted writes, so the members it loaded are loaded again on each
look until it commits (a rollback leaves them marked). Every REBUILD_AFTER the index is built
again from scratch, which also catches what only time changes (tasks older than four weeks stop
counting as recent). One lock per process guards the indexes: a process serves one look at a
time. The design and its limits are written down in docs/architecture.md.

Columns: capacity is `User.max_open_tasks`; load is the member's active claims (neither let go
nor done) and the questions waiting for their answer, in every group; recent tasks are the
claims they took in the last RECENT_DAYS and did not let go.

Numbering:
- languages: bit i is `people.models.SPOKEN_LANGUAGES[i]`;
- skills: the shared skills, then the group's own, each ordered by id, take bits 0 to 62 in that
  order as they are first seen; a skill beyond the 63rd is left out of matching (members having
  it are matched as if they did not). Bit 63 is held by nobody: a request needing a skill
  without a bit (unknown, or beyond the 63rd) asks for it, so nobody is suggested rather than
  anybody;
- availability: the member's weekly bits; 0 ("has not said") counts as any time.
"""

import itertools
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from mutualaid.dispatch.models import VolunteerChange
from mutualaid.groups.models import Group, Membership
from mutualaid.matching import Need, VolunteerIndex
from mutualaid.needs.models import Assignment, Claim, Request, Urgency
from mutualaid.people.models import ALL_WEEK, DAY_PARTS, SPOKEN_LANGUAGES, Skill, User

# Changes read again on each sync, so that a transaction that wrote its row before the last
# sync but committed after it, or a machine whose clock is a little behind, is not missed.
SYNC_MARGIN = timedelta(minutes=2)
# An index older than this is built again from scratch.
REBUILD_AFTER = timedelta(minutes=10)
# How long change rows are kept; must outlast REBUILD_AFTER and SYNC_MARGIN together.
CHANGES_KEPT = timedelta(hours=6)
# How many groups each process keeps an index for; the least recently used is dropped.
CACHED_GROUPS = 48
# Claims taken within this many days count as recent tasks (see matching.scoring).
RECENT_DAYS = 28
# Skill bits 0..62 number skills; bit 63 is held by nobody (see the module's docstring).
SKILL_BITS = 63
UNMATCHABLE_SKILL_BIT = 1 << SKILL_BITS
# Members loaded per query when reloading many by id (database parameter limits).
ID_CHUNK = 2000

LANGUAGE_BITS: dict[str, int] = {code: 1 << i for i, (code, _label) in enumerate(SPOKEN_LANGUAGES)}

assert CHANGES_KEPT > REBUILD_AFTER + SYNC_MARGIN


def now_seconds() -> float:
    """The present as seconds since the epoch: the `now` the matching engine compares
    on-duty times with."""
    return timezone.now().timestamp()


def volunteers_changed(*, member_ids: Iterable[int], group_id: int | None = None) -> None:
    """Tell every process's volunteer indexes that these members changed. Call it inside the
    transaction of the change, so the note is seen exactly when the change is.

    `group_id` is for members who have just left that group: the note then reaches that group's
    index although they are no longer its members."""
    ids = sorted({int(member_id) for member_id in member_ids})
    if not ids:
        return
    now = timezone.now()
    VolunteerChange.objects.bulk_create(
        [VolunteerChange(member_id=pk, group_id=group_id, changed_at=now) for pk in ids]
    )


def languages_bits(codes: Iterable[str]) -> int:
    bits = 0
    for code in codes or ():
        bits |= LANGUAGE_BITS.get(code, 0)
    return bits


def day_bits(weekday: int) -> int:
    """Every part of one weekday (0 = Monday) as availability bits."""
    parts = len(DAY_PARTS)
    return ((1 << parts) - 1) << (weekday * parts)


def request_window(request: Request, *, today: date) -> int:
    """The availability bits a volunteer must share to help in time: the days from today to
    the request's needed-by date, or today alone for one needed today; 0 (any time) for a
    request with no date, or whose days cover a whole week."""
    if request.needed_by is not None:
        last = max(request.needed_by, today)
    elif request.urgency == Urgency.TODAY:
        last = today
    else:
        return 0
    days = (last - today).days + 1
    if days >= 7:
        return 0
    window = 0
    for offset in range(days):
        window |= day_bits((today.weekday() + offset) % 7)
    return window


def _in_transaction() -> bool:
    """Whether the current code runs inside a transaction that may still roll back. The
    blocks a test case wraps each test in do not count: they never commit, and what is written
    inside them is what the test treats as committed."""
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def _epoch(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else 0.0


def _count(queryset: QuerySet[Any]) -> Coalesce:
    """How many rows of `queryset` (already filtered by member=OuterRef("pk")) each member has."""
    counted = queryset.order_by().values("member_id").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def active_claims(**filters: Any) -> QuerySet[Claim]:
    return Claim.objects.filter(released_at__isnull=True, done_at__isnull=True, **filters)


def pending_assignments(**filters: Any) -> QuerySet[Assignment]:
    return Assignment.objects.filter(answer=Assignment.Answer.PENDING, **filters)


def member_loads(*, member_ids: Iterable[int]) -> dict[int, int]:
    """How many tasks each of these members holds now, across all groups: active claims (not
    released, not done) and requests waiting for their answer. One query; members holding none
    are left out."""
    ids = list(member_ids)
    loads = (
        User.objects.filter(pk__in=ids)
        .annotate(
            claim_count=_count(active_claims(member_id=OuterRef("pk"))),
            waiting_count=_count(pending_assignments(member_id=OuterRef("pk"))),
        )
        .values_list("pk", "claim_count", "waiting_count")
    )
    return {pk: claims + waiting for pk, claims, waiting in loads if claims + waiting}


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class _Loaded:
    """Members as rows of the index's columns."""

    ids: list[int] = field(default_factory=list)
    latitude: list[float] = field(default_factory=list)
    longitude: list[float] = field(default_factory=list)
    travel_km: list[float] = field(default_factory=list)
    skills: list[int] = field(default_factory=list)
    languages: list[int] = field(default_factory=list)
    availability: list[int] = field(default_factory=list)
    capacity: list[int] = field(default_factory=list)
    load: list[int] = field(default_factory=list)
    recent_tasks: list[int] = field(default_factory=list)
    on_duty_until: list[float] = field(default_factory=list)

    def columns(self) -> dict[str, list[Any]]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


class GroupVolunteers:
    """One group's members as a volunteer index, with what turns a request into a `Need`."""

    def __init__(self, group: Group) -> None:
        self.group_id: int = group.pk
        self.index = VolunteerIndex()
        self.skill_bits: dict[int, int] = {}
        self.shared_skill_ids: dict[str, int] = {}
        self.built_at: datetime | None = None
        self.synced_to: datetime | None = None
        # The change rows already read, by (id, member, time): SQLite hands the id of a row
        # rolled back to the next row written, so the id alone does not name one change.
        self._seen: set[tuple[int, int, datetime]] = set()
        # Members loaded inside transactions that have not committed yet, each with a mark per
        # such transaction: what was loaded may be that transaction's own writes, which a
        # rollback undoes without a trace. They are loaded again on each look until every
        # transaction that loaded them has committed, or a look outside any transaction has
        # loaded them from what is committed.
        self._unsure: dict[int, set[int]] = {}

    # What the engine is asked

    def need_for(self, request: Request, *, today: date | None = None) -> Need:
        """The request as the engine reads it: its rough point, the group's search radius, the
        skill its category needs (required), its language (required, and preferred), and the
        days it is needed in."""
        from mutualaid.needs.notifications import CATEGORY_SKILLS, request_point

        latitude, longitude = request_point(request)
        skills = 0
        skill_name = CATEGORY_SKILLS.get(request.category)
        if skill_name:
            skill_id = self.shared_skill_ids.get(skill_name.lower())
            bit = self.skill_bits.get(skill_id) if skill_id is not None else None
            skills = (1 << bit) if bit is not None else UNMATCHABLE_SKILL_BIT
        language = LANGUAGE_BITS.get(request.language, 0) if request.language else 0
        return Need(
            id=request.pk,
            latitude=latitude,
            longitude=longitude,
            radius_km=float(request.group.match_radius_km),
            skills=skills,
            languages=language,
            preferred_language=language,
            window=request_window(request, today=today or timezone.localdate()),
        )

    # Keeping it current

    def rebuild(self) -> None:
        """Build the index again from the database."""
        started = timezone.now()
        changes = list(self._changes_since(started - SYNC_MARGIN))
        self.skill_bits = {}
        self.shared_skill_ids = {}
        self._number_skills()
        loaded = self._load(None)
        self.index = VolunteerIndex.from_arrays(**loaded.columns())
        self._seen = set(changes)
        self.built_at = self.synced_to = started
        # Whatever a transaction of this process wrote and has not committed has its change
        # row among these.
        self._unsure = {}
        self._unsure_until_commit({member_id for _pk, member_id, _at in changes})

    def sync(self) -> None:
        """Bring the index up to date: reload the members changed since the last look."""
        if self.synced_to is None or self.built_at is None:
            self.rebuild()
            return
        started = timezone.now()
        if started - self.built_at > REBUILD_AFTER or started < self.synced_to - SYNC_MARGIN:
            self.rebuild()
            return
        changed = set(self._unsure)
        for pk, member_id, changed_at in self._changes_since(self.synced_to - SYNC_MARGIN):
            if (pk, member_id, changed_at) not in self._seen:
                self._seen.add((pk, member_id, changed_at))
                changed.add(member_id)
        if changed:
            self.reload(changed)
            self._unsure_until_commit(changed)
        # Rows older than the next look's start are not read again, so need not be remembered.
        oldest = started - SYNC_MARGIN
        self._seen = {seen for seen in self._seen if seen[2] >= oldest}
        self.synced_to = started

    def _unsure_until_commit(self, member_ids: set[int]) -> None:
        """Keep loading these members again until the current transaction commits. Outside a
        transaction what was loaded is committed, so none of them is unsure any more."""
        if not _in_transaction():
            for member_id in member_ids:
                self._unsure.pop(member_id, None)
            return
        mark = next(_marks)
        for member_id in member_ids:
            self._unsure.setdefault(member_id, set()).add(mark)

        def committed() -> None:
            with _lock:
                for member_id in member_ids:
                    marks = self._unsure.get(member_id)
                    if marks is not None:
                        marks.discard(mark)
                        if not marks:
                            del self._unsure[member_id]

        transaction.on_commit(committed)

    def reload(self, member_ids: Iterable[int]) -> None:
        """Put these members in as the database has them now, or take them out when they are
        no longer members with a home."""
        ids = sorted(set(member_ids))
        for chunk in _chunks(ids, ID_CHUNK):
            loaded = self._load(chunk)
            if loaded.ids:
                self.index.upsert_many(**loaded.columns())
            for member_id in set(chunk) - set(loaded.ids):
                self.index.remove(member_id)

    def _changes_since(self, since: datetime) -> QuerySet[Any]:
        """(id, member id, when) of the change rows since `since` about this group's members,
        or about members who left it."""
        is_member = Exists(
            Membership.objects.filter(group_id=self.group_id, member_id=OuterRef("member_id"))
        )
        return (
            VolunteerChange.objects.filter(changed_at__gte=since)
            .filter(Q(group_id=self.group_id) | (Q(group_id__isnull=True) & is_member))
            .values_list("pk", "member_id", "changed_at")
        )

    def _number_skills(self) -> None:
        """Give bits to the group's skills not numbered yet: shared ones first, each by id."""
        skills = (
            Skill.objects.filter(Q(group__isnull=True) | Q(group_id=self.group_id))
            .order_by("group_id", "pk")
            .values_list("pk", "name", "group_id")
        )
        ordered = sorted(skills, key=lambda row: (row[2] is not None, row[0]))
        for pk, name, group_id in ordered:
            if group_id is None:
                self.shared_skill_ids.setdefault(name.lower(), pk)
            if pk not in self.skill_bits and len(self.skill_bits) < SKILL_BITS:
                self.skill_bits[pk] = len(self.skill_bits)

    def _members(self, member_ids: Sequence[int] | None) -> QuerySet[User]:
        members = User.objects.filter(
            memberships__group_id=self.group_id,
            is_active=True,
            erased_at__isnull=True,
            home_latitude__isnull=False,
            home_longitude__isnull=False,
        )
        if member_ids is not None:
            members = members.filter(pk__in=member_ids)
        return members

    def _load(self, member_ids: Sequence[int] | None) -> _Loaded:
        """The members (all of the group's, or these) who belong in the index, as columns:
        two queries, one for the members with their load and recent tasks, one for skills."""
        recent_since = timezone.now() - timedelta(days=RECENT_DAYS)
        rows = (
            self._members(member_ids)
            .annotate(
                claim_count=_count(active_claims(member_id=OuterRef("pk"))),
                waiting_count=_count(pending_assignments(member_id=OuterRef("pk"))),
                recent_count=_count(
                    Claim.objects.filter(
                        member_id=OuterRef("pk"),
                        claimed_at__gte=recent_since,
                        released_at__isnull=True,
                    )
                ),
            )
            .order_by("pk")
            .values_list(
                "pk",
                "home_latitude",
                "home_longitude",
                "travel_km",
                "languages",
                "availability",
                "max_open_tasks",
                "on_duty_until",
                "claim_count",
                "waiting_count",
                "recent_count",
            )
        )
        loaded = _Loaded()
        for (
            pk,
            latitude,
            longitude,
            travel_km,
            languages,
            availability,
            capacity,
            on_duty_until,
            claims,
            waiting,
            recent,
        ) in rows:
            # The query keeps only members with a home.
            assert latitude is not None
            assert longitude is not None
            loaded.ids.append(pk)
            loaded.latitude.append(float(latitude))
            loaded.longitude.append(float(longitude))
            loaded.travel_km.append(float(travel_km))
            loaded.languages.append(languages_bits(languages))
            loaded.availability.append(availability or ALL_WEEK)
            loaded.capacity.append(capacity)
            loaded.load.append(claims + waiting)
            loaded.recent_tasks.append(recent)
            loaded.on_duty_until.append(_epoch(on_duty_until))
        if not loaded.ids:
            return loaded
        held: dict[int, list[int]] = {}
        through = User.skills.through.objects.filter(
            Q(skill__group__isnull=True) | Q(skill__group_id=self.group_id)
        )
        if member_ids is not None:
            through = through.filter(user_id__in=loaded.ids)
        else:
            through = through.filter(user_id__in=self._members(None).values("pk"))
        for user_id, skill_id in through.values_list("user_id", "skill_id"):
            held.setdefault(user_id, []).append(skill_id)
        if any(skill not in self.skill_bits for skills in held.values() for skill in skills):
            # A skill added to the group's list since the numbering: number it now.
            self._number_skills()
        for pk in loaded.ids:
            bits = 0
            for skill_id in held.get(pk, ()):
                bit = self.skill_bits.get(skill_id)
                if bit is not None:
                    bits |= 1 << bit
            loaded.skills.append(bits)
        return loaded


_cache: "OrderedDict[tuple[int, datetime], GroupVolunteers]" = OrderedDict()
_lock = threading.RLock()
_marks = itertools.count()


def group_volunteers(group: Group) -> GroupVolunteers:
    """The group's volunteer index, brought up to date from the database: built on first use in
    this process, then updated from the change rows on each call."""
    # The creation time is in the key so that a group recreated under a reused id (a database
    # restored, or rolled back in tests) never inherits another group's index.
    key = (group.pk, group.created_at)
    with _lock:
        volunteers = _cache.get(key)
        if volunteers is None:
            volunteers = GroupVolunteers(group)
            _cache[key] = volunteers
            while len(_cache) > CACHED_GROUPS:
                _cache.popitem(last=False)
        else:
            _cache.move_to_end(key)
        volunteers.sync()
        return volunteers


def forget_all() -> None:
    """Drop every cached index of this process (tests, and an operator's shell)."""
    with _lock:
        _cache.clear()


def volunteer_changes_purge(*, now: datetime | None = None) -> int:
    """Delete change rows older than CHANGES_KEPT: every index has read them or been rebuilt
    since. Returns how many were deleted."""
    cutoff = (now or timezone.now()) - CHANGES_KEPT
    deleted, _rows = VolunteerChange.objects.filter(changed_at__lt=cutoff).delete()
    return deleted
