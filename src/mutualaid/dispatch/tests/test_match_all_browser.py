"""The journey in a real browser: a dispatcher matches all open requests in one click, and the
volunteer, not logged in, accepts from the link in their email. axe-core finds no WCAG 2.2
A/AA violation on the pages on the way."""

import pytest

from mutualaid.dispatch.tests.proposal_helpers import LOCMEM, make_world, volunteer
from mutualaid.needs.models import Request
from mutualaid.needs.tests.factories import make_request
from mutualaid.tests import conftest as browser_fixtures
from mutualaid.tests.chromium import found_in_mail_to
from mutualaid.tests.test_accessibility import _violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The whole-site tests' fixtures: a Chromium for the module, and pages logged in as anyone.
browser = browser_fixtures.browser
open_page = browser_fixtures.open_page


def test_a_dispatcher_matches_all_and_the_volunteer_accepts_from_the_email(
    live_server, open_page, settings
):
    from playwright.sync_api import expect

    # given
    settings.SITE_URL = live_server.url
    settings.EMAIL_DELIVERY_BACKEND = LOCMEM
    world = make_world(name="Longsight Mutual Aid")
    helper = volunteer(world.group, 1, display_name="Kofi", email="kofi@example.org")
    request = make_request(world.group, category="prescription", name="Margaret")
    dispatcher = open_page(world.dispatcher)

    # when: the dispatcher matches all open requests
    dispatcher.goto(f"{live_server.url}/dispatch/groups/{world.group.slug}/match-all/")
    expect(dispatcher.get_by_role("heading", level=1)).to_have_text("Match all open requests")
    dispatcher.get_by_role("button", name="Match all open requests").click()

    # then: the proposal is listed
    expect(dispatcher.locator(".messages")).to_contain_text(
        "1 request was proposed to a volunteer, who has been emailed a link to accept or "
        "decline it. 0 requests were left over."
    )
    proposed = dispatcher.get_by_role("row").filter(has_text=request.reference)
    expect(proposed).to_contain_text("Kofi")
    expect(proposed).to_contain_text("Waiting for an answer")
    found = _violations(dispatcher, "match all")

    # when: the volunteer opens the link from the email, not logged in, and accepts
    page = open_page()
    page.goto(
        found_in_mail_to("kofi@example.org", r"https?://\S+/dispatch/proposals/\S+/accept/").group(
            0
        )
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Could you take this request?")
    expect(page.locator("main")).not_to_contain_text("Margaret")
    found += _violations(page, "proposal answer")
    page.get_by_role("button", name="Yes, I'll take it").click()

    # then
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you: the request is yours")
    found += _violations(page, "proposal answered")
    assert found == []
    request.refresh_from_db()
    assert (request.status, request.claimed_by) == (Request.Status.CLAIMED, helper)
    dispatcher.reload()
    expect(dispatcher.get_by_role("row").filter(has_text=request.reference)).to_contain_text(
        "Accepted"
    )
