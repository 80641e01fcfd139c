"""Funds and their open books in the JSON API: members read every movement (a requester only as
"neighbour" and a reference), treasurers move money, a second member confirms; refusals are
403 and 409 as on the pages, and hostile input is a 4xx JSON body, never a 500."""

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from mutualaid.api.tests.wire import NEEDS_TOKEN, as_json_time, post_json, token_for
from mutualaid.funds import services
from mutualaid.funds.models import Contribution, Disbursement, Entry, Fund, Transaction
from mutualaid.funds.tests.factories import (
    Books,
    asked,
    books,
    contribute,
    make_claim,
    make_fund,
    make_request,
    member_of,
    paid,
    receipt_file,
)
from mutualaid.people.models import User
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOT_FOUND = {"detail": "Not found."}
MEMBERS_ONLY = {"detail": "Only members of this group can see its funds."}
HOSTILE_IDS = ["999999", str(2**63), "9" * 30]


@dataclass
class World(Books):
    """The books of a group, with one more member and someone from outside."""

    other: User
    outsider: User

    def headers(self, role: str) -> dict[str, str]:
        return {} if role == "anonymous" else token_for(getattr(self, role))


@pytest.fixture
def world() -> World:
    base = books(name="Levenshulme Mutual Aid", slug="levenshulme")
    Fund.objects.filter(pk=base.fund.pk).update(name="Hardship fund", purpose="Rent and bills")
    base.fund.refresh_from_db()
    base.treasurer.display_name = "Tess Treasurer"
    base.treasurer.save(update_fields=["display_name"])
    base.member.display_name = "Mo Member"
    base.member.save(update_fields=["display_name"])
    return World(
        group=base.group,
        fund=base.fund,
        treasurer=base.treasurer,
        member=base.member,
        other=member_of(base.group, display_name="Ola Other"),
        outsider=UserFactory(display_name="Olly Outsider"),
    )


def fund_json(world: World, **changes: Any) -> dict[str, Any]:
    return {
        "id": world.fund.pk,
        "group": "levenshulme",
        "name": "Hardship fund",
        "purpose": "Rent and bills",
        "currency": "GBP",
        "balance_minor": 0,
        "in_minor": 0,
        "out_minor": 0,
        "overdraft_limit_minor": 0,
        **changes,
    }


# GET /api/groups/{slug}/funds


def test_a_member_lists_the_funds_with_their_balances(client: Client, world: World) -> None:
    # given
    contribute(world, 12000)
    paid(world, 2500)
    # when
    response = client.get(f"/api/groups/{world.group.slug}/funds", headers=world.headers("other"))
    # then
    assert response.status_code == 200
    assert response.json() == [fund_json(world, balance_minor=9500, in_minor=12000, out_minor=2500)]


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [("anonymous", 401, {"detail": NEEDS_TOKEN}), ("outsider", 403, MEMBERS_ONLY)],
)
def test_only_members_list_the_funds(
    client: Client, world: World, role: str, status: int, body: dict[str, str]
) -> None:
    # when
    response = client.get(f"/api/groups/{world.group.slug}/funds", headers=world.headers(role))
    # then
    assert (response.status_code, response.json()) == (status, body)


def test_the_funds_of_an_unknown_group_are_a_json_404(client: Client, world: World) -> None:
    # when
    response = client.get("/api/groups/nowhere/funds", headers=world.headers("member"))
    # then
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_the_fund_list_query_count_is_fixed(
    client: Client, world: World, django_assert_num_queries: Any
) -> None:
    # given
    for n in range(3):
        make_fund(world.group, actor=world.treasurer, name=f"Bail fund {n}")
    headers = world.headers("member")
    client.get("/api/me", headers=headers)  # the first use also stamps the token
    # when / then: the token, the group, membership and the funds with their totals
    with django_assert_num_queries(4):
        response = client.get(f"/api/groups/{world.group.slug}/funds", headers=headers)
    assert len(response.json()) == 4


# GET /api/funds/{id}


