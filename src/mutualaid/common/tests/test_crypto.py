"""Encryption of personal data at rest, and equality lookups on encrypted email addresses."""

import pytest
from allauth.account.models import EmailAddress
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from pytest_django.fixtures import Settings

from mutualaid.common import crypto
from mutualaid.people.models import User
from mutualaid.people.tests.factories import UserFactory


def _raw(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} ORDER BY id")  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


def test_randomised_encryption_round_trips_and_never_repeats() -> None:
    # when
    first, second = crypto.encrypt("12 Acacia Avenue"), crypto.encrypt("12 Acacia Avenue")

    # then
    assert first != second
    assert "Acacia" not in first
    assert crypto.decrypt(first) == crypto.decrypt(second) == "12 Acacia Avenue"
    assert crypto.is_current(first)


def test_deterministic_encryption_is_stable_under_one_key() -> None:
    # when
    token = crypto.encrypt_deterministic("rosa@example.org")

    # then
    assert token == crypto.encrypt_deterministic("rosa@example.org")
    assert token.startswith(crypto.DETERMINISTIC_PREFIX)
    assert "rosa" not in token
    assert crypto.decrypt_deterministic(token) == "rosa@example.org"
    assert crypto.is_current(token)


def test_a_value_from_an_unknown_key_does_not_decrypt(settings: Settings) -> None:
    # given
    token = crypto.encrypt("secret")
    email_token = crypto.encrypt_deterministic("rosa@example.org")
    settings.MUTUALAID_FIELD_KEYS = [Fernet.generate_key().decode()]

    # then
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_deterministic(email_token)
    assert not crypto.is_current(token)
    assert not crypto.is_current(email_token)


def test_no_keys_is_a_configuration_error(settings: Settings) -> None:
    # given
    settings.MUTUALAID_FIELD_KEYS = []

    # then
    with pytest.raises(ImproperlyConfigured):
        crypto.encrypt("x")


@pytest.mark.django_db
def test_members_personal_data_is_encrypted_in_the_database() -> None:
    # given
    member = UserFactory(
        email="Rosa.Personal@Example.org", phone="+44 7700 900123", address="12 Acacia Avenue"
    )

    # then: the model reads clear text, the columns hold none
    member.refresh_from_db()
    assert (member.email, member.phone, member.address) == (
        "rosa.personal@example.org",
        "+44 7700 900123",
        "12 Acacia Avenue",
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM people_user")
        raw_user = repr(cursor.fetchall())
        cursor.execute("SELECT * FROM account_emailaddress")
        raw_addresses = repr(cursor.fetchall())
    for clear in ("rosa.personal", "Rosa.Personal", "example.org", "7700", "Acacia"):
        assert clear not in raw_user
        assert clear not in raw_addresses
    assert _raw("account_emailaddress", "email")[0].startswith(crypto.DETERMINISTIC_PREFIX)


@pytest.mark.django_db
def test_email_lookups_match_whatever_the_case() -> None:
    # given
    member = UserFactory(email="rosa@example.org")
    UserFactory(email="sam@example.org")

    # then
    assert User.objects.get(email="ROSA@example.org") == member
    assert list(User.objects.filter(email__in=["rosa@example.org", "nobody@example.org"])) == [
        member
    ]
    assert EmailAddress.objects.get(email="Rosa@Example.org").user == member
    assert EmailAddress.objects.get_for_user(member, "rosa@example.org").primary
    assert not User.objects.filter(email="ros@example.org").exists()


@pytest.mark.django_db
def test_encrypted_fields_refuse_searches_that_would_need_clear_text() -> None:
    # then
    with pytest.raises(TypeError):
        list(User.objects.filter(email__icontains="rosa"))
    with pytest.raises(TypeError):
        list(User.objects.filter(phone__startswith="+44"))
    with pytest.raises(TypeError, match="only be compared with the empty string"):
        list(User.objects.filter(phone="+44 7700 900123"))


@pytest.mark.django_db
def test_encrypted_text_tells_given_from_not_given() -> None:
    # given
    with_phone = UserFactory(phone="+44 7700 900123")
    without_phone = UserFactory(phone="")

    # then
    assert list(User.objects.filter(phone="")) == [without_phone]
    assert list(User.objects.exclude(phone="")) == [with_phone]
