"""A journey in a real browser through a group decision that spends money: a member proposes to
pay 50 from the hardship fund, two others agree, it closes, and the payment is in the books."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from mutualaid.decisions.models import Proposal
from mutualaid.funds import ledger
from mutualaid.funds import services as fund_services
from mutualaid.funds.models import Contribution, Disbursement
from mutualaid.groups import services as group_services
from mutualaid.groups.models import Role
from mutualaid.groups.tests.factories import make_group
from mutualaid.people.tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAYEE = "Levenshulme Community Energy"
PURPOSE = "Winter heating top-up for a family in need"


def test_a_member_proposes_spending_two_agree_and_the_payment_appears_in_the_books(
    live_server, open_page
):
    from playwright.sync_api import expect

    # given: four members deciding by consensus, half of them needed for a quorum
    tess, amara, bilal, cerys = (
        UserFactory(display_name=name) for name in ("Tess", "Amara", "Bilal", "Cerys")
    )
    group = make_group(
        creator=tess,
        name="Levenshulme Mutual Aid",
        place="Levenshulme, Manchester",
        decision_rule="consensus",
        quorum_percent=50,
    )
    for member in (amara, bilal, cerys):
        group_services.group_join(group=group, member=member)
    # and: Tess is treasurer, by the two-person rule of the group's first 30 days
    grant = group_services.role_grant_propose(
        group=group,
        proposer=bilal,
        holder=tess,
        role=Role.TREASURER,
        reason="Chosen at the first meeting",
    )
    group_services.role_grant_confirm(grant=grant, confirmer=cerys)
    # and: a hardship fund holding 200.00
    fund = fund_services.fund_create(
        group=group, actor=tess, name="Hardship fund", purpose="Help with bills in a crisis"
    )
    fund_services.contribution_record(
        fund=fund, actor=tess, amount_minor=20000, method=Contribution.Method.BANK_TRANSFER
    )

    # when: Amara proposes, from the group's page, to pay 50 from the fund
    proposer = open_page(amara)
    proposer.goto(f"{live_server.url}/groups/{group.slug}/")
    proposer.get_by_role("link", name="Proposals", exact=True).click()
    proposer.get_by_role("link", name="Propose", exact=True).click()
    proposer.get_by_role("link", name="Spend from a fund").click()
    proposer.get_by_label("From which fund").select_option(label="Hardship fund")
    proposer.get_by_label("How much").fill("50")
    proposer.get_by_role("radio", name="a payee", exact=True).check()
    proposer.get_by_label("Payee's name").fill(PAYEE)
    proposer.get_by_label("What it is for").fill(PURPOSE)
    proposer.get_by_label("Title").fill("Heating top-up for a family")
    proposer.get_by_label("The proposal").fill(
        "A family on Stockport Road has no heating. Let us pay 50 towards their energy bill."
    )
    proposer.get_by_role("button", name="Open the proposal").click()

    # then: the proposal's page, open, saying what it does if it passes
    expect(proposer.locator(".messages")).to_have_text(
        "Your proposal is open. Members are told about it now."
    )
    expect(proposer.get_by_role("heading", level=1)).to_have_text("Heating top-up for a family")
    does = proposer.get_by_role("region", name="What it does if it passes")
    expect(does).to_contain_text(f"Pay £50.00 from Hardship fund to {PAYEE}.")
    expect(does).to_contain_text(PURPOSE)
    proposal = Proposal.objects.get()
    assert (proposal.kind, proposal.status) == (Proposal.Kind.SPEND, Proposal.Status.OPEN)
    assert Disbursement.objects.get().status == Disbursement.Status.PROPOSED

    # when: Bilal and Cerys, each in their own browser, find it among the proposals and agree
    for member in (bilal, cerys):
        page = open_page(member)
        page.goto(f"{live_server.url}/groups/{group.slug}/")
        page.get_by_role("link", name="Proposals", exact=True).click()
        page.get_by_role("link", name="Heating top-up for a family").click()
        stance = page.get_by_role("region", name="Take your stance")
        stance.get_by_role("radio", name="agree", exact=True).check()
        stance.get_by_role("button", name="Take this stance").click()

        # then
        expect(page.locator(".messages")).to_have_text(
            "Your stance is recorded: agree. You can change it until the proposal closes."
        )

    # when: its closing time comes. The clock cannot be waited on for a week, so the
    # proposal's opening and closing times move back together (it must close after it opens)
    # until it closed a minute ago; its page closes a proposal that is due.
    back = proposal.closes_at - timezone.now() + timedelta(minutes=1)
    Proposal.objects.filter(pk=proposal.pk).update(
        created_at=F("created_at") - back,
        round_started_at=F("round_started_at") - back,
        closes_at=F("closes_at") - back,
    )
    proposer.reload()

    # then: it passed and the payment is made
    outcome = proposer.get_by_role("region", name="Outcome")
    expect(outcome).to_contain_text("It passed.")
    expect(outcome).to_contain_text("2 of 4 members took a stance.")
    expect(outcome).to_contain_text("The payment is made.")

    # when: Amara follows the link to what it did
    outcome.get_by_role("link", name="See it in the books of Hardship fund").click()

    # then: the fund's page holds 150.00, and the books show the 50.00 going out, for what
    expect(proposer.get_by_role("heading", level=1)).to_have_text("Hardship fund")
    holds = proposer.get_by_role("term").filter(has_text="Holds now")
    expect(holds.locator("xpath=following-sibling::dd[1]")).to_have_text("£150.00")
    books = proposer.get_by_role("region", name="The books")
    payment = books.get_by_role("row").filter(has_text=PAYEE)
    expect(payment).to_have_count(1)
    expect(payment).to_contain_text(PURPOSE)
    cells = payment.get_by_role("cell")
    expect(cells.nth(1)).to_contain_text(f"Payment: {PAYEE}")
    expect(cells.nth(2)).to_have_text("")
    expect(cells.nth(3)).to_have_text("£50.00")
    # and: the link led to that very line of the books
    expect(proposer.locator(":target")).to_contain_text(PAYEE)

    # and: in the database, one paid disbursement, and the ledger replays clean
    disbursement = Disbursement.objects.get()
    assert (disbursement.status, disbursement.amount_minor, disbursement.proposal_id) == (
        Disbursement.Status.PAID,
        5000,
        proposal.pk,
    )
    assert disbursement.transaction is not None
    proposal.refresh_from_db()
    assert (proposal.status, proposal.effect_error) == (Proposal.Status.PASSED, "")
    assert ledger.ledger_replay(fund=fund) == []
    assert ledger.ledger_replay() == []
