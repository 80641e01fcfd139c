"""Accessibility in a real browser: axe-core finds no WCAG 2.2 A/AA violation on any page, the
keyboard reaches the skip link first and focus is visible, and nothing scrolls sideways on a
320 px wide phone."""

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from mutualaid.decisions import services as decision_services
from mutualaid.decisions.models import Proposal, Stance
from mutualaid.decisions.tests.factories import close
from mutualaid.funds import services as fund_services
from mutualaid.funds.models import Contribution, Disbursement, Fund
from mutualaid.funds.tests.factories import PDF, receipt_file, treasurer_of
from mutualaid.groups import services as group_services
from mutualaid.groups.models import Group, Role
from mutualaid.groups.tests.factories import make_group
from mutualaid.needs import services as needs_services
from mutualaid.needs.models import Offer, Request, Urgency
from mutualaid.needs.tests.factories import make_offer, make_request
from mutualaid.people import services as people_services
from mutualaid.people.models import User
from mutualaid.people.tests.factories import UserFactory
from mutualaid.tests.chromium import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}

# The API docs page is Swagger UI, a third-party application that builds its own markup in the
# browser. Violations are allowed there only on that page, only inside #swagger-ui (the element
# Swagger fills), only for these rules, and each for the reason given; anything in our own markup
# around it still fails.
SWAGGER_KNOWN_VIOLATIONS = {
    "color-contrast": "swagger-ui.css draws white on light blue and green method badges and the "
    "version stamp, light blue server URLs and light grey schema buttons.",
    "nested-interactive": "each operation's summary is a focusable control that holds the "
    "operation's path link and copy button.",
    "target-size": "the operations' path links are 19 px high and stacked close together.",
}


@dataclass
class World:
    """Everyone and everything the pages need so that every section of them renders."""

    steward: User
    member: User  # a dispatcher of the group
    volunteer: User  # holds `held`
    outsider: User
    applicant: User
    group: Group
    held: Request
    held_secret: str
    open_request: Request
    treasurer: User
    fund: Fund
    open_proposal: Proposal  # `member` proposed it; `steward` and `volunteer` took stances
    passed_spend: Proposal  # paid from `fund`
    claim_id: int  # `volunteer`'s claim, with a receipt, waiting to be paid back


def _world() -> World:
    steward = UserFactory(display_name="Ash Steward")
    member = UserFactory(display_name="Birch Member")
    confirmer = UserFactory(display_name="Cedar Neighbour")
    outsider = UserFactory(display_name="Damson Outsider")
    applicant = UserFactory(display_name="Elm Applicant")
    group = make_group(
        creator=steward,
        name="Levenshulme Mutual Aid",
        place="Levenshulme, Manchester",
        description="Food, errands and lifts around Levenshulme.\n\nWe meet on Saturdays.",
        languages=["en", "ur"],
        hotline_phone="+441612345678",
        contact_email="levenshulme@example.org",
        members=20,
    )
    make_group(creator=steward, name="Chapel Street Helpers", kind="street", parent=group)
    make_group(name="Rusholme Mutual Aid", place="Rusholme, Manchester")
    make_group(name="Longsight Mutual Aid", place="Longsight, Manchester")
    for person in (member, confirmer):
        group_services.group_join(group=group, member=person)
    treasurer = treasurer_of(group, display_name="Fir Treasurer")
    # From now on newcomers need a vouch: the applicant's request stays pending.
    group = group_services.group_update(actor=steward, group=group, join_needs_vouch=True)
    group_services.group_join(group=group, member=applicant, message="I live on Stockport Road.")
    in_force = group_services.role_grant_propose(
        group=group, proposer=steward, holder=member, role=Role.DISPATCHER, reason="Matches asks"
    )
    group_services.role_grant_confirm(grant=in_force, confirmer=confirmer)
    group_services.role_grant_propose(
        group=group,
        proposer=steward,
        holder=confirmer,
        role=Role.TREASURER,
        reason="Keeps the books",
    )
    group_services.group_skill_add(group=group, member=member, name="Bike repairs")
    people_services.api_token_create(user=member, name="My phone")
    held, open_request = _requests_and_offers(
        group, steward=steward, dispatcher=member, volunteer=confirmer
    )
    group = group_services.group_update(
        actor=steward, group=group, decision_rule="consent", publishes_fund_summary=True
    )
    fund, open_proposal, passed_spend, claim_id = _funds_and_proposals(
        group, treasurer=treasurer, member=member, steward=steward, volunteer=confirmer
    )
    return World(
        steward=steward,
        member=member,
        volunteer=confirmer,
        outsider=outsider,
        applicant=applicant,
        group=group,
        held=held,
        held_secret=held.secret,  # type: ignore[attr-defined]
        open_request=open_request,
        treasurer=treasurer,
        fund=fund,
        open_proposal=open_proposal,
        passed_spend=passed_spend,
        claim_id=claim_id,
    )


