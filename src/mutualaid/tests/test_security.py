"""Site-wide guarantees: every POST form carries a CSRF token and is refused without one, the
browser is told not to frame or sniff pages, and no page or API answer shows a member's email,
phone or exact address to anyone else."""

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from mutualaid.groups import services as group_services
from mutualaid.groups.models import Group, Role
from mutualaid.groups.tests.factories import make_group
from mutualaid.people.models import User
from mutualaid.people.services import api_token_create
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

POST_FORM = re.compile(r"<form\b[^>]*\bmethod=\"post\"[^>]*>(.*?)</form>", re.S | re.I)
CSRF_INPUT = 'name="csrfmiddlewaretoken"'


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    """Rosa, steward of Elm Road with Kit and Lee in it; a request to join waits, a role waits
    for confirmation; a gated group Rosa asked to join; and people with personal data on file."""
    rosa = UserFactory(
        email="rosa@example.org",
        display_name="Rosa",
        phone="+44 7700 900111",
        address="1 Rosa Lane, M14 5AA",
    )
    kit = UserFactory(
        email="kit@example.org",
        display_name="Kit",
        phone="+44 7700 900222",
        address="2 Kit Street, M19 2BB",
    )
    lee = UserFactory(
        email="lee@example.org",
        display_name="Lee",
        phone="+44 7700 900333",
        address="3 Lee Road, M13 0CC",
    )
    home = make_group(creator=rosa, name="Elm Road", slug="elm-road", join_needs_vouch=True)
    for neighbour in (kit, lee):
        join_request = group_services.group_join(group=home, member=neighbour)
        group_services.join_request_vouch(join_request=join_request, voucher=rosa)
    applicant = UserFactory(
        email="sam@example.org", display_name="Sam", phone="+44 7700 900444", address="4 Sam Way"
    )
    group_services.group_join(group=home, member=applicant, message="Hello from Sam")
    group_services.role_grant_propose(
        group=home,
        proposer=kit,
        holder=lee,
        role=Role.DISPATCHER,
        reason="Answers calls",
    )
    gated = make_group(name="Oak Street", slug="oak-street", join_needs_vouch=True)
    group_services.group_join(group=gated, member=rosa, message="Hello")
    api_token_create(user=rosa, name="laptop")
    return {"rosa": rosa, "kit": kit, "lee": lee, "sam": applicant, "home": home, "gated": gated}


def personal_data_of(*members: User) -> list[str]:
    return [value for member in members for value in (member.email, member.phone, member.address)]


MEMBER_PAGES = [
    "/",
    "/groups/elm-road/",
    "/groups/elm-road/members/",
    "/groups/elm-road/settings/",
    "/groups/elm-road/skills/",
    "/groups/oak-street/",
    "/groups/new/",
    "/me/",
    "/me/profile/",
    "/me/tokens/",
    "/me/delete/",
    "/accounts/email/",
    "/accounts/password/change/",
    "/accounts/2fa/",
    "/accounts/reauthenticate/",
]
VISITOR_PAGES = [
    "/",
    "/groups/elm-road/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/login/code/",
    "/accounts/password/reset/",
]


def _post_forms(html: str) -> list[str]:
    return POST_FORM.findall(html)


@pytest.mark.parametrize("path", MEMBER_PAGES)
def test_every_post_form_a_member_sees_has_a_csrf_token(
    client: Client, world: dict[str, Any], path: str
) -> None:
    # given
    client.force_login(world["rosa"])
    # when
    response = client.get(path)
    # then
    assert response.status_code == 200
    forms = _post_forms(response.content.decode())
    assert forms, "the page has at least the log-out form"
    assert [form for form in forms if CSRF_INPUT not in form] == []


@pytest.mark.parametrize("path", VISITOR_PAGES)
def test_every_post_form_a_visitor_sees_has_a_csrf_token(
    client: Client, world: dict[str, Any], path: str
) -> None:
    # when
    response = client.get(path)
    # then
    assert response.status_code == 200
    forms = _post_forms(response.content.decode())
    assert forms, "the page has at least the language form"
    assert [form for form in forms if CSRF_INPUT not in form] == []


def test_the_group_page_of_a_steward_shows_every_kind_of_form(
    client: Client, world: dict[str, Any]
) -> None:
    # given
    client.force_login(world["rosa"])
    # when
    html = client.get("/groups/elm-road/").content.decode()
    # then: leave, vouch, confirm, withdraw a proposal or step down, log out, language
    actions = re.findall(r'<form\b[^>]*\baction="([^"]*)"', html)
    assert {re.sub(r"/\d+/", "/<pk>/", action) for action in actions} >= {
        "/groups/elm-road/leave/",
        "/groups/elm-road/join-requests/<pk>/vouch/",
        "/groups/elm-road/roles/<pk>/confirm/",
        "/groups/elm-road/roles/<pk>/step-down/",
    }