def test_a_member_sees_a_fund_and_the_payments_waiting(client: Client, world: World) -> None:
    # given
    contribute(world, 3000)
    waiting = asked(world, 2000, purpose="Gas top-up", payee_name="Northern Gas")
    services.disbursement_cancel(disbursement=asked(world, 1000), actor=world.treasurer)
    # when
    response = client.get(f"/api/funds/{world.fund.pk}", headers=world.headers("member"))
    # then
    assert response.status_code == 200
    assert response.json() == {
        **fund_json(world, balance_minor=3000, in_minor=3000),
        "disbursements_waiting": [
            {
                "id": waiting.pk,
                "fund": world.fund.pk,
                "amount_minor": 2000,
                "currency": "GBP",
                "purpose": "Gas top-up",
                "payee_kind": "payee",
                "payee": "Northern Gas",
                "status": "awaiting_confirmation",
                "requested_by": "Tess Treasurer",
                "confirmed_by": None,
                "proposal": None,
                "transaction": None,
                "created_at": as_json_time(waiting.created_at),
                "paid_at": None,
            }
        ],
    }


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [("anonymous", 401, {"detail": NEEDS_TOKEN}), ("outsider", 403, MEMBERS_ONLY)],
)
def test_only_members_see_a_fund(
    client: Client, world: World, role: str, status: int, body: dict[str, str]
) -> None:
    # when
    response = client.get(f"/api/funds/{world.fund.pk}", headers=world.headers(role))
    # then
    assert (response.status_code, response.json()) == (status, body)


@pytest.mark.parametrize("pk", HOSTILE_IDS)
@pytest.mark.parametrize(
    "path",
    [
        "/api/funds/{pk}",
        "/api/funds/{pk}/transactions",
        "post /api/funds/{pk}/contributions",
        "post /api/funds/{pk}/disbursements",
        "post /api/disbursements/{pk}/confirm",
        "post /api/transactions/{pk}/reverse",
    ],
)
def test_unknown_ids_are_a_json_404(client: Client, world: World, pk: str, path: str) -> None:
    # given
    body = {
        "amount_minor": 100,
        "method": "cash",
        "purpose": "Bus fares",
        "payee_kind": "payee",
        "payee_name": "Transport for Greater Manchester",
        "reason": "Typed twice",
    }
    # when
    if path.startswith("post "):
        response = post_json(
            client,
            path.removeprefix("post ").format(pk=pk),
            {key: value for key, value in body.items() if key != "method"}
            if "disbursements" in path
            else body,
            **world.headers("treasurer"),
        )
    else:
        response = client.get(path.format(pk=pk), headers=world.headers("treasurer"))
    # then
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


# GET /api/funds/{id}/transactions


def test_a_member_reads_every_movement_and_a_requester_only_as_neighbour(
    client: Client, world: World
) -> None:
    # given
    gift = contribute(world, 5000, contributor_name="St Mary's collection", reference="SM-12")
    anonymous = contribute(world, 700)
    help_request = make_request(world.group, name="Margaret Okafor")
    payment = paid(
        world,
        1500,
        purpose="Prepaid meter",
        payee_kind=Disbursement.PayeeKind.REQUEST,
        request=help_request,
    )
    # when
    response = client.get(
        f"/api/funds/{world.fund.pk}/transactions", headers=world.headers("other")
    )
    # then
    assert response.status_code == 200
    assert "Margaret" not in response.content.decode()
    body = response.json()
    assert body["count"] == 3
    assert [
        (item["kind"], item["amount_minor"], item["who"], item["description"])
        for item in body["items"]
    ] == [
        (
            "disbursement",
            -1500,
            f"neighbour {help_request.reference}",
            f"Paid for neighbour {help_request.reference}",
        ),
        ("contribution", 700, "anonymous", "Anonymous contribution"),
        (
            "contribution",
            5000,
            "St Mary's collection",
            "Contribution from St Mary's collection",
        ),
    ]
    posted = payment.transaction
    assert posted is not None
    assert body["items"][0] == {
        "id": posted.pk,
        "fund": world.fund.pk,
        "kind": "disbursement",
        "posted_at": as_json_time(posted.posted_at),
        "amount_minor": -1500,
        "currency": "GBP",
        "who": f"neighbour {help_request.reference}",
        "description": f"Paid for neighbour {help_request.reference}",
        "memo": f"Prepaid meter, for neighbour {help_request.reference}",
        "posted_by": "Mo Member",
        "reverses": None,
        "reversed_by": None,
        "contribution": None,
        "disbursement": payment.pk,
        "entries": [
            {"account": "holdings", "amount_minor": -1500},
            {"account": "disbursements", "amount_minor": 1500},
        ],
    }
    assert [item["contribution"] for item in body["items"][1:]] == [anonymous.pk, gift.pk]


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [("anonymous", 401, {"detail": NEEDS_TOKEN}), ("outsider", 403, MEMBERS_ONLY)],
)
def test_only_members_read_the_movements(
    client: Client, world: World, role: str, status: int, body: dict[str, str]
) -> None:
    # when
    response = client.get(f"/api/funds/{world.fund.pk}/transactions", headers=world.headers(role))
    # then
    assert (response.status_code, response.json()) == (status, body)


