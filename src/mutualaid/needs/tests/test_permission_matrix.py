"""Who may open every page and call every API operation about requests and offers, in one table.

Each row is one cell: a route (a URL name of needs.urls, or an operation of the needs API), the
object it is called on, the actor calling, the status they get, and whether the answer holds how
to reach the person who asked. Every request in the world carries the same distinctive contact
details, so any page or answer that lets them slip out to someone else fails, and each answer
that rightly holds them must have left one line in the audit log.

A new route without a row fails test_every_page_has_rows / test_every_api_operation_has_rows.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NamedTuple

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils import timezone

from mutualaid.api.tests.wire import bearer
from mutualaid.common.models import AuditEvent
from mutualaid.groups import services as group_services
from mutualaid.groups.models import Group, Role, RoleGrant
from mutualaid.needs import services
from mutualaid.needs import urls as needs_urls
from mutualaid.needs.api import router as needs_router
from mutualaid.needs.models import Assignment, Offer, Request, Urgency
from mutualaid.needs.tests.factories import (
    claimed_request,
    make_group,
    make_offer,
    make_request,
    member_of,
)
from mutualaid.people.models import User
from mutualaid.people.services import api_token_create

pytestmark = pytest.mark.django_db

# How to reach the person who asked, on every request of the world.
CANARY = {
    "name": "Canary Name 7Q",
    "phone": "+44 7700 900777",
    "email": "canary.7q@example.net",
    "address": "7 Canary Wharf Lane",
    "accessibility_notes": "Canary access note: ring twice",
}
# Each is looked for in every answer; the phone in any of the ways a page may write it.
CANARY_PATTERNS = {
    "name": re.compile(re.escape(CANARY["name"])),
    "phone": re.compile(r"7700\W{0,3}900\W{0,3}777"),
    "email": re.compile(re.escape(CANARY["email"])),
    "address": re.compile(re.escape(CANARY["address"])),
    "accessibility_notes": re.compile(re.escape("Canary access note")),
}
WRONG_SECRET = "WrongSecretWrongSecretWrongSecretX"

# Who calls: the users of World.users, and three without an account. "requester" holds the
# secret of the request's status link; "wrong_secret" holds that of another request.
ANONYMOUS_ACTORS = {"anonymous", "requester", "wrong_secret"}
# Who holds which request of the world (the standing volunteer holds the occurrence taken for
# them when they took the need).
HOLDERS = {"held": "claimer", "committed": "standing_volunteer"}
# Routes by which a member takes the request in the very call: the answer is the new claimer's.
CLAIMING_ROUTES = {"api:claim_request"}


class Expect(NamedTuple):
    status: int | str
    contact: bool = False


LOGIN = Expect("login")  # 302 to the login page, with the page as ?next=
SEES = Expect(200, contact=True)
CLASH_SEES = Expect(409, contact=True)


@dataclass(frozen=True)
class Cell:
    route: str  # "needs:<url name>" or "api:<operation>"
    method: str
    target: str
    actor: str
    expect: Expect
    variant: str = ""

    @property
    def id(self) -> str:
        variant = f"({self.variant})" if self.variant else ""
        return f"{self.route}-{self.method}-{self.target}{variant}-{self.actor}"


def cells(route: str, method: str, target: str, variant: str = "", **by_actor: Any) -> list[Cell]:
    return [
        Cell(
            route=route,
            method=method,
            target=target,
            actor=actor,
            expect=expected if isinstance(expected, Expect) else Expect(expected),
            variant=variant,
        )
        for actor, expected in by_actor.items()
    ]


# Targets: "group" (the group of the world), "missing_group", "none" (a page of no object);
# requests "held" (claimed by the claimer), "left" (claimed by the former claimer, who then left
# the group: open again), "open", "asked" (the assignee is asked to take it), "unmet", "purged"
# (cancelled and erased), "standing" (a need that comes back, that nobody takes every time),
# "committed" (one that the standing volunteer takes every time), "missing_request";
# "assignment" (the question to the assignee about "asked"); "offer" (the offer owner's).
MEMBERS_ONLY = {
    "anonymous": LOGIN,
    "outsider": 403,
    "member": 200,
    "claimer": 200,
    "dispatcher": 200,
    "expired_dispatcher": 200,
}
DISPATCHERS_ONLY = {
    "anonymous": LOGIN,
    "outsider": 403,
    "member": 403,
    "claimer": 403,
    "dispatcher": 200,
    "expired_dispatcher": 403,
    "steward": 403,
}
HOLDER_ONLY = {
    "anonymous": LOGIN,
    "outsider": 403,
    "member": 403,
    "claimer": 302,
    "dispatcher": 403,
    "expired_dispatcher": 403,
}
DISPATCHER_ACTS = {
    "anonymous": LOGIN,
    "outsider": 403,
    "member": 403,
    "claimer": 403,
    "dispatcher": 302,
    "expired_dispatcher": 403,
}

PAGES = [
    # Asking for help is open to anyone.
    *cells("needs:ask", "GET", "group", anonymous=200, outsider=200, member=200, dispatcher=200),
    *cells("needs:ask", "POST", "group", anonymous=302, outsider=302, member=302),
    *cells("needs:ask", "GET", "missing_group", anonymous=404),
    *cells("needs:ask", "POST", "missing_group", anonymous=404),
    # The requester's own pages: the secret opens them, and they never show who asked.
    *cells(
        "needs:status",
        "GET",
        "held",
        requester=200,
        wrong_secret=404,
        claimer=404,
        dispatcher=404,
    ),
    *cells("needs:status", "GET", "purged", requester=404),
    *cells("needs:status_cancel", "GET", "held", requester=200, wrong_secret=404, dispatcher=404),
    *cells("needs:status_cancel", "POST", "held", requester=302, wrong_secret=404, dispatcher=404),
    *cells("needs:status_message", "POST", "held", requester=302, wrong_secret=404, claimer=404),
    *cells("needs:status_message", "POST", "purged", requester=404),
    # The dispatchers' pages.
    *cells("needs:phone_desk", "GET", "group", **DISPATCHERS_ONLY),
    *cells("needs:phone_desk", "POST", "group", **{**DISPATCHERS_ONLY, "dispatcher": 302}),
    *cells("needs:follow_up", "GET", "group", **DISPATCHERS_ONLY),
    *cells("needs:phone_desk", "GET", "missing_group", dispatcher=404),
    # What members read: never anyone's contact details, not even for a dispatcher.
    *cells("needs:request_list", "GET", "group", **MEMBERS_ONLY),
    *cells("needs:request_list", "GET", "missing_group", member=404),
    *cells("needs:report", "GET", "group", **MEMBERS_ONLY),
    *cells("needs:categories", "GET", "group", **MEMBERS_ONLY),
    *cells(
        "needs:categories", "POST", "group", **{**DISPATCHER_ACTS, "steward": 302, "member": 403}
    ),
    *cells(
        "needs:my_requests",
        "GET",
        "none",
        anonymous=LOGIN,
        outsider=200,
        member=200,
        claimer=200,
        dispatcher=200,
        assignee=200,
        standing_volunteer=200,
    ),
    # One request: the contact block for its claimer and the dispatchers, audited.
    *cells(
        "needs:request_detail",
        "GET",
        "held",
        anonymous=LOGIN,
        outsider=403,
        member=200,
        claimer=SEES,
        dispatcher=SEES,
        expired_dispatcher=200,
        steward=200,
        assignee=200,
    ),
    *cells(
        "needs:request_detail",
        "GET",
        "open",
        anonymous=LOGIN,
        outsider=403,
        member=200,
        claimer=200,
        dispatcher=SEES,
        expired_dispatcher=200,
    ),
    *cells("needs:request_detail", "GET", "asked", assignee=200, member=200, dispatcher=SEES),
    *cells("needs:request_detail", "GET", "unmet", member=200, dispatcher=SEES),
    *cells("needs:request_detail", "GET", "purged", member=200, dispatcher=200),
    *cells("needs:request_detail", "GET", "committed", standing_volunteer=SEES, member=200),
    *cells("needs:request_detail", "GET", "missing_request", member=404),
    *cells("needs:request_detail", "GET", "left", former_claimer=403, member=200, dispatcher=SEES),
    # Taking, letting go and finishing.
    *cells(
        "needs:request_claim",
        "POST",
        "open",
        anonymous=LOGIN,
        outsider=403,
        member=302,
        dispatcher=302,
        expired_dispatcher=302,
    ),
    *cells("needs:request_claim", "POST", "held", member=409, claimer=CLASH_SEES),
    *cells("needs:request_claim", "POST", "missing_request", member=404),
    *cells("needs:request_claim", "POST", "left", former_claimer=403),
    *cells("needs:request_release", "POST", "held", **HOLDER_ONLY),
    *cells("needs:request_release", "POST", "open", claimer=403),
    *cells("needs:request_release", "POST", "left", former_claimer=403),
    *cells("needs:request_complete", "POST", "held", **HOLDER_ONLY),
    *cells("needs:request_complete", "POST", "open", claimer=403),
    # What dispatchers do to a request.
    *cells("needs:request_assign", "POST", "open", **DISPATCHER_ACTS),
    *cells("needs:request_cancel", "POST", "open", **DISPATCHER_ACTS),
    *cells("needs:request_cancel", "POST", "held", claimer=403, dispatcher=302),
    *cells("needs:request_reopen", "POST", "unmet", **DISPATCHER_ACTS),
    *cells("needs:request_reopen", "POST", "open", dispatcher=CLASH_SEES),
    *cells(
        "needs:request_link_offer",
        "POST",
        "held",
        **{**HOLDER_ONLY, "dispatcher": 302, "offer_owner": 403},
    ),
    # The thread: the holder and the dispatchers.
    *cells(
        "needs:message_post", "POST", "held", **{**HOLDER_ONLY, "dispatcher": 302, "assignee": 403}
    ),
    *cells("needs:message_post", "POST", "open", claimer=403, dispatcher=302),
    *cells("needs:message_post", "POST", "purged", dispatcher=403),
    *cells("needs:message_post", "POST", "left", former_claimer=403),
    # Needs that come back.
    *cells(
        "needs:standing_need_commit",
        "POST",
        "standing",
        anonymous=LOGIN,
        outsider=403,
        member=302,
        expired_dispatcher=302,
    ),
    *cells("needs:standing_need_commit", "POST", "committed", member=409),
    *cells("needs:standing_need_commit", "POST", "held", member=404),
    *cells(
        "needs:standing_need_release",
        "POST",
        "committed",
        anonymous=LOGIN,
        outsider=403,
        member=403,
        dispatcher=403,
        standing_volunteer=302,
    ),
    # A dispatcher asked one member to take a request: only they answer.
    *cells(
        "needs:assignment_accept",
        "POST",
        "assignment",
        anonymous=LOGIN,
        outsider=403,
        member=403,
        claimer=403,
        dispatcher=403,
        assignee=302,
    ),
    *cells(
        "needs:assignment_decline",
        "POST",
        "assignment",
        anonymous=LOGIN,
        outsider=403,
        member=403,
        dispatcher=403,
        assignee=302,
    ),
    # Offers.
    *cells("needs:offer_list", "GET", "group", **{**MEMBERS_ONLY, "offer_owner": 200}),
    *cells("needs:offer_create", "GET", "group", anonymous=LOGIN, outsider=403, member=200),
    *cells(
        "needs:offer_create",
        "POST",
        "group",
        anonymous=LOGIN,
        outsider=403,
        member=302,
        expired_dispatcher=302,
    ),
    *cells(
        "needs:offer_withdraw",
        "POST",
        "offer",
        anonymous=LOGIN,
        outsider=403,
        member=403,
        claimer=403,
        dispatcher=403,
        offer_owner=302,
    ),
]

API_MEMBERS_ONLY = {
    "anonymous": 401,
    "outsider": 403,
    "member": 200,
    "claimer": 200,
    "dispatcher": 200,
    "expired_dispatcher": 200,
}
API_HOLDER_ONLY = {
    "anonymous": 401,
    "outsider": 403,
    "member": 403,
    # Done or let go, the request is no longer theirs: the answer has no contact block.
    "claimer": 200,
    "dispatcher": 403,
    "expired_dispatcher": 403,
}

OPERATIONS = [
    *cells(
        "api:create_request", "POST", "group", anonymous=201, outsider=201, member=201, claimer=201
    ),
    *cells(
        "api:create_request",
        "POST",
        "group",
        "by phone",
        anonymous=403,
        outsider=403,
        member=403,
        dispatcher=201,
        expired_dispatcher=403,
    ),
    *cells("api:create_request", "POST", "missing_group", anonymous=404),
    *cells("api:list_requests", "GET", "group", **API_MEMBERS_ONLY),
    *cells(
        "api:list_requests",
        "GET",
        "group",
        "unmet ones",
        member=403,
        claimer=403,
        dispatcher=200,
        expired_dispatcher=403,
    ),
    *cells("api:list_requests", "GET", "missing_group", member=404),
    *cells(
        "api:get_request",
        "GET",
        "held",
        **{**API_MEMBERS_ONLY, "claimer": SEES, "dispatcher": SEES, "steward": 200},
    ),
    *cells("api:get_request", "GET", "open", claimer=200, dispatcher=SEES, member=200),
    *cells("api:get_request", "GET", "asked", assignee=200, dispatcher=SEES),
    *cells("api:get_request", "GET", "purged", dispatcher=200),
    *cells("api:get_request", "GET", "left", former_claimer=403, dispatcher=SEES),
    *cells("api:get_request", "GET", "missing_request", member=404),
    *cells(
        "api:claim_request",
        "POST",
        "open",
        anonymous=401,
        outsider=403,
        member=SEES,
        dispatcher=SEES,
        expired_dispatcher=SEES,
    ),
    *cells("api:claim_request", "POST", "held", member=409, claimer=409),
    *cells("api:claim_request", "POST", "missing_request", member=404),
    *cells("api:release_request", "POST", "held", **API_HOLDER_ONLY),
    *cells("api:release_request", "POST", "open", claimer=403),
    *cells("api:release_request", "POST", "left", former_claimer=403),
    *cells("api:complete_request", "POST", "left", former_claimer=403),
    *cells("api:complete_request", "POST", "held", **API_HOLDER_ONLY),
    *cells("api:complete_request", "POST", "open", claimer=403),
    *cells(
        "api:get_own_request",
        "GET",
        "held",
        requester=200,
        wrong_secret=404,
        claimer=404,
        dispatcher=404,
    ),
    *cells("api:get_own_request", "GET", "purged", requester=404),
    *cells(
        "api:post_own_message",
        "POST",
        "held",
        requester=201,
        wrong_secret=404,
        dispatcher=404,
    ),
    *cells("api:post_own_message", "POST", "purged", requester=404),
    *cells(
        "api:cancel_own_request",
        "POST",
        "held",
        requester=200,
        wrong_secret=404,
        dispatcher=404,
    ),
    *cells(
        "api:list_offers",
        "GET",
        "group",
        **{**API_MEMBERS_ONLY, "offer_owner": 200},
    ),
    *cells(
        "api:create_offer",
        "POST",
        "group",
        anonymous=401,
        outsider=403,
        member=201,
        expired_dispatcher=201,
    ),
    *cells("api:create_offer", "POST", "missing_group", member=404),
]

MATRIX = PAGES + OPERATIONS


# The world every cell runs in


@dataclass
class World:
    group: Group
    users: dict[str, User]
    requests: dict[str, Request]
    assignment: Assignment
    offer: Offer
    secrets: dict[str, str]

    def user(self, actor: str) -> User | None:
        return None if actor in ANONYMOUS_ACTORS else self.users[actor]

    def client(self, actor: str, *, api: bool) -> Client:
        """A browser logged in as the actor, or an API client with the actor's token."""
        user = self.user(actor)
        if user is None:
            return Client()
        if api:
            _token, raw = api_token_create(user=user, name="matrix")
            return Client(headers=bearer(raw))
        client = Client()
        client.force_login(user)
        return client