def _funds_and_proposals(
    group: Group, *, treasurer: User, member: User, steward: User, volunteer: User
) -> tuple[Fund, Proposal, Proposal, int]:
    """A fund with money in and out, a payment waiting for a second member, a claim with a
    receipt, an open proposal with stances and a comment, and a spend proposal that passed."""
    fund = fund_services.fund_create(
        group=group,
        actor=treasurer,
        name="Hardship fund",
        purpose="Small grants for neighbours in a tight spot.",
    )
    fund_services.contribution_record(
        fund=fund,
        actor=treasurer,
        amount_minor=25_000,
        method=Contribution.Method.CASH,
        contributor_name="Friday collection",
    )
    fund_services.contribution_record(
        fund=fund, actor=treasurer, amount_minor=1_500, method=Contribution.Method.OTHER
    )
    fund_services.disbursement_request(
        fund=fund,
        actor=treasurer,
        amount_minor=1_200,
        purpose="Electricity top-up",
        payee_kind=Disbursement.PayeeKind.PAYEE,
        payee_name="Northern Power",
    )
    bought = make_request(group, category="shopping", description="Nappies and formula")
    needs_services.request_claim(request=bought, member=volunteer)
    claim = needs_services.request_complete(
        request=bought, member=volunteer, spent_minor=1_240, spent_note="Nappies"
    )
    assert claim is not None
    fund_services.receipt_attach(
        claim=claim,
        actor=volunteer,
        upload=receipt_file(PDF, name="receipt.pdf", content_type="application/pdf"),
    )
    passed_spend = decision_services.proposal_create(
        group=group,
        proposer=steward,
        kind=Proposal.Kind.SPEND,
        title="Pay for a neighbour's cooker repair",
        text="The repair is quoted at £120, more than we spend without asking.",
        closes_at=timezone.now() + timedelta(days=2),
        spend=decision_services.SpendDetails(
            fund=fund,
            amount_minor=12_000,
            purpose="Cooker repair",
            payee_kind=Disbursement.PayeeKind.PAYEE,
            payee_name="Levenshulme Appliance Repairs",
        ),
    )
    decision_services.stance_take(
        proposal=passed_spend, member=member, position=Stance.Position.AGREE
    )
    passed_spend = close(passed_spend)
    open_proposal = decision_services.proposal_create(
        group=group,
        proposer=member,
        kind=Proposal.Kind.GENERAL,
        title="Move the Thursday meeting to 6pm",
        text="Several parents can't make 5pm because of the school run.",
        closes_at=timezone.now() + timedelta(days=7),
    )
    decision_services.stance_take(
        proposal=open_proposal, member=steward, position=Stance.Position.AGREE
    )
    decision_services.stance_take(
        proposal=open_proposal,
        member=volunteer,
        position=Stance.Position.DISAGREE,
        reason="I work late on Thursdays.",
    )
    decision_services.comment_add(
        proposal=open_proposal, author=steward, text="The community centre is free at 6."
    )
    return fund, open_proposal, passed_spend, claim.pk


