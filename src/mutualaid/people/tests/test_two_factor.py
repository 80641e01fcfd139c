"""Optional two-factor authentication with an authenticator app (allauth.mfa)."""

import time

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.test import Client
from django.urls import reverse

from mutualaid.people.models import User
from mutualaid.people.tests.factories import UserFactory

PASSWORD = "correct horse battery staple"


def _current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // mfa_settings.TOTP_PERIOD))


def _password_login(client: Client, member: User) -> str:
    response = client.post(reverse("account_login"), {"login": member.email, "password": PASSWORD})
    assert response.status_code == 302
    return response["Location"]


@pytest.mark.django_db
def test_a_member_turns_on_an_authenticator_app_from_the_two_factor_page(client: Client) -> None:
    # given: logged in, and allauth asks for the password again before a security change
    member = UserFactory()
    _password_login(client, member)
    response = client.get(reverse("mfa_activate_totp"))
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = page.context["form"].secret

    # when
    response = client.post(reverse("mfa_activate_totp"), {"code": _current_code(secret)})

    # then
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=member, type=Authenticator.Type.TOTP).exists()
    assert (
        "An authenticator app is not active."
        not in client.get(reverse("mfa_index")).content.decode()
    )


@pytest.mark.django_db
def test_with_two_factor_on_a_password_alone_does_not_log_in(client: Client) -> None:
    # given
    member = UserFactory()
    secret = generate_totp_secret()
    TOTP.activate(member, secret)

    # when
    location = _password_login(client, member)

    # then: allauth asks for the app's code before the member is logged in
    assert location == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session

    # when
    response = client.post(reverse("mfa_authenticate"), {"code": _current_code(secret)})

    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("people:dashboard")
    assert int(client.session["_auth_user_id"]) == member.pk


@pytest.mark.django_db
def test_with_two_factor_on_a_wrong_code_does_not_log_in(client: Client) -> None:
    # given
    member = UserFactory()
    TOTP.activate(member, generate_totp_secret())
    _password_login(client, member)

    # when
    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})

    # then
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_member_without_a_password_can_turn_on_two_factor_too(client: Client) -> None:
    # given: a member who always logs in with a code by email
    member = UserFactory(password=None)
    client.force_login(member)
    secret = client.get(reverse("mfa_activate_totp")).context["form"].secret

    # when
    response = client.post(reverse("mfa_activate_totp"), {"code": _current_code(secret)})

    # then
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=member, type=Authenticator.Type.TOTP).exists()
