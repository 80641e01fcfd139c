"""The API tokens page: make, list and revoke one's own tokens, and nobody else's."""

from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from mutualaid.people.models import ApiToken, User
from mutualaid.people.services import api_token_authenticate, api_token_create
from mutualaid.people.tests.factories import UserFactory
from mutualaid.people.views import NEW_TOKEN_SESSION_KEY


def test_making_a_token_shows_it_once(rosa: Client, member: User) -> None:
    # when
    response = rosa.post(reverse("people:tokens"), {"name": "laptop script"}, follow=True)

    # then: the next page shows the raw token, which works and is stored only as a digest
    assert response.redirect_chain == [(reverse("people:tokens"), 302)]
    raw = response.context["raw_token"]
    assert raw.startswith("ma_")
    assert raw in response.content.decode()
    token = ApiToken.objects.get(user=member)
    assert (token.name, token.prefix) == ("laptop script", raw[:10])
    assert raw not in token.digest
    assert api_token_authenticate(raw_token=raw) == member

    # and: it is never shown again
    assert raw not in rosa.get(reverse("people:tokens")).content.decode()


def test_a_new_token_waits_for_the_next_page_encrypted(rosa: Client) -> None:
    # given: the token is made, and the next page is not loaded yet
    rosa.post(reverse("people:tokens"), {"name": "laptop script"})
    stored = Session.objects.get(session_key=rosa.session.session_key).session_data

    # when
    raw = rosa.get(reverse("people:tokens")).context["raw_token"]

    # then: the session row never held the token in a readable form
    assert raw.startswith("ma_")
    assert raw not in stored
    assert raw not in repr(SessionStore().decode(stored))
    assert NEW_TOKEN_SESSION_KEY not in rosa.session


def test_a_token_needs_a_plain_name(rosa: Client, member: User) -> None:
    # when
    response = rosa.post(reverse("people:tokens"), {"name": "<script>"})

    # then
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert "raw_token" not in response.context
    assert not ApiToken.objects.exists()


def test_the_list_shows_own_tokens_only(rosa: Client, member: User) -> None:
    # given
    api_token_create(user=member, name="laptop")
    api_token_create(user=UserFactory(), name="someone else's phone")

    # when
    response = rosa.get(reverse("people:tokens"))

    # then
    assert [token.name for token in response.context["tokens"]] == ["laptop"]
    assert "someone else" not in response.content.decode()


def test_revoking_a_token_stops_it_working(rosa: Client, member: User) -> None:
    # given
    token, raw = api_token_create(user=member, name="laptop")

    # when
    response = rosa.post(reverse("people:token_revoke", kwargs={"pk": token.pk}))

    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("people:tokens")
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api_token_authenticate(raw_token=raw) is None
    assert "revoked on" in rosa.get(reverse("people:tokens")).content.decode()


def test_a_member_cannot_revoke_someone_elses_token(rosa: Client) -> None:
    # given
    token, raw = api_token_create(user=UserFactory(), name="theirs")

    # when
    response = rosa.post(reverse("people:token_revoke", kwargs={"pk": token.pk}))

    # then
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert api_token_authenticate(raw_token=raw) == token.user


def test_revoking_needs_post(rosa: Client, member: User) -> None:
    # given
    token, _raw = api_token_create(user=member, name="laptop")

    # when
    response = rosa.get(reverse("people:token_revoke", kwargs={"pk": token.pk}))

    # then
    assert response.status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


def test_tokens_page_needs_login(client: Client, db: None) -> None:
    # when
    response = client.get(reverse("people:tokens"))

    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
