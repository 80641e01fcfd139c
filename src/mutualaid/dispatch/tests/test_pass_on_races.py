"""An accept and the expiry of the same proposal at the same moment, and two workers expiring
at once, each from its own thread and database connection: exactly one outcome holds, never
both, and nothing waits for ever. On PostgreSQL they really overlap (the request's row lock and
the conditional update decide); on SQLite the IMMEDIATE transactions queue them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mutualaid.common.errors import ApplicationError
from mutualaid.dispatch import services
from mutualaid.dispatch.tests.proposal_helpers import make_world, volunteer
from mutualaid.needs import services as needs_services
from mutualaid.needs.models import Assignment, Claim, Request
from mutualaid.needs.tests.factories import make_request
from mutualaid.tests.races import on_postgresql, on_sqlite, run_at_once

ROUNDS = 6


def _answers(request: Request) -> list[tuple[int, str]]:
    return list(
        Assignment.objects.filter(request=request)
        .order_by("created_at", "pk")
        .values_list("member_id", "answer")
    )


def _accept_and_expire_at_once() -> None:
    world = make_world()
    first = volunteer(world.group, 1, max_open_tasks=ROUNDS)
    second = volunteer(world.group, 2, max_open_tasks=ROUNDS)
    outcomes = set()
    for _round in range(ROUNDS):
        # given: a proposal to the first volunteer whose time is just over
        request = make_request(world.group)
        (proposal,) = services.requests_match_all(
            group=world.group, dispatcher=world.dispatcher
        ).proposals
        assert proposal.member_id == first.pk
        Assignment.objects.filter(pk=proposal.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )

        def accept(pk: int = proposal.pk) -> object:
            fresh = Assignment.objects.select_related("request__group").get(pk=pk)
            return needs_services.assignment_accept(assignment=fresh, member=first)

        # when
        accepted, expired = run_at_once([accept, services.assignments_expire_overdue])

        # then: either the accept won and nothing passed on, or the expiry won, the accept was
        # refused and the request went to the second volunteer
        request.refresh_from_db()
        if isinstance(accepted, Claim):
            assert expired == 0
            assert (request.status, request.claimed_by_id) == ("claimed", first.pk)
            assert _answers(request) == [(first.pk, "accepted")]
            outcomes.add("accepted")
        else:
            assert isinstance(accepted, ApplicationError), accepted
            assert accepted.status == 409
            assert expired == 1
            assert request.status == "open"
            assert _answers(request) == [(first.pk, "expired"), (second.pk, "pending")]
            assert not Claim.objects.filter(request=request).exists()
            outcomes.add("expired")
            # the second volunteer's proposal is answered, so the next round starts clean
            Assignment.objects.filter(request=request, answer="pending").update(answer="withdrawn")
    assert outcomes <= {"accepted", "expired"}


def _two_workers_expire_at_once() -> None:
    world = make_world()
    first = volunteer(world.group, 1)
    second = volunteer(world.group, 2)
    request = make_request(world.group)
    (proposal,) = services.requests_match_all(
        group=world.group, dispatcher=world.dispatcher
    ).proposals
    later = proposal.expires_at + timedelta(seconds=1)

    results = run_at_once([lambda: services.assignments_expire_overdue(now=later)] * 4)

    assert sorted(results) == [0, 0, 0, 1], results
    assert _answers(request) == [(first.pk, "expired"), (second.pk, "pending")]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_an_accept_and_an_expiry_at_once_give_one_outcome():
    _accept_and_expire_at_once()


@on_sqlite
@pytest.mark.django_db(transaction=True)
def test_on_sqlite_an_accept_and_an_expiry_at_once_give_one_outcome():
    _accept_and_expire_at_once()


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_two_workers_expiring_at_once_pass_it_on_once():
    _two_workers_expire_at_once()


@on_sqlite
@pytest.mark.django_db(transaction=True)
def test_on_sqlite_two_workers_expiring_at_once_pass_it_on_once():
    _two_workers_expire_at_once()
