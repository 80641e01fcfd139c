"""Proposing: choosing the kind, and the form of each kind with its structured effect."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mutualaid.decisions.models import Proposal
from mutualaid.decisions.tests.factories import close, deciding_group, make_proposal
from mutualaid.funds.models import Disbursement
from mutualaid.funds.tests.factories import books as make_books
from mutualaid.funds.tests.factories import contribute, make_claim, make_fund, make_request
from mutualaid.groups.models import Group, Role, RoleGrant
from mutualaid.needs.tests.factories import member_of

pytestmark = pytest.mark.django_db


def create_url(group: Group, **query: Any) -> str:
    url = reverse("decisions:create", kwargs={"slug": group.slug})
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def closing(days: float = 7) -> str:
    return timezone.localtime(timezone.now() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def common(**fields: Any) -> dict[str, Any]:
    return {
        "title": "Our proposal",
        "text": "Because it helps.",
        "closes_at": closing(),
        **fields,
    }


def the_proposal() -> Proposal:
    return Proposal.objects.get()


# Choosing the kind


def test_the_first_page_offers_every_kind(client: Client) -> None:
    group = deciding_group()
    client.force_login(group.created_by)

    html = client.get(create_url(group)).content.decode()

    for kind in ("general", "spend", "role_grant", "role_renew", "role_revoke", "policy"):
        assert f"?kind={kind}" in html
    assert "Take back a role" in html


def test_a_general_proposal_is_opened(client: Client) -> None:
    # given
    group = deciding_group()
    member = member_of(group)
    client.force_login(member)

    # when
    response = client.post(create_url(group, kind="general"), common(title="Picnic in June"))

    # then
    proposal = the_proposal()
    assert response.status_code == 302
    assert response["Location"] == proposal.get_absolute_url()
    assert (proposal.kind, proposal.title, proposal.proposed_by, proposal.effect) == (
        "general",
        "Picnic in June",
        member,
        {},
    )


def test_the_closing_time_defaults_to_a_week_ahead(client: Client) -> None:
    group = deciding_group()
    client.force_login(group.created_by)

    response = client.get(create_url(group, kind="general"))

    initial = timezone.make_aware(response.context["form"]["closes_at"].value())
    assert timedelta(days=7, minutes=-1) < initial - timezone.now() <= timedelta(days=7)
    assert 'type="datetime-local"' in response.content.decode()


@pytest.mark.parametrize(
    ("days", "error"),
    [
        (0.5, "A proposal stays open for at least 24 hours, so everyone can see it."),
        (31, "A proposal can stay open for at most 30 days."),
    ],
)
def test_the_closing_time_must_be_a_day_to_a_month_ahead(
    client: Client, days: float, error: str
) -> None:
    group = deciding_group()
    client.force_login(group.created_by)

    response = client.post(create_url(group, kind="general"), common(closes_at=closing(days)))

    assert response.status_code == 200
    assert response.context["form"].errors == {"closes_at": [error]}
    assert not Proposal.objects.exists()


def test_a_proposal_needs_a_title_and_a_text(client: Client) -> None:
    group = deciding_group()
    client.force_login(group.created_by)

    response = client.post(create_url(group, kind="general"), common(title="", text=""))

    assert response.context["form"].errors == {
        "title": ["This field is required."],
        "text": ["This field is required."],
    }


# Spending from a fund


def test_a_spend_proposal_to_a_payee(client: Client) -> None:
    # given
    where = make_books()
    fund = where.fund
    client.force_login(where.member)

    # when
    response = client.post(
        create_url(where.group, kind="spend"),
        common(
            fund=fund.pk,
            amount="50.00",
            payee_kind="payee",
            payee_name="Corner shop",
            purpose="Food parcels",
        ),
    )

    # then
    assert response.status_code == 302
    proposal = the_proposal()
    disbursement = Disbursement.objects.get(proposal=proposal)
    assert (proposal.kind, disbursement.fund, disbursement.amount_minor) == ("spend", fund, 5000)
    assert (disbursement.payee_kind, disbursement.payee_name, disbursement.purpose) == (
        "payee",
        "Corner shop",
        "Food parcels",
    )
    assert disbursement.status == Disbursement.Status.PROPOSED


def test_a_spend_proposal_for_a_request_by_its_reference(client: Client) -> None:
    where = make_books()
    request = make_request(where.group)
    client.force_login(where.member)
    typed = request.reference.replace("-", "").lower()

    client.post(
        create_url(where.group, kind="spend"),
        common(
            fund=where.fund.pk,
            amount="20",
            payee_kind="request",
            request_reference=typed,
            purpose="Bus fare",
        ),
    )

    disbursement = Disbursement.objects.get()
    assert (disbursement.payee_kind, disbursement.request) == ("request", request)


def test_a_spend_proposal_to_pay_back_a_claim(client: Client) -> None:
    where = make_books()
    claim = make_claim(where.group, 1250)
    client.force_login(where.member)

    response = client.get(create_url(where.group, kind="spend"))
    assert f"£12.50 to {claim.claimant.public_name} for request" in response.content.decode()
    client.post(
        create_url(where.group, kind="spend"),
        common(
            fund=where.fund.pk,
            amount="12.50",
            payee_kind="reimbursement",
            reimbursement=claim.pk,
            purpose="Shopping",
        ),
    )

    disbursement = Disbursement.objects.get()
    assert (disbursement.payee_kind, disbursement.reimbursement) == ("reimbursement", claim)


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"amount": "10.005", "payee_kind": "payee", "payee_name": "Shop"},
            {"amount": ["This currency has no smaller unit than 2 decimal places."]},
        ),
        (
            {"amount": "0", "payee_kind": "payee", "payee_name": "Shop"},
            {"amount": ["Ensure this value is greater than or equal to 0.01."]},
        ),
        ({"amount": "10", "payee_kind": "payee"}, {"payee_name": ["Say who is paid."]}),
        (
            {"amount": "10", "payee_kind": "request"},
            {"request_reference": ["Give the request's reference code."]},
        ),
        (
            {"amount": "10", "payee_kind": "request", "request_reference": "ZZZ-ZZZ"},
            {"request_reference": ["No request of this group has that reference."]},
        ),
        (
            {"amount": "10", "payee_kind": "reimbursement"},
            {"reimbursement": ["Choose the claim to pay back."]},
        ),
    ],
    ids=["too many places", "zero", "no payee", "no reference", "unknown reference", "no claim"],
)
def test_a_spend_proposal_with_a_mistake_is_a_form_error(
    client: Client, fields: dict[str, str], errors: dict[str, list[str]]
) -> None:
    where = make_books()
    client.force_login(where.member)

    response = client.post(
        create_url(where.group, kind="spend"),
        common(fund=where.fund.pk, purpose="Food", **fields),
    )

    assert response.status_code == 200
    assert response.context["form"].errors == errors
    assert not Proposal.objects.exists()


def test_a_request_of_another_group_cannot_be_paid(client: Client) -> None:
    where = make_books()
    elsewhere = make_request(deciding_group())
    client.force_login(where.member)

    response = client.post(
        create_url(where.group, kind="spend"),
        common(
            fund=where.fund.pk,
            amount="5",
            payee_kind="request",
            request_reference=elsewhere.reference,
            purpose="Food",
        ),
    )

    assert response.context["form"].errors == {
        "request_reference": ["No request of this group has that reference."]
    }


def test_a_fund_of_another_group_cannot_be_chosen(client: Client) -> None:
    where = make_books()
    other_fund = make_fund(deciding_group())
    client.force_login(where.member)

    response = client.post(
        create_url(where.group, kind="spend"),
        common(fund=other_fund.pk, amount="5", payee_kind="payee", payee_name="Shop", purpose="x"),
    )

    assert list(response.context["form"].errors) == ["fund"]


def test_the_fund_is_chosen_from_the_link(client: Client) -> None:
    where = make_books()
    second = make_fund(where.group, actor=where.treasurer, name="Bail fund")
    client.force_login(where.member)

    response = client.get(create_url(where.group, kind="spend", fund=second.pk))

    assert response.context["form"]["fund"].value() == second.pk
    assert f'<option value="{second.pk}" selected>Bail fund</option>' in response.content.decode()


def test_a_group_without_a_fund_is_told_so(client: Client) -> None:
    group = deciding_group()
    client.force_login(group.created_by)

    html = client.get(create_url(group, kind="spend")).content.decode()

    assert "This group has no fund yet." in html
    assert "Open the proposal" not in html


def test_a_passed_spend_links_to_the_books(client: Client) -> None:
    # given
    where = make_books(decision_rule="consent")
    contribute(where, 10000)
    client.force_login(where.member)
    client.post(
        create_url(where.group, kind="spend"),
        common(
            fund=where.fund.pk,
            amount="50",
            payee_kind="payee",
            payee_name="Corner shop",
            purpose="Food parcels",
        ),
    )
    proposal = the_proposal()
    close(proposal)

    # when
    html = client.get(proposal.get_absolute_url()).content.decode()

    # then
    disbursement = Disbursement.objects.get()
    assert disbursement.status == Disbursement.Status.PAID
    assert "It passed." in html
    assert "The payment is made." in html
    fund_url = reverse("funds:detail", args=[where.group.slug, where.fund.pk])
    assert f'href="{fund_url}?movement={disbursement.transaction_id}"' in html
    assert "Pay £50.00 from" in html
    assert "to Corner shop." in html


# Roles


def test_a_role_grant_proposal(client: Client) -> None:
    group = deciding_group()
    holder = member_of(group, display_name="Ama")
    client.force_login(group.created_by)

    page = client.get(create_url(group, kind="role_grant")).content.decode()
    assert f'<option value="{holder.pk}">Ama</option>' in page
    response = client.post(
        create_url(group, kind="role_grant"),
        common(holder=holder.pk, role=Role.TREASURER, days=120),
    )

    assert response.status_code == 302
    proposal = the_proposal()
    assert (proposal.kind, proposal.effect) == (
        "role_grant",
        {"holder": holder.pk, "role": "treasurer", "days": 120},
    )
    html = client.get(proposal.get_absolute_url()).content.decode()
    assert "Give Ama the role of treasurer for 120 days." in html


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"days": 0}, "days"),
        ({"days": 366}, "days"),
        ({"role": "king"}, "role"),
        ({"holder": 0}, "holder"),
    ],
)
def test_a_role_grant_proposal_with_a_mistake(
    client: Client, fields: dict[str, Any], field: str
) -> None:
    group = deciding_group()
    holder = member_of(group)
    client.force_login(group.created_by)

    response = client.post(
        create_url(group, kind="role_grant"),
        common(**{"holder": holder.pk, "role": "treasurer", "days": 30, **fields}),
    )

    assert list(response.context["form"].errors) == [field]
    assert not Proposal.objects.exists()


def test_a_role_renew_and_a_role_revoke_proposal(client: Client) -> None:
    # given: the founder's steward role is in force
    group = deciding_group()
    grant = RoleGrant.objects.get(group=group)
    client.force_login(member_of(group))

    # when
    page = client.get(create_url(group, kind="role_renew")).content.decode()
    renew = client.post(create_url(group, kind="role_renew"), common(grant=grant.pk, days=60))
    revoke = client.post(create_url(group, kind="role_revoke"), common(grant=grant.pk))

    # then
    assert f"{group.created_by.public_name} as steward, until" in page
    assert renew.status_code == revoke.status_code == 302
    assert [(p.kind, p.effect) for p in Proposal.objects.order_by("pk")] == [
        ("role_renew", {"grant": grant.pk, "days": 60}),
        ("role_revoke", {"grant": grant.pk}),
    ]


def test_a_role_no_longer_in_force_cannot_be_chosen(client: Client) -> None:
    group = deciding_group()
    grant = RoleGrant.objects.get(group=group)
    RoleGrant.objects.filter(pk=grant.pk).update(revoked_at=timezone.now())
    client.force_login(group.created_by)

    page = client.get(create_url(group, kind="role_revoke")).content.decode()
    response = client.post(create_url(group, kind="role_revoke"), common(grant=grant.pk))

    assert "No one holds a role in this group now." in page
    assert response.status_code == 200
    assert not Proposal.objects.exists()


def test_a_passed_role_grant_links_to_the_roles(client: Client) -> None:
    group = deciding_group(rule="consent")
    holder = member_of(group, display_name="Ama")
    proposal = make_proposal(
        group, kind="role_grant", effect={"holder": holder.pk, "role": "dispatcher", "days": 30}
    )
    close(proposal)
    client.force_login(holder)

    html = client.get(proposal.get_absolute_url()).content.decode()

    assert "The role is in force." in html
    assert f'href="{group.get_absolute_url()}#roles-heading"' in html


# Policies


def test_the_policy_page_lists_the_policies_with_their_values(client: Client) -> None:
    group = deciding_group(rule="consensus", quorum_percent=30)
    client.force_login(group.created_by)

    html = client.get(create_url(group, kind="policy")).content.decode()

    assert "?kind=policy&amp;field=quorum_percent" in html
    assert "<td>Quorum: the share of members who must take a stance (%)</td><td>30</td>" in html
    assert "<td>How proposals pass</td><td>consensus</td>" in html
    assert "<td>Spending limit without a proposal</td><td>£50.00</td>" in html
    assert "<td>Joining needs a vouch from a member</td><td>No</td>" in html


@pytest.mark.parametrize(
    ("field", "typed", "stored"),
    [
        ("quorum_percent", "50", 50),
        ("decision_rule", "consensus_then_vote", "consensus_then_vote"),
        ("spending_limit_minor", "75.50", 7550),
        ("publishes_fund_summary", "yes", True),
        ("request_pacing_days", "0", 0),
    ],
)
def test_a_policy_proposal(client: Client, field: str, typed: str, stored: Any) -> None:
    group = deciding_group()
    client.force_login(group.created_by)

    response = client.post(create_url(group, kind="policy", field=field), common(value=typed))

    assert response.status_code == 302
    assert the_proposal().effect == {"changes": {field: stored}}


@pytest.mark.parametrize(
    ("field", "typed", "error"),
    [
        ("quorum_percent", "0", "Ensure this value is greater than or equal to 1."),
        ("quorum_percent", "101", "Ensure this value is less than or equal to 100."),
        ("fallback_majority_percent", "50", "Ensure this value is greater than or equal to 51."),
        (
            "spending_limit_minor",
            "1.234",
            "This currency has no smaller unit than 2 decimal places.",
        ),
        ("quorum_percent", "25", "That is the value now; propose a different one."),
        (
            "decision_rule",
            "majority",
            "Select a valid choice. majority is not one of the available choices.",
        ),
        ("retention_days", "abc", "Enter a whole number."),
    ],
)
def test_a_policy_proposal_with_a_mistake(
    client: Client, field: str, typed: str, error: str
) -> None:
    group = deciding_group(quorum_percent=25)
    client.force_login(group.created_by)

    response = client.post(create_url(group, kind="policy", field=field), common(value=typed))

    assert response.status_code == 200
    assert response.context["form"].errors == {"value": [error]}
    assert not Proposal.objects.exists()


def test_the_policy_form_shows_the_current_value(client: Client) -> None:
    group = deciding_group()
    Group.objects.filter(pk=group.pk).update(spending_limit_minor=2500)
    client.force_login(group.created_by)

    html = client.get(
        create_url(group, kind="policy", field="spending_limit_minor")
    ).content.decode()

    assert "Now: £25.00." in html


def test_a_passed_policy_proposal_shows_before_and_after(client: Client) -> None:
    group = deciding_group(rule="consent", quorum_percent=25)
    proposal = make_proposal(group, kind="policy", effect={"changes": {"quorum_percent": 40}})
    client.force_login(group.created_by)
    before = client.get(proposal.get_absolute_url()).content.decode()
    close(proposal)

    after = client.get(proposal.get_absolute_url()).content.decode()

    row = "<td>Quorum: the share of members who must take a stance (%)</td><td>25</td><td>40</td>"
    assert row in before
    assert '<th scope="col">Proposed</th>' in before
    assert row in after
    assert '<th scope="col">After</th>' in after
    assert "The policy is changed." in after
    group.refresh_from_db()
    assert group.quorum_percent == 40


def test_an_effect_that_failed_is_shown(client: Client) -> None:
    group = deciding_group(rule="consent")
    holder = member_of(group)
    proposal = make_proposal(
        group, kind="role_grant", effect={"holder": holder.pk, "role": "dispatcher", "days": 30}
    )
    Proposal.objects.filter(pk=proposal.pk).update(
        effect={"holder": holder.pk + 1000, "role": "dispatcher", "days": 30}
    )
    proposal.refresh_from_db()
    close(proposal)
    client.force_login(group.created_by)

    html = client.get(proposal.get_absolute_url()).content.decode()

    assert "It passed." in html
    assert "Its effect could not be carried out: The member this role was for has left." in html


def test_an_unknown_policy_shows_the_list(client: Client) -> None:
    group = deciding_group()
    client.force_login(group.created_by)

    response = client.get(create_url(group, kind="policy", field="name"))

    assert response.status_code == 200
    assert "Which policy do you want to change?" in response.content.decode()
