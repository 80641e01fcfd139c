"""Hostile input to every page that takes a POST, and to the pages' query strings and addresses.

Each answer is a form error, a 404, a 405 or a refusal with a message: never a 500, and a form
that refuses its input saves nothing at all. Whatever is saved fits its column and holds no NUL
character, so what passes on SQLite cannot fail on PostgreSQL (which refuses both).
"""

from typing import Any
from urllib.parse import urlencode

import pytest
from allauth.account.models import EmailAddress
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from mutualaid.groups import services as group_services
from mutualaid.groups.models import Group, JoinRequest, Membership, Role, RoleGrant
from mutualaid.groups.tests.factories import make_group
from mutualaid.people.models import ApiToken, Skill, User
from mutualaid.people.services import api_token_create
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HOSTILE_VALUES = [
    pytest.param("x" * 10_000, id="overlong"),
    pytest.param("", id="empty"),
    pytest.param(" \t\r\n ", id="blank"),
    pytest.param("<script>alert('x')</script>", id="html"),
    pytest.param("Rosa\x00Parks", id="nul"),
    pytest.param("\x01\x1b\x7f", id="control"),
    # Sent as the bytes ED A0 80, which are not UTF-8: the page reads them as U+FFFD.
    pytest.param("\ud800", id="surrogate"),
    pytest.param("-1", id="negative"),
    pytest.param("9" * 30, id="huge"),
    pytest.param("1e309", id="exponent"),
    pytest.param("NaN", id="nan"),
    pytest.param("abc", id="non-numeric"),
]
HOSTILE_IDS = [
    pytest.param("999999", id="unknown"),
    pytest.param(str(2**63), id="past-bigint"),
    pytest.param("9" * 30, id="huge"),
]
STORED_MODELS: list[type[models.Model]] = [
    User,
    User.skills.through,
    EmailAddress,
    ApiToken,
    Group,
    Membership,
    JoinRequest,
    RoleGrant,
    Skill,
]
# Columns that change on any login or API use, whatever else happens.
VOLATILE_COLUMNS = {"last_login", "last_used_at"}


def post_form(client: Client, url: str, data: dict[str, Any]) -> Any:
    """POST as a browser does, with lone surrogates written as the (invalid) UTF-8 bytes."""
    body = urlencode(data, doseq=True, encoding="utf-8", errors="surrogatepass")
    return client.post(url, body, content_type="application/x-www-form-urlencoded")


def stored_rows() -> dict[str, list[dict[str, Any]]]:
    return {
        model._meta.label: [
            {key: value for key, value in row.items() if key not in VOLATILE_COLUMNS}
            for row in model._default_manager.order_by("pk").values()
        ]
        for model in STORED_MODELS
    }


def unstorable_values(rows: dict[str, list[dict[str, Any]]]) -> list[tuple[str, str, int]]:
    """(model, column, length) of every value PostgreSQL would refuse: a NUL character, or
    longer than its column."""
    problems = []
    for model in STORED_MODELS:
        limits = {
            field.attname: field.max_length
            for field in model._meta.concrete_fields
            if isinstance(field, models.CharField) and field.max_length
        }
        for row in rows[model._meta.label]:
            for column, value in row.items():
                if not isinstance(value, str):
                    continue
                if "\x00" in value or len(value) > (limits.get(column) or len(value)):
                    problems.append((model._meta.label, column, len(value)))
    return problems


def assert_refused_or_saved_whole(response: Any, before: dict[str, list[dict[str, Any]]]) -> None:
    """The page answered without a 500; a form shown again with errors changed nothing, and
    anything saved can be stored by every database."""
    assert response.status_code < 500
    after = stored_rows()
    form = response.context.get("form") if response.context else None
    if form is not None and form.errors:
        assert after == before
    assert unstorable_values(after) == []


