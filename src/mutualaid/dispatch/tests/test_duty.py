"""The on-duty switch on the member's dashboard, its services, and how many requests a member
holds at most (on the profile)."""

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mutualaid.common.errors import ApplicationError
from mutualaid.dispatch.services import member_duty_end, member_duty_start
from mutualaid.dispatch.tests.volunteer_helpers import rows
from mutualaid.dispatch.volunteers import group_volunteers
from mutualaid.needs.tests.factories import make_group, member_of
from mutualaid.people.models import User
from mutualaid.people.services import member_erase, member_profile_update
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

START = reverse("dispatch:duty_start")
END = reverse("dispatch:duty_end")
DASHBOARD = reverse("people:dashboard")


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def on_duty_until(member: User):
    return User.objects.get(pk=member.pk).on_duty_until


# Services


def test_going_on_duty_sets_the_end_and_tells_the_index():
    group = make_group()
    member = member_of(group)
    group_volunteers(group)
    now = timezone.now()

    until = member_duty_start(member=member, hours=4, now=now)

    assert until == now + timedelta(hours=4)
    assert on_duty_until(member) == until
    assert rows(group_volunteers(group))[member.pk]["on_duty_until"] == until.timestamp()


def test_going_on_duty_again_sets_a_new_end():
    member = UserFactory()
    now = timezone.now()
    member_duty_start(member=member, hours=8, now=now)

    member_duty_start(member=member, hours=2, now=now)

    assert on_duty_until(member) == now + timedelta(hours=2)


@pytest.mark.parametrize("hours", [0, 1, 3, 9, 24, -2, True])
def test_only_two_four_or_eight_hours(hours):
    member = UserFactory()

    with pytest.raises(
        ApplicationError, match=re.escape("You can go on duty for 2, 4 or 8 hours.")
    ):
        member_duty_start(member=member, hours=hours)

    assert on_duty_until(member) is None


def test_ending_duty_clears_it_and_ending_twice_is_harmless():
    member = UserFactory()
    member_duty_start(member=member, hours=2)

    member_duty_end(member=member)
    member_duty_end(member=member)

    assert on_duty_until(member) is None


def test_an_erased_member_cannot_go_on_duty():
    member = UserFactory()
    member_duty_start(member=member, hours=2)
    member_erase(member=member)
    member.refresh_from_db()

    assert member.on_duty_until is None
    with pytest.raises(PermissionDenied):
        member_duty_start(member=member, hours=2)
    with pytest.raises(PermissionDenied):
        member_duty_end(member=member)


# The switch


def test_a_member_goes_on_duty_from_the_dashboard(client: Client):
    member = UserFactory()
    client.force_login(member)
    html = client.get(DASHBOARD).content.decode()
    assert "Go on duty" in html
    assert 'name="hours"' in html

    response = client.post(START, {"hours": "4", "next": DASHBOARD})

    assert response.status_code == 302
    assert response["Location"] == DASHBOARD
    until = on_duty_until(member)
    assert until is not None
    assert timedelta(hours=4) - timedelta(seconds=30) < until - timezone.now() <= timedelta(hours=4)
    assert messages_of(response)[0].startswith("You are on duty until ")
    assert "You are on duty until" in client.get(DASHBOARD).content.decode()


def test_a_member_stops_being_on_duty(client: Client):
    member = UserFactory()
    member_duty_start(member=member, hours=8)
    client.force_login(member)
    assert "Stop being on duty" in client.get(DASHBOARD).content.decode()

    response = client.post(END, {"next": DASHBOARD})

    assert response["Location"] == DASHBOARD
    assert on_duty_until(member) is None
    assert messages_of(response) == ["You are no longer on duty."]
    assert "Go on duty" in client.get(DASHBOARD).content.decode()


def test_a_duty_that_has_ended_shows_the_switch_again(client: Client):
    member = UserFactory()
    member_duty_start(member=member, hours=2, now=timezone.now() - timedelta(hours=3))
    client.force_login(member)

    html = client.get(DASHBOARD).content.decode()

    assert "Go on duty" in html
    assert "You are on duty until" not in html


@pytest.mark.parametrize("typed", ["", "3", "eight", "99999999999999999999"])
def test_a_wrong_number_of_hours_changes_nothing(client: Client, typed: str):
    member = UserFactory()
    client.force_login(member)

    response = client.post(START, {"hours": typed})

    assert response["Location"] == DASHBOARD
    assert on_duty_until(member) is None
    assert messages_of(response) == ["Please choose for how long: 2, 4 or 8 hours."]


@pytest.mark.parametrize("next_page", ["https://evil.example/", "//evil.example/", "me"])
def test_the_switch_only_goes_back_to_a_page_of_this_site(client: Client, next_page: str):
    client.force_login(UserFactory())

    response = client.post(START, {"hours": "2", "next": next_page})

    assert response["Location"] == DASHBOARD


@pytest.mark.parametrize("url", [START, END])
def test_anonymous_visitors_are_sent_to_log_in(client: Client, url: str):
    response = client.post(url, {"hours": "2"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("url", [START, END])
def test_the_switch_refuses_get(client: Client, url: str):
    member = UserFactory()
    client.force_login(member)

    response = client.get(url, {"hours": "2"})

    assert response.status_code == 405
    assert on_duty_until(member) is None


@pytest.mark.parametrize("url", [START, END])
def test_the_switch_needs_the_csrf_token(url: str):
    member = UserFactory()
    member_duty_start(member=member, hours=2)
    before = on_duty_until(member)
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)

    response = client.post(url, {"hours": "8"})

    assert response.status_code == 403
    assert on_duty_until(member) == before


# How many requests at a time


def test_the_profile_saves_how_many_requests_a_member_holds_at_most(client: Client):
    group = make_group()
    member = member_of(group)
    client.force_login(member)
    group_volunteers(group)
    form = client.get(reverse("people:profile")).context["form"]
    assert form.initial["max_open_tasks"] == 2

    response = client.post(
        reverse("people:profile"),
        {
            "display_name": "Rosa",
            "languages": ["en"],
            "travel_km": "5",
            "max_open_tasks": "5",
            "home_latitude": "53.45",
            "home_longitude": "-2.22",
        },
    )

    assert response.status_code == 302
    assert User.objects.get(pk=member.pk).max_open_tasks == 5
    assert rows(group_volunteers(group))[member.pk]["capacity"] == 5


@pytest.mark.parametrize("typed", ["0", "21", "x"])
def test_the_profile_refuses_an_impossible_number_of_requests(client: Client, typed: str):
    member = UserFactory()
    client.force_login(member)

    response = client.post(
        reverse("people:profile"),
        {"display_name": "Rosa", "travel_km": "5", "max_open_tasks": typed},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["max_open_tasks"]
    assert User.objects.get(pk=member.pk).max_open_tasks == 2


@pytest.mark.parametrize("value", [0, 21, True, "3"])
def test_the_service_refuses_an_impossible_number_of_requests(value):
    member = UserFactory()

    with pytest.raises(
        ApplicationError, match=re.escape("You can hold between 1 and 20 requests at a time.")
    ):
        member_profile_update(member=member, display_name="Rosa", max_open_tasks=value)

    assert User.objects.get(pk=member.pk).max_open_tasks == 2


def test_leaving_the_number_out_keeps_it():
    member = UserFactory(max_open_tasks=6)

    member_profile_update(member=member, display_name="Rosa")

    assert User.objects.get(pk=member.pk).max_open_tasks == 6