def _make_dispatcher(group: Group, holder: User, *, proposer: User, confirmer: User) -> None:
    """Give `holder` the dispatcher role in `group`, proposed and confirmed by two others."""
    grant = group_services.role_grant_propose(
        group=group, proposer=proposer, holder=holder, role=Role.DISPATCHER, reason="Hotline"
    )
    group_services.role_grant_confirm(grant=grant, confirmer=confirmer)


def _expire_roles(user: User) -> None:
    """Move the user's role grants wholly into the past, as if their end date had passed."""
    now = timezone.now()
    RoleGrant.objects.filter(holder=user).update(
        granted_at=now - timedelta(days=10), expires_at=now - timedelta(seconds=1)
    )


def _status_secret(request: Request) -> str:
    """The secret of the status link, kept on the instance by make_request."""
    secret: str = request.secret  # type: ignore[attr-defined]
    return secret


def build_world() -> World:
    """Everyone and every request the table names, made through the services."""
    group = make_group(name="Levenshulme Mutual Aid", slug="levenshulme")
    steward = group.created_by
    member = member_of(group)
    dispatcher = member_of(group)
    _make_dispatcher(group, dispatcher, proposer=steward, confirmer=member)
    expired = member_of(group)
    _make_dispatcher(group, expired, proposer=steward, confirmer=member)
    _expire_roles(expired)
    # A dispatcher of the group next door, and of nothing in this one.
    next_door = make_group(name="Rusholme Mutual Aid", slug="rusholme")
    outsider = member_of(next_door)
    _make_dispatcher(
        next_door, outsider, proposer=next_door.created_by, confirmer=member_of(next_door)
    )

    # Closed and past its group's retention: erased before anything else is closed.
    purged = make_request(group, **CANARY)
    services.request_cancel(request=purged, secret=purged.secret)
    services.requests_purge_personal_data(
        now=timezone.now() + timedelta(days=group.retention_days + 1)
    )
    # Needed three days ago, and nobody took it.
    unmet = make_request(
        group, **CANARY, urgency=Urgency.TODAY, now=timezone.now() - timedelta(days=3)
    )
    services.requests_mark_unmet()

    held, claimer = claimed_request(group, **CANARY)
    # Someone who took a request and then left the group, which let it go.
    left, former_claimer = claimed_request(group, **CANARY, description="Bin day help")
    group_services.group_leave(group=group, member=former_claimer)
    open_request = make_request(group, **CANARY, description="Prescription from the chemist")
    assignee = member_of(group)
    asked = make_request(group, **CANARY, description="Lift to the clinic")
    assignment = services.request_assign(request=asked, member=assignee, dispatcher=dispatcher)
    standing = make_request(group, **CANARY, recurrence="weekly")
    committed = make_request(group, **CANARY, recurrence="weekly")
    volunteer = member_of(group)
    assert committed.standing_need is not None
    services.standing_need_commit(standing_need=committed.standing_need, member=volunteer)
    offer_owner = member_of(group)
    offer = make_offer(group, offer_owner, title="Cargo bike deliveries")

    requests = {
        "held": held,
        "left": left,
        "open": open_request,
        "asked": asked,
        "unmet": unmet,
        "purged": purged,
        "standing": standing,
        "committed": committed,
    }
    return World(
        group=group,
        users={
            "outsider": outsider,
            "member": member,
            "claimer": claimer,
            "former_claimer": former_claimer,
            "dispatcher": dispatcher,
            "expired_dispatcher": expired,
            "steward": steward,
            "assignee": assignee,
            "offer_owner": offer_owner,
            "standing_volunteer": volunteer,
        },
        requests=requests,
        assignment=assignment,
        offer=offer,
        secrets={name: _status_secret(request) for name, request in requests.items()},
    )


