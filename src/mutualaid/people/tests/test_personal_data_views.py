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
    ("method", "url_name", "action", "reason"),
    [
        ("get", "people:profile", "view", "own profile"),
        ("post", "people:export", "export", "own data download"),
        ("get", "account_email", "view", "own login addresses"),
    ],
)
def test_a_page_showing_personal_data_records_who_saw_what(
    client: Client, member: User, method: str, url_name: str, action: str, reason: str
) -> None:
    # given
    client.force_login(member)

    # when
    response = getattr(client, method)(reverse(url_name))

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


def test_the_data_download_is_never_a_plain_link(client: Client, member: User) -> None:
    # given: a link or an image elsewhere pointing at the download
    client.force_login(member)

    # when
    response = client.get(reverse("people:export"))

    # then: nothing is downloaded and nothing is recorded
    assert response.status_code == 405
    assert AuditEvent.objects.count() == 0


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