CSRF_PROTECTED_POSTS = [
    ("/accounts/signup/", {"email": "new@example.org", "display_name": "New"}),
    ("/accounts/login/", {"login": "rosa@example.org", "password": "x"}),
    ("/accounts/login/code/", {"email": "rosa@example.org"}),
    ("/accounts/logout/", {}),
    ("/i18n/setlang/", {"language": "es"}),
    ("/me/profile/", {"display_name": "Changed", "travel_km": "3"}),
    ("/me/tokens/", {"name": "forged"}),
    ("/me/tokens/1/revoke/", {}),
    ("/me/export/", {}),
    ("/me/delete/", {"email": "rosa@example.org"}),
    ("/groups/new/", {"name": "Forged"}),
    ("/groups/elm-road/settings/", {"name": "Forged"}),
    ("/groups/elm-road/skills/", {"name": "Forged"}),
    ("/groups/oak-street/join/", {}),
    ("/groups/elm-road/leave/", {}),
    ("/groups/elm-road/join-requests/1/vouch/", {}),
    ("/groups/elm-road/join-requests/1/withdraw/", {}),
    ("/groups/elm-road/roles/propose/", {"role": "steward"}),
    ("/groups/elm-road/roles/1/confirm/", {}),
    ("/groups/elm-road/roles/1/step-down/", {}),
]


@pytest.mark.parametrize(("path", "data"), CSRF_PROTECTED_POSTS)
def test_a_post_without_the_csrf_token_is_refused(
    world: dict[str, Any], path: str, data: dict[str, str]
) -> None:
    # given
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["rosa"])
    # when
    response = client.post(path, data)
    # then
    assert response.status_code == 403
    assert "CSRF verification failed" in response.content.decode()
    world["rosa"].refresh_from_db()
    assert world["rosa"].display_name == "Rosa"
    assert world["rosa"].erased_at is None
    assert Group.objects.filter(name="Forged").count() == 0


def test_pages_forbid_framing_and_sniffing(client: Client, db: None) -> None:
    # when
    page = client.get("/")
    api = client.get("/api/groups")
    # then
    for response in (page, api):
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


def test_the_session_cookie_is_out_of_reach_of_scripts(
    client: Client, world: dict[str, Any]
) -> None:
    # when
    response = client.post(
        reverse("account_login"),
        {"login": "rosa@example.org", "password": "correct horse battery staple"},
    )
    # then
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/groups/elm-road/",
        "/groups/elm-road/members/",
        "/groups/elm-road/skills/",
        "/groups/elm-road/settings/",
        "/groups/oak-street/",
        "/me/",
    ],
)
def test_no_page_shows_another_members_personal_data(
    client: Client, world: dict[str, Any], path: str
) -> None:
    # given
    client.force_login(world["rosa"])
    # when
    html = client.get(path).content.decode()
    # then
    others = personal_data_of(world["kit"], world["lee"], world["sam"])
    assert [value for value in others if value in html] == []


@pytest.mark.parametrize("path", ["/groups/elm-road/", "/groups/oak-street/", "/"])
def test_a_non_member_sees_no_member_names_roles_or_personal_data(
    client: Client, world: dict[str, Any], path: str
) -> None:
    # given: Sam is only asking to join Elm Road
    client.force_login(world["sam"])
    # when
    html = client.get(path).content.decode()
    # then
    names = ["Rosa", "Kit", "Lee"]
    assert [name for name in names if re.search(rf"\b{name}\b", html)] == []
    assert "Answers calls" not in html
    others = personal_data_of(world["rosa"], world["kit"], world["lee"])
    assert [value for value in others if value in html] == []


def test_a_visitor_cannot_open_a_member_list(client: Client, world: dict[str, Any]) -> None:
    # when
    response = client.get("/groups/elm-road/members/")
    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


API_GETS = [
    "/api/me",
    "/api/groups",
    "/api/groups/elm-road",
    "/api/groups/elm-road/members",
    "/api/groups/elm-road/roles",
    "/api/groups/oak-street",
]


@pytest.mark.parametrize("who", ["rosa", "sam", None])
def test_the_api_never_answers_with_anyones_personal_data(
    client: Client, world: dict[str, Any], who: str | None
) -> None:
    # given
    headers = {}
    if who is not None:
        _token, raw = api_token_create(user=world[who], name="script")
        headers = {"Authorization": f"Bearer {raw}"}
    # when
    bodies = [client.get(path, headers=headers).content.decode() for path in API_GETS]
    # then: not even the caller's own, which only their profile page and data download show
    everyone = personal_data_of(world["rosa"], world["kit"], world["lee"], world["sam"])
    assert [value for body in bodies for value in everyone if value in body] == []


def test_markup_typed_by_members_is_shown_as_text(client: Client, world: dict[str, Any]) -> None:
    # given: markup in every free text others read
    script = "<script>alert('x')</script>"
    home = world["home"]
    Group.objects.filter(pk=home.pk).update(
        name=f"Elm {script}", place=f"Place {script}", description=f"About {script}"
    )
    group_services.group_skill_add(group=home, member=world["rosa"], name=f"Skill {script}")
    visitor = UserFactory(display_name="Visitor")
    group_services.group_join(group=home, member=visitor, message=f"Hi {script}")
    group_services.role_grant_propose(
        group=home,
        proposer=world["rosa"],
        holder=world["kit"],
        role=Role.TREASURER,
        reason=f"Reason {script}",
    )
    client.force_login(world["rosa"])
    # when
    pages = {
        path: client.get(path).content.decode()
        for path in ["/", "/groups/elm-road/", "/groups/elm-road/skills/", "/me/"]
    }
    # then
    assert [path for path, html in pages.items() if script in html] == []
    detail = pages["/groups/elm-road/"]
    for text in ["Elm", "Place", "About", "Hi", "Reason"]:
        assert f"{text} &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in detail
