"""A member's data download and the erasure of their account."""

import json
import threading

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mutualaid.common.audit import record_personal_data_access
from mutualaid.common.errors import ApplicationError
from mutualaid.common.models import AuditEvent
from mutualaid.groups import services as group_services
from mutualaid.groups.models import JoinRequest, Membership, RoleGrant
from mutualaid.groups.tests.factories import make_group
from mutualaid.people.models import ApiToken, Skill, User, availability_bit
from mutualaid.people.services import (
    api_token_authenticate,
    api_token_create,
    member_data_export,
    member_erase,
)
from mutualaid.people.tests.factories import UserFactory

EMAIL = "rosa.personal@example.org"
PHONE = "+44 7700 900123"
ADDRESS = "12 Acacia Avenue, M14 5AB"


@pytest.fixture
def member(shared_skills: list[Skill]) -> User:
    member = UserFactory(
        email=EMAIL,
        display_name="Rosa",
        phone=PHONE,
        address=ADDRESS,
        languages=["en", "pl"],
        availability=availability_bit(0, 0) | availability_bit(4, 2),
        travel_km=7,
        consent_version=settings.PRIVACY_NOTICE_VERSION,
        consent_at=timezone.now(),
        last_login=timezone.now(),
    )
    member.skills.set([Skill.objects.get(name="Shopping", group=None)])
    return member


@pytest.fixture
def life(member: User) -> dict:
    """Rosa founded a group and offers a skill of its own, joined another, asked to join a
    third, proposed a role for a neighbour that a third member confirmed, has an API token and
    2FA; a dispatcher saw her phone once."""
    founded = make_group(creator=member, name="Levenshulme Mutual Aid")
    member.skills.add(Skill.objects.create(name="Bike repair", group=founded))
    neighbour = UserFactory(display_name="Sam")
    confirmer = UserFactory(display_name="Kim")
    group_services.group_join(group=founded, member=neighbour)
    group_services.group_join(group=founded, member=confirmer)
    grant = group_services.role_grant_propose(
        group=founded, proposer=member, holder=neighbour, role="dispatcher", reason="Rota"
    )
    group_services.role_grant_confirm(grant=grant, confirmer=confirmer)
    joined = make_group(name="Rusholme Mutual Aid")
    group_services.group_join(group=joined, member=member)
    vouched = make_group(name="Fallowfield Mutual Aid", join_needs_vouch=True)
    group_services.group_join(group=vouched, member=member, message="I live on Ladybarn Lane")
    token, raw = api_token_create(user=member, name="laptop")
    Authenticator.objects.create(user=member, type=Authenticator.Type.TOTP, data={"secret": "x"})
    record_personal_data_access(
        actor=neighbour, subject=member, fields=["phone"], reason="claimed task"
    )
    return {"grant": grant, "raw_token": raw, "token": token, "neighbour": neighbour}


def test_export_holds_everything_about_the_member(member: User, life: dict) -> None:
    # when
    data = member_data_export(member=member)

    # then
    assert data["profile"]["email"] == EMAIL
    assert data["profile"]["phone"] == PHONE
    assert data["profile"]["address"] == ADDRESS
    assert data["profile"]["display_name"] == "Rosa"
    assert data["profile"]["home_latitude"] == "53.45"
    assert data["languages"] == ["en", "pl"]
    assert data["skills"] == [
        {"name": "Bike repair", "group": "Levenshulme Mutual Aid"},
        {"name": "Shopping", "group": None},
    ]
    assert data["availability"] == [
        {"day": "Monday", "part": "morning"},
        {"day": "Friday", "part": "evening"},
    ]
    assert data["login_addresses"] == [{"email": EMAIL, "verified": True, "primary": True}]
    assert data["two_factor"] == ["totp"]
    assert data["consent"]["privacy_notice_version"] == settings.PRIVACY_NOTICE_VERSION
    assert [m["group"] for m in data["memberships"]] == [
        "Levenshulme Mutual Aid",
        "Rusholme Mutual Aid",
    ]
    assert [(g["group"], g["role"]) for g in data["role_grants"]] == [
        ("Levenshulme Mutual Aid", "steward")
    ]
    assert [(j["group"], j["status"], j["message"]) for j in data["join_requests"]] == [
        ("Fallowfield Mutual Aid", "pending", "I live on Ladybarn Lane")
    ]
    assert data["api_tokens"] == [
        {
            "name": "laptop",
            "prefix": life["token"].prefix,
            "created_at": life["token"].created_at.isoformat(),
            "last_used_at": None,
            "revoked_at": None,
        }
    ]
    assert [(e["by"], e["fields"], e["reason"]) for e in data["audit_events"]] == [
        ("Sam", ["phone"], "claimed task")
    ]
    serialised = json.dumps(data)
    assert life["token"].digest not in serialised

    # and: the export itself is written to the audit log, once
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert (event.actor, event.subject, event.reason) == (member, member, "own data download")
    assert event.fields == ["address", "audit log", "email", "memberships", "phone", "profile"]


def test_export_view_downloads_json_and_records_the_export(
    client: Client, member: User, life: dict
) -> None:
    # given
    client.force_login(member)

    # when
    response = client.post(reverse("people:export"))

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="mutualaid-my-data-')
    data = json.loads(response.content)
    assert data["profile"]["email"] == EMAIL
    event = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).get()
    assert (event.actor, event.subject, event.channel) == (member, member, "web")
    assert event.where == "/me/export/"
    assert life["token"].digest not in response.content.decode()


