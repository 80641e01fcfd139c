"""Two dispatchers pressing "match all" for the same group at the same moment, each from its
own thread and database connection: every request is proposed once, and nobody is proposed
more than their capacity. On PostgreSQL the two really overlap and the group's row lock
decides; on SQLite the IMMEDIATE transactions queue them, and the result must be the same."""

from collections import Counter

import pytest

from mutualaid.dispatch import services
from mutualaid.dispatch.tests.proposal_helpers import NO_HOME, make_world, volunteer
from mutualaid.needs.models import Assignment
from mutualaid.needs.tests.factories import dispatcher_of, make_request
from mutualaid.people.models import User
from mutualaid.tests.races import on_postgresql, on_sqlite, run_at_once

REQUESTS = 8
ROUNDS = 3


def _two_dispatchers_match_all_at_once() -> None:
    for _round in range(ROUNDS):
        # given: eight requests, and eight volunteers with room for one each
        world = make_world()
        before = set(User.objects.values_list("pk", flat=True))
        other_dispatcher = dispatcher_of(world.group, **NO_HOME)
        User.objects.exclude(pk__in=before).update(**NO_HOME)
        helpers = [volunteer(world.group, 0.5 + km / 2, max_open_tasks=1) for km in range(8)]
        requests = [make_request(world.group) for _ in range(REQUESTS)]

        # when
        group = world.group
        results = run_at_once(
            [
                lambda who=who, group=group: services.requests_match_all(
                    group=group, dispatcher=who
                )
                for who in (world.dispatcher, other_dispatcher)
            ]
        )

        # then
        assert not any(isinstance(result, Exception) for result in results), results
        assert sum(len(result.proposals) for result in results) == REQUESTS
        assignments = list(Assignment.objects.filter(request__in=requests))
        assert len(assignments) == REQUESTS
        assert {a.answer for a in assignments} == {Assignment.Answer.PENDING}
        assert sorted(Counter(a.request_id for a in assignments).values()) == [1] * REQUESTS
        assert sorted(Counter(a.member_id for a in assignments).values()) == [1] * REQUESTS
        assert {a.member_id for a in assignments} == {helper.pk for helper in helpers}


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_two_simultaneous_match_alls_propose_each_request_once():
    _two_dispatchers_match_all_at_once()


@on_sqlite
@pytest.mark.django_db(transaction=True)
def test_on_sqlite_two_simultaneous_match_alls_propose_each_request_once():
    _two_dispatchers_match_all_at_once()