def assert_refused_or_saved(
    response: Any, before: dict[str, list[dict[str, Any]]], *, form: str = "form"
) -> bool:
    """The form came back (200) showing errors, with nothing stored; or it was saved and the
    page redirected (302), storing only what every database can store. Returns whether it was
    saved."""
    assert response.status_code in {200, 302}
    after = stored_rows()
    if response.status_code == 200:
        assert response.context[form].errors
        assert after == before
    assert unstorable_values(after) == []
    return response.status_code == 302


def with_value(data: dict[str, Any], field: str, value: str) -> dict[str, Any]:
    changed = dict(data)
    changed[field] = [value] if isinstance(data.get(field), list) else value
    return changed


# People: signing up, logging in, codes


@pytest.fixture
def rosa(db: None) -> User:
    return UserFactory(email="rosa@example.org", display_name="Rosa")


@pytest.fixture
def logged_in(client: Client, rosa: User) -> Client:
    client.force_login(rosa)
    return client


SIGNUP_DATA = {
    "email": "new@example.org",
    "display_name": "New Neighbour",
    "password1": "",
    "privacy_consent": "on",
}


@pytest.mark.parametrize("field", list(SIGNUP_DATA))
@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_signup_refuses_hostile_input_or_makes_a_whole_member(
    client: Client, db: None, field: str, value: str
) -> None:
    # given
    before = stored_rows()
    # when
    response = post_form(client, reverse("account_signup"), with_value(SIGNUP_DATA, field, value))
    # then
    if assert_refused_or_saved(response, before):
        member = User.objects.get()
        assert member.display_name.strip() != ""
        assert member.consent_at is not None


@pytest.mark.parametrize("field", ["login", "password"])
@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_login_refuses_hostile_input(client: Client, rosa: User, field: str, value: str) -> None:
    # given
    data = with_value({"login": "rosa@example.org", "password": "wrong"}, field, value)
    before = stored_rows()
    # when
    response = post_form(client, reverse("account_login"), data)
    # then
    assert_refused_or_saved_whole(response, before)
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_login_code_request_and_confirm_refuse_hostile_input(
    client: Client, rosa: User, value: str
) -> None:
    # given
    before = stored_rows()
    # when
    asked = post_form(client, reverse("account_request_login_code"), {"email": value})
    post_form(client, reverse("account_request_login_code"), {"email": "rosa@example.org"})
    confirmed = post_form(client, reverse("account_confirm_login_code"), {"code": value})
    # then
    assert asked.status_code < 500
    assert confirmed.status_code < 500
    assert "_auth_user_id" not in client.session
    assert stored_rows() == before


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_email_verification_code_refuses_hostile_input(client: Client, value: str) -> None:
    # given: signed up, waiting to type the code from the email
    post_form(client, reverse("account_signup"), SIGNUP_DATA)
    before = stored_rows()
    # when
    response = post_form(client, reverse("account_email_verification_sent"), {"code": value})
    # then
    assert response.status_code < 500
    assert stored_rows() == before
    assert not EmailAddress.objects.get(email="new@example.org").verified


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_password_reset_refuses_hostile_input(client: Client, rosa: User, value: str) -> None:
    # given
    before = stored_rows()
    # when
    response = post_form(client, reverse("account_reset_password"), {"email": value})
    # then
    assert_refused_or_saved_whole(response, before)


# People: the member's own pages

PROFILE_DATA: dict[str, Any] = {
    "display_name": "Rosa",
    "languages": ["en"],
    "skills": [],
    "availability": ["1"],
    "home_area": "M14",
    "home_latitude": "53.45",
    "home_longitude": "-2.22",
    "travel_km": "5",
    "phone": "+44 161 496 0000",
    "address": "1 Elm Road",
    "notify_by_email": "on",
    "notify_digest": "",
}


@pytest.mark.parametrize("field", list(PROFILE_DATA))
@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_profile_refuses_hostile_input_and_keeps_what_was_stored(
    logged_in: Client, field: str, value: str
) -> None:
    # given
    before = stored_rows()
    # when
    response = post_form(
        logged_in, reverse("people:profile"), with_value(PROFILE_DATA, field, value)
    )
    # then
    assert_refused_or_saved(response, before)