def test_export_is_only_ever_ones_own(client: Client, member: User) -> None:
    # given
    other = UserFactory(email="sam@example.org")
    client.force_login(other)

    # when
    data = json.loads(client.post(reverse("people:export")).content)

    # then
    assert data["profile"]["email"] == "sam@example.org"
    assert EMAIL not in json.dumps(data)
    event = AuditEvent.objects.get()
    assert (event.actor, event.subject, event.action) == (other, other, "export")
    assert event.fields == ["audit log", "email", "memberships", "profile"]


def test_export_needs_login(client: Client, db: None) -> None:
    # when
    response = client.post(reverse("people:export"))

    # then
    assert response.status_code == 302
    assert AuditEvent.objects.count() == 0


def _raw_rows(table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608
        return cursor.fetchall()


def test_erase_removes_personal_data_and_ends_everything(member: User, life: dict) -> None:
    # when
    member_erase(member=member)

    # then: nothing readable is left in the database
    member.refresh_from_db()
    for table in ("people_user", "account_emailaddress", "groups_joinrequest"):
        raw = repr(_raw_rows(table))
        for secret in (EMAIL, PHONE, ADDRESS, "Ladybarn", "Rosa"):
            assert secret not in raw, (table, secret)
    assert member.email.startswith("erased-")
    assert member.email.endswith("@erased.invalid")
    assert (member.display_name, member.phone, member.address) == ("", "", "")
    assert (member.home_area, member.home_latitude, member.home_longitude) == ("", None, None)
    assert (member.languages, member.availability, member.travel_km) == ([], 0, 3)
    assert member.last_login is None
    assert list(member.skills.all()) == []
    assert not member.has_usable_password()
    assert member.is_active is False
    assert member.erased_at is not None
    assert member.public_name == "former member"

    # and: accounts, groups and tokens are closed
    assert not EmailAddress.objects.filter(user=member).exists()
    assert not Authenticator.objects.filter(user=member).exists()
    assert not Membership.objects.filter(member=member).exists()
    assert not RoleGrant.objects.in_force().filter(holder=member).exists()
    assert not JoinRequest.objects.filter(applicant=member, status="pending").exists()
    assert not ApiToken.objects.filter(user=member, revoked_at__isnull=True).exists()
    assert api_token_authenticate(raw_token=life["raw_token"]) is None

    # and: what they did with others stays, attributed to a former member
    grant = RoleGrant.objects.in_force().get(pk=life["grant"].pk)
    assert grant.proposed_by == member
    assert grant.proposed_by.public_name == "former member"
    assert AuditEvent.objects.filter(subject=member, reason="claimed task").exists()
    erase_event = AuditEvent.objects.get(action=AuditEvent.Action.ERASE)
    assert (erase_event.actor, erase_event.subject) == (member, member)


def test_an_erased_account_cannot_be_erased_again(member: User) -> None:
    # given: the same account, loaded before it was erased
    stale = User.objects.get(pk=member.pk)
    member_erase(member=member)

    # when
    with pytest.raises(ApplicationError) as refusal:
        member_erase(member=stale)

    # then
    assert refusal.value.message == "This account has already been deleted."
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ERASE).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_erasures_at_the_same_moment_erase_once() -> None:
    # given: the member presses "delete" in two tabs at once
    member = UserFactory(email=EMAIL)
    copies = [User.objects.get(pk=member.pk), User.objects.get(pk=member.pk)]
    barrier = threading.Barrier(len(copies))
    outcomes: list[str] = []

    def erase(copy: User) -> None:
        try:
            barrier.wait(timeout=10)
            member_erase(member=copy)
            outcomes.append("erased")
        except ApplicationError as error:
            outcomes.append(error.message)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=erase, args=(copy,)) for copy in copies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then: one erasure, and a clear refusal for the other
    assert sorted(outcomes) == ["This account has already been deleted.", "erased"]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ERASE).count() == 1
    assert User.objects.get(pk=member.pk).erased_at is not None


def test_erase_frees_the_email_for_a_new_signup(member: User) -> None:
    # when
    member_erase(member=member)

    # then
    assert not User.objects.filter(email=EMAIL).exists()
    assert not EmailAddress.objects.filter(email=EMAIL).exists()
    newcomer = UserFactory(email=EMAIL)
    assert User.objects.get(email=EMAIL) == newcomer


def test_delete_page_erases_after_the_member_types_their_email(
    client: Client, member: User
) -> None:
    # given
    client.force_login(member)

    # when
    response = client.post(reverse("people:delete"), {"email": EMAIL.upper()})

    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("directory:home")
    assert "_auth_user_id" not in client.session
    member.refresh_from_db()
    assert member.erased_at is not None
    home = client.get(response["Location"])
    assert "Your account is deleted" in home.content.decode()
    assert client.get(reverse("people:profile")).status_code == 302


def test_delete_page_refuses_a_different_email(client: Client, member: User) -> None:
    # given
    client.force_login(member)

    # when
    response = client.post(reverse("people:delete"), {"email": "someone@example.org"})

    # then
    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [
        "That is not the email address of this account."
    ]
    member.refresh_from_db()
    assert member.erased_at is None
    assert member.is_active


def test_an_erased_member_can_no_longer_log_in(client: Client, member: User) -> None:
    # given
    member_erase(member=member)

    # when
    response = client.post(
        reverse("account_login"), {"login": EMAIL, "password": "correct horse battery staple"}
    )

    # then
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200


def test_other_sessions_of_an_erased_member_end(client: Client, member: User) -> None:
    # given: Rosa is logged in on this device and erases her account from another
    client.force_login(member)
    member_erase(member=member)

    # when
    response = client.get(reverse("people:dashboard"))

    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
