"""Requests and offers in the JSON API: who may call what, who sees how to reach the person who
asked (audited), the claim flow's answers, the requester's own view, the anonymous rate limit,
and hostile input answered with a 4xx JSON body, never a 500."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from mutualaid.api.pagination import MAX_OFFSET
from mutualaid.api.tests.wire import NEEDS_TOKEN, as_json_time, post_json, token_for
from mutualaid.common.models import AuditEvent
from mutualaid.groups.models import Group, RoleGrant
from mutualaid.needs import references, services
from mutualaid.needs.models import (
    Channel,
    Claim,
    Message,
    Offer,
    Recurrence,
    ReimbursementClaim,
    Request,
    Urgency,
)
from mutualaid.needs.tests.factories import (
    claimed_request,
    dispatcher_of,
    make_group,
    make_offer,
    make_request,
    member_of,
)
from mutualaid.people.models import User
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "outsider", "member", "claimer", "dispatcher", "expired_dispatcher"]
NOT_FOUND = {"detail": "Not found."}
NO_SUCH_LINK = {"detail": "We could not find a request with that reference and link."}
MEMBERS_ONLY = {"detail": "Only members of this group can see its requests."}
HOSTILE_IDS = ["999999", str(2**63), "9" * 30]


@dataclass
class World:
    group: Group
    member: User
    claimer: User
    dispatcher: User
    expired_dispatcher: User
    outsider: User
    held: Request  # claimed by `claimer`; its status-link secret is `held.secret`
    open: Request

    def user(self, role: str) -> User | None:
        return None if role == "anonymous" else getattr(self, role)

    def headers(self, role: str) -> dict[str, str]:
        user = self.user(role)
        return {} if user is None else token_for(user)


def expire_roles(user: User) -> None:
    """Move the user's role grants wholly into the past, as if their end date had passed."""
    now = timezone.now()
    RoleGrant.objects.filter(holder=user).update(
        granted_at=now - timedelta(days=10), expires_at=now - timedelta(seconds=1)
    )


@pytest.fixture
def world() -> World:
    group = make_group(name="Levenshulme Mutual Aid", slug="levenshulme")
    held, claimer = claimed_request(
        group,
        name="Margaret Okafor",
        phone="+44 161 496 0011",
        email="margaret@example.net",
        address="14 Acacia Avenue, M19 2QX",
        accessibility_notes="Ring twice, I am slow to the door",
        area_name="Levenshulme",
        description="Weekly shop: milk, bread, eggs",
    )
    expired = dispatcher_of(group, display_name="Former Dispatcher")
    expire_roles(expired)
    return World(
        group=group,
        member=member_of(group, display_name="Plain Member"),
        claimer=claimer,
        dispatcher=dispatcher_of(group, display_name="Dee Dispatcher"),
        expired_dispatcher=expired,
        outsider=UserFactory(),
        held=held,
        open=make_request(
            group,
            area_name="Longsight",
            description="Prescription pickup",
            latitude=Decimal("53.46"),
            longitude=Decimal("-2.22"),
            urgency=Urgency.TODAY,
        ),
    )


def contact_views() -> list[tuple[int | None, str, list[str], str, str]]:
    return [
        (event.actor_id, event.subject_label, event.fields, event.channel, event.where)
        for event in AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).order_by("pk")
    ]


ASK = {
    "category": "shopping",
    "description": "Milk, bread and eggs, please",
    "name": "Margaret Okafor",
    "phone": "0161 496 0011",
    "address": "14 Acacia Avenue, M19 2QX",
    "area_name": "Levenshulme",
}


def ask(client: Client, group: Group, body: Any = None, **headers: str) -> Any:
    return post_json(
        client, f"/api/groups/{group.slug}/requests", ASK if body is None else body, **headers
    )


# POST /api/groups/{slug}/requests


def test_anyone_can_ask_for_help_and_gets_the_reference_and_the_status_link_once(
    client: Client, world: World
) -> None:
    # when
    response = ask(client, world.group)
    # then
    assert response.status_code == 201
    created = Request.objects.get(pk=response.json()["id"])
    secret = response.json()["secret"]
    assert response.json() == {
        "id": created.pk,
        "reference": created.reference,
        "status": "open",
        "secret": secret,
        "status_url": f"{settings.SITE_URL}/help/{created.reference}/{secret}/",
    }
    assert references.secret_matches(secret, created.secret_digest)
    assert created.secret_digest != secret
    assert (created.channel, created.created_by, created.group) == (Channel.API, None, world.group)
    assert (created.name, created.phone, created.address, created.description) == (
        "Margaret Okafor",
        "+441614960011",
        "14 Acacia Avenue, M19 2QX",
        "Milk, bread and eggs, please",
    )


def test_asking_with_every_field_records_each_of_them(client: Client, world: World) -> None:
    # given
    ward = make_group(
        creator=world.group.created_by,
        name="Crescent Road",
        slug="crescent-road",
        kind=Group.Kind.WARD,
        parent=world.group,
    )
    needed_by = timezone.localdate() + timedelta(days=3)
    body = {
        "category": "prescription",
        "description": "Two boxes from the chemist on Stockport Road",
        "name": "Ade",
        "phone": "",
        "email": "Ade@Example.org",
        "address": "2 Crescent Road",
        "contact_method": "email",
        "contact_via": "",
        "area_name": "",
        "area": "crescent-road",
        "latitude": 53.4349,
        "longitude": -2.1931,
        "urgency": "today",
        "needed_by": needed_by.isoformat(),
        "language": "ur",
        "accessibility_notes": "Deaf: please text or email",
        "recurrence": "weekly",
        "recurrence_until": (needed_by + timedelta(days=60)).isoformat(),
    }
    # when
    response = ask(client, world.group, body)
    # then
    assert response.status_code == 201
    created = Request.objects.select_related("standing_need").get(pk=response.json()["id"])
    assert {
        "category": created.category,
        "email": created.email,
        "contact_method": created.contact_method,
        "area_group": created.area_group,
        "area_name": created.area_name,
        "rough": (created.rough_latitude, created.rough_longitude),
        "urgency": created.urgency,
        "needed_by": created.needed_by,
        "language": created.language,
        "accessibility_notes": created.accessibility_notes,
        "recurrence": created.standing_need.recurrence if created.standing_need else None,
    } == {
        "category": "prescription",
        "email": "ade@example.org",
        "contact_method": "email",
        "area_group": ward,
        "area_name": "Crescent Road",
        "rough": (Decimal("53.43"), Decimal("-2.19")),
        "urgency": "today",
        "needed_by": needed_by,
        "language": "ur",
        "accessibility_notes": "Deaf: please text or email",
        "recurrence": Recurrence.WEEKLY,
    }


