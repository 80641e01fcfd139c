import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from mutualaid.common.audit import record_personal_data_access
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_member_sees_who_viewed_their_personal_data(client: Client) -> None:
    # given: a dispatcher saw the member's phone, and the member looked at their own profile
    member = UserFactory(display_name="Rosa P")
    dispatcher = UserFactory(display_name="Night Owl")
    record_personal_data_access(
        actor=dispatcher,
        subject=member,
        fields=["phone"],
        reason="to arrange a delivery",
        where="/groups/x/requests/7/",
        channel="web",
    )
    client.force_login(member)
    client.get(reverse("people:profile"))

    # when
    response = client.get(reverse("people:data_access_log"))

    # then: both sightings are listed, newest first, with who, what and why
    assert response.status_code == 200
    events = list(response.context["page"].object_list)
    assert [(e.actor, e.reason) for e in events] == [
        (member, "own profile"),
        (dispatcher, "to arrange a delivery"),
    ]
    html = response.content.decode()
    assert "Night Owl" in html
    assert "to arrange a delivery" in html


def test_the_log_names_the_data_in_the_readers_language(client: Client) -> None:
    # given: a dispatcher saw the member's phone, for a reason they wrote themselves
    member = UserFactory()
    record_personal_data_access(
        actor=UserFactory(display_name="Night Owl"),
        subject=member,
        fields=["phone"],
        reason="to arrange a delivery",
        channel="web",
    )
    client.force_login(member)
    client.post(reverse("set_language"), {"language": "es", "next": "/"})

    # when
    try:
        html = client.get(reverse("people:data_access_log")).content.decode()
    finally:
        translation.deactivate()

    # then: the platform's words are translated, the dispatcher's reason is shown as written
    assert "<td>consultado: teléfono</td>" in html
    assert "<td>to arrange a delivery · página web <small></small></td>" in html


def test_the_log_shows_only_the_members_own_data(client: Client) -> None:
    # given: someone else's data was viewed
    member, other = UserFactory(), UserFactory()
    record_personal_data_access(
        actor=member, subject=other, fields=["phone"], reason="secret reason", channel="web"
    )
    client.force_login(member)

    # when
    response = client.get(reverse("people:data_access_log"))

    # then
    assert list(response.context["page"].object_list) == []
    assert "secret reason" not in response.content.decode()


def test_the_log_needs_a_login(client: Client) -> None:
    response = client.get(reverse("people:data_access_log"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_log_page_costs_the_same_queries_for_many_events(
    client: Client, django_assert_num_queries
) -> None:
    member = UserFactory()
    for n in range(30):
        record_personal_data_access(
            actor=UserFactory(), subject=member, fields=["phone"], reason=f"r{n}", channel="web"
        )
    client.force_login(member)

    # session, user, count, page of events with their actors
    with django_assert_num_queries(4):
        client.get(reverse("people:data_access_log"))
