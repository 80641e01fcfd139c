"""Several threads, each with its own database connection, change profiles, memberships, claims
and questions at once while another keeps syncing the group's index. Afterwards the index the
syncer kept up to date equals one built from scratch, column by column. Some writers hold their
transaction open a while after writing their note, as a slow request would, so the index looks
while changes it has not seen are still uncommitted; some look at the index from inside their
transaction and then roll it back. Runs on SQLite and, with DATABASE_URL, on
PostgreSQL, where the writers really overlap."""

import random
import threading
import time
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction

from mutualaid.common.errors import ApplicationError
from mutualaid.dispatch import volunteers
from mutualaid.dispatch.services import member_duty_end, member_duty_start
from mutualaid.dispatch.tests.volunteer_helpers import edit_profile, rebuilt, rows, shared_skill
from mutualaid.dispatch.volunteers import group_volunteers
from mutualaid.groups import services as group_services
from mutualaid.needs import services as needs_services
from mutualaid.needs.models import Assignment, Claim, Request
from mutualaid.needs.tests.factories import dispatcher_of, make_group, make_request, member_of
from mutualaid.people.models import ALL_WEEK, SPOKEN_LANGUAGES, User
from mutualaid.people.tests.factories import UserFactory

WRITERS = 4
STEPS = 18
MEMBERS_EACH = 3
REQUESTS = 12

pytestmark = pytest.mark.django_db(transaction=True)


class _RolledBack(Exception):
    pass


def _writer(
    *,
    seed: int,
    group_id: int,
    member_ids: list[int],
    newcomer_id: int,
    dispatcher_id: int,
    skill_ids: list[int],
) -> Callable[[], None]:
    def step(chance: random.Random) -> None:
        group = _group(group_id)
        member = User.objects.get(pk=chance.choice(member_ids))
        action = chance.randrange(8)
        if action == 0:
            edit_profile(
                member,
                languages=chance.sample([code for code, _l in SPOKEN_LANGUAGES], 2),
                availability=chance.choice([0, ALL_WEEK, 0b111, 0b111000]),
                travel_km=chance.randrange(0, 12),
                max_open_tasks=chance.randrange(1, 4),
                skills=list(
                    type(shared_skill("Driving")).objects.filter(pk__in=chance.sample(skill_ids, 2))
                ),
            )
        elif action == 1:
            home = chance.choice([None, Decimal("53.45"), Decimal("53.47")])
            edit_profile(member, home_latitude=home, home_longitude=None if home is None else -2.2)
        elif action == 2:
            open_ids = list(
                Request.objects.filter(group_id=group_id, status="open").values_list(
                    "pk", flat=True
                )
            )
            if open_ids:
                request = Request.objects.get(pk=chance.choice(open_ids))
                needs_services.request_claim(request=request, member=member)
        elif action == 3:
            claim = Claim.objects.filter(
                member=member, released_at__isnull=True, done_at__isnull=True
            ).first()
            if claim is not None:
                if chance.random() < 0.5:
                    needs_services.request_release(
                        request=claim.request, member=member, reason="Something came up"
                    )
                else:
                    needs_services.request_complete(request=claim.request, member=member)
        elif action == 4:
            open_ids = list(
                Request.objects.filter(group_id=group_id, status="open").values_list(
                    "pk", flat=True
                )
            )
            if open_ids:
                needs_services.request_assign(
                    request=Request.objects.get(pk=chance.choice(open_ids)),
                    member=member,
                    dispatcher=User.objects.get(pk=dispatcher_id),
                )
        elif action == 5:
            assignment = Assignment.objects.filter(member=member, answer="pending").first()
            if assignment is not None:
                needs_services.assignment_decline(assignment=assignment, member=member)
        elif action == 6:
            newcomer = User.objects.get(pk=newcomer_id)
            if newcomer.memberships.filter(group_id=group_id).exists():
                group_services.group_leave(group=group, member=newcomer)
            else:
                group_services.group_join(group=group, member=newcomer)
        elif chance.random() < 0.5:
            member_duty_start(member=member, hours=chance.choice([2, 4, 8]))
        else:
            member_duty_end(member=member)

    def run() -> None:
        chance = random.Random(seed)
        for _ in range(STEPS):
            try:
                if chance.random() < 0.4:
                    # A slow request: its note is written, but it commits only later. Some look
                    # at the index meanwhile, as passing a proposal on does, and some roll back.
                    with transaction.atomic():
                        step(chance)
                        if chance.random() < 0.5:
                            group_volunteers(_group(group_id))
                        time.sleep(0.03)
                        if chance.random() < 0.3:
                            raise _RolledBack
                else:
                    step(chance)
            except (ApplicationError, PermissionDenied, _RolledBack):
                pass  # someone else took it first, they had just left, or it was undone

    return run


def _group(group_id: int):
    from mutualaid.groups.models import Group

    return Group.objects.get(pk=group_id)


def _run_all(work: list[Callable[[], None]], *, syncing: Callable[[], None]) -> None:
    errors: list[BaseException] = []
    stop = threading.Event()

    def guarded(job: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                job()
            except BaseException as error:
                errors.append(error)
            finally:
                connection.close()

        return run

    def sync_until_stopped() -> None:
        while not stop.is_set():
            syncing()
            time.sleep(0.002)

    syncer = threading.Thread(target=guarded(sync_until_stopped))
    writers = [threading.Thread(target=guarded(job)) for job in work]
    syncer.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=300)
    stop.set()
    syncer.join(timeout=60)
    assert not any(thread.is_alive() for thread in [*writers, syncer])
    assert errors == []


def test_an_index_synced_during_concurrent_changes_equals_one_rebuilt_from_scratch():
    # given
    volunteers.forget_all()
    group = make_group()
    dispatcher = dispatcher_of(group)
    members = [[member_of(group).pk for _ in range(MEMBERS_EACH)] for _ in range(WRITERS)]
    newcomers = [UserFactory().pk for _ in range(WRITERS)]
    skill_ids = [
        shared_skill(name).pk for name in ("Driving", "Dog walking", "Childcare", "DIY repairs")
    ]
    for _ in range(REQUESTS):
        make_request(group)
    first = group_volunteers(group)
    built_at = first.built_at
    syncs = 0

    def sync() -> None:
        nonlocal syncs
        group_volunteers(group)
        syncs += 1

    # when
    _run_all(
        [
            _writer(
                seed=seed,
                group_id=group.pk,
                member_ids=members[seed],
                newcomer_id=newcomers[seed],
                dispatcher_id=dispatcher.pk,
                skill_ids=skill_ids,
            )
            for seed in range(WRITERS)
        ],
        syncing=sync,
    )

    # then: the index followed the changes alone, and holds what the database holds
    synced = group_volunteers(group)
    assert synced is first
    assert synced.built_at == built_at
    assert syncs > 1
    assert rows(synced) == rows(rebuilt(group))
    volunteers.forget_all()