def _requests_and_offers(
    group: Group, *, steward: User, dispatcher: User, volunteer: User
) -> tuple[Request, Request]:
    """Requests in every state the pages show, a thread both ways, a kind of help of the
    group's own, and offers; returns the request `volunteer` holds and an open one."""
    # Needed two days ago and nobody took it: on the dispatchers' follow-up list.
    make_request(
        group,
        category="check_in",
        description="A phone call on Sunday afternoons",
        name="Winifred",
        phone="0161 496 0044",
        area_name="Levenshulme",
        urgency=Urgency.TODAY,
        now=timezone.now() - timedelta(days=2),
    )
    needs_services.requests_mark_unmet()
    held = make_request(
        group,
        category="prescription",
        description="Two boxes of tablets from the chemist on Stockport Road",
        name="Margaret Okafor",
        phone="0161 496 0011",
        email="margaret@example.net",
        address="14 Acacia Avenue, M19 2QX",
        accessibility_notes="Ring twice, I am slow to the door",
        area_name="Levenshulme",
        urgency=Urgency.TODAY,
        language="ur",
    )
    needs_services.request_claim(request=held, member=volunteer)
    needs_services.message_post(
        request=held, body="I will pick them up after work, about six.", author=volunteer
    )
    needs_services.message_post(
        request=held,
        body="Thank you! The bell is broken, please knock.",
        secret=held.secret,  # type: ignore[attr-defined]
    )
    done = make_request(
        group, category="food", description="A hot meal on Friday", area_name="Levenshulme"
    )
    needs_services.request_claim(request=done, member=volunteer)
    needs_services.request_complete(request=done, member=volunteer, notes="Left at the door")
    open_request = make_request(
        group,
        category="shopping",
        description="Weekly shop: milk, bread, eggs and tea",
        name="Ade Bello",
        address="3 Crescent Road, M19 3AB",
        area_name="Crescent Road",
        urgency=Urgency.THIS_WEEK,
    )
    asked = make_request(
        group,
        category="dog_walking",
        description="A walk for Biscuit, a small and friendly terrier",
        area_name="Chapel Street",
        urgency=Urgency.FLEXIBLE,
        recurrence="weekly",
    )
    needs_services.request_assign(request=asked, member=volunteer, dispatcher=dispatcher)
    needs_services.group_category_add(group=group, name="School uniform swap", actor=steward)
    make_offer(
        group,
        volunteer,
        kind=Offer.Kind.TIME,
        category="ride",
        title="Lifts to the hospital",
        availability="Weekday evenings",
        area_name="Levenshulme",
    )
    make_offer(
        group,
        steward,
        kind=Offer.Kind.GOODS,
        category="childcare",
        title="A box of children's books",
        quantity=3,
    )
    return held, open_request


def _pages(world: World) -> list[tuple[str, str, User | None]]:
    """(name, path, who looks at it: None for a visitor)."""
    slug = world.group.slug
    steward, member, outsider, applicant, volunteer = (
        world.steward,
        world.member,
        world.outsider,
        world.applicant,
        world.volunteer,
    )
    held, open_request = world.held, world.open_request
    treasurer, fund = world.treasurer, world.fund
    decisions, funds = f"/groups/{slug}/decisions/", f"/groups/{slug}/funds/"
    return [
        ("home", "/", None),
        ("home search results", "/?q=Mutual", None),
        ("home search without results", "/?q=Atlantis", None),
        ("privacy", "/privacy/", None),
        ("signup", "/accounts/signup/", None),
        ("login", "/accounts/login/", None),
        ("login by code", "/accounts/login/code/", None),
        ("group as visitor", f"/groups/{slug}/", None),
        ("group as a logged-in outsider", f"/groups/{slug}/", outsider),
        ("group as applicant", f"/groups/{slug}/", applicant),
        ("group as member", f"/groups/{slug}/", member),
        ("group as steward", f"/groups/{slug}/", steward),
        ("members", f"/groups/{slug}/members/", member),
        ("role proposal", f"/groups/{slug}/roles/propose/", member),
        ("group create", "/groups/new/", member),
        ("group settings", f"/groups/{slug}/settings/", steward),
        ("group settings refused", f"/groups/{slug}/settings/", member),
        ("skills", f"/groups/{slug}/skills/", member),
        ("dashboard", "/me/", member),
        ("profile", "/me/profile/", member),
        ("tokens", "/me/tokens/", member),
        ("data access log", "/me/data-access/", member),
        ("delete account", "/me/delete/", member),
        ("email addresses", "/accounts/email/", member),
        ("2FA", "/accounts/2fa/", member),
        ("API docs", "/api/docs", None),
        ("404", "/groups/no-such-group/", None),
        ("ask for help", f"/groups/{slug}/ask/", None),
        ("request status", f"/help/{held.reference}/{world.held_secret}/", None),
        ("phone desk", f"/groups/{slug}/phone-desk/", member),
        ("request list", f"/groups/{slug}/requests/", volunteer),
        ("request as its claimer", f"/requests/{held.pk}/", volunteer),
        ("request as a member", f"/requests/{open_request.pk}/", volunteer),
        ("request as a dispatcher", f"/requests/{open_request.pk}/", member),
        ("my requests", "/requests/mine/", volunteer),
        ("follow-up", f"/groups/{slug}/requests/follow-up/", member),
        ("categories", f"/groups/{slug}/categories/", steward),
        ("offers", f"/groups/{slug}/offers/", volunteer),
        ("offer form", f"/groups/{slug}/offers/new/", volunteer),
        ("report", f"/groups/{slug}/requests/report/", steward),
        ("proposals", decisions, member),
        ("how proposals pass", f"{decisions}how/", member),
        ("propose: choose a kind", f"{decisions}new/", member),
        ("propose general", f"{decisions}new/?kind=general", member),
        ("propose spend", f"{decisions}new/?kind=spend", member),
        ("propose a role", f"{decisions}new/?kind=role_grant", member),
        ("propose a renewal", f"{decisions}new/?kind=role_renew", member),
        ("propose taking back a role", f"{decisions}new/?kind=role_revoke", member),
        ("propose a policy: choose", f"{decisions}new/?kind=policy", member),
        ("propose a rule", f"{decisions}new/?kind=policy&field=decision_rule", member),
        (
            "propose a yes/no policy",
            f"{decisions}new/?kind=policy&field=publishes_fund_summary",
            member,
        ),
        ("open proposal as its proposer", f"{decisions}{world.open_proposal.pk}/", member),
        ("open proposal after a stance", f"{decisions}{world.open_proposal.pk}/", volunteer),
        ("passed spend", f"{decisions}{world.passed_spend.pk}/", member),
        ("funds", funds, member),
        ("fund as a member", f"{funds}{fund.pk}/", member),
        ("fund as its treasurer", f"{funds}{fund.pk}/", treasurer),
        ("open a fund", f"{funds}new/", treasurer),
        ("claims to pay back", f"{funds}reimbursements/", treasurer),
        ("my claims", f"{funds}reimbursements/", volunteer),
        ("receipt upload", f"{funds}reimbursements/{world.claim_id}/receipt/upload/", volunteer),
        ("funds summary", f"{funds}summary/", None),
    ]


