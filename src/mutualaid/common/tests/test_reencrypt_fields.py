"""Key rotation: a new key first, `reencrypt_fields`, then the old key can go."""

from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection
from pytest_django.fixtures import Settings

from mutualaid.common import crypto
from mutualaid.common.management.commands.reencrypt_fields import encrypted_fields
from mutualaid.people.models import User
from mutualaid.people.tests.factories import UserFactory

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


def _stored(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} ORDER BY id")  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


def _run(*args: str) -> str:
    out = StringIO()
    call_command("reencrypt_fields", *args, stdout=out)
    return out.getvalue()


def test_every_encrypted_field_of_every_model_is_found() -> None:
    # when
    found = {
        f"{model._meta.label}.{field.name}"
        for model, fields in encrypted_fields()
        for field in fields
    }

    # then
    assert {
        "people.User.email",
        "people.User.phone",
        "people.User.address",
        "account.EmailAddress.email",
    } <= found


@pytest.mark.django_db
def test_rotation_rewrites_everything_with_the_new_key(settings: Settings) -> None:
    # given: data written under key A
    settings.MUTUALAID_FIELD_KEYS = [KEY_A]
    rosa = UserFactory(email="rosa@example.org", phone="+44 7700 900123", address="12 Acacia Ave")
    sam = UserFactory(email="sam@example.org")
    before = _stored("people_user", "phone")

    # when: key B is put first, A kept after it
    settings.MUTUALAID_FIELD_KEYS = [KEY_B, KEY_A]

    # then: everything still reads, and lookups still find A-encrypted addresses
    assert User.objects.get(email="rosa@example.org").phone == "+44 7700 900123"
    assert EmailAddress.objects.get(email="sam@example.org").user == sam

    # when
    output = _run("--batch-size", "1")

    # then: the command says what it rewrote
    assert "people.User.email: 2 of 2 values re-encrypted" in output
    assert "people.User.phone: 1 of 1 values re-encrypted" in output
    assert "people.User.address: 1 of 1 values re-encrypted" in output
    assert "account.EmailAddress.email: 2 of 2 values re-encrypted" in output
    assert _stored("people_user", "phone") != before
    for table, column in (
        ("people_user", "email"),
        ("people_user", "phone"),
        ("account_emailaddress", "email"),
    ):
        assert all(crypto.is_current(value) for value in _stored(table, column) if value)

    # when: key A is removed
    settings.MUTUALAID_FIELD_KEYS = [KEY_B]

    # then: everything decrypts and lookups by email work
    rosa = User.objects.get(email="ROSA@example.org")
    assert (rosa.phone, rosa.address) == ("+44 7700 900123", "12 Acacia Ave")
    assert User.objects.get(email="sam@example.org") == sam
    assert EmailAddress.objects.get(email="rosa@example.org").user == rosa
    assert rosa.check_password("correct horse battery staple")

    # and: a second run has nothing left to do
    assert "people.User.email: 0 of 2 values re-encrypted" in _run()


@pytest.mark.django_db
def test_a_dry_run_changes_nothing(settings: Settings) -> None:
    # given
    settings.MUTUALAID_FIELD_KEYS = [KEY_A]
    UserFactory(email="rosa@example.org", phone="+44 7700 900123")
    settings.MUTUALAID_FIELD_KEYS = [KEY_B, KEY_A]
    before = _stored("people_user", "phone")

    # when
    output = _run("--dry-run")

    # then
    assert "people.User.phone: 1 of 1 values would be re-encrypted" in output
    assert _stored("people_user", "phone") == before


@pytest.mark.django_db
def test_a_value_no_key_can_read_stops_the_command_with_a_clear_error(
    settings: Settings,
) -> None:
    # given: a phone number written under a key that is no longer configured
    settings.MUTUALAID_FIELD_KEYS = [KEY_A]
    UserFactory(email="rosa@example.org", phone="+44 7700 900123")
    settings.MUTUALAID_FIELD_KEYS = [KEY_B]

    # when
    with pytest.raises(CommandError, match="could not be decrypted"):
        _run()


@pytest.mark.django_db
def test_clear_text_login_addresses_left_from_before_encryption_get_encrypted(
    settings: Settings,
) -> None:
    # given: an address written in clear text straight into allauth's table
    member = UserFactory(email="rosa@example.org")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE account_emailaddress SET email = %s WHERE user_id = %s",
            ["rosa@example.org", member.pk],
        )

    # when
    output = _run()

    # then
    assert "account.EmailAddress.email: 1 of 1 values re-encrypted" in output
    assert _stored("account_emailaddress", "email")[0].startswith(crypto.DETERMINISTIC_PREFIX)
    assert EmailAddress.objects.get(email="rosa@example.org").user == member
