"""Many members claim one request at the same moment, each from its own thread and database
connection: exactly one wins, every other one is told someone else has it, and one claim row
exists. On PostgreSQL the claims really run at once and the conditional update decides; on
SQLite the IMMEDIATE transactions queue the writers, and the same code must still give one
winner."""

import json
import urllib.error
import urllib.request

import pytest

from mutualaid.common.errors import ApplicationError
from mutualaid.needs import services
from mutualaid.needs.models import Assignment, Claim, Request
from mutualaid.needs.tests.factories import dispatcher_of, make_group, make_request, member_of
from mutualaid.people.services import api_token_create
from mutualaid.tests.races import on_postgresql, on_sqlite, run_at_once

CLAIMERS = 24
TAKEN = (409, "conflict", "Someone else has already taken this request.")


def _claim_with_a_fresh_copy(request_id: int, member) -> object:
    def claim() -> object:
        # Each claimer loads the request as its page would, before the race starts.
        return services.request_claim(request=Request.objects.get(pk=request_id), member=member)

    return claim


def _outcome(result: object) -> object:
    if isinstance(result, ApplicationError):
        return (result.status, result.code, result.message)
    if isinstance(result, Claim):
        return "claimed"
    return result


def _many_members_claim_one_request() -> None:
    # given
    group = make_group()
    members = [member_of(group) for _ in range(CLAIMERS)]
    request = make_request(group)
    # when
    results = run_at_once([_claim_with_a_fresh_copy(request.pk, member) for member in members])
    # then
    outcomes = [_outcome(result) for result in results]
    assert outcomes.count("claimed") == 1, outcomes
    assert outcomes.count(TAKEN) == CLAIMERS - 1, outcomes
    winner = members[outcomes.index("claimed")]
    request.refresh_from_db()
    assert (request.status, request.claimed_by) == ("claimed", winner)
    assert list(Claim.objects.filter(request=request).values_list("member", flat=True)) == [
        winner.pk
    ]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_exactly_one_of_many_simultaneous_claims_wins():
    _many_members_claim_one_request()


@on_sqlite
@pytest.mark.django_db(transaction=True)
def test_on_sqlite_exactly_one_of_many_simultaneous_claims_wins():
    _many_members_claim_one_request()


def _post_claim(url: str, token: str) -> object:
    def post() -> object:
        # The live test server's own http:// address, nothing a caller chose.
        headers = {"Authorization": f"Bearer {token}"}
        call = urllib.request.Request(url, method="POST", headers=headers, data=b"")  # noqa: S310
        try:
            with urllib.request.urlopen(call, timeout=60) as response:  # noqa: S310
                return (response.status, json.load(response)["status"])
        except urllib.error.HTTPError as error:
            return (error.code, json.load(error)["detail"])

    return post


@pytest.mark.django_db(transaction=True)
def test_many_api_clients_claiming_at_once_get_one_200_and_the_rest_409(live_server):
    """The whole path as clients meet it: HTTP, token, view, service and database, with every
    client's request served in its own server thread and database connection."""
    # given
    group = make_group()
    members = [member_of(group) for _ in range(CLAIMERS)]
    tokens = [api_token_create(user=member, name="race")[1] for member in members]
    request = make_request(group)
    url = f"{live_server.url}/api/requests/{request.pk}/claim"

    # when
    results = run_at_once([_post_claim(url, token) for token in tokens])

    # then
    assert results.count((200, "claimed")) == 1, results
    assert results.count((409, "Someone else has already taken this request.")) == CLAIMERS - 1
    winner = members[results.index((200, "claimed"))]
    request.refresh_from_db()
    assert (request.status, request.claimed_by) == ("claimed", winner)
    assert list(Claim.objects.filter(request=request).values_list("member", flat=True)) == [
        winner.pk
    ]


@pytest.mark.django_db(transaction=True)
def test_an_accepted_assignment_and_claims_racing_give_one_holder():
    # given: a request offered to one member while others try to claim it
    group = make_group()
    asked = member_of(group)
    request = make_request(group)
    assignment = services.request_assign(
        request=request, member=asked, dispatcher=dispatcher_of(group)
    )
    others = [member_of(group) for _ in range(7)]

    def accept() -> object:
        return services.assignment_accept(
            assignment=Assignment.objects.select_related("request").get(pk=assignment.pk),
            member=asked,
        )

    # when
    results = run_at_once([accept, *[_claim_with_a_fresh_copy(request.pk, m) for m in others]])
    # then
    outcomes = [_outcome(result) for result in results]
    assert outcomes.count("claimed") == 1, outcomes
    assert all(
        outcome == "claimed" or (isinstance(outcome, tuple) and outcome[0] == 409)
        for outcome in outcomes
    ), outcomes
    request.refresh_from_db()
    assignment.refresh_from_db()
    assert Claim.objects.filter(request=request).count() == 1
    holder_won = request.claimed_by == asked
    assert assignment.answer == ("accepted" if holder_won else "withdrawn")


@pytest.mark.django_db(transaction=True)
def test_a_holder_releasing_while_others_claim_leaves_one_active_claim():
    # given: a claimed request whose holder lets it go while others try to take it
    group = make_group()
    holder = member_of(group)
    request = make_request(group)
    services.request_claim(request=request, member=holder)
    others = [member_of(group) for _ in range(7)]

    def release() -> object:
        return services.request_release(
            request=Request.objects.get(pk=request.pk), member=holder, reason="Ill"
        )

    # when
    results = run_at_once([release, *[_claim_with_a_fresh_copy(request.pk, m) for m in others]])
    # then
    assert results[0] is None, results
    assert all(
        isinstance(r, Claim) or (isinstance(r, ApplicationError) and r.status == 409)
        for r in results[1:]
    ), results
    request.refresh_from_db()
    active = Claim.objects.filter(request=request, released_at__isnull=True)
    if request.status == "claimed":
        assert [c.member_id for c in active] == [request.claimed_by_id]
    else:
        assert (request.status, active.count()) == ("open", 0)