def test_a_member_asking_with_a_token_is_recorded_as_the_one_who_asked(
    client: Client, world: World
) -> None:
    # when
    response = ask(client, world.group, **world.headers("member"))
    # then
    assert response.status_code == 201
    created = Request.objects.get(pk=response.json()["id"])
    assert (created.channel, created.created_by) == (Channel.API, world.member)


@pytest.mark.parametrize("channel", ["phone", "sms"])
def test_a_dispatcher_can_record_a_call_or_a_text(
    client: Client, world: World, channel: str
) -> None:
    # when
    response = ask(client, world.group, {**ASK, "channel": channel}, **world.headers("dispatcher"))
    # then
    assert response.status_code == 201
    created = Request.objects.get(pk=response.json()["id"])
    assert (created.channel, created.created_by) == (channel, world.dispatcher)


@pytest.mark.parametrize("role", ["anonymous", "outsider", "member", "expired_dispatcher"])
@pytest.mark.parametrize("channel", ["phone", "sms"])
def test_only_a_dispatcher_can_say_a_request_came_by_phone_or_text(
    client: Client, world: World, role: str, channel: str
) -> None:
    # given
    before = Request.objects.count()
    # when
    response = ask(client, world.group, {**ASK, "channel": channel}, **world.headers(role))
    # then
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Only the group's dispatchers can enter a request that came by phone or text."
    }
    assert Request.objects.count() == before


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"category": "astrology"}, "Please choose what kind of help from the list."),
        ({"name": ""}, "Please give a name we can ask for. Any name will do."),
        (
            {"phone": "12"},
            "That phone number does not look complete. Please check it and try again.",
        ),
        ({"area": "nowhere"}, "Please choose an area inside this group."),
        ({"latitude": 53.4}, "Please give both a latitude and a longitude, or neither."),
        ({"needed_by": "2000-01-01"}, "The date you need help by cannot be in the past."),
    ],
)
def test_a_request_the_rules_refuse_is_a_400_with_the_reason_and_stores_nothing(
    client: Client, world: World, change: dict[str, Any], detail: str
) -> None:
    # given
    before = Request.objects.count()
    # when
    response = ask(client, world.group, {**ASK, **change})
    # then
    assert response.status_code == 400
    assert response.json() == {"detail": detail}
    assert Request.objects.count() == before


def test_an_area_outside_the_group_is_refused(client: Client, world: World) -> None:
    # given
    elsewhere = make_group(slug="ardwick", kind=Group.Kind.WARD)
    # when
    response = ask(client, world.group, {**ASK, "area": elsewhere.slug})
    # then
    assert response.status_code == 400
    assert response.json() == {"detail": "Please choose an area inside this group."}


def test_asking_an_unknown_group_is_a_json_404(client: Client, db: None) -> None:
    # when
    response = post_json(client, "/api/groups/nowhere/requests", ASK)
    # then
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


# The anonymous rate limit


def test_anonymous_asking_is_limited_per_address_with_a_json_429(
    client: Client, world: World, settings: Any
) -> None:
    # given
    settings.NEEDS_ANONYMOUS_REQUEST_RATE = "2/h"
    before = Request.objects.count()
    assert [ask(client, world.group).status_code for _ in range(2)] == [201, 201]
    # when
    response = ask(client, world.group)
    # then
    assert response.status_code == 429
    assert response.json() == {
        "detail": "Too many requests for help have come from this address. Please try again "
        "later, or call the group."
    }
    assert Request.objects.count() == before + 2


def test_the_limit_counts_each_address_on_its_own(
    client: Client, world: World, settings: Any
) -> None:
    # given
    settings.NEEDS_ANONYMOUS_REQUEST_RATE = "1/h"
    assert ask(client, world.group).status_code == 201
    # when
    elsewhere = post_json(
        Client(REMOTE_ADDR="192.0.2.7"), f"/api/groups/{world.group.slug}/requests", ASK
    )
    # then
    assert elsewhere.status_code == 201
    assert ask(client, world.group).status_code == 429


@pytest.mark.parametrize("role", ["member", "dispatcher", "outsider"])
def test_callers_with_a_token_are_not_held_to_the_anonymous_limit(
    client: Client, world: World, settings: Any, role: str
) -> None:
    # given: the address has used up what anonymous callers may send
    settings.NEEDS_ANONYMOUS_REQUEST_RATE = "1/h"
    assert ask(client, world.group).status_code == 201
    headers = world.headers(role)
    # when
    statuses = [ask(client, world.group, **headers).status_code for _ in range(3)]
    # then
    assert statuses == [201, 201, 201]


def test_the_api_and_the_ask_page_share_one_anonymous_limit(
    client: Client, world: World, settings: Any
) -> None:
    # given
    settings.NEEDS_ANONYMOUS_REQUEST_RATE = "1/h"
    assert ask(client, world.group).status_code == 201
    # when
    response = client.post(
        f"/groups/{world.group.slug}/ask/",
        {
            "category": "shopping",
            "description": "Milk",
            "name": "Ann",
            "contact_method": "phone",
            "contact": "0161 496 0000",
        },
    )
    # then
    assert response.status_code == 429


