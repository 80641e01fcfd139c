"""The one helper that records who saw whose personal data."""

import pytest
from django.test import RequestFactory

from mutualaid.common.audit import record_personal_data_access
from mutualaid.common.models import AuditEvent
from mutualaid.people.tests.factories import UserFactory


@pytest.mark.django_db
def test_a_web_request_is_recorded_with_its_page() -> None:
    # given
    dispatcher, member = UserFactory(), UserFactory()
    request = RequestFactory().get("/groups/ward-1/requests/7/?tab=contact")

    # when
    event = record_personal_data_access(
        actor=dispatcher,
        subject=member,
        fields=["phone", "address"],
        reason="claimed task",
        request=request,
    )

    # then
    event.refresh_from_db()
    assert (event.actor, event.subject) == (dispatcher, member)
    assert event.fields == ["address", "phone"]
    assert (event.channel, event.where) == ("web", "/groups/ward-1/requests/7/?tab=contact")
    assert (event.action, event.reason) == ("view", "claimed task")
    assert event.subject_label == f"member #{member.pk}"


@pytest.mark.django_db
def test_an_api_request_is_recorded_as_api() -> None:
    # given
    actor = UserFactory()
    request = RequestFactory().get("/api/needs/3")

    # when
    event = record_personal_data_access(
        actor=actor, subject_label="request R-7Q2K", fields=["phone"], reason="x", request=request
    )

    # then
    assert (event.channel, event.where, event.subject_id) == ("api", "/api/needs/3", None)
    assert event.subject_label == "request R-7Q2K"


@pytest.mark.django_db
def test_without_a_request_it_is_a_command() -> None:
    # when
    event = record_personal_data_access(
        actor=None,
        subject=None,
        fields=["email"],
        reason="backup check",
        where="reencrypt_fields",
        action=AuditEvent.Action.EXPORT,
    )

    # then
    assert (event.channel, event.where, event.subject_label) == (
        "command",
        "reencrypt_fields",
        "unknown",
    )
    assert event.action == "export"
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db
def test_audit_rows_survive_the_people_in_them() -> None:
    # given
    actor, member = UserFactory(), UserFactory()
    event = record_personal_data_access(actor=actor, subject=member, fields=["phone"], reason="x")

    # when
    actor.delete()

    # then
    event.refresh_from_db()
    assert (event.actor_id, event.subject_id) == (None, member.pk)