@pytest.fixture(scope="module")
def shared_world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """The world, made once for the module inside a transaction that is rolled back after its
    last test. Each test runs inside it in its own savepoint (pytest-django's `db`), so what one
    cell changes is undone before the next; made per test, the world would cost each of the
    hundreds of cells some 300 queries."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture
def world(shared_world: World, db: None) -> World:
    return shared_world


# How a cell is called


def _page_kwargs() -> dict[str, list[str]]:
    """The keyword arguments of each page's address, by URL name."""
    return {
        pattern.name: list(pattern.pattern.converters)
        for pattern in needs_urls.urlpatterns
        if isinstance(pattern, URLPattern) and pattern.name
    }


def _operations() -> dict[str, tuple[str, str]]:
    """(method, path under /api) of each operation of the needs router, by operation name."""
    found = {}
    for path, path_view in needs_router.path_operations.items():
        for operation in path_view.operations:
            for method in operation.methods:
                found[operation.view_func.__name__] = (method, path)
    return found


def _secret(world: World, cell: Cell) -> str:
    """The secret of the request's status link for its requester; that of another request for
    "wrong_secret"; a made-up one for everyone else."""
    if cell.actor == "requester":
        return world.secrets[cell.target]
    if cell.actor == "wrong_secret":
        return world.secrets["open"]
    return WRONG_SECRET