# GET /api/groups/{slug}/requests


def summary(request: Request, *, distance_km: float | None) -> dict[str, Any]:
    return {
        "id": request.pk,
        "reference": request.reference,
        "category": request.category,
        "category_label": "shopping",
        "description": request.description,
        "urgency": request.urgency,
        "needed_by": request.needed_by.isoformat() if request.needed_by else None,
        "area_name": request.area_name,
        "distance_km": distance_km,
        "created_at": as_json_time(request.created_at),
        "status": request.status,
        "paced": request.paced,
    }


@pytest.mark.parametrize("role", ["member", "claimer", "dispatcher", "expired_dispatcher"])
def test_members_list_open_requests_with_a_rough_location_and_no_contact(
    client: Client, world: World, role: str
) -> None:
    # when
    response = client.get(
        f"/api/groups/{world.group.slug}/requests", {"status": "open"}, headers=world.headers(role)
    )
    # then
    assert response.status_code == 200
    assert response.json() == {"count": 1, "items": [summary(world.open, distance_km=1.0)]}
    assert contact_views() == []


def test_the_open_list_is_the_default_and_takes_empty_filters(client: Client, world: World) -> None:
    # when
    response = client.get(
        f"/api/groups/{world.group.slug}/requests?status=open&category=&urgency=",
        headers=world.headers("member"),
    )
    # then
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [world.open.pk]
    assert (
        client.get(
            f"/api/groups/{world.group.slug}/requests", headers=world.headers("member")
        ).json()
        == response.json()
    )


def test_the_open_list_filters_by_category_and_urgency(client: Client, world: World) -> None:
    # given
    ride = make_request(world.group, category="ride", urgency=Urgency.TODAY)
    make_request(world.group, category="ride", urgency=Urgency.FLEXIBLE)
    # when
    response = client.get(
        f"/api/groups/{world.group.slug}/requests",
        {"category": "ride", "urgency": "today"},
        headers=world.headers("member"),
    )
    # then
    assert [item["id"] for item in response.json()["items"]] == [ride.pk]
    assert response.json()["items"][0]["category_label"] == "a ride"


def test_the_open_list_names_the_groups_own_categories(client: Client, world: World) -> None:
    # given: a category of the group's own, whose code keeps letters of any script
    category = services.group_category_add(
        group=world.group, name="Ropa de niños", actor=world.dispatcher
    )
    asked = ask(client, world.group, {**ASK, "category": "ropa-de-niños"})
    assert asked.status_code == 201
    # when
    response = client.get(
        f"/api/groups/{world.group.slug}/requests",
        {"category": category.code},
        headers=world.headers("member"),
    )
    # then
    assert [
        (item["id"], item["category"], item["category_label"]) for item in response.json()["items"]
    ] == [(asked.json()["id"], "ropa-de-niños", "Ropa de niños")]


def test_a_dispatcher_lists_requests_of_any_status(client: Client, world: World) -> None:
    # when
    response = client.get(
        f"/api/groups/{world.group.slug}/requests",
        {"status": "claimed"},
        headers=world.headers("dispatcher"),
    )
    # then
    assert response.status_code == 200
    assert response.json() == {"count": 1, "items": [summary(world.held, distance_km=0.0)]}
    assert contact_views() == []


@pytest.mark.parametrize("role", ["member", "claimer", "expired_dispatcher"])
@pytest.mark.parametrize("status", ["claimed", "done", "cancelled", "unmet"])
def test_other_members_list_only_open_requests(
    client: Client, world: World, role: str, status: str
) -> None:
    # when
    response = client.get(
        f"/api/groups/{world.group.slug}/requests",
        {"status": status},
        headers=world.headers(role),
    )
    # then
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Only the group's dispatchers can list requests that are not open."
    }


def test_the_list_needs_a_token(client: Client, world: World) -> None:
    # when
    response = client.get(f"/api/groups/{world.group.slug}/requests")
    # then
    assert response.status_code == 401
    assert response.json() == {"detail": NEEDS_TOKEN}


def test_the_list_is_for_members_only(client: Client, world: World) -> None:
    # when
    response = client.get(
        f"/api/groups/{world.group.slug}/requests", headers=world.headers("outsider")
    )
    # then
    assert response.status_code == 403
    assert response.json() == MEMBERS_ONLY


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"urgency": "yesterday"}, "urgency"),
        ({"category": "shop\x00ping"}, "category"),
        ({"category": "x" * 41}, "category"),
        ({"offset": MAX_OFFSET + 1}, "offset"),
        ({"limit": 0}, "limit"),
    ],
)
def test_the_list_refuses_bad_filters_with_422(
    client: Client, world: World, params: dict[str, Any], field: str
) -> None:
    # when
    response = client.get(
        f"/api/groups/{world.group.slug}/requests", params, headers=world.headers("member")
    )
    # then
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["query", field]]


@pytest.mark.parametrize("status", ["open", "claimed"])
def test_the_list_query_count_is_fixed(
    client: Client, world: World, django_assert_num_queries: Any, status: str
) -> None:
    # given
    for n in range(5):
        make_request(world.group, category="ride" if n % 2 else "shopping")
        claimed_request(world.group)
    headers = world.headers("dispatcher")
    client.get("/api/me", headers=headers)  # the first use also stamps the token
    # when / then: the token, the group, membership (and the role for other statuses), the
    # category names, and one page (for open requests: the order, then the rows shown; for a
    # query set: the count, then the rows)
    with django_assert_num_queries(6 if status == "open" else 7):
        response = client.get(
            f"/api/groups/{world.group.slug}/requests", {"status": status}, headers=headers
        )
    assert response.json()["count"] == 6


# GET /api/requests/{id}


