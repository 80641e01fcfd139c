"""Journeys in a real browser: a newcomer's first visit (sign up by email code, find a group,
join it, fill in the profile), and a neighbour's request for help taken through to done."""

import re

import pytest

from mutualaid.groups import services as group_services
from mutualaid.groups.models import Membership
from mutualaid.groups.tests.factories import make_group
from mutualaid.needs.models import Request
from mutualaid.people.models import User, availability_bit
from mutualaid.people.tests.factories import UserFactory
from mutualaid.tests.chromium import found_in_mail_to

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SATURDAY, MORNING = 5, 0


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
    code = found_in_mail_to(email, r"\b([A-Z0-9]{3,6}(?:-[A-Z0-9]{3,6})+)\b").group(1)
    page.get_by_label("Code").fill(code)
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


def test_a_neighbour_asks_for_help_and_a_member_takes_it_through_to_done(live_server, open_page):
    from playwright.sync_api import expect

    # given: a group with one member, and a neighbour without an account
    group = make_group(name="Levenshulme Mutual Aid", place="Levenshulme, Manchester")
    volunteer = UserFactory(display_name="Kofi")
    group_services.group_join(group=group, member=volunteer)
    neighbour = open_page()

    # when: the neighbour asks from the group's page, giving the address under "More"
    neighbour.goto(f"{live_server.url}/groups/{group.slug}/")
    neighbour.get_by_role("link", name="Ask for help").click()
    neighbour.get_by_label("What kind of help").select_option(label="Prescription pickup")
    neighbour.get_by_label("What you need").fill("Two boxes of tablets from the chemist")
    neighbour.get_by_label("Your name").fill("Margaret")
    neighbour.get_by_label("Your phone number or email").fill("0161 496 0011")
    neighbour.get_by_text("More (optional)").click()
    neighbour.get_by_label("Exact address").fill("14 Acacia Avenue, M19 2QX")
    neighbour.get_by_role("button", name="Send my request").click()

    # then: the reference, and a status page that says it is open
    asked = Request.objects.get()
    expect(neighbour.locator(".messages")).to_contain_text(
        f"Your request is in. Its reference is {asked.reference}."
    )
    expect(neighbour.get_by_role("heading", level=1)).to_have_text(
        f"Your request {asked.reference}"
    )
    going = neighbour.get_by_role("region", name="How it is going")
    expect(going).to_contain_text("We are looking for someone to help you.")

    # when: in another browser, the member finds it among the open requests and claims it
    member = open_page(volunteer)
    member.goto(f"{live_server.url}/groups/{group.slug}/")
    member.get_by_role("link", name="Requests", exact=True).click()
    card = member.locator(".card").filter(has_text="Two boxes of tablets from the chemist")
    card.get_by_role("button", name="Claim").click()

    # then: the detail page shows how to reach the neighbour
    expect(member.locator(".messages")).to_have_text(
        "You have taken this request. How to reach the person is below."
    )
    reach = member.get_by_role("region", name="How to reach them")
    expect(reach).to_contain_text("Margaret")
    expect(reach).to_contain_text("14 Acacia Avenue, M19 2QX")

    # when: they write to the neighbour, then mark it done
    messages = member.get_by_role("region", name="Messages")
    messages.get_by_label("Message").fill("Picked up, I will drop them round at six.")
    messages.get_by_role("button", name="Send").click()
    expect(member.locator(".messages")).to_have_text("Your message is sent.")
    member.get_by_role("button", name="Mark done").click()
    expect(member.locator(".messages")).to_have_text("Thank you. The request is done.")

    # then: back in the neighbour's browser, the status page says done and shows the message
    neighbour.reload()
    expect(going).to_contain_text("Done. We hope it helped.")
    thread = neighbour.get_by_role("region", name="Messages")
    expect(thread).to_contain_text("Kofi")
    expect(thread).to_contain_text("Picked up, I will drop them round at six.")
    asked.refresh_from_db()
    assert (asked.status, asked.claimed_by) == (Request.Status.DONE, volunteer)