def _object_pk(world: World, cell: Cell) -> int:
    if cell.target == "missing_request":
        return 999_999
    if cell.target == "assignment":
        return world.assignment.pk
    if cell.target == "offer":
        return world.offer.pk
    return world.requests[cell.target].pk


def _slug(world: World, cell: Cell) -> str:
    return "no-such-group" if cell.target == "missing_group" else world.group.slug


def page_url(world: World, cell: Cell) -> str:
    name = cell.route.removeprefix("needs:")
    kwargs: dict[str, Any] = {}
    for key in _page_kwargs()[name]:
        if key == "slug":
            kwargs[key] = _slug(world, cell)
        elif key == "pk":
            kwargs[key] = _object_pk(world, cell)
        elif key == "reference":
            kwargs[key] = world.requests[cell.target].reference
        elif key == "secret":
            kwargs[key] = _secret(world, cell)
    return reverse(cell.route, kwargs=kwargs)


def api_url(world: World, cell: Cell) -> str:
    method, path = _operations()[cell.route.removeprefix("api:")]
    assert method == cell.method, cell
    path = path.replace("{slug:slug}", "{slug}").replace("{int:id}", "{id}")
    if "{slug}" in path:
        path = path.replace("{slug}", _slug(world, cell))
    if "{id}" in path:
        path = path.replace("{id}", str(_object_pk(world, cell)))
    query = ""
    if "{reference}" in path:
        path = path.replace("{reference}", world.requests[cell.target].reference)
        query = f"?secret={_secret(world, cell)}"
    elif cell.variant == "unmet ones":
        query = "?status=unmet"
    return f"/api{path}{query}"