def contact_of_held() -> dict[str, str]:
    return {
        "name": "Margaret Okafor",
        "phone": "+441614960011",
        "email": "margaret@example.net",
        "address": "14 Acacia Avenue, M19 2QX",
        "contact_method": "phone",
        "contact_via": "",
        "accessibility_notes": "Ring twice, I am slow to the door",
    }


def detail(request: Request, **changes: Any) -> dict[str, Any]:
    return {
        "id": request.pk,
        "reference": request.reference,
        "group": request.group.slug,
        "category": "shopping",
        "category_label": "shopping",
        "description": request.description,
        "urgency": request.urgency,
        "needed_by": request.needed_by.isoformat() if request.needed_by else None,
        "language": "",
        "area_name": request.area_name,
        "distance_km": 0.0,
        "channel": "web",
        "created_at": as_json_time(request.created_at),
        "status": request.status,
        "paced": False,
        "claimed": request.status == Request.Status.CLAIMED,
        "held_by_you": False,
        "recurrence": None,
        "contact": None,
        **changes,
    }


@pytest.mark.parametrize(
    ("role", "status", "sees_contact"),
    [
        ("anonymous", 401, False),
        ("outsider", 403, False),
        ("member", 200, False),
        ("claimer", 200, True),
        ("dispatcher", 200, True),
        ("expired_dispatcher", 200, False),
    ],
)
def test_who_sees_a_request_and_who_sees_how_to_reach_the_person(
    client: Client, world: World, role: str, status: int, sees_contact: bool
) -> None:
    # when
    response = client.get(f"/api/requests/{world.held.pk}", headers=world.headers(role))
    # then
    assert response.status_code == status
    if status == 200:
        assert response.json() == detail(
            world.held,
            held_by_you=role == "claimer",
            contact=contact_of_held() if sees_contact else None,
        )
    expected_views = []
    if sees_contact:
        expected_views = [
            (
                world.user(role).pk,  # type: ignore[union-attr]
                f"request {world.held.reference}",
                ["accessibility_notes", "address", "email", "name", "phone"],
                AuditEvent.Channel.API,
                f"/api/requests/{world.held.pk}",
            )
        ]
    assert contact_views() == expected_views
    assert "Okafor" not in response.content.decode() or sees_contact


def test_the_claimer_sees_contact_details_no_more_once_done(client: Client, world: World) -> None:
    # given
    services.request_complete(request=world.held, member=world.claimer)
    # when
    response = client.get(f"/api/requests/{world.held.pk}", headers=world.headers("claimer"))
    # then
    assert response.status_code == 200
    assert response.json()["contact"] is None
    assert response.json()["status"] == "done"
    assert contact_views() == []


@pytest.mark.parametrize("pk", HOSTILE_IDS)
@pytest.mark.parametrize("suffix", ["", "/claim", "/release", "/complete"])
def test_an_unknown_request_is_a_json_404(
    client: Client, world: World, pk: str, suffix: str
) -> None:
    # when
    method = client.get if suffix == "" else client.post
    response = method(
        f"/api/requests/{pk}{suffix}",
        {"reason": "Busy"} if suffix else None,
        content_type="application/json",
        headers=world.headers("dispatcher"),
    )
    # then
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize(
    "path", ["/api/requests/-1", "/api/requests/abc", "/api/requests/1.5", "/api/requests/status"]
)
def test_an_address_that_cannot_be_a_request_is_a_json_404(
    client: Client, world: World, path: str
) -> None:
    # when
    response = client.get(path, headers=world.headers("member"))
    # then
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


# POST /api/requests/{id}/claim


def test_a_member_claims_an_open_request_and_sees_how_to_reach_the_person(
    client: Client, world: World
) -> None:
    # when
    response = post_json(client, f"/api/requests/{world.open.pk}/claim", **world.headers("member"))
    # then
    assert response.status_code == 200
    world.open.refresh_from_db()
    assert response.json() == detail(
        world.open,
        status="claimed",
        claimed=True,
        held_by_you=True,
        urgency="today",
        distance_km=1.0,
        contact={
            "name": world.open.name,
            "phone": world.open.phone,
            "email": "",
            "address": world.open.address,
            "contact_method": "phone",
            "contact_via": "",
            "accessibility_notes": "",
        },
    )
    assert Claim.objects.filter(request=world.open, released_at__isnull=True).count() == 1
    assert contact_views() == [
        (
            world.member.pk,
            f"request {world.open.reference}",
            ["address", "name", "phone"],
            "api",
            f"/api/requests/{world.open.pk}/claim",
        )
    ]


@pytest.mark.parametrize(
    ("role", "detail_text"),
    [
        ("member", "Someone else has already taken this request."),
        ("dispatcher", "Someone else has already taken this request."),
        ("claimer", "You already hold this request."),
    ],
)
def test_claiming_a_request_someone_holds_is_409(
    client: Client, world: World, role: str, detail_text: str
) -> None:
    # when
    response = post_json(client, f"/api/requests/{world.held.pk}/claim", **world.headers(role))
    # then
    assert response.status_code == 409
    assert response.json() == {"detail": detail_text}
    assert list(
        Claim.objects.filter(request=world.held, released_at__isnull=True).values_list(
            "member", flat=True
        )
    ) == [world.claimer.pk]
    assert contact_views() == []


def test_of_two_claims_the_second_is_409(client: Client, world: World) -> None:
    # given
    path = f"/api/requests/{world.open.pk}/claim"
    assert post_json(client, path, **world.headers("member")).status_code == 200
    # when
    response = post_json(client, path, **world.headers("dispatcher"))
    # then
    assert response.status_code == 409
    assert response.json() == {"detail": "Someone else has already taken this request."}
    world.open.refresh_from_db()
    assert world.open.claimed_by == world.member


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [
        ("anonymous", 401, {"detail": NEEDS_TOKEN}),
        ("outsider", 403, {"detail": "Only members of this group can take its requests."}),
    ],
)
def test_only_members_can_claim(
    client: Client, world: World, role: str, status: int, body: dict[str, str]
) -> None:
    # when
    response = post_json(client, f"/api/requests/{world.open.pk}/claim", **world.headers(role))
    # then
    assert response.status_code == status
    assert response.json() == body
    world.open.refresh_from_db()
    assert world.open.status == Request.Status.OPEN