def test_a_skill_id_past_the_database_range_is_a_form_error(logged_in: Client, rosa: User) -> None:
    # given: Django looks chosen ids up with IN, which SQLite cannot do past 64 bits (it was a 500)
    before = stored_rows()
    too_big = str(2**63)
    # when
    response = post_form(
        logged_in, reverse("people:profile"), {**PROFILE_DATA, "skills": [too_big]}
    )
    # then
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "skills": [f"Select a valid choice. {too_big} is not one of the available choices."]
    }
    assert stored_rows() == before


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_token_name_refuses_hostile_input_or_makes_one_token(
    logged_in: Client, rosa: User, value: str
) -> None:
    # given
    before = stored_rows()
    # when
    response = post_form(logged_in, reverse("people:tokens"), {"name": value})
    # then
    saved = assert_refused_or_saved(response, before)
    assert ApiToken.objects.filter(user=rosa).count() == (1 if saved else 0)


@pytest.mark.parametrize("pk", HOSTILE_IDS)
def test_revoking_an_unknown_token_is_404(logged_in: Client, rosa: User, pk: str) -> None:
    # given
    token, _raw = api_token_create(user=rosa, name="laptop")
    # when
    response = logged_in.post(f"/me/tokens/{pk}/revoke/")
    # then
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        ("account_email", {"action_add": "", "email": None}),
        ("account_email", {"action_primary": "", "email": None}),
        ("account_email", {"action_remove": "", "email": None}),
        ("account_change_password", {"oldpassword": None, "password1": None, "password2": None}),
        ("account_reauthenticate", {"password": None}),
        ("mfa_activate_totp", {"code": None}),
        ("account_logout", {"next": None}),
    ],
)
@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_account_settings_refuse_hostile_input(
    logged_in: Client, url_name: str, data: dict[str, Any], value: str
) -> None:
    # given
    before = stored_rows()
    filled = {key: value if default is None else default for key, default in data.items()}
    # when
    response = post_form(logged_in, reverse(url_name), filled)
    # then
    assert_refused_or_saved_whole(response, before)
    assert EmailAddress.objects.get(email="rosa@example.org").primary


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_delete_account_refuses_hostile_input_and_erases_nothing(
    logged_in: Client, rosa: User, value: str
) -> None:
    # given
    before = stored_rows()
    # when
    response = post_form(logged_in, reverse("people:delete"), {"email": value})
    # then
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert stored_rows() == before
    rosa.refresh_from_db()
    assert rosa.erased_at is None


# Groups


@pytest.fixture
def home(rosa: User) -> Group:
    """A group Rosa started (so she is its steward), with one more member."""
    group = make_group(creator=rosa, name="Elm Road Neighbours", slug="elm-road")
    group_services.group_join(group=group, member=UserFactory(display_name="Kit"))
    return group


GROUP_DATA: dict[str, Any] = {
    "name": "Oak Street Neighbours",
    "description": "Tools and food.",
    "kind": Group.Kind.STREET,
    "parent": "",
    "place": "Levenshulme",
    "centre_latitude": "53.44",
    "centre_longitude": "-2.19",
    "radius_km": "0.5",
    "languages": ["en"],
    "hotline_phone": "+44 161 496 0000",
    "contact_email": "oak@example.org",
    "retention_days": "30",
    "join_needs_vouch": "on",
    "spending_limit": "25.50",
    "currency": "GBP",
}


@pytest.mark.parametrize("field", list(GROUP_DATA))
@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_starting_a_group_refuses_hostile_input_or_makes_a_whole_group(
    logged_in: Client, rosa: User, field: str, value: str
) -> None:
    # given
    before = stored_rows()
    # when
    response = post_form(logged_in, reverse("groups:create"), with_value(GROUP_DATA, field, value))
    # then
    if assert_refused_or_saved(response, before):
        group = Group.objects.get()
        assert Membership.objects.filter(group=group, member=rosa).exists()
        assert RoleGrant.objects.filter(group=group, holder=rosa, role=Role.STEWARD).exists()


