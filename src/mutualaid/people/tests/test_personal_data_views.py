"""Every page that shows a member personal data leaves an audit row; the others leave none."""

import pytest
from django.test import Client
from django.urls import reverse

from mutualaid.common.models import AuditEvent
from mutualaid.people.models import User
from mutualaid.people.tests.factories import UserFactory


@pytest.fixture
def member(db: None) -> User:
    return UserFactory(email="rosa@example.org", phone="+44 7700 900123")


@pytest.mark.parametrize(
    ("url_name", "action", "reason"),
    [
        ("people:profile", "view", "own profile"),
        ("people:export", "export", "own data download"),
        ("account_email", "view", "own login addresses"),
    ],
)
def test_a_page_showing_personal_data_records_who_saw_what(
    client: Client, member: User, url_name: str, action: str, reason: str
) -> None:
    # given
    client.force_login(member)

    # when
    response = client.get(reverse(url_name))

    # then
    assert response.status_code == 200
    assert "rosa@example.org" in response.content.decode()
    event = AuditEvent.objects.get()
    assert (event.actor, event.subject, event.action, event.reason) == (
        member,
        member,
        action,
        reason,
    )
    assert "email" in event.fields
    assert event.where == reverse(url_name)


@pytest.mark.parametrize("url_name", ["people:dashboard", "people:tokens", "people:delete"])
def test_a_page_without_personal_data_records_nothing(
    client: Client, member: User, url_name: str
) -> None:
    # given
    client.force_login(member)

    # when
    response = client.get(reverse(url_name))

    # then
    assert response.status_code == 200
    assert "rosa@example.org" not in response.content.decode()
    assert "+44 7700 900123" not in response.content.decode()
    assert AuditEvent.objects.count() == 0