def test_a_closed_request_cannot_be_claimed(client: Client, world: World) -> None:
    # given
    services.request_cancel(request=world.open, actor=world.dispatcher)
    # when
    response = post_json(client, f"/api/requests/{world.open.pk}/claim", **world.headers("member"))
    # then
    assert response.status_code == 409
    assert response.json() == {"detail": "This request is no longer open."}


# POST /api/requests/{id}/release and /complete


def test_the_claimer_releases_a_request_with_a_reason(client: Client, world: World) -> None:
    # when
    response = post_json(
        client,
        f"/api/requests/{world.held.pk}/release",
        {"reason": "I have caught a cold"},
        **world.headers("claimer"),
    )
    # then
    assert response.status_code == 200
    world.held.refresh_from_db()
    assert response.json() == detail(world.held, status="open", claimed=False)
    claim = Claim.objects.get(request=world.held)
    assert (claim.release_reason, claim.released_at is not None) == ("I have caught a cold", True)
    assert contact_views() == []


def test_the_claimer_completes_a_request_with_what_they_spent(client: Client, world: World) -> None:
    # when
    response = post_json(
        client,
        f"/api/requests/{world.held.pk}/complete",
        {"notes": "Left at the door", "spent_minor": 1250, "spent_note": "Groceries"},
        **world.headers("claimer"),
    )
    # then
    assert response.status_code == 200
    world.held.refresh_from_db()
    assert response.json() == detail(world.held, status="done", claimed=False)
    assert Claim.objects.get(request=world.held).done_notes == "Left at the door"
    assert list(
        ReimbursementClaim.objects.values_list("claimant", "amount_minor", "currency", "note")
    ) == [(world.claimer.pk, 1250, "GBP", "Groceries")]


def test_completing_takes_no_body_at_all(client: Client, world: World) -> None:
    # when
    response = post_json(
        client, f"/api/requests/{world.held.pk}/complete", **world.headers("claimer")
    )
    # then
    assert response.status_code == 200
    assert response.json()["status"] == "done"
    assert not ReimbursementClaim.objects.exists()


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [
        ("anonymous", 401, {"detail": NEEDS_TOKEN}),
        ("outsider", 403, {"detail": "Only the member holding this request can let it go."}),
        ("member", 403, {"detail": "Only the member holding this request can let it go."}),
        ("dispatcher", 403, {"detail": "Only the member holding this request can let it go."}),
    ],
)
def test_only_the_claimer_can_release(
    client: Client, world: World, role: str, status: int, body: dict[str, str]
) -> None:
    # when
    response = post_json(
        client, f"/api/requests/{world.held.pk}/release", {"reason": "Busy"}, **world.headers(role)
    )
    # then
    assert response.status_code == status
    assert response.json() == body
    world.held.refresh_from_db()
    assert world.held.status == Request.Status.CLAIMED


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [
        ("anonymous", 401, {"detail": NEEDS_TOKEN}),
        ("outsider", 403, {"detail": "Only the member holding this request can mark it done."}),
        ("member", 403, {"detail": "Only the member holding this request can mark it done."}),
        ("dispatcher", 403, {"detail": "Only the member holding this request can mark it done."}),
    ],
)
def test_only_the_claimer_can_complete(
    client: Client, world: World, role: str, status: int, body: dict[str, str]
) -> None:
    # when
    response = post_json(
        client,
        f"/api/requests/{world.held.pk}/complete",
        {"spent_minor": 500},
        **world.headers(role),
    )
    # then
    assert response.status_code == status
    assert response.json() == body
    world.held.refresh_from_db()
    assert world.held.status == Request.Status.CLAIMED
    assert not ReimbursementClaim.objects.exists()


def test_releasing_without_a_reason_is_400(client: Client, world: World) -> None:
    # when
    response = post_json(
        client,
        f"/api/requests/{world.held.pk}/release",
        {"reason": "  "},
        **world.headers("claimer"),
    )
    # then
    assert response.status_code == 400
    assert response.json() == {"detail": "Please say why you are letting it go."}


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [
        ({"spent_minor": 0}, "spent_minor", "greater_than_equal"),
        ({"spent_minor": -100}, "spent_minor", "greater_than_equal"),
        ({"spent_minor": 10**30}, "spent_minor", "less_than_equal"),
        ({"spent_minor": 12.5}, "spent_minor", "int_from_float"),
        ({"spent_minor": "12.50"}, "spent_minor", "int_parsing"),
        ({"notes": "x" * 2001}, "notes", "string_too_long"),
        ({"notes": "Left\x00 at the door"}, "notes", "string_pattern_mismatch"),
        ({"spent_note": ["Groceries"]}, "spent_note", "string_type"),
    ],
)
def test_completing_with_values_no_one_can_spend_or_store_is_422(
    client: Client, world: World, body: dict[str, Any], field: str, problem: str
) -> None:
    # when
    response = post_json(
        client, f"/api/requests/{world.held.pk}/complete", body, **world.headers("claimer")
    )
    # then
    assert response.status_code == 422
    assert [(error["loc"], error["type"]) for error in response.json()["detail"]] == [
        (["body", "payload", field], problem)
    ]
    world.held.refresh_from_db()
    assert world.held.status == Request.Status.CLAIMED


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({}, "missing"),
        ({"reason": None}, "string_type"),
        ({"reason": "x" * 501}, "string_too_long"),
        ({"reason": "Busy\x00"}, "string_pattern_mismatch"),
        ('{"reason": "\\ud800"}', "string_unicode"),
    ],
)
def test_releasing_with_a_reason_no_database_can_store_is_422(
    client: Client, world: World, body: Any, problem: str
) -> None:
    # when
    response = post_json(
        client, f"/api/requests/{world.held.pk}/release", body, **world.headers("claimer")
    )
    # then
    assert response.status_code == 422
    assert [(error["loc"], error["type"]) for error in response.json()["detail"]] == [
        (["body", "payload", "reason"], problem)
    ]