@pytest.mark.parametrize("field", [name for name in GROUP_DATA if name != "kind"])
@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_group_settings_refuse_hostile_input_and_keep_the_group(
    logged_in: Client, home: Group, field: str, value: str
) -> None:
    # given
    before = stored_rows()
    url = reverse("groups:edit", kwargs={"slug": home.slug})
    # when
    response = post_form(logged_in, url, with_value(GROUP_DATA, field, value))
    # then
    assert_refused_or_saved(response, before)


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_asking_to_join_refuses_hostile_input_or_asks_once(
    logged_in: Client, rosa: User, value: str
) -> None:
    # given
    gated = make_group(join_needs_vouch=True)
    before = stored_rows()
    # when
    response = post_form(
        logged_in, reverse("groups:join", kwargs={"slug": gated.slug}), {"message": value}
    )
    # then
    saved = assert_refused_or_saved(response, before, form="join_form")
    assert JoinRequest.objects.filter(group=gated, applicant=rosa).count() == (1 if saved else 0)


ROLE_DATA = {"holder": "", "role": Role.DISPATCHER, "reason": "Answers calls", "days": "30"}


@pytest.mark.parametrize("field", list(ROLE_DATA))
@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_proposing_a_role_refuses_hostile_input(
    logged_in: Client, home: Group, field: str, value: str
) -> None:
    # given
    kit = Membership.objects.exclude(member=home.created_by).get(group=home).member
    data = with_value({**ROLE_DATA, "holder": str(kit.pk)}, field, value)
    before = stored_rows()
    # when
    response = post_form(
        logged_in, reverse("groups:role_propose", kwargs={"slug": home.slug}), data
    )
    # then
    assert_refused_or_saved(response, before, form="propose_form")


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_adding_a_skill_refuses_hostile_input(logged_in: Client, home: Group, value: str) -> None:
    # given
    before = stored_rows()
    # when
    response = post_form(
        logged_in, reverse("groups:skills", kwargs={"slug": home.slug}), {"name": value}
    )
    # then
    saved = assert_refused_or_saved(response, before)
    assert Skill.objects.filter(group=home).count() == (1 if saved else 0)


@pytest.mark.parametrize(
    "url_name", ["join_request_vouch", "join_request_withdraw", "role_confirm", "role_step_down"]
)
@pytest.mark.parametrize("pk", HOSTILE_IDS)
def test_acting_on_an_unknown_request_or_role_is_404(
    logged_in: Client, home: Group, url_name: str, pk: str
) -> None:
    # given
    before = stored_rows()
    path = reverse(f"groups:{url_name}", kwargs={"slug": home.slug, "pk": 1}).replace(
        "/1/", f"/{pk}/"
    )
    # when
    response = logged_in.post(path)
    # then
    assert response.status_code == 404
    assert stored_rows() == before


@pytest.mark.parametrize(
    "url_name", ["join_request_vouch", "join_request_withdraw", "role_confirm", "role_step_down"]
)
def test_acting_on_a_request_or_role_of_another_group_is_404(
    logged_in: Client, home: Group, url_name: str
) -> None:
    # given: a pending request and a proposed role in a group Rosa is not in
    elsewhere = make_group(join_needs_vouch=True)
    join_request = group_services.group_join(group=elsewhere, member=UserFactory())
    grant = group_services.role_grant_propose(
        group=elsewhere,
        proposer=elsewhere.created_by,
        holder=elsewhere.created_by,
        role=Role.DISPATCHER,
        reason="Answers calls",
    )
    pk = join_request.pk if url_name.startswith("join_request") else grant.pk
    before = stored_rows()
    # when: the id of the other group's record, under Rosa's own group
    response = logged_in.post(reverse(f"groups:{url_name}", kwargs={"slug": home.slug, "pk": pk}))
    # then
    assert response.status_code == 404
    assert stored_rows() == before