def _visit(page: Any, url: str) -> None:
    page.goto(url)
    if "/api/docs" in url:
        # Swagger UI draws the operations with JavaScript after the page has loaded.
        page.wait_for_selector("#swagger-ui .opblock")


def _in_swagger(page: Any, target: list[Any]) -> bool:
    selector = target[-1] if target and isinstance(target[-1], str) else ""
    return bool(selector) and page.evaluate(
        "s => !!document.querySelector(s)?.closest('#swagger-ui')", selector
    )


def _violations(page: Any, name: str) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    found = []
    for violation in Axe().run(page, options=AXE_OPTIONS).response["violations"]:
        for node in violation["nodes"]:
            if (
                name == "API docs"
                and violation["id"] in SWAGGER_KNOWN_VIOLATIONS
                and _in_swagger(page, node["target"])
            ):
                continue
            summary = " ".join(node.get("failureSummary", "").split())
            found.append(
                f"{name}: {violation['id']} at {node['target']}: {violation['help']} ({summary})"
            )
    return found


def _contrast_with_white(css_colour: str) -> float:
    """The WCAG contrast ratio of the first rgb() colour in a computed style against white."""
    found = re.search(r"rgba?\((\d+), (\d+), (\d+)", css_colour)
    assert found, css_colour

    def linear(channel: str) -> float:
        c = int(channel) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(c) for c in found.groups())
    return 1.05 / (0.2126 * red + 0.7152 * green + 0.0722 * blue + 0.05)