def test_the_movements_are_paged(client: Client, world: World) -> None:
    # given
    for amount in (100, 200, 300):
        contribute(world, amount)
    # when
    response = client.get(
        f"/api/funds/{world.fund.pk}/transactions",
        {"limit": 1, "offset": 1},
        headers=world.headers("member"),
    )
    # then
    assert response.json()["count"] == 3
    assert [item["amount_minor"] for item in response.json()["items"]] == [200]


@pytest.mark.parametrize("query", [{"offset": 2**64}, {"offset": -1}, {"limit": "many"}])
def test_bad_paging_of_the_movements_is_a_422(
    client: Client, world: World, query: dict[str, Any]
) -> None:
    # when
    response = client.get(
        f"/api/funds/{world.fund.pk}/transactions", query, headers=world.headers("member")
    )
    # then
    assert response.status_code == 422
    assert [problem["loc"][0] for problem in response.json()["detail"]] == ["query"]


def test_the_movement_list_query_count_is_fixed(
    client: Client, world: World, django_assert_num_queries: Any
) -> None:
    # given
    contribute(world, 9000, contributor=world.other)
    contribute(world, 100)
    paid(world, 300, payee_kind=Disbursement.PayeeKind.REQUEST, request=make_request(world.group))
    claim = make_claim(world.group, 400)
    services.receipt_attach(claim=claim, actor=claim.claimant, upload=receipt_file())
    paid(world, 400, payee_kind=Disbursement.PayeeKind.REIMBURSEMENT, reimbursement=claim)
    services.transaction_reverse(
        transaction=Transaction.objects.filter(kind="contribution").latest("pk"),
        actor=world.treasurer,
        reason="Counted twice",
    )
    headers = world.headers("member")
    client.get("/api/me", headers=headers)  # the first use also stamps the token
    # when / then: the token, the fund, membership, the count, the page and its entries
    with django_assert_num_queries(6):
        response = client.get(f"/api/funds/{world.fund.pk}/transactions", headers=headers)
    assert response.json()["count"] == 5


# POST /api/funds/{id}/contributions


def test_a_treasurer_records_a_contribution(client: Client, world: World) -> None:
    # when
    response = post_json(
        client,
        f"/api/funds/{world.fund.pk}/contributions",
        {
            "amount_minor": 2500,
            "method": "bank_transfer",
            "contributor": world.other.pk,
            "reference": "BACS 0042",
            "memo": "Monthly standing order",
        },
        **world.headers("treasurer"),
    )
    # then
    assert response.status_code == 201
    contribution = Contribution.objects.get()
    assert (contribution.amount_minor, contribution.contributor, contribution.reference) == (
        2500,
        world.other,
        "BACS 0042",
    )
    body = response.json()
    assert (body["id"], body["amount_minor"], body["who"], body["contribution"]) == (
        contribution.transaction_id,
        2500,
        "Ola Other",
        contribution.pk,
    )
    assert body["entries"] == [
        {"account": "holdings", "amount_minor": 2500},
        {"account": "contributions", "amount_minor": -2500},
    ]


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [
        ("anonymous", 401, {"detail": NEEDS_TOKEN}),
        ("outsider", 403, MEMBERS_ONLY),
        ("member", 403, {"detail": "Only the group's treasurers can record contributions."}),
    ],
)
def test_only_treasurers_record_contributions(
    client: Client, world: World, role: str, status: int, body: dict[str, str]
) -> None:
    # when
    response = post_json(
        client,
        f"/api/funds/{world.fund.pk}/contributions",
        {"amount_minor": 2500, "method": "cash"},
        **world.headers(role),
    )
    # then
    assert (response.status_code, response.json()) == (status, body)
    assert Transaction.objects.count() == 0