# The requester's own view: GET /api/requests/status/{reference}?secret=...


def test_the_requester_follows_their_request_with_the_secret(client: Client, world: World) -> None:
    # given
    services.message_post(request=world.held, body="I can come at five", author=world.claimer)
    services.message_post(request=world.held, body="Five is fine", secret=world.held.secret)
    services.message_post(request=world.held, body="Any news?", author=world.dispatcher)
    thread = list(Message.objects.filter(request=world.held).order_by("created_at", "pk"))
    # when
    response = client.get(
        f"/api/requests/status/{world.held.reference}", {"secret": world.held.secret}
    )
    # then
    assert response.status_code == 200
    assert response.json() == {
        "reference": world.held.reference,
        "status": "claimed",
        "category": "shopping",
        "category_label": "shopping",
        "urgency": world.held.urgency,
        "created_at": as_json_time(world.held.created_at),
        "needed_by": world.held.needed_by.isoformat() if world.held.needed_by else None,
        "claimed": True,
        "messages": [
            {
                "author_kind": "member",
                "author_name": world.claimer.display_name,
                "body": "I can come at five",
                "created_at": as_json_time(thread[0].created_at),
            },
            {
                "author_kind": "requester",
                "author_name": None,
                "body": "Five is fine",
                "created_at": as_json_time(thread[1].created_at),
            },
            {
                "author_kind": "dispatcher",
                "author_name": "Dee Dispatcher",
                "body": "Any news?",
                "created_at": as_json_time(thread[2].created_at),
            },
        ],
    }
    html = response.content.decode()
    assert world.claimer.email not in html
    assert world.dispatcher.email not in html


@pytest.mark.parametrize(
    "wrong",
    ["reference", "secret", "unknown", "nul-secret", "nul-reference", "long-secret", "erased"],
)
def test_a_wrong_reference_or_secret_is_one_json_404(
    client: Client, world: World, wrong: str
) -> None:
    # given
    reference, secret = world.held.reference, world.held.secret
    if wrong == "reference":
        reference = world.open.reference
    if wrong == "secret":
        secret = world.open.secret
    if wrong == "unknown":
        reference = "ZZZ-ZZZ"
    if wrong == "nul-secret":
        secret = secret[:5] + "\x00" + secret[5:]
    if wrong == "nul-reference":
        reference = reference[:2] + "%00" + reference[2:]
    if wrong == "long-secret":
        secret = "x" * 10_000
    if wrong == "erased":
        Request.objects.filter(pk=world.held.pk).update(personal_data_erased_at=timezone.now())
    # when
    response = client.get(f"/api/requests/status/{reference}", {"secret": secret})
    # then
    assert response.status_code == 404
    assert response.json() == NO_SUCH_LINK


def test_the_requester_view_needs_the_secret(client: Client, world: World) -> None:
    # when
    response = client.get(f"/api/requests/status/{world.held.reference}")
    # then
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["query", "secret"]]


def test_a_token_does_not_replace_the_secret(client: Client, world: World) -> None:
    # when
    response = client.get(
        f"/api/requests/status/{world.held.reference}",
        {"secret": "guess"},
        headers=world.headers("dispatcher"),
    )
    # then
    assert response.status_code == 404
    assert response.json() == NO_SUCH_LINK


def test_the_requester_writes_to_whoever_helps(client: Client, world: World) -> None:
    # when
    response = post_json(
        client,
        f"/api/requests/status/{world.held.reference}/messages?secret={world.held.secret}",
        {"body": "Please ring the bell twice"},
    )
    # then
    assert response.status_code == 201
    message = Message.objects.get(request=world.held)
    assert response.json() == {
        "author_kind": "requester",
        "author_name": None,
        "body": "Please ring the bell twice",
        "created_at": as_json_time(message.created_at),
    }
    assert (message.author_kind, message.author) == (Message.Author.REQUESTER, None)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"body": ""}, "string_too_short"),
        ({"body": "x" * 2001}, "string_too_long"),
        ({"body": "Hello\x00"}, "string_pattern_mismatch"),
        ({"body": 5}, "string_type"),
    ],
)
def test_a_message_no_database_can_store_is_422(
    client: Client, world: World, body: dict[str, Any], problem: str
) -> None:
    # when
    response = post_json(
        client,
        f"/api/requests/status/{world.held.reference}/messages?secret={world.held.secret}",
        body,
    )
    # then
    assert response.status_code == 422
    assert [(error["loc"], error["type"]) for error in response.json()["detail"]] == [
        (["body", "payload", "body"], problem)
    ]
    assert not Message.objects.exists()


def test_writing_with_a_wrong_secret_is_404_and_writes_nothing(
    client: Client, world: World
) -> None:
    # when
    response = post_json(
        client,
        f"/api/requests/status/{world.held.reference}/messages?secret={world.open.secret}",
        {"body": "Hello"},
    )
    # then
    assert response.status_code == 404
    assert response.json() == NO_SUCH_LINK
    assert not Message.objects.exists()


def test_the_requester_cancels_and_cannot_cancel_twice(client: Client, world: World) -> None:
    # given
    path = f"/api/requests/status/{world.held.reference}/cancel?secret={world.held.secret}"
    # when
    response = post_json(client, path)
    again = post_json(client, path)
    # then
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["claimed"]) == ("cancelled", False)
    assert again.status_code == 409
    assert again.json() == {"detail": "This request is already closed."}
    world.held.refresh_from_db()
    assert world.held.status == Request.Status.CANCELLED