def page_data(world: World, cell: Cell) -> dict[str, Any]:
    """A form that is filled in correctly, so that only who is asking decides the answer."""
    soon = (timezone.localdate() + timedelta(days=3)).isoformat()
    return {
        "needs:ask": {
            "category": "shopping",
            "description": "Milk and bread",
            "name": "Ann",
            "contact_method": "phone",
            "contact": "0161 496 0000",
        },
        "needs:status_cancel": {"what": "request"},
        "needs:status_message": {"body": "The bell is broken, please knock."},
        "needs:phone_desk": {
            "name": "Ann",
            "phone": "0161 496 0000",
            "category": "shopping",
            "description": "Milk and bread",
            "urgency": "today",
        },
        "needs:categories": {"name": "School uniform swap"},
        "needs:request_release": {"reason": "My car broke down"},
        "needs:request_complete": {"notes": "Left at the door"},
        "needs:request_assign": {"member": str(world.users["member"].pk)},
        "needs:request_reopen": {"needed_by": soon},
        "needs:request_link_offer": {"offer": str(world.offer.pk)},
        "needs:message_post": {"body": "On my way at five."},
        "needs:assignment_decline": {"reason": "Away this week"},
        "needs:offer_create": {"kind": "time", "category": "shopping", "title": "Lifts"},
    }.get(cell.route, {})