def test_a_contributor_from_outside_the_group_is_a_400(client: Client, world: World) -> None:
    # when
    response = post_json(
        client,
        f"/api/funds/{world.fund.pk}/contributions",
        {"amount_minor": 2500, "method": "cash", "contributor": world.outsider.pk},
        **world.headers("treasurer"),
    )
    # then
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "A named contributor must be a member of the group."},
    )
    assert Transaction.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount_minor": -2500, "method": "cash"}, "amount_minor"),
        ({"amount_minor": 0, "method": "cash"}, "amount_minor"),
        ({"amount_minor": 10**13, "method": "cash"}, "amount_minor"),
        ({"amount_minor": 2**80, "method": "cash"}, "amount_minor"),
        ({"amount_minor": 12.5, "method": "cash"}, "amount_minor"),
        ({"amount_minor": "25.00", "method": "cash"}, "amount_minor"),
        ({"amount_minor": 2500, "method": "bitcoin"}, "method"),
        ({"amount_minor": 2500}, "method"),
        ({"amount_minor": 2500, "method": "cash", "contributor": 2**63}, "contributor"),
        ({"amount_minor": 2500, "method": "cash", "contributor_name": "A\x00"}, "contributor_name"),
        ({"amount_minor": 2500, "method": "cash", "reference": "x" * 101}, "reference"),
        ({"amount_minor": 2500, "method": "cash", "memo": ["a"]}, "memo"),
        ({"amount_minor": 2500, "method": "cash", "received_at": "yesterday"}, "received_at"),
        ({"amount_minor": True, "method": "cash"}, "amount_minor"),
    ],
)
def test_a_malformed_contribution_is_a_422(
    client: Client, world: World, body: dict[str, Any], field: str
) -> None:
    # when
    response = post_json(
        client, f"/api/funds/{world.fund.pk}/contributions", body, **world.headers("treasurer")
    )
    # then
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", field]
    assert Transaction.objects.count() == 0


@pytest.mark.parametrize("body", ["[2500]", "null", "{not json", '"2500"'])
def test_a_contribution_body_that_is_no_json_object_is_a_400(
    client: Client, world: World, body: str
) -> None:
    # when
    response = post_json(
        client, f"/api/funds/{world.fund.pk}/contributions", body, **world.headers("treasurer")
    )
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["detail"]


# POST /api/funds/{id}/disbursements


def payment(**changes: Any) -> dict[str, Any]:
    return {
        "amount_minor": 2000,
        "purpose": "Electricity top-up",
        "payee_kind": "payee",
        "payee_name": "Northern Power",
        **changes,
    }


def test_a_treasurer_asks_to_pay_within_the_limit(client: Client, world: World) -> None:
    # when
    response = post_json(
        client, f"/api/funds/{world.fund.pk}/disbursements", payment(), **world.headers("treasurer")
    )
    # then
    assert response.status_code == 201
    disbursement = Disbursement.objects.get()
    assert response.json() == {
        "id": disbursement.pk,
        "fund": world.fund.pk,
        "amount_minor": 2000,
        "currency": "GBP",
        "purpose": "Electricity top-up",
        "payee_kind": "payee",
        "payee": "Northern Power",
        "status": "awaiting_confirmation",
        "requested_by": "Tess Treasurer",
        "confirmed_by": None,
        "proposal": None,
        "transaction": None,
        "created_at": as_json_time(disbursement.created_at),
        "paid_at": None,
    }


def test_a_payment_to_a_request_names_the_neighbour_by_reference_only(
    client: Client, world: World
) -> None:
    # given
    help_request = make_request(world.group, name="Margaret Okafor")
    # when
    response = post_json(
        client,
        f"/api/funds/{world.fund.pk}/disbursements",
        payment(payee_kind="request", request=help_request.pk, payee_name=""),
        **world.headers("treasurer"),
    )
    # then
    assert response.status_code == 201
    assert response.json()["payee"] == f"neighbour {help_request.reference}"


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        (
            {"amount_minor": 5001},
            "This is more than the group's spending limit of £50.00. Please propose it to the "
            "group as a spending proposal instead.",
        ),
        ({"payee_kind": "request", "payee_name": ""}, "Please choose the request this pays for."),
        ({"payee_kind": "request", "request": 999999}, "Please choose a request of this group."),
        (
            {"payee_kind": "reimbursement", "reimbursement": 999999},
            "Please choose a reimbursement claim of this group.",
        ),
        ({"payee_name": "<b>Northern</b>"}, "Please leave out < and > and control characters."),
    ],
)
def test_a_payment_the_rules_refuse_is_a_400(
    client: Client, world: World, changes: dict[str, Any], detail: str
) -> None:
    # when
    response = post_json(
        client,
        f"/api/funds/{world.fund.pk}/disbursements",
        payment(**changes),
        **world.headers("treasurer"),
    )
    # then
    assert (response.status_code, response.json()) == (400, {"detail": detail})
    assert Disbursement.objects.count() == 0