def test_cancelling_with_a_wrong_secret_is_404(client: Client, world: World) -> None:
    # when
    response = post_json(
        client, f"/api/requests/status/{world.held.reference}/cancel?secret={world.open.secret}"
    )
    # then
    assert response.status_code == 404
    assert response.json() == NO_SUCH_LINK
    world.held.refresh_from_db()
    assert world.held.status == Request.Status.CLAIMED


# GET and POST /api/groups/{slug}/offers


def offer_json(offer: Offer, **changes: Any) -> dict[str, Any]:
    return {
        "id": offer.pk,
        "kind": offer.kind,
        "category": offer.category,
        "category_label": "shopping",
        "title": offer.title,
        "description": offer.description,
        "area_name": offer.area_name,
        "availability": offer.availability,
        "quantity": offer.quantity,
        "available_until": offer.available_until.isoformat() if offer.available_until else None,
        "status": "active",
        "created_at": as_json_time(offer.created_at),
        "offered_by": offer.member.display_name,
        **changes,
    }


@pytest.mark.parametrize("role", ["member", "claimer", "dispatcher", "expired_dispatcher"])
def test_members_list_current_offers(client: Client, world: World, role: str) -> None:
    # given
    bike = make_offer(world.group, member=world.claimer, availability="Weekday evenings")
    nappies = make_offer(
        world.group, kind=Offer.Kind.GOODS, title="Nappies, size 4", quantity=3, category="other"
    )
    withdrawn = make_offer(world.group)
    services.offer_withdraw(offer=withdrawn, member=withdrawn.member)
    # when
    response = client.get(f"/api/groups/{world.group.slug}/offers", headers=world.headers(role))
    # then
    assert response.status_code == 200
    assert response.json() == {
        "count": 2,
        "items": [offer_json(nappies, category_label="other"), offer_json(bike)],
    }


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [
        ("anonymous", 401, {"detail": NEEDS_TOKEN}),
        ("outsider", 403, {"detail": "Only members of this group can see its offers."}),
    ],
)
def test_offers_are_for_members_only(
    client: Client, world: World, role: str, status: int, body: dict[str, str]
) -> None:
    # when
    response = client.get(f"/api/groups/{world.group.slug}/offers", headers=world.headers(role))
    # then
    assert response.status_code == status
    assert response.json() == body


def test_the_offer_list_query_count_is_fixed(
    client: Client, world: World, django_assert_num_queries: Any
) -> None:
    # given
    for _ in range(4):
        make_offer(world.group)
    headers = world.headers("member")
    client.get("/api/me", headers=headers)  # the first use also stamps the token
    # when / then: the token, the group, membership, the category names, the count and a page
    with django_assert_num_queries(6):
        response = client.get(f"/api/groups/{world.group.slug}/offers", headers=headers)
    assert response.json()["count"] == 4


def test_a_member_offers_goods(client: Client, world: World) -> None:
    # given
    until = timezone.localdate() + timedelta(days=14)
    # when
    response = post_json(
        client,
        f"/api/groups/{world.group.slug}/offers",
        {
            "kind": "goods",
            "category": "food",
            "title": "Tins of soup",
            "description": "Tomato and lentil",
            "area_name": "Levenshulme",
            "availability": "Saturdays",
            "quantity": 12,
            "available_until": until.isoformat(),
        },
        **world.headers("member"),
    )
    # then
    assert response.status_code == 201
    offer = Offer.objects.get()
    assert response.json() == offer_json(offer, category_label="food or a meal")
    assert (offer.member, offer.group, offer.quantity, offer.available_until) == (
        world.member,
        world.group,
        12,
        until,
    )


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [
        ("anonymous", 401, {"detail": NEEDS_TOKEN}),
        ("outsider", 403, {"detail": "Only members of this group can make an offer."}),
    ],
)
def test_only_members_can_offer(
    client: Client, world: World, role: str, status: int, body: dict[str, str]
) -> None:
    # when
    response = post_json(
        client,
        f"/api/groups/{world.group.slug}/offers",
        {"kind": "time", "category": "shopping", "title": "Shopping runs"},
        **world.headers(role),
    )
    # then
    assert response.status_code == status
    assert response.json() == body
    assert not Offer.objects.exists()


def test_goods_without_a_quantity_are_400(client: Client, world: World) -> None:
    # when
    response = post_json(
        client,
        f"/api/groups/{world.group.slug}/offers",
        {"kind": "goods", "category": "food", "title": "Soup"},
        **world.headers("member"),
    )
    # then
    assert response.status_code == 400
    assert response.json() == {"detail": "Please say how many you can give."}


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"kind": "love"}, "kind", "enum"),
        ({"title": ""}, "title", "string_too_short"),
        ({"title": "x" * 121}, "title", "string_too_long"),
        ({"title": "Soup\x00"}, "title", "string_pattern_mismatch"),
        ({"quantity": 0}, "quantity", "greater_than_equal"),
        ({"quantity": 10**30}, "quantity", "less_than_equal"),
        ({"available_until": "tomorrow"}, "available_until", "date_from_datetime_parsing"),
        ({"category": "food; drop table"}, "category", "string_pattern_mismatch"),
    ],
)
def test_an_offer_no_database_can_store_is_422(
    client: Client, world: World, change: dict[str, Any], field: str, problem: str
) -> None:
    # when
    response = post_json(
        client,
        f"/api/groups/{world.group.slug}/offers",
        {"kind": "goods", "category": "food", "title": "Soup", "quantity": 2, **change},
        **world.headers("member"),
    )
    # then
    assert response.status_code == 422
    assert [(error["loc"], error["type"]) for error in response.json()["detail"]] == [
        (["body", "payload", field], problem)
    ]
    assert not Offer.objects.exists()


# Hostile input to the operations that take a body


