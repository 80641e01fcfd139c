from collections.abc import Callable

import pytest
from django.test import Client

from mutualaid.api.tests.wire import BAD_HEADER, BAD_TOKEN, NEEDS_TOKEN, bearer, post_join
from mutualaid.groups.models import Membership
from mutualaid.groups.tests.factories import make_group
from mutualaid.people.models import ApiToken, User
from mutualaid.people.services import api_token_revoke


def test_no_token_on_a_member_endpoint_is_401(client: Client, db: None) -> None:
    # when
    response = client.get("/api/me")
    # then
    assert response.status_code == 401
    assert response.json() == {"detail": NEEDS_TOKEN}
    assert response["WWW-Authenticate"] == "Bearer"


def _unknown(member: User, token: str) -> str:
    return "ma_" + "x" * 43


def _revoked(member: User, token: str) -> str:
    api_token_revoke(user=member, token=ApiToken.objects.get(user=member))
    return token


def _of_a_deactivated_member(member: User, token: str) -> str:
    User.objects.filter(pk=member.pk).update(is_active=False)
    return token


# Where a token is optional too: a bad one is refused instead of served anonymously.
@pytest.mark.parametrize("path", ["/api/me", "/api/groups", "/api/groups/{slug}"])
@pytest.mark.parametrize("spoil", [_unknown, _revoked, _of_a_deactivated_member])
def test_a_token_that_cannot_be_used_is_401(
    client: Client,
    member: User,
    token: str,
    path: str,
    spoil: Callable[[User, str], str],
) -> None:
    # given
    group = make_group()
    sent = spoil(member, token)
    # when
    response = client.get(path.format(slug=group.slug), headers=bearer(sent))
    # then
    assert response.status_code == 401
    assert response.json() == {"detail": BAD_TOKEN}
    assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer   ", "Token {token}", "Basic {token}", "{token}", "Bearer {token} extra"],
)
def test_malformed_authorization_header_is_401(client: Client, token: str, header: str) -> None:
    # when
    response = client.get("/api/me", headers={"Authorization": header.format(token=token)})
    # then
    assert response.status_code == 401
    assert response.json() == {"detail": BAD_HEADER}


def test_bearer_scheme_is_case_insensitive(client: Client, member: User, token: str) -> None:
    # when
    response = client.get("/api/me", headers={"Authorization": f"bearer {token}"})
    # then
    assert response.status_code == 200
    assert response.json()["id"] == member.pk


def test_a_logged_in_session_is_not_an_api_login(client: Client, member: User) -> None:
    # given: a browser session, but no token
    client.force_login(member)
    # when
    response = client.get("/api/me")
    # then
    assert response.status_code == 401
    assert response.json() == {"detail": NEEDS_TOKEN}


def test_token_post_needs_no_csrf_token(member: User, auth: dict[str, str]) -> None:
    # given: a client that enforces CSRF like a browser would
    client = Client(enforce_csrf_checks=True)
    group = make_group()
    # when
    response = post_join(client, group, headers=auth)
    # then
    assert response.status_code == 201
    assert Membership.objects.filter(group=group, member=member).exists()


def test_session_cookie_cannot_drive_an_unsafe_request(member: User) -> None:
    # given: a logged-in browser and a page on another site posting to the API
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    group = make_group()
    # when
    response = post_join(client, group)
    # then
    assert response.status_code == 401
    assert not Membership.objects.filter(group=group, member=member).exists()


def test_using_a_token_records_when_it_was_last_used(
    client: Client, member: User, token: str
) -> None:
    # when
    client.get("/api/me", headers=bearer(token))
    # then
    assert ApiToken.objects.get(user=member).last_used_at is not None