def test_a_request_of_another_group_cannot_be_paid(client: Client, world: World) -> None:
    # given
    elsewhere = make_request()
    # when
    response = post_json(
        client,
        f"/api/funds/{world.fund.pk}/disbursements",
        payment(payee_kind="request", request=elsewhere.pk, payee_name=""),
        **world.headers("treasurer"),
    )
    # then
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "Please choose a request of this group."},
    )


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [
        ("anonymous", 401, {"detail": NEEDS_TOKEN}),
        ("outsider", 403, MEMBERS_ONLY),
        ("member", 403, {"detail": "Only the group's treasurers can ask to pay money out."}),
    ],
)
def test_only_treasurers_ask_to_pay(
    client: Client, world: World, role: str, status: int, body: dict[str, str]
) -> None:
    # when
    response = post_json(
        client, f"/api/funds/{world.fund.pk}/disbursements", payment(), **world.headers(role)
    )
    # then
    assert (response.status_code, response.json()) == (status, body)
    assert Disbursement.objects.count() == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount_minor": -2000}, "amount_minor"),
        ({"amount_minor": 10**30}, "amount_minor"),
        ({"amount_minor": None}, "amount_minor"),
        ({"purpose": ""}, "purpose"),
        ({"purpose": "Top-up\x00"}, "purpose"),
        ({"payee_kind": "landlord"}, "payee_kind"),
        ({"request": 2**64}, "request"),
        ({"reimbursement": -4}, "reimbursement"),
        ({"payee_name": "Power\x00"}, "payee_name"),
        ({"payee_kind": None}, "payee_kind"),
    ],
)
def test_a_malformed_payment_is_a_422(
    client: Client, world: World, changes: dict[str, Any], field: str
) -> None:
    # when
    response = post_json(
        client,
        f"/api/funds/{world.fund.pk}/disbursements",
        payment(**changes),
        **world.headers("treasurer"),
    )
    # then
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", field]
    assert Disbursement.objects.count() == 0


# POST /api/disbursements/{id}/confirm


def test_a_second_member_confirms_and_the_payment_is_made(client: Client, world: World) -> None:
    # given
    contribute(world, 5000)
    waiting = asked(world, 2000)
    # when
    response = post_json(
        client, f"/api/disbursements/{waiting.pk}/confirm", **world.headers("other")
    )
    # then
    assert response.status_code == 200
    waiting.refresh_from_db()
    assert waiting.transaction is not None
    body = response.json()
    assert (body["status"], body["confirmed_by"], body["transaction"], body["paid_at"]) == (
        "paid",
        "Ola Other",
        waiting.transaction.pk,
        as_json_time(waiting.paid_at),
    )
    assert sorted(Entry.objects.values_list("amount_minor", flat=True)) == [
        -5000,
        -2000,
        2000,
        5000,
    ]


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [
        ("anonymous", 401, {"detail": NEEDS_TOKEN}),
        ("outsider", 403, MEMBERS_ONLY),
        (
            "treasurer",
            403,
            {
                "detail": "A member other than the one who asked for this payment, and not the "
                "one it pays, must confirm it."
            },
        ),
    ],
)
def test_the_one_who_asked_cannot_confirm(
    client: Client, world: World, role: str, status: int, body: dict[str, str]
) -> None:
    # given
    contribute(world, 5000)
    waiting = asked(world, 2000)
    # when
    response = post_json(client, f"/api/disbursements/{waiting.pk}/confirm", **world.headers(role))
    # then
    assert (response.status_code, response.json()) == (status, body)
    waiting.refresh_from_db()
    assert waiting.status == Disbursement.Status.AWAITING_CONFIRMATION


def test_confirming_twice_is_a_409(client: Client, world: World) -> None:
    # given
    contribute(world, 5000)
    done = paid(world, 2000)
    # when
    response = post_json(client, f"/api/disbursements/{done.pk}/confirm", **world.headers("other"))
    # then
    assert (response.status_code, response.json()) == (
        409,
        {"detail": "This payment has already been confirmed or cancelled."},
    )
    assert Transaction.objects.count() == 2


def test_confirming_more_than_the_fund_holds_is_a_409_and_the_payment_waits(
    client: Client, world: World
) -> None:
    # given
    contribute(world, 1000)
    waiting = asked(world, 2000)
    # when
    response = post_json(
        client, f"/api/disbursements/{waiting.pk}/confirm", **world.headers("other")
    )
    # then
    assert (response.status_code, response.json()) == (
        409,
        {
            "detail": "Confirmed, but there is not enough in this fund to pay it yet. A "
            "treasurer can pay it once money comes in."
        },
    )
    waiting.refresh_from_db()
    assert (waiting.status, waiting.confirmed_by) == (Disbursement.Status.APPROVED, world.other)
    assert Transaction.objects.count() == 1


