"""A newcomer's first visit, in a real browser: sign up by email code, find a group, join it,
fill in the profile."""

import re
import time

import pytest
from django.core import mail

from mutualaid.groups.models import Membership
from mutualaid.groups.tests.factories import make_group
from mutualaid.people.models import User, availability_bit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SATURDAY, MORNING = 5, 0


def _code_sent_to(address: str, timeout: float = 10) -> str:
    """The login code in the newest email to `address` (mail is delivered by a task)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in reversed(mail.outbox):
            if address in message.to:
                found = re.search(r"\b([A-Z0-9]{3,6}(?:-[A-Z0-9]{3,6})+)\b", message.body)
                assert found, message.body
                return found.group(1)
        time.sleep(0.1)
    raise AssertionError(f"No email reached {address}; outbox: {[m.to for m in mail.outbox]}")


def test_newcomer_signs_up_with_a_code_joins_a_group_and_fills_in_the_profile(
    live_server, open_page
):
    from playwright.sync_api import expect

    # given
    group = make_group(name="Levenshulme Mutual Aid", place="Levenshulme, Manchester", kind="ward")
    make_group(name="Rusholme Mutual Aid", place="Rusholme, Manchester")
    email = "new.neighbour@example.org"
    page = open_page()

    # when: sign up without a password
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign up").first.click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Display name").fill("Plum Tree")
    page.get_by_label(re.compile("privacy notice")).check()
    page.get_by_role("button", name="Sign up").click()

    # and: confirm the address with the code from the email
    page.get_by_label("Code").fill(_code_sent_to(email))
    page.get_by_role("button", name="Confirm").click()

    # then: logged in
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    member = User.objects.get(email=email)
    assert member.display_name == "Plum Tree"
    assert member.has_usable_password() is False

    # when: find the group from the home page and join it
    page.get_by_role("link", name="Find a group").first.click()
    page.get_by_label("Name or place").fill("Levenshulme")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Rusholme Mutual Aid", exact=True)).to_have_count(0)
    page.get_by_role("link", name="Levenshulme Mutual Aid", exact=True).click()
    page.get_by_role("button", name="Join this group").click()

    # then
    expect(page.get_by_role("heading", name="You are a member")).to_be_visible()
    assert Membership.objects.filter(group=group, member=member).exists()

    # when: say what languages, where and when
    page.get_by_role("link", name="Profile").click()
    page.get_by_label("Polish").check()
    page.get_by_label("Urdu").check()
    page.get_by_label("Home area").fill("M19")
    page.get_by_label("Saturday morning").check()
    page.get_by_role("button", name="Save profile").click()

    # then: the page shows what was saved, and so does the database
    expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    expect(page.get_by_label("Polish")).to_be_checked()
    expect(page.get_by_label("Urdu")).to_be_checked()
    expect(page.get_by_label("English")).not_to_be_checked()
    expect(page.get_by_label("Home area")).to_have_value("M19")
    expect(page.get_by_label("Saturday morning")).to_be_checked()
    expect(page.get_by_label("Saturday afternoon")).not_to_be_checked()
    member.refresh_from_db()
    assert sorted(member.languages) == ["pl", "ur"]
    assert member.home_area == "M19"
    assert member.availability == availability_bit(SATURDAY, MORNING)