GROUP_URL_NAMES = [
    "detail",
    "members",
    "edit",
    "skills",
    "join",
    "leave",
    "role_propose",
]


@pytest.mark.parametrize(
    ("method", "url_name"),
    [("get", name) for name in ["detail", "members", "edit", "skills"]]
    + [("post", name) for name in GROUP_URL_NAMES],
)
def test_an_unknown_group_is_404(logged_in: Client, method: str, url_name: str) -> None:
    # when
    response = getattr(logged_in, method)(reverse(f"groups:{url_name}", args=["nowhere"]))
    # then
    assert response.status_code == 404


@pytest.mark.parametrize("slug", ["elm%00road", "elm road", "%ED%A0%80", "x" * 300])
def test_an_address_that_cannot_be_a_group_is_404(client: Client, home: Group, slug: str) -> None:
    # when
    response = client.get(f"/groups/{slug}/")
    # then
    assert response.status_code == 404


POST_ONLY_URL_NAMES = [
    ("groups:join", {"slug": "elm-road"}),
    ("groups:leave", {"slug": "elm-road"}),
    ("groups:join_request_vouch", {"slug": "elm-road", "pk": 1}),
    ("groups:join_request_withdraw", {"slug": "elm-road", "pk": 1}),
    ("groups:role_confirm", {"slug": "elm-road", "pk": 1}),
    ("groups:role_step_down", {"slug": "elm-road", "pk": 1}),
    ("people:token_revoke", {"pk": 1}),
]


@pytest.mark.parametrize(("url_name", "kwargs"), POST_ONLY_URL_NAMES)
def test_get_on_a_post_only_address_is_405_and_changes_nothing(
    logged_in: Client, home: Group, url_name: str, kwargs: dict[str, Any]
) -> None:
    # given
    before = stored_rows()
    # when
    response = logged_in.get(reverse(url_name, kwargs=kwargs))
    # then
    assert response.status_code == 405
    assert stored_rows() == before


@pytest.mark.parametrize(
    "url_name", ["people:profile", "people:tokens", "people:delete", "people:export"]
)
def test_a_method_the_page_does_not_take_is_405(logged_in: Client, url_name: str) -> None:
    # when
    response = logged_in.put(reverse(url_name))
    # then
    assert response.status_code == 405


# Query strings and the language switch


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/groups/elm-road/members/",
        "/groups/elm-road/",
        "/me/data-access/",
        "/accounts/login/",
        "/accounts/signup/",
    ],
)
@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_hostile_query_strings_are_no_500(
    logged_in: Client, home: Group, path: str, value: str
) -> None:
    # given
    query = urlencode({"q": value, "page": value, "next": value}, errors="surrogatepass")
    # when
    response = logged_in.get(f"{path}?{query}")
    # then
    assert response.status_code in {200, 302}


def test_a_search_with_a_nul_character_is_a_search_without_it(client: Client, home: Group) -> None:
    # when
    response = client.get("/", {"q": "Elm\x00 Road"})
    # then
    assert response.status_code == 200
    assert [group.slug for group in response.context["page"]] == ["elm-road"]
    assert response.context["q"] == "Elm Road"


@pytest.mark.parametrize("field", ["language", "next"])
@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_the_language_switch_refuses_hostile_input(
    client: Client, db: None, field: str, value: str
) -> None:
    # when
    response = post_form(
        client, reverse("set_language"), with_value({"language": "es", "next": "/"}, field, value)
    )
    # then
    assert response.status_code in {200, 302}
    if response.status_code == 302:
        assert url_has_allowed_host_and_scheme(response["Location"], allowed_hosts={"testserver"})


@pytest.mark.parametrize("key", ["1-%00", "zz-" + "x" * 5000, "%ED%A0%80-abc"])
def test_a_broken_password_reset_link_is_no_500(client: Client, rosa: User, key: str) -> None:
    # when
    response = client.get(f"/accounts/password/reset/key/{key}/")
    # then
    assert response.status_code in {200, 302, 404}
