"""The decision pages against odd and hostile input: every refusal is a 4xx or a form error,
never a 500; another group's proposals are not found under a group's address; what members
type is escaped; a requester shows only as "neighbour" and a reference; nothing changes on a
GET or without the CSRF token."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mutualaid.api.tests.wire import token_for
from mutualaid.decisions.models import Comment, Proposal, Stance
from mutualaid.decisions.tests.factories import deciding_group, fund_with, make_proposal
from mutualaid.funds.models import Disbursement
from mutualaid.groups.models import Group
from mutualaid.needs.tests.factories import make_request, member_of
from mutualaid.people.models import User

pytestmark = pytest.mark.django_db

NUL = "Null characters are not allowed."


def client_for(user: User, **options: Any) -> Client:
    """A client that answers a server error with a 500, as a browser would see it."""
    client = Client(raise_request_exception=False, **options)
    client.force_login(user)
    return client


def closing(days: float = 7) -> str:
    return timezone.localtime(timezone.now() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def create_url(group: Group, query: str) -> str:
    return reverse("decisions:create", kwargs={"slug": group.slug}) + query


def proposal_url(proposal: Proposal, name: str, slug: str | None = None) -> str:
    return reverse(
        f"decisions:{name}", kwargs={"slug": slug or proposal.group.slug, "pk": proposal.pk}
    )


@pytest.fixture
def group() -> Group:
    return deciding_group(members=2)


# Nothing changes on a GET or without the token


@pytest.mark.parametrize("name", ["stance", "comment", "withdraw"])
def test_a_get_on_an_address_that_changes_a_proposal_is_405(group: Group, name: str) -> None:
    member = member_of(group)
    proposal = make_proposal(group, proposer=member)

    response = client_for(member).get(proposal_url(proposal, name))

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.OPEN


def test_a_stance_without_the_csrf_token_is_refused(group: Group) -> None:
    member = member_of(group)
    proposal = make_proposal(group)

    response = client_for(member, enforce_csrf_checks=True).post(
        proposal_url(proposal, "stance"), {"position": "agree"}
    )

    assert response.status_code == 403
    assert Stance.objects.count() == 0


# Another group's proposals


def test_another_groups_proposal_is_not_found_under_this_groups_address(group: Group) -> None:
    # given: a proposal of group A, and a member of group B
    proposal = make_proposal(group)
    other = deciding_group()
    client = client_for(member_of(other))

    # when: they name it under B's address
    answers = [
        client.get(proposal_url(proposal, "detail", other.slug)).status_code,
        client.post(
            proposal_url(proposal, "stance", other.slug), {"position": "block", "reason": "No"}
        ).status_code,
        client.post(proposal_url(proposal, "comment", other.slug), {"text": "Hi"}).status_code,
        client.post(proposal_url(proposal, "withdraw", other.slug)).status_code,
    ]

    # then: it is not there, and nothing changed
    assert answers == [404, 404, 404, 404]
    assert (Stance.objects.count(), Comment.objects.count()) == (0, 0)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.OPEN


def test_someone_outside_the_group_cannot_act_on_its_proposal(group: Group) -> None:
    proposal = make_proposal(group)
    client = client_for(member_of(deciding_group()))

    answers = [
        client.get(proposal_url(proposal, "detail")).status_code,
        client.post(proposal_url(proposal, "stance"), {"position": "agree"}).status_code,
        client.post(proposal_url(proposal, "comment"), {"text": "Hi"}).status_code,
        client.post(proposal_url(proposal, "withdraw")).status_code,
        client.post(create_url(group, "?kind=general"), {"title": "T"}).status_code,
    ]

    assert answers == [403, 403, 403, 403, 403]
    assert (Stance.objects.count(), Comment.objects.count(), Proposal.objects.count()) == (
        0,
        0,
        1,
    )


def test_a_member_who_did_not_propose_cannot_withdraw(group: Group) -> None:
    proposal = make_proposal(group)

    response = client_for(member_of(group)).post(proposal_url(proposal, "withdraw"))

    assert response.status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.OPEN


@pytest.mark.parametrize("number", [str(2**63), "9" * 30])
@pytest.mark.parametrize("path", ["", "stance/", "comments/", "withdraw/"])
def test_a_number_past_63_bits_is_not_found(group: Group, number: str, path: str) -> None:
    url = f"/groups/{group.slug}/decisions/{number}/{path}"
    client = client_for(member_of(group))

    response = client.post(url) if path else client.get(url)

    assert response.status_code == 404


# What members type


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"title": "Pantry\x00"}, {"title": [NUL]}),
        (
            {"title": "x" * 201},
            {"title": ["Ensure this value has at most 200 characters (it has 201)."]},
        ),
        (
            {"text": "x" * 5001},
            {"text": ["Ensure this value has at most 5000 characters (it has 5001)."]},
        ),
        (
            {"closes_at": "0001-01-01T00:00"},
            {"closes_at": ["A proposal stays open for at least 24 hours, so everyone can see it."]},
        ),
        (
            {"closes_at": "9999-12-31T23:59"},
            {"closes_at": ["A proposal can stay open for at most 30 days."]},
        ),
        ({"closes_at": "2025-13-45T99:99"}, {"closes_at": ["Enter a valid date/time."]}),
        (
            {"title": "", "text": "", "closes_at": ""},
            {
                "title": ["This field is required."],
                "text": ["This field is required."],
                "closes_at": ["This field is required."],
            },
        ),
    ],
)
def test_a_hostile_general_proposal_is_a_form_error(
    group: Group, data: dict[str, str], errors: dict[str, list[str]]
) -> None:
    form = {"title": "Pantry", "text": "Open a pantry", "closes_at": closing(), **data}

    response = client_for(member_of(group)).post(create_url(group, "?kind=general"), form)

    assert response.status_code == 200
    assert response.context["form"].errors == errors
    assert Proposal.objects.count() == 0


@pytest.mark.parametrize("kind", ["bogus", "general\x00", "policy&field=__class__"])
def test_an_unknown_kind_or_policy_asks_again(group: Group, kind: str) -> None:
    response = client_for(member_of(group)).post(
        create_url(group, f"?kind={kind}"), {"title": "T", "text": "X", "closes_at": closing()}
    )

    assert response.status_code == 200
    assert response.templates[0].name in (
        "decisions/create_choose.html",
        "decisions/create_policy_choose.html",
    )
    assert Proposal.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"amount": "1e400"},
            {"amount": ["Ensure this value is less than or equal to 100000000."]},
        ),
        ({"amount": "NaN"}, {"amount": ["Enter a number."]}),
        ({"amount": "0"}, {"amount": ["Ensure this value is greater than or equal to 0.01."]}),
        ({"amount": "-1"}, {"amount": ["Ensure this value is greater than or equal to 0.01."]}),
        (
            {"amount": "1.001"},
            {"amount": ["This currency has no smaller unit than 2 decimal places."]},
        ),
        (
            {"fund": "abc"},
            {"fund": ["Select a valid choice. That choice is not one of the available choices."]},
        ),
        (
            {"fund": "9" * 30},
            {"fund": ["Select a valid choice. That choice is not one of the available choices."]},
        ),
        (
            {"payee_kind": "bogus"},
            {"payee_kind": ["Select a valid choice. bogus is not one of the available choices."]},
        ),
        (
            {"payee_kind": "reimbursement", "reimbursement": "9" * 30},
            {
                "reimbursement": [
                    "Select a valid choice. That choice is not one of the available choices."
                ]
            },
        ),
        ({"purpose": "Food\x00"}, {"purpose": [NUL]}),
    ],
)
def test_a_hostile_spend_proposal_is_a_form_error(
    group: Group, data: dict[str, str], errors: dict[str, list[str]]
) -> None:
    fund = fund_with(group, balance_minor=10000)
    form = {
        "title": "Vouchers",
        "text": "Food vouchers",
        "closes_at": closing(),
        "fund": fund.pk,
        "amount": "5",
        "payee_kind": "payee",
        "payee_name": "Shop",
        "purpose": "Food",
        **data,
    }

    response = client_for(member_of(group)).post(create_url(group, "?kind=spend"), form)

    assert response.status_code == 200
    assert response.context["form"].errors == errors
    assert (Proposal.objects.count(), Disbursement.objects.count()) == (0, 0)


def test_a_spend_from_another_groups_fund_is_a_form_error(group: Group) -> None:
    other_fund = fund_with(deciding_group(), balance_minor=10000)
    form = {
        "title": "Vouchers",
        "text": "Food vouchers",
        "closes_at": closing(),
        "fund": other_fund.pk,
        "amount": "5",
        "payee_kind": "payee",
        "payee_name": "Shop",
        "purpose": "Food",
    }

    response = client_for(member_of(group)).post(create_url(group, "?kind=spend"), form)

    assert response.context["form"].errors == {
        "fund": ["Select a valid choice. That choice is not one of the available choices."]
    }
    assert Disbursement.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("quorum_percent", "9" * 30, "Ensure this value is less than or equal to 100."),
        ("quorum_percent", "-1", "Ensure this value is greater than or equal to 0."),
        (
            "decision_rule",
            "bogus",
            "Select a valid choice. bogus is not one of the available choices.",
        ),
        (
            "publishes_fund_summary",
            "maybe",
            "Select a valid choice. maybe is not one of the available choices.",
        ),
        ("spending_limit_minor", "1e400", "Ensure this value is less than or equal to 1000000."),
        (
            "reimbursement_limit_minor",
            "0.001",
            "This currency has no smaller unit than 2 decimal places.",
        ),
        ("match_radius_km", "1.5", "Enter a whole number."),
    ],
)
def test_a_hostile_policy_value_is_a_form_error(
    group: Group, field: str, value: str, error: str
) -> None:
    form = {"title": "Change", "text": "Because", "closes_at": closing(), "value": value}

    response = client_for(member_of(group)).post(
        create_url(group, f"?kind=policy&field={field}"), form
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"value": [error]}
    assert Proposal.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"position": "bogus"},
            {"position": ["Select a valid choice. bogus is not one of the available choices."]},
        ),
        (
            {"position": "block"},
            {"reason": ["Give a reason when you disagree or block, so the group can respond."]},
        ),
        ({"position": "disagree", "reason": "No\x00"}, {"reason": [NUL]}),
        (
            {"position": "agree", "reason": "x" * 1001},
            {"reason": ["Ensure this value has at most 1000 characters (it has 1001)."]},
        ),
        ({}, {"position": ["This field is required."]}),
    ],
)
def test_a_hostile_stance_is_a_form_error(
    group: Group, data: dict[str, str], errors: dict[str, list[str]]
) -> None:
    proposal = make_proposal(group)

    response = client_for(member_of(group)).post(proposal_url(proposal, "stance"), data)

    assert response.status_code == 200
    assert response.context["stance_form"].errors == errors
    assert Stance.objects.count() == 0


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "This field is required."),
        ("Hi\x00", NUL),
        ("x" * 2001, "Ensure this value has at most 2000 characters (it has 2001)."),
    ],
)
def test_a_hostile_comment_is_a_form_error(group: Group, text: str, error: str) -> None:
    proposal = make_proposal(group)

    response = client_for(member_of(group)).post(proposal_url(proposal, "comment"), {"text": text})

    assert response.status_code == 200
    assert response.context["comment_form"].errors == {"text": [error]}
    assert Comment.objects.count() == 0


def test_markup_in_a_title_a_reason_and_a_comment_is_shown_as_text(group: Group) -> None:
    # given: a title, a reason and a comment that are HTML
    member = member_of(group)
    proposal = make_proposal(group, title="<script>alert('t')</script>")
    client = client_for(member)
    client.post(
        proposal_url(proposal, "stance"),
        {"position": "block", "reason": '<img src=x onerror="alert(1)">'},
    )
    client.post(proposal_url(proposal, "comment"), {"text": "<b>bold</b> & <i>it</i>"})

    # when
    detail = client.get(proposal_url(proposal, "detail")).content.decode()
    listing = client.get(reverse("decisions:list", kwargs={"slug": group.slug})).content.decode()

    # then: every piece is escaped, none of it is markup
    assert "&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt;" in detail
    assert "&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt;" in listing
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in detail
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;it&lt;/i&gt;" in detail
    assert "<script>alert" not in detail + listing
    assert "<img src=x" not in detail
    assert "<b>bold</b>" not in detail


def test_a_withdrawal_sent_twice_is_told_it_has_closed(group: Group) -> None:
    member = member_of(group)
    proposal = make_proposal(group, proposer=member)
    client = client_for(member)
    client.post(proposal_url(proposal, "withdraw"))

    response = client.post(proposal_url(proposal, "withdraw"))

    assert response.status_code == 302
    assert [str(m) for m in response.wsgi_request._messages] == [
        "You withdrew the proposal.",
        "This proposal has already closed.",
    ]


def test_a_stance_sent_twice_is_one_stance(group: Group) -> None:
    member = member_of(group)
    proposal = make_proposal(group)
    client = client_for(member)

    for _ in range(2):
        client.post(proposal_url(proposal, "stance"), {"position": "agree"})

    assert list(Stance.objects.values_list("member_id", "position")) == [(member.pk, "agree")]


def test_a_spend_for_a_request_never_names_the_requester(group: Group) -> None:
    # given: a spend proposal paying for a request whose requester is named
    fund = fund_with(group, balance_minor=10000)
    request = make_request(group, name="Zebedee Quux")
    member = member_of(group)
    client = client_for(member)
    client.post(
        create_url(group, "?kind=spend"),
        {
            "title": "Help with rent",
            "text": "A neighbour is short this month.",
            "closes_at": closing(),
            "fund": fund.pk,
            "amount": "20",
            "payee_kind": "request",
            "request_reference": request.reference,
            "purpose": "Rent help",
        },
    )
    proposal = Proposal.objects.get()
    secrets = ["Zebedee Quux", request.phone, request.address, request.description]

    # when
    answers = [
        client.get(proposal_url(proposal, "detail")).content.decode(),
        client.get(reverse("decisions:list", kwargs={"slug": group.slug})).content.decode(),
        Client().get(f"/api/proposals/{proposal.pk}", headers=token_for(member)).content.decode(),
    ]

    # then: "neighbour" and the reference, and none of the requester's details
    assert request.reference in answers[0]
    assert f"neighbour {request.reference}" in answers[2]
    for answer in answers:
        for secret in secrets:
            assert secret not in answer