def api_body(cell: Cell) -> dict[str, Any] | None:
    ask = {
        "category": "shopping",
        "description": "Milk and bread",
        "name": "Ann",
        "phone": "0161 496 0000",
    }
    if cell.variant == "by phone":
        ask["channel"] = "phone"
    return {
        "api:create_request": ask,
        "api:release_request": {"reason": "My car broke down"},
        "api:complete_request": {"notes": "Left at the door"},
        "api:post_own_message": {"body": "The bell is broken, please knock."},
        "api:create_offer": {"kind": "time", "category": "shopping", "title": "Lifts"},
    }.get(cell.route)


def call(world: World, cell: Cell) -> Any:
    api = cell.route.startswith("api:")
    client = world.client(cell.actor, api=api)
    if api:
        url = api_url(world, cell)
        if cell.method == "GET":
            return client.get(url)
        body = api_body(cell)
        if body is None:
            return client.generic("POST", url)
        return client.post(url, body, content_type="application/json")
    url = page_url(world, cell)
    if cell.method == "GET":
        return client.get(url)
    return client.post(url, page_data(world, cell))


def canaries_in(body: str) -> set[str]:
    return {name for name, pattern in CANARY_PATTERNS.items() if pattern.search(body)}


def contact_views() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).order_by("pk"))