# POST /api/transactions/{id}/reverse


def test_a_treasurer_reverses_a_movement(client: Client, world: World) -> None:
    # given
    mistake = contribute(world, 5000)
    # when
    response = post_json(
        client,
        f"/api/transactions/{mistake.transaction_id}/reverse",
        {"reason": "Recorded twice"},
        **world.headers("treasurer"),
    )
    # then
    assert response.status_code == 201
    reversal = Transaction.objects.get(kind=Transaction.Kind.REVERSAL)
    body = response.json()
    assert (body["id"], body["kind"], body["reverses"], body["amount_minor"]) == (
        reversal.pk,
        "reversal",
        mistake.transaction_id,
        -5000,
    )
    assert body["memo"] == f"Correction of movement {mistake.transaction_id}: Recorded twice"
    assert body["entries"] == [
        {"account": "holdings", "amount_minor": -5000},
        {"account": "contributions", "amount_minor": 5000},
    ]
    listed = client.get(
        f"/api/funds/{world.fund.pk}/transactions", headers=world.headers("member")
    ).json()["items"]
    assert [(item["id"], item["reversed_by"]) for item in listed] == [
        (reversal.pk, None),
        (mistake.transaction_id, reversal.pk),
    ]


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [
        ("anonymous", 401, {"detail": NEEDS_TOKEN}),
        ("outsider", 403, MEMBERS_ONLY),
        ("member", 403, {"detail": "Only the group's treasurers can correct the books."}),
    ],
)
def test_only_treasurers_reverse(
    client: Client, world: World, role: str, status: int, body: dict[str, str]
) -> None:
    # given
    mistake = contribute(world, 5000)
    # when
    response = post_json(
        client,
        f"/api/transactions/{mistake.transaction_id}/reverse",
        {"reason": "Recorded twice"},
        **world.headers(role),
    )
    # then
    assert (response.status_code, response.json()) == (status, body)
    assert Transaction.objects.count() == 1


def test_reversing_twice_is_a_409(client: Client, world: World) -> None:
    # given
    mistake = contribute(world, 5000)
    services.transaction_reverse(
        transaction=mistake.transaction, actor=world.treasurer, reason="Recorded twice"
    )
    # when
    response = post_json(
        client,
        f"/api/transactions/{mistake.transaction_id}/reverse",
        {"reason": "Recorded twice"},
        **world.headers("treasurer"),
    )
    # then
    assert (response.status_code, response.json()) == (
        409,
        {"detail": "This has already been corrected."},
    )
    assert Transaction.objects.count() == 2


@pytest.mark.parametrize(
    "body",
    [{}, {"reason": ""}, {"reason": "Oops\x00"}, {"reason": "x" * 201}, {"reason": 42}],
)
def test_a_malformed_reversal_is_a_422(client: Client, world: World, body: dict[str, Any]) -> None:
    # given
    mistake = contribute(world, 5000)
    # when
    response = post_json(
        client,
        f"/api/transactions/{mistake.transaction_id}/reverse",
        body,
        **world.headers("treasurer"),
    )
    # then
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "reason"]
    assert Transaction.objects.count() == 1


@pytest.mark.parametrize("received_at", ["0001-01-01T00:00:00+14:00", "1999-12-31T23:59:59Z"])
def test_a_contribution_dated_before_2000_is_a_400(
    client: Client, world: World, received_at: str
) -> None:
    # when
    response = post_json(
        client,
        f"/api/funds/{world.fund.pk}/contributions",
        {"amount_minor": 2500, "method": "cash", "received_at": received_at},
        **world.headers("treasurer"),
    )
    # then
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "The date it came can be 1 January 2000 at the earliest."},
    )
    assert not Contribution.objects.exists()


def test_a_name_that_would_read_backwards_is_refused(client: Client, world: World) -> None:
    # when
    response = post_json(
        client,
        f"/api/funds/{world.fund.pk}/contributions",
        {"amount_minor": 2500, "method": "cash", "contributor_name": "Ann \u202enosaj"},
        **world.headers("treasurer"),
    )
    # then
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "Please leave out < and > and control characters."},
    )
    assert not Contribution.objects.exists()