def test_no_page_has_a_wcag_a_or_aa_violation(live_server, open_page):
    # given
    world = _world()
    slug = world.group.slug
    tabs: dict[tuple[int | None, str], Any] = {}

    def tab(user: User | None, locale: str = "en-GB") -> Any:
        key = (user.pk if user else None, locale)
        if key not in tabs:
            tabs[key] = open_page(user, locale=locale)
        return tabs[key]

    found: list[str] = []

    # when: every page as it first shows
    for name, path, user in [*_pages(world), ("home in Spanish", "/", None)]:
        page = tab(user, "es-ES" if name == "home in Spanish" else "en-GB")
        _visit(page, live_server.url + path)
        found += _violations(page, name)
    assert tab(None, "es-ES").locator("html").get_attribute("lang") == "es"

    # and: forms sent back with errors, and a page showing a message
    for name, path, user, button, shows in [
        ("signup with errors", "/accounts/signup/", None, "Sign up", ".errorlist"),
        ("group create with errors", "/groups/new/", world.member, "Start the group", ".errorlist"),
        (
            "group settings saved",
            f"/groups/{slug}/settings/",
            world.steward,
            "Save settings",
            ".messages",
        ),
        ("ask for help with errors", f"/groups/{slug}/ask/", None, "Send my request", ".errorlist"),
        (
            "offer form with errors",
            f"/groups/{slug}/offers/new/",
            world.volunteer,
            "Offer it",
            ".errorlist",
        ),
        (
            "spend proposal with errors",
            f"/groups/{slug}/decisions/new/?kind=spend",
            world.member,
            "Open the proposal",
            ".errorlist",
        ),
        (
            "stance with errors",
            f"/groups/{slug}/decisions/{world.open_proposal.pk}/",
            world.member,
            "Take this stance",
            ".errorlist",
        ),
        (
            "contribution with errors",
            f"/groups/{slug}/funds/{world.fund.pk}/",
            world.treasurer,
            "Record it",
            ".errorlist",
        ),
        (
            "payment confirmed",
            f"/groups/{slug}/funds/{world.fund.pk}/",
            world.member,
            "Confirm this payment",
            ".messages",
        ),
    ]:
        page = tab(user)
        _visit(page, live_server.url + path)
        page.evaluate(
            "() => document.querySelectorAll('form').forEach(f => { f.noValidate = true; })"
        )
        page.locator("main").get_by_role("button", name=button, exact=True).click()
        page.wait_for_selector(shows)
        found += _violations(page, name)

    # then
    assert found == [], "Accessibility violations:\n" + "\n".join(found)


def test_keyboard_reaches_the_skip_link_first_and_focus_is_visible(live_server, open_page):
    # given
    make_group(name="Levenshulme Mutual Aid")
    page = open_page(None)
    page.goto(live_server.url + "/")
    where_is = (
        "e => { const r = e.getBoundingClientRect(); return {text: e.textContent,"
        " focused: e === document.activeElement, left: r.left, right: r.right, top: r.top,"
        " outline: getComputedStyle(e).outlineStyle}; }"
    )
    skip = page.locator("a.skip")
    assert skip.evaluate(where_is)["right"] < 0

    # when
    page.keyboard.press("Tab")

    # then: the skip link is the first stop, and it comes onto the screen with an outline
    shown = skip.evaluate(where_is)
    assert shown["text"] == "Skip to content"
    assert shown["focused"] is True
    assert (shown["left"], shown["top"]) == (16, 16)
    assert shown["right"] > shown["left"]
    assert shown["outline"] == "solid"

    # when: following it and tabbing on to the first link and the first button in the page
    page.keyboard.press("Enter")
    outlines = {}
    for _ in range(30):
        page.keyboard.press("Tab")
        tag, style, width, ring = page.evaluate(
            "() => { const e = document.activeElement; const s = getComputedStyle(e);"
            " return [e.tagName, s.outlineStyle, s.outlineWidth, s.boxShadow]; }"
        )
        outlines.setdefault(tag, (style, width, _contrast_with_white(ring) >= 3))
        if {"A", "BUTTON"} <= set(outlines):
            break

    # then
    assert outlines["A"] == ("solid", "3px", True)
    assert outlines["BUTTON"] == ("solid", "3px", True)


def test_no_page_scrolls_sideways_on_a_320_px_wide_screen(live_server, open_page):
    # given
    world = _world()
    pages = [*_pages(world), ("home in Spanish", "/", None)]
    by_user: dict[tuple[int | None, str], Any] = {}
    too_wide = []

    # when
    for name, path, user in pages:
        locale = "es-ES" if name.endswith("in Spanish") else "en-GB"
        key = (user.pk if user else None, locale)
        if key not in by_user:
            by_user[key] = open_page(user, locale=locale, viewport={"width": 320, "height": 640})
        page = by_user[key]
        _visit(page, live_server.url + path)
        scroll_width, client_width = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if scroll_width > client_width + 1:
            screenshot(page, f"a11y-{name}")
            too_wide.append(f"{name}: {scroll_width} px wide in {client_width} px")

    # then
    assert too_wide == [], "Pages wider than the screen:\n" + "\n".join(too_wide)