# Known wrong answers: the cell states the right one and fails until the code gives it.
KNOWN_WRONG: dict[str, str] = {}


def _param(cell: Cell) -> Any:
    marks = []
    if cell.id in KNOWN_WRONG:
        marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_WRONG[cell.id]))
    return pytest.param(cell, id=cell.id, marks=marks)


@pytest.mark.parametrize("cell", [_param(cell) for cell in MATRIX])
def test_access(world: World, cell: Cell) -> None:
    # given
    before = {event.pk for event in contact_views()}

    # when
    response = call(world, cell)

    # then: the status
    if cell.expect.status == "login":
        assert response.status_code == 302, cell
        assert response["Location"].startswith(reverse("account_login") + "?next="), cell
    else:
        assert response.status_code == cell.expect.status, (cell, response.content[:300])
        if response.status_code == 302:
            assert not response["Location"].startswith(reverse("account_login")), cell

    # and: how to reach the person, whole or not at all, and audited each time it is shown
    shown = canaries_in(response.content.decode())
    new_views = [event for event in contact_views() if event.pk not in before]
    if cell.expect.contact:
        assert shown == set(CANARY_PATTERNS), cell
        target = world.requests[cell.target]
        assert [(e.actor_id, e.subject_label) for e in new_views] == [
            (world.users[cell.actor].pk, f"request {target.reference}")
        ], cell
        assert {"name", "phone", "email", "address"} <= set(new_views[0].fields), cell
    else:
        assert shown == set(), cell
        assert new_views == [], cell


# The table itself


def test_every_page_has_rows() -> None:
    names = {pattern.name for pattern in needs_urls.urlpatterns if isinstance(pattern, URLPattern)}
    covered = {cell.route.removeprefix("needs:") for cell in PAGES}
    assert covered == names


def test_every_api_operation_has_rows() -> None:
    covered = {(cell.route.removeprefix("api:"), cell.method) for cell in OPERATIONS}
    assert covered == {(name, method) for name, (method, _path) in _operations().items()}


def test_every_route_has_a_refusal() -> None:
    """Each rule that says yes to someone says no to someone else in the table."""
    refused: dict[tuple[str, str], bool] = {}
    for cell in MATRIX:
        key = (cell.route, cell.method)
        refusal = cell.expect.status == "login" or cell.expect.status in {401, 403, 404}
        refused[key] = refused.get(key, False) or refusal
    assert [key for key, any_refusal in refused.items() if not any_refusal] == []


def test_only_the_holder_and_dispatchers_are_expected_to_see_the_contact() -> None:
    allowed = [
        cell
        for cell in MATRIX
        if cell.expect.contact
        and (
            cell.actor == "dispatcher"
            or HOLDERS.get(cell.target) == cell.actor
            or cell.route in CLAIMING_ROUTES
        )
    ]
    assert [cell.id for cell in MATRIX if cell.expect.contact and cell not in allowed] == []


def test_cells_are_unique() -> None:
    ids = [cell.id for cell in MATRIX]
    assert len(ids) == len(set(ids))
