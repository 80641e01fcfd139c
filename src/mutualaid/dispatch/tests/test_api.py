"""Matching in the JSON API: suggestions and "match all" for dispatchers, the on-duty switch,
supply and demand for members; who may call each, and that no answer ever carries anything of
the person who asked."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from mutualaid.api.tests.wire import NEEDS_TOKEN, as_json_time, token_for
from mutualaid.dispatch import volunteers
from mutualaid.dispatch.selectors import LEFTOVER_REASONS
from mutualaid.dispatch.services import member_duty_start
from mutualaid.dispatch.tests.proposal_helpers import make_world, volunteer
from mutualaid.groups.models import Group
from mutualaid.matching import Reason
from mutualaid.needs import services as needs_services
from mutualaid.needs.models import Assignment, Channel, Request
from mutualaid.needs.tests.factories import make_group, make_request, member_of
from mutualaid.people.models import User
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOT_FOUND = {"detail": "Not found."}
DISPATCHERS_ONLY = {"detail": "Only the group's dispatchers can see suggested volunteers."}
MATCH_ALL_DISPATCHERS_ONLY = {
    "detail": "Only a dispatcher of this group can match all open requests."
}
SUPPLY_MEMBERS_ONLY = {"detail": "Only members of this group can see where help is missing."}

# What the person who asked told the group: none of it may appear in any answer here.
CANARY = {
    "name": "Cressida Canary",
    "phone": "+44 7700 900417",
    "email": "cressida.canary@example.org",
    "address": "17 Canary Row, M19 2QX",
    "description": "Canary seed and a loaf of rye",
}
# About 17 km north of the group's centre: nobody lives near it.
FAR_AWAY = {"latitude": Decimal("53.60"), "longitude": Decimal("-2.22")}


def assert_no_personal_data(response: HttpResponse) -> None:
    body = response.content.decode()
    assert [value for value in CANARY.values() if value in body] == []


@dataclass
class World:
    group: Group
    dispatcher: User
    member: User
    outsider: User
    near: User  # about 1.1 km from the group's centre, on duty
    farther: User  # about 2.2 km from the group's centre
    request: Request  # at the group's centre, open, with the canary's details

    def headers(self, role: str) -> dict[str, str]:
        return {} if role == "anonymous" else token_for(getattr(self, role))


@pytest.fixture
def world() -> World:
    base = make_world()
    near = volunteer(base.group, 1, display_name="Nell Near")
    member_duty_start(member=near, hours=2)
    farther = volunteer(base.group, 2, display_name="Fran Farther")
    return World(
        group=base.group,
        dispatcher=base.dispatcher,
        member=member_of(base.group, display_name="Mo Member", home_latitude=None),
        outsider=UserFactory(display_name="Olly Outsider"),
        near=near,
        farther=farther,
        request=make_request(base.group, **CANARY),
    )


def suggestions_url(request: Request | int) -> str:
    return f"/api/requests/{getattr(request, 'pk', request)}/suggestions"


def match_all_url(slug: str) -> str:
    return f"/api/groups/{slug}/match-all"


def supply_url(slug: str) -> str:
    return f"/api/groups/{slug}/supply-and-demand"


# Suggestions


def test_a_dispatcher_sees_the_best_volunteers_with_their_reasons(
    client: Client, world: World
) -> None:
    # when
    response = client.get(suggestions_url(world.request), headers=world.headers("dispatcher"))
    # then
    assert response.status_code == 200
    assert response.json() == {
        "suggestions": [
            {
                "member_id": world.near.pk,
                "display_name": "Nell Near",
                "distance_km": 1.1,
                "score": 1.112,
                "on_duty": True,
                "recent_tasks": 0,
                "reasons": ["1.0 km away", "on duty", "no tasks in the last four weeks"],
            },
            {
                "member_id": world.farther.pk,
                "display_name": "Fran Farther",
                "distance_km": 2.2,
                "score": 2.224,
                "on_duty": False,
                "recent_tasks": 0,
                "reasons": ["2.0 km away", "no tasks in the last four weeks"],
            },
        ],
        "leftover_reason": None,
        "leftover_text": "",
    }
    assert_no_personal_data(response)


def test_suggestions_leave_out_who_declined_and_who_asked(client: Client, world: World) -> None:
    # given: the nearer volunteer asked for this help themself
    own = make_request(world.group, created_by=world.near, channel=Channel.API, **CANARY)
    assignment = needs_services.request_assign(
        request=own, member=world.farther, dispatcher=world.dispatcher
    )
    needs_services.assignment_decline(assignment=assignment, member=world.farther, reason="Away")
    # when
    response = client.get(suggestions_url(own), headers=world.headers("dispatcher"))
    # then
    assert response.status_code == 200
    assert response.json() == {
        "suggestions": [],
        "leftover_reason": "nobody_in_range",
        "leftover_text": str(LEFTOVER_REASONS[Reason.NOBODY_IN_RANGE]),
    }
    assert_no_personal_data(response)


def test_when_nobody_fits_the_answer_says_why(client: Client, world: World) -> None:
    # given
    far = make_request(world.group, **{**CANARY, **FAR_AWAY})
    # when
    response = client.get(suggestions_url(far), headers=world.headers("dispatcher"))
    # then
    assert response.status_code == 200
    assert response.json() == {
        "suggestions": [],
        "leftover_reason": "nobody_in_range",
        "leftover_text": (
            "Nobody who gave a home area lives near enough: no member is within the group's "
            "search distance of this request and within how far they said they travel."
        ),
    }
    assert_no_personal_data(response)


def test_suggestions_for_a_request_no_longer_open_are_a_409(client: Client, world: World) -> None:
    # given
    needs_services.request_claim(request=world.request, member=world.farther)
    # when
    response = client.get(suggestions_url(world.request), headers=world.headers("dispatcher"))
    # then
    assert response.status_code == 409
    assert response.json() == {"detail": "This request is no longer open."}


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [
        ("anonymous", 401, {"detail": NEEDS_TOKEN}),
        ("outsider", 403, DISPATCHERS_ONLY),
        ("member", 403, DISPATCHERS_ONLY),
        ("near", 403, DISPATCHERS_ONLY),
    ],
)
def test_only_dispatchers_see_suggestions(
    client: Client, world: World, role: str, status: int, body: dict[str, Any]
) -> None:
    # when
    response = client.get(suggestions_url(world.request), headers=world.headers(role))
    # then
    assert response.status_code == status
    assert response.json() == body


@pytest.mark.parametrize("request_id", ["999999", str(2**63), "9" * 30])
def test_suggestions_for_an_unknown_request_are_a_404(
    client: Client, world: World, request_id: str
) -> None:
    # when
    response = client.get(suggestions_url(request_id), headers=world.headers("dispatcher"))
    # then
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


# token, request, the dispatcher's role in force, who declined, the index's changes and the
# members chosen
SUGGESTION_QUERIES = 6


@pytest.mark.parametrize("members", [6, 30])
def test_suggestions_cost_a_fixed_number_of_queries(
    client: Client, world: World, django_assert_num_queries: Any, members: int
) -> None:
    # given
    for n in range(members):
        volunteer(world.group, n % 4)
    headers = world.headers("dispatcher")
    client.get(suggestions_url(world.request), headers=headers)  # built once per process
    # when
    with django_assert_num_queries(SUGGESTION_QUERIES):
        response = client.get(suggestions_url(world.request), headers=headers)
    # then
    assert len(response.json()["suggestions"]) == 5


# Match all


def test_a_dispatcher_matches_all_open_requests(client: Client, world: World) -> None:
    # given
    far = make_request(world.group, **{**CANARY, **FAR_AWAY})
    # when
    response = client.post(match_all_url(world.group.slug), headers=world.headers("dispatcher"))
    # then
    assert response.status_code == 200
    proposal = Assignment.objects.get()
    assert (proposal.request_id, proposal.member_id) == (world.request.pk, world.near.pk)
    assert proposal.source == Assignment.Source.MATCHING
    assert response.json() == {
        "proposals": [
            {
                "request_id": world.request.pk,
                "reference": world.request.reference,
                "member_id": world.near.pk,
                "expires_at": as_json_time(proposal.expires_at),
            }
        ],
        "leftovers": [
            {
                "request_id": far.pk,
                "reference": far.reference,
                "reason": "nobody_in_range",
                "reason_text": "nobody lives near enough",
            }
        ],
        "skipped": 0,
    }
    far.refresh_from_db()
    assert far.leftover_reason == "nobody_in_range"
    assert_no_personal_data(response)


def test_match_all_with_nothing_open_proposes_nothing(client: Client, world: World) -> None:
    # given
    needs_services.request_claim(request=world.request, member=world.farther)
    # when
    response = client.post(match_all_url(world.group.slug), headers=world.headers("dispatcher"))
    # then
    assert response.status_code == 200
    assert response.json() == {"proposals": [], "leftovers": [], "skipped": 0}


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [
        ("anonymous", 401, {"detail": NEEDS_TOKEN}),
        ("outsider", 403, MATCH_ALL_DISPATCHERS_ONLY),
        ("member", 403, MATCH_ALL_DISPATCHERS_ONLY),
    ],
)
def test_only_dispatchers_match_all(
    client: Client, world: World, role: str, status: int, body: dict[str, Any]
) -> None:
    # when
    response = client.post(match_all_url(world.group.slug), headers=world.headers(role))
    # then
    assert response.status_code == status
    assert response.json() == body
    assert Assignment.objects.count() == 0


def test_a_dispatcher_of_another_group_cannot_match_all_here(client: Client, world: World) -> None:
    # given
    other = make_world()
    # when
    response = client.post(match_all_url(world.group.slug), headers=token_for(other.dispatcher))
    # then
    assert response.status_code == 403
    assert response.json() == MATCH_ALL_DISPATCHERS_ONLY
    assert Assignment.objects.count() == 0


@pytest.mark.parametrize("slug", ["no-such-group", "ard%00wick", "ard wick"])
def test_match_all_on_an_unknown_group_is_a_404(client: Client, world: World, slug: str) -> None:
    # when
    response = client.post(match_all_url(slug), headers=world.headers("dispatcher"))
    # then
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


# On duty


@pytest.mark.parametrize("hours", [2, 4, 8])
def test_a_member_goes_on_duty(client: Client, world: World, hours: int) -> None:
    # given
    before = timezone.now()
    # when
    response = client.post(
        "/api/me/duty",
        {"hours": hours},
        content_type="application/json",
        headers=token_for(world.member),
    )
    # then
    assert response.status_code == 200
    world.member.refresh_from_db()
    assert world.member.on_duty_until is not None
    assert response.json() == {"on_duty_until": as_json_time(world.member.on_duty_until)}
    assert (
        before + timedelta(hours=hours)
        <= world.member.on_duty_until
        <= timezone.now() + timedelta(hours=hours)
    )


def test_a_member_ends_their_duty(client: Client, world: World) -> None:
    # when
    response = client.delete("/api/me/duty", headers=token_for(world.near))
    # then
    assert response.status_code == 200
    assert response.json() == {"on_duty_until": None}
    world.near.refresh_from_db()
    assert world.near.on_duty_until is None


def test_ending_duty_when_not_on_duty_is_harmless(client: Client, world: World) -> None:
    # when
    response = client.delete("/api/me/duty", headers=token_for(world.outsider))
    # then
    assert response.status_code == 200
    assert response.json() == {"on_duty_until": None}


@pytest.mark.parametrize("method", ["post", "delete"])
def test_duty_needs_a_token(client: Client, world: World, method: str) -> None:
    # when
    response = getattr(client, method)(
        "/api/me/duty", {"hours": 2}, content_type="application/json"
    )
    # then
    assert response.status_code == 401
    assert response.json() == {"detail": NEEDS_TOKEN}
    world.member.refresh_from_db()
    assert world.member.on_duty_until is None


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        ({"hours": 3}, [["body", "payload", "hours"]]),
        ({"hours": 0}, [["body", "payload", "hours"]]),
        ({"hours": "forever"}, [["body", "payload", "hours"]]),
        ({"hours": None}, [["body", "payload", "hours"]]),
        ({}, [["body", "payload", "hours"]]),
    ],
)
def test_going_on_duty_for_a_time_not_offered_is_a_422(
    client: Client, world: World, body: dict[str, Any], problems: list[list[str]]
) -> None:
    # when
    response = client.post(
        "/api/me/duty", body, content_type="application/json", headers=token_for(world.member)
    )
    # then
    assert response.status_code == 422
    assert [problem["loc"] for problem in response.json()["detail"]] == problems
    world.member.refresh_from_db()
    assert world.member.on_duty_until is None


@pytest.mark.parametrize("body", ['{"hours": ', "[2]", "null"])
def test_going_on_duty_with_a_body_that_is_no_json_object_is_a_400(
    client: Client, world: World, body: str
) -> None:
    # when
    response = client.post(
        "/api/me/duty", body, content_type="application/json", headers=token_for(world.member)
    )
    # then
    assert response.status_code == 400
    assert set(response.json()) == {"detail"}
    world.member.refresh_from_db()
    assert world.member.on_duty_until is None


# Supply and demand


def test_a_member_sees_supply_and_demand(client: Client, world: World) -> None:
    # given
    ward = make_group(
        creator=world.dispatcher,
        parent=world.group,
        kind=Group.Kind.WARD,
        name="Levenshulme",
        slug="levenshulme",
    )
    make_request(world.group, category="ride", area_group=ward, **CANARY)
    # when
    response = client.get(supply_url(world.group.slug), headers=world.headers("member"))
    # then
    assert response.status_code == 200
    answer = response.json()
    assert answer["days"] == 7
    assert {(row["area"], row["category"]) for row in answer["rows"]} == {
        (area, category)
        for area in (world.group.slug, "levenshulme")
        for category in {row["category"] for row in answer["rows"]}
    }
    busy = [row for row in answer["rows"] if row["requests"] or row["volunteers"]]
    shopping = {
        "category": "shopping",
        "category_label": "shopping",
        "requests": 1,
        "open_requests": 1,
        "volunteers": 2,
        "help_missing": False,
        "volunteers_idle": False,
    }
    assert [row for row in busy if row["category"] in ("shopping", "ride")] == [
        {"area": world.group.slug, "area_name": world.group.name, **shopping},
        {
            "area": "levenshulme",
            "area_name": "Levenshulme",
            **shopping,
            "requests": 0,
            "open_requests": 0,
            "volunteers_idle": True,
        },
        {
            "area": "levenshulme",
            "area_name": "Levenshulme",
            "category": "ride",
            "category_label": "a ride",
            "requests": 1,
            "open_requests": 1,
            "volunteers": 0,
            "help_missing": True,
            "volunteers_idle": False,
        },
    ]
    assert_no_personal_data(response)


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [
        ("anonymous", 401, {"detail": NEEDS_TOKEN}),
        ("outsider", 403, SUPPLY_MEMBERS_ONLY),
    ],
)
def test_only_members_see_supply_and_demand(
    client: Client, world: World, role: str, status: int, body: dict[str, Any]
) -> None:
    # when
    response = client.get(supply_url(world.group.slug), headers=world.headers(role))
    # then
    assert response.status_code == status
    assert response.json() == body


@pytest.mark.parametrize("slug", ["no-such-group", "ard%00wick", "ard wick"])
def test_supply_and_demand_of_an_unknown_group_is_a_404(
    client: Client, world: World, slug: str
) -> None:
    # when
    response = client.get(supply_url(slug), headers=world.headers("member"))
    # then
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


# token, group, membership; the selector's requests, areas and categories; the index's changes
SUPPLY_QUERIES = 7


@pytest.mark.parametrize("requests", [1, 20])
def test_supply_and_demand_costs_a_fixed_number_of_queries(
    client: Client, world: World, django_assert_num_queries: Any, requests: int
) -> None:
    # given
    for _ in range(requests):
        make_request(world.group, category="ride")
    headers = world.headers("member")
    volunteers.forget_all()
    client.get(supply_url(world.group.slug), headers=headers)  # built once per process
    # when
    with django_assert_num_queries(SUPPLY_QUERIES):
        response = client.get(supply_url(world.group.slug), headers=headers)
    # then
    assert response.status_code == 200