TEXT_FIELDS = [
    "category",
    "description",
    "name",
    "phone",
    "email",
    "address",
    "contact_via",
    "area_name",
    "area",
    "language",
    "accessibility_notes",
]
HOSTILE_JSON_VALUES = [
    pytest.param("x" * 10_000, id="overlong"),
    pytest.param("Rosa\x00Parks", id="nul"),
    pytest.param("\ud800", id="surrogate"),
    pytest.param("<script>alert('x')</script>", id="html"),
    pytest.param("\x01\x1b\x7f", id="control"),
    pytest.param(12, id="number"),
    pytest.param(None, id="null"),
    pytest.param(["a"], id="list"),
    pytest.param({"a": 1}, id="object"),
    pytest.param(True, id="bool"),
]


def stored_text_is_storable() -> bool:
    """Every text of every request can be stored by PostgreSQL: no NUL character anywhere."""
    for request in Request.objects.all():
        for field in request._meta.concrete_fields:
            value = getattr(request, field.attname)
            if isinstance(value, str) and "\x00" in value:
                return False
    return True


def json_body(data: dict[str, Any]) -> bytes:
    """JSON with lone surrogates kept, as a hostile client would send them."""
    import json

    return json.dumps(data).encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("field", [*TEXT_FIELDS, "contact_method", "urgency", "needed_by"])
@pytest.mark.parametrize("value", HOSTILE_JSON_VALUES)
def test_asking_with_hostile_values_is_a_4xx_json_or_a_whole_request(
    client: Client, world: World, field: str, value: Any
) -> None:
    # given
    before = Request.objects.count()
    # when
    response = ask(client, world.group, json_body({**ASK, field: value}))
    # then
    assert response.status_code in {201, 400, 422}
    assert response["Content-Type"] == "application/json; charset=utf-8"
    if response.status_code == 201:
        assert Request.objects.count() == before + 1
    else:
        assert "detail" in response.json()
        assert Request.objects.count() == before
    assert stored_text_is_storable()


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [("NaN", "NaN"), ("Infinity", "0"), ("1e999", "0"), ("91", "0"), ("0", "-181"), ('"x"', "0")],
)
def test_asking_from_a_point_not_on_the_map_is_422(
    client: Client, world: World, latitude: str, longitude: str
) -> None:
    # given
    before = Request.objects.count()
    body = json_body(ASK)[:-1] + f', "latitude": {latitude}, "longitude": {longitude}}}'.encode()
    # when
    response = ask(client, world.group, body)
    # then
    assert response.status_code == 422
    assert Request.objects.count() == before


@pytest.mark.parametrize(
    "body",
    ['{"category": ', "not json", '["category"]', '"hi"', "null", b"\xff\xfe{}", b"\x00"],
)
@pytest.mark.parametrize(
    "path",
    [
        "/api/groups/{slug}/requests",
        "/api/groups/{slug}/offers",
        "/api/requests/{held}/release",
        "/api/requests/{held}/complete",
        "/api/requests/status/{reference}/messages?secret={secret}",
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_json_400(
    client: Client, world: World, body: str | bytes, path: str
) -> None:
    # given
    address = path.format(
        slug=world.group.slug,
        held=world.held.pk,
        reference=world.held.reference,
        secret=world.held.secret,
    )
    # when
    response = post_json(client, address, body, **world.headers("claimer"))
    # then
    assert response.status_code == 400
    assert response.json() == {"detail": "Cannot parse request body"}
    world.held.refresh_from_db()
    assert world.held.status == Request.Status.CLAIMED
    assert not Message.objects.exists()
    assert not Offer.objects.exists()


def test_a_body_past_the_upload_limit_is_a_json_413(
    client: Client, world: World, settings: Any
) -> None:
    # given
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    before = Request.objects.count()
    # when
    response = ask(client, world.group, {**ASK, "description": "x" * 1000})
    # then
    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large."}
    assert Request.objects.count() == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/api/groups/{slug}/requests"),
        ("put", "/api/groups/{slug}/offers"),
        ("post", "/api/requests/{held}"),
        ("get", "/api/requests/{held}/claim"),
        ("get", "/api/requests/status/{reference}/cancel"),
    ],
)
def test_a_method_an_operation_does_not_take_is_a_json_405(
    client: Client, world: World, method: str, path: str
) -> None:
    # when
    response = getattr(client, method)(
        path.format(slug=world.group.slug, held=world.held.pk, reference=world.held.reference),
        headers=world.headers("claimer"),
    )
    # then
    assert response.status_code == 405
    assert response.json() == {"detail": "This address does not take this method."}


# The OpenAPI document


def test_the_openapi_document_describes_the_operations_and_who_may_call_them(
    client: Client, db: None
) -> None:
    # when
    response = client.get("/api/openapi.json")
    # then
    assert response.status_code == 200
    paths = response.json()["paths"]
    anyone, token = [{"ApiToken": []}, {}], [{"ApiToken": []}]
    assert {
        (path, method): operation["security"]
        for path, operations in paths.items()
        for method, operation in operations.items()
        if "requests" in path or "offers" in path
    } == {
        ("/api/groups/{slug}/requests", "post"): anyone,
        ("/api/groups/{slug}/requests", "get"): token,
        ("/api/requests/{id}/suggestions", "get"): token,
        ("/api/requests/{id}", "get"): token,
        ("/api/requests/{id}/claim", "post"): token,
        ("/api/requests/{id}/release", "post"): token,
        ("/api/requests/{id}/complete", "post"): token,
        ("/api/requests/status/{reference}", "get"): anyone,
        ("/api/requests/status/{reference}/messages", "post"): anyone,
        ("/api/requests/status/{reference}/cancel", "post"): anyone,
        ("/api/groups/{slug}/offers", "get"): token,
        ("/api/groups/{slug}/offers", "post"): token,
    }
    created = response.json()["components"]["schemas"]["RequestCreatedOut"]
    assert created["required"] == ["id", "reference", "status", "secret", "status_url"]
