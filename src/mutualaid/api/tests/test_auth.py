import pytest
from django.test import Client

from mutualaid.api.tests.wire import bearer
from mutualaid.groups.models import Membership
from mutualaid.groups.tests.factories import make_group
from mutualaid.people.models import ApiToken, User
from mutualaid.people.services import api_token_revoke

NEEDS_TOKEN = 'This needs an API token, sent as "Authorization: Bearer <token>".'
BAD_TOKEN = "This API token is not valid or has been revoked."
BAD_HEADER = 'The Authorization header must read "Bearer" and your token.'


def test_no_token_on_a_member_endpoint_is_401(client: Client, db: None) -> None:
    # when
    response = client.get("/api/me")
    # then
    assert response.status_code == 401
    assert response.json() == {"detail": NEEDS_TOKEN}
    assert response["WWW-Authenticate"] == "Bearer"


def test_unknown_token_is_401(client: Client, token: str) -> None:
    # when
    response = client.get("/api/me", headers=bearer("ma_" + "x" * 43))
    # then
    assert response.status_code == 401
    assert response.json() == {"detail": BAD_TOKEN}
    assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_revoked_token_is_401(client: Client, member: User, token: str) -> None:
    # given
    api_token_revoke(user=member, token=ApiToken.objects.get(user=member))
    # when
    response = client.get("/api/me", headers=bearer(token))
    # then
    assert response.status_code == 401
    assert response.json() == {"detail": BAD_TOKEN}


def test_token_of_a_deactivated_member_is_401(client: Client, member: User, token: str) -> None:
    # given
    User.objects.filter(pk=member.pk).update(is_active=False)
    # when
    response = client.get("/api/me", headers=bearer(token))
    # then
    assert response.status_code == 401
    assert response.json() == {"detail": BAD_TOKEN}


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


@pytest.mark.parametrize("path", ["/api/groups", "/api/groups/{slug}"])
def test_public_endpoint_refuses_a_bad_token_instead_of_serving_anonymously(
    client: Client, db: None, path: str
) -> None:
    # given
    group = make_group()
    # when
    response = client.get(path.format(slug=group.slug), headers=bearer("ma_wrong"))
    # then
    assert response.status_code == 401
    assert response.json() == {"detail": BAD_TOKEN}


@pytest.mark.parametrize("path", ["/api/groups", "/api/groups/{slug}"])
def test_public_endpoint_refuses_a_revoked_token(
    client: Client, member: User, token: str, path: str
) -> None:
    # given
    group = make_group()
    api_token_revoke(user=member, token=ApiToken.objects.get(user=member))
    # when
    response = client.get(path.format(slug=group.slug), headers=bearer(token))
    # then
    assert response.status_code == 401


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
    response = client.generic("POST", f"/api/groups/{group.slug}/join", headers=auth)
    # then
    assert response.status_code == 201
    assert Membership.objects.filter(group=group, member=member).exists()


def test_session_cookie_cannot_drive_an_unsafe_request(member: User) -> None:
    # given: a logged-in browser and a page on another site posting to the API
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    group = make_group()
    # when
    response = client.generic("POST", f"/api/groups/{group.slug}/join")
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
