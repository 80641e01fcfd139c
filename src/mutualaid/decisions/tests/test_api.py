"""Proposals in the JSON API: who may read and take part, what a proposal shows (counts, your
stance, what it did), the refusals of the services (403, 409) and hostile input answered with a
4xx JSON body, never a 500."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from mutualaid.api.tests.wire import NEEDS_TOKEN, as_json_time, post_json, token_for
from mutualaid.decisions import services
from mutualaid.decisions.models import Comment, Proposal, Stance
from mutualaid.funds.models import Disbursement
from mutualaid.funds.tests.factories import books
from mutualaid.groups.models import DecisionRule, Group, Role
from mutualaid.needs.tests.factories import make_group, make_request, member_of
from mutualaid.people.models import User
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOT_FOUND = {"detail": "Not found."}
MEMBERS_ONLY = {"detail": "Only members of this group can see its proposals."}
HOSTILE_IDS = ["999999", str(2**63), "9" * 30]
NO_COUNTS = {"agree": 0, "abstain": 0, "disagree": 0, "block": 0}


def in_two_days() -> datetime:
    return timezone.now() + timedelta(days=2)


def propose(group: Group, proposer: User, **fields: Any) -> Proposal:
    fields.setdefault("kind", Proposal.Kind.GENERAL)
    fields.setdefault("title", "Weekly pantry on Saturdays")
    fields.setdefault("text", "Open the pantry at the church hall every Saturday morning.")
    fields.setdefault("closes_at", in_two_days())
    return services.proposal_create(group=group, proposer=proposer, **fields)


@dataclass
class World:
    group: Group
    proposer: User
    member: User
    outsider: User
    proposal: Proposal

    def headers(self, role: str) -> dict[str, str]:
        return {} if role == "anonymous" else token_for(getattr(self, role))


@pytest.fixture
def world() -> World:
    group = make_group(name="Levenshulme Mutual Aid", slug="levenshulme")
    proposer = member_of(group, display_name="Pat Proposer")
    return World(
        group=group,
        proposer=proposer,
        member=member_of(group, display_name="Mo Member"),
        outsider=UserFactory(display_name="Olly Outsider"),
        proposal=propose(group, proposer),
    )


def proposal_json(proposal: Proposal, **changes: Any) -> dict[str, Any]:
    """A fresh general proposal as the API shows it to someone who took no stance."""
    proposal.refresh_from_db()
    return {
        "id": proposal.pk,
        "group": "levenshulme",
        "kind": "general",
        "title": "Weekly pantry on Saturdays",
        "text": "Open the pantry at the church hall every Saturday morning.",
        "effect": {
            "holder": None,
            "role": None,
            "days": None,
            "grant": None,
            "changes": None,
            "disbursement": None,
        },
        "proposed_by": "Pat Proposer",
        "created_at": as_json_time(proposal.created_at),
        "closes_at": as_json_time(proposal.closes_at),
        "rule": "consent",
        "quorum_percent": 25,
        "majority_percent": 67,
        "round": 1,
        "status": "open",
        "outcome": "",
        "closed_at": None,
        "stances": NO_COUNTS,
        "your_stance": None,
        "result": {
            "applied_at": None,
            "error": "",
            "disbursement": None,
            "transaction": None,
            "role_grant": None,
            "changes": None,
        },
        **changes,
    }


# GET /api/groups/{slug}/proposals


def test_a_member_lists_the_groups_proposals_with_the_counts_and_their_own_stance(
    client: Client, world: World
) -> None:
    # given
    services.stance_take(proposal=world.proposal, member=world.member, position="agree")
    services.stance_take(
        proposal=world.proposal, member=world.proposer, position="disagree", reason="Too early"
    )
    # when
    response = client.get(
        f"/api/groups/{world.group.slug}/proposals", headers=world.headers("member")
    )
    # then
    assert response.status_code == 200
    assert response.json() == {
        "items": [
            proposal_json(
                world.proposal,
                stances={"agree": 1, "abstain": 0, "disagree": 1, "block": 0},
                your_stance={"position": "agree", "reason": ""},
            )
        ],
        "count": 1,
    }


def test_the_list_counts_only_stances_of_members_still_in_the_group(
    client: Client, world: World
) -> None:
    # given
    leaver = member_of(world.group)
    services.stance_take(proposal=world.proposal, member=leaver, position="block", reason="No")
    from mutualaid.groups.services import group_leave

    group_leave(group=world.group, member=leaver)
    # when
    response = client.get(
        f"/api/groups/{world.group.slug}/proposals", headers=world.headers("member")
    )
    # then
    assert response.json()["items"][0]["stances"] == NO_COUNTS


def test_the_list_filters_by_status_newest_first(client: Client, world: World) -> None:
    # given
    newer = propose(world.group, world.member, title="Buy a chest freezer")
    withdrawn = propose(world.group, world.member, title="Paint the hall")
    services.proposal_withdraw(proposal=withdrawn, actor=world.member)
    # when
    response = client.get(
        f"/api/groups/{world.group.slug}/proposals",
        {"status": "open"},
        headers=world.headers("member"),
    )
    # then
    assert [item["id"] for item in response.json()["items"]] == [newer.pk, world.proposal.pk]


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [("anonymous", 401, {"detail": NEEDS_TOKEN}), ("outsider", 403, MEMBERS_ONLY)],
)
def test_only_members_list_proposals(
    client: Client, world: World, role: str, status: int, body: dict[str, str]
) -> None:
    # when
    response = client.get(f"/api/groups/{world.group.slug}/proposals", headers=world.headers(role))
    # then
    assert response.status_code == status
    assert response.json() == body


def test_the_list_of_an_unknown_group_is_a_json_404(client: Client, world: World) -> None:
    # when
    response = client.get("/api/groups/nowhere/proposals", headers=world.headers("member"))
    # then
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize(
    "query", [{"status": "decided"}, {"status": "open\x00"}, {"offset": 2**64}, {"limit": 0}]
)
def test_the_list_refuses_bad_parameters_with_422(
    client: Client, world: World, query: dict[str, Any]
) -> None:
    # when
    response = client.get(
        f"/api/groups/{world.group.slug}/proposals", query, headers=world.headers("member")
    )
    # then
    assert response.status_code == 422
    assert [problem["loc"][0] for problem in response.json()["detail"]] == ["query"]


def test_the_list_query_count_is_fixed(
    client: Client, world: World, django_assert_num_queries: Any
) -> None:
    # given
    for n in range(4):
        proposal = propose(world.group, world.proposer, title=f"Proposal {n}")
        services.stance_take(proposal=proposal, member=world.member, position="agree")
        services.comment_add(proposal=proposal, author=world.proposer, text="Thoughts?")
    headers = world.headers("member")
    client.get("/api/me", headers=headers)  # the first use also stamps the token
    # when / then: the token, the group, membership, the count and the page with its counts,
    # stances and spends
    with django_assert_num_queries(5):
        response = client.get(f"/api/groups/{world.group.slug}/proposals", headers=headers)
    assert response.json()["count"] == 5


# POST /api/groups/{slug}/proposals


def proposal_body(**changes: Any) -> dict[str, Any]:
    return {
        "kind": "general",
        "title": "Weekly pantry on Saturdays",
        "text": "Open the pantry at the church hall every Saturday morning.",
        "closes_at": in_two_days().isoformat(),
        **changes,
    }


def test_a_member_makes_a_proposal(client: Client, world: World) -> None:
    # when
    response = post_json(
        client,
        f"/api/groups/{world.group.slug}/proposals",
        proposal_body(),
        **world.headers("proposer"),
    )
    # then
    assert response.status_code == 201
    proposal = Proposal.objects.get(pk=response.json()["id"])
    assert response.json() == {**proposal_json(proposal), "stance_list": [], "comments": []}


def test_a_role_proposal_carries_its_effect(client: Client, world: World) -> None:
    # when
    response = post_json(
        client,
        f"/api/groups/{world.group.slug}/proposals",
        proposal_body(
            kind="role_grant",
            title="Mo as treasurer",
            effect={"holder": world.member.pk, "role": "treasurer", "days": 90},
        ),
        **world.headers("proposer"),
    )
    # then
    assert response.status_code == 201
    assert response.json()["effect"] == {
        "holder": world.member.pk,
        "role": "treasurer",
        "days": 90,
        "grant": None,
        "changes": None,
        "disbursement": None,
    }
    assert Proposal.objects.get(pk=response.json()["id"]).effect == {
        "holder": world.member.pk,
        "role": Role.TREASURER,
        "days": 90,
    }


def test_a_policy_proposal_carries_its_changes(client: Client, world: World) -> None:
    # when
    response = post_json(
        client,
        f"/api/groups/{world.group.slug}/proposals",
        proposal_body(
            kind="policy",
            effect={"changes": {"decision_rule": "consensus", "quorum_percent": 40}},
        ),
        **world.headers("proposer"),
    )
    # then
    assert response.status_code == 201
    assert response.json()["effect"]["changes"] == {
        "decision_rule": DecisionRule.CONSENSUS,
        "quorum_percent": 40,
    }


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [
        ("anonymous", 401, {"detail": NEEDS_TOKEN}),
        ("outsider", 403, {"detail": "Only members of this group can make a proposal."}),
    ],
)
def test_only_members_make_proposals(
    client: Client, world: World, role: str, status: int, body: dict[str, str]
) -> None:
    # when
    response = post_json(
        client, f"/api/groups/{world.group.slug}/proposals", proposal_body(), **world.headers(role)
    )
    # then
    assert response.status_code == status
    assert response.json() == body
    assert Proposal.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        (
            {"closes_at": (timezone.now() + timedelta(hours=2)).isoformat()},
            "A proposal stays open for at least 24 hours.",
        ),
        (
            {"closes_at": (timezone.now() + timedelta(days=31)).isoformat()},
            "A proposal can stay open for at most 30 days.",
        ),
        (
            {"effect": {"holder": 1, "role": "treasurer", "days": 30}},
            "This kind of proposal carries no effect.",
        ),
        (
            {"kind": "policy", "effect": {"changes": {"hotline_phone": "0800"}}},
            "That is not a policy a proposal can change.",
        ),
        (
            {"kind": "policy", "effect": {"changes": {"quorum_percent": 0}}},
            "quorum (% of members who must take a stance): "
            "Ensure this value is greater than or equal to 1.",
        ),
        (
            {"kind": "role_grant", "effect": {"holder": 999999, "role": "steward", "days": 30}},
            "Roles can only be given to members of the group.",
        ),
        (
            {"kind": "role_revoke", "effect": {"grant": 999999}},
            "That role is not held in this group now.",
        ),
        ({"kind": "spend"}, "Please say what to spend, from which fund and for what."),
        (
            {
                "spend": {
                    "fund": 999999,
                    "amount_minor": 5000,
                    "purpose": "Food vouchers",
                    "payee_kind": "payee",
                    "payee_name": "Co-op",
                }
            },
            "Please choose one of this group's funds.",
        ),
        (
            {
                "kind": "spend",
                "spend": {
                    "fund": 999999,
                    "amount_minor": 5000,
                    "purpose": "Food vouchers",
                    "payee_kind": "payee",
                    "payee_name": "Co-op",
                },
            },
            "Please choose one of this group's funds.",
        ),
    ],
)
def test_a_proposal_the_rules_refuse_is_a_400(
    client: Client, world: World, changes: dict[str, Any], detail: str
) -> None:
    # when
    response = post_json(
        client,
        f"/api/groups/{world.group.slug}/proposals",
        proposal_body(**changes),
        **world.headers("proposer"),
    )
    # then
    assert (response.status_code, response.json()) == (400, {"detail": detail})
    assert Proposal.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"kind": "referendum"}, ["body", "payload", "kind"]),
        ({"kind": 7}, ["body", "payload", "kind"]),
        ({"title": "Pantry\x00"}, ["body", "payload", "title"]),
        ({"title": ""}, ["body", "payload", "title"]),
        ({"text": "x" * 5001}, ["body", "payload", "text"]),
        ({"closes_at": "next week"}, ["body", "payload", "closes_at"]),
        ({"closes_at": None}, ["body", "payload", "closes_at"]),
        (
            {"kind": "role_grant", "effect": {"holder": 2**64, "role": "treasurer", "days": 9}},
            ["body", "payload", "effect", "holder"],
        ),
        (
            {"kind": "role_grant", "effect": {"holder": 1, "role": "king", "days": 9}},
            ["body", "payload", "effect", "role"],
        ),
        (
            {"kind": "role_grant", "effect": {"holder": 1, "role": "steward", "days": 366}},
            ["body", "payload", "effect", "days"],
        ),
        (
            {"kind": "role_grant", "effect": {"holder": "1; drop", "role": "steward", "days": 9}},
            ["body", "payload", "effect", "holder"],
        ),
        ({"kind": "policy", "effect": {"wish": "ponies"}}, ["body", "payload", "effect", "wish"]),
        (
            {"kind": "policy", "effect": {"changes": {"spending_limit_minor": 10**30}}},
            ["body", "payload", "effect", "changes", "spending_limit_minor", "bool"],
        ),
        (
            {
                "kind": "spend",
                "spend": {
                    "fund": 1,
                    "amount_minor": -5000,
                    "purpose": "Vouchers",
                    "payee_kind": "payee",
                },
            },
            ["body", "payload", "spend", "amount_minor"],
        ),
        (
            {
                "kind": "spend",
                "spend": {
                    "fund": 1,
                    "amount_minor": 10**20,
                    "purpose": "Vouchers",
                    "payee_kind": "payee",
                },
            },
            ["body", "payload", "spend", "amount_minor"],
        ),
        (
            {
                "kind": "spend",
                "spend": {
                    "fund": 1,
                    "amount_minor": 500,
                    "purpose": "Vouchers",
                    "payee_kind": "landlord",
                },
            },
            ["body", "payload", "spend", "payee_kind"],
        ),
    ],
)
def test_malformed_proposals_are_a_422(
    client: Client, world: World, changes: dict[str, Any], loc: list[str]
) -> None:
    # when
    response = post_json(
        client,
        f"/api/groups/{world.group.slug}/proposals",
        proposal_body(**changes),
        **world.headers("proposer"),
    )
    # then
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc
    assert Proposal.objects.count() == 1


@pytest.mark.parametrize("body", ["[1, 2]", "null", "not json", '"text"'])
def test_a_body_that_is_no_json_object_is_a_400(client: Client, world: World, body: str) -> None:
    # when
    response = post_json(
        client, f"/api/groups/{world.group.slug}/proposals", body, **world.headers("proposer")
    )
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["detail"]


# GET /api/proposals/{id}


def test_a_member_sees_a_proposal_with_its_stances_and_discussion(
    client: Client, world: World
) -> None:
    # given
    services.stance_take(
        proposal=world.proposal, member=world.member, position="block", reason="The hall is shut"
    )
    services.comment_add(proposal=world.proposal, author=world.proposer, text="Which weeks?")
    stance = Stance.objects.get()
    comment = Comment.objects.get()
    # when
    response = client.get(f"/api/proposals/{world.proposal.pk}", headers=world.headers("member"))
    # then
    assert response.status_code == 200
    assert response.json() == {
        **proposal_json(
            world.proposal,
            stances={"agree": 0, "abstain": 0, "disagree": 0, "block": 1},
            your_stance={"position": "block", "reason": "The hall is shut"},
        ),
        "stance_list": [
            {
                "member": "Mo Member",
                "position": "block",
                "reason": "The hall is shut",
                "updated_at": as_json_time(stance.updated_at),
            }
        ],
        "comments": [
            {
                "id": comment.pk,
                "author": "Pat Proposer",
                "text": "Which weeks?",
                "created_at": as_json_time(comment.created_at),
            }
        ],
    }


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [("anonymous", 401, {"detail": NEEDS_TOKEN}), ("outsider", 403, MEMBERS_ONLY)],
)
def test_only_members_see_a_proposal(
    client: Client, world: World, role: str, status: int, body: dict[str, str]
) -> None:
    # when
    response = client.get(f"/api/proposals/{world.proposal.pk}", headers=world.headers(role))
    # then
    assert (response.status_code, response.json()) == (status, body)


@pytest.mark.parametrize("pk", HOSTILE_IDS)
@pytest.mark.parametrize("suffix", ["", "/stance", "/comments", "/withdraw"])
def test_an_unknown_proposal_is_a_json_404(
    client: Client, world: World, pk: str, suffix: str
) -> None:
    # when
    if suffix:
        response = post_json(
            client,
            f"/api/proposals/{pk}{suffix}",
            {"position": "agree", "text": "Yes"},
            **world.headers("member"),
        )
    else:
        response = client.get(f"/api/proposals/{pk}", headers=world.headers("member"))
    # then
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


@pytest.mark.parametrize("path", ["/api/proposals/-1", "/api/proposals/abc", "/api/proposals/1.5"])
def test_an_address_that_cannot_be_a_proposal_is_a_json_404(
    client: Client, world: World, path: str
) -> None:
    # when
    response = client.get(path, headers=world.headers("member"))
    # then
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


# POST /api/proposals/{id}/stance


def test_a_member_takes_a_stance_and_changes_it(client: Client, world: World) -> None:
    # given
    path = f"/api/proposals/{world.proposal.pk}/stance"
    post_json(client, path, {"position": "agree"}, **world.headers("member"))
    # when
    response = post_json(
        client,
        path,
        {"position": "disagree", "reason": "Saturdays clash with the market"},
        **world.headers("member"),
    )
    # then
    assert response.status_code == 200
    assert response.json()["stances"] == {"agree": 0, "abstain": 0, "disagree": 1, "block": 0}
    assert response.json()["your_stance"] == {
        "position": "disagree",
        "reason": "Saturdays clash with the market",
    }
    assert list(Stance.objects.values_list("member__display_name", "position")) == [
        ("Mo Member", "disagree")
    ]


def test_a_block_without_a_reason_is_a_400(client: Client, world: World) -> None:
    # when
    response = post_json(
        client,
        f"/api/proposals/{world.proposal.pk}/stance",
        {"position": "block"},
        **world.headers("member"),
    )
    # then
    assert response.status_code == 400
    assert response.json() == {"detail": "Please give a reason when you disagree or block."}
    assert Stance.objects.count() == 0


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [("anonymous", 401, {"detail": NEEDS_TOKEN}), ("outsider", 403, MEMBERS_ONLY)],
)
def test_only_members_take_a_stance(
    client: Client, world: World, role: str, status: int, body: dict[str, str]
) -> None:
    # when
    response = post_json(
        client,
        f"/api/proposals/{world.proposal.pk}/stance",
        {"position": "agree"},
        **world.headers(role),
    )
    # then
    assert (response.status_code, response.json()) == (status, body)
    assert Stance.objects.count() == 0


def test_a_stance_on_a_closed_proposal_is_a_409(client: Client, world: World) -> None:
    # given
    services.proposal_withdraw(proposal=world.proposal, actor=world.proposer)
    # when
    response = post_json(
        client,
        f"/api/proposals/{world.proposal.pk}/stance",
        {"position": "agree"},
        **world.headers("member"),
    )
    # then
    assert response.status_code == 409
    assert response.json() == {
        "detail": "This proposal has closed; stances can no longer be taken."
    }


def test_a_stance_past_the_closing_time_is_a_409_before_the_job_closes_it(
    client: Client, world: World
) -> None:
    # given
    Proposal.objects.filter(pk=world.proposal.pk).update(
        created_at=timezone.now() - timedelta(days=3),
        closes_at=timezone.now() - timedelta(minutes=1),
    )
    # when
    response = post_json(
        client,
        f"/api/proposals/{world.proposal.pk}/stance",
        {"position": "agree"},
        **world.headers("member"),
    )
    # then
    assert response.status_code == 409
    assert Stance.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"position": "veto"}, ["body", "payload", "position"]),
        ({"position": None}, ["body", "payload", "position"]),
        ({}, ["body", "payload", "position"]),
        ({"position": "block", "reason": "No\x00"}, ["body", "payload", "reason"]),
        ({"position": "block", "reason": "x" * 1001}, ["body", "payload", "reason"]),
        ({"position": "agree", "reason": 5}, ["body", "payload", "reason"]),
    ],
)
def test_a_malformed_stance_is_a_422(
    client: Client, world: World, body: dict[str, Any], loc: list[str]
) -> None:
    # when
    response = post_json(
        client, f"/api/proposals/{world.proposal.pk}/stance", body, **world.headers("member")
    )
    # then
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc
    assert Stance.objects.count() == 0


# POST /api/proposals/{id}/comments


def test_a_member_comments(client: Client, world: World) -> None:
    # when
    response = post_json(
        client,
        f"/api/proposals/{world.proposal.pk}/comments",
        {"text": "Could we start in May?"},
        **world.headers("member"),
    )
    # then
    comment = Comment.objects.get()
    assert response.status_code == 201
    assert response.json() == {
        "id": comment.pk,
        "author": "Mo Member",
        "text": "Could we start in May?",
        "created_at": as_json_time(comment.created_at),
    }


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [("anonymous", 401, {"detail": NEEDS_TOKEN}), ("outsider", 403, MEMBERS_ONLY)],
)
def test_only_members_comment(
    client: Client, world: World, role: str, status: int, body: dict[str, str]
) -> None:
    # when
    response = post_json(
        client,
        f"/api/proposals/{world.proposal.pk}/comments",
        {"text": "Hello"},
        **world.headers(role),
    )
    # then
    assert (response.status_code, response.json()) == (status, body)
    assert Comment.objects.count() == 0


@pytest.mark.parametrize(
    "body", [{"text": ""}, {"text": "Hi\x00"}, {"text": "x" * 2001}, {"text": ["Hi"]}, {}]
)
def test_a_malformed_comment_is_a_422(client: Client, world: World, body: dict[str, Any]) -> None:
    # when
    response = post_json(
        client, f"/api/proposals/{world.proposal.pk}/comments", body, **world.headers("member")
    )
    # then
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "text"]
    assert Comment.objects.count() == 0


def test_a_comment_of_only_spaces_is_a_400(client: Client, world: World) -> None:
    # when
    response = post_json(
        client,
        f"/api/proposals/{world.proposal.pk}/comments",
        {"text": "   "},
        **world.headers("member"),
    )
    # then
    assert (response.status_code, response.json()) == (400, {"detail": "Please write a comment."})


# POST /api/proposals/{id}/withdraw


def test_the_proposer_withdraws_their_proposal(client: Client, world: World) -> None:
    # when
    response = post_json(
        client, f"/api/proposals/{world.proposal.pk}/withdraw", **world.headers("proposer")
    )
    # then
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["outcome"]) == ("withdrawn", "withdrawn")
    world.proposal.refresh_from_db()
    assert world.proposal.status == Proposal.Status.WITHDRAWN


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [
        ("anonymous", 401, {"detail": NEEDS_TOKEN}),
        ("outsider", 403, MEMBERS_ONLY),
        (
            "member",
            403,
            {"detail": "Only the member who made a proposal can withdraw it, while it is open."},
        ),
    ],
)
def test_only_the_proposer_withdraws(
    client: Client, world: World, role: str, status: int, body: dict[str, str]
) -> None:
    # when
    response = post_json(
        client, f"/api/proposals/{world.proposal.pk}/withdraw", **world.headers(role)
    )
    # then
    assert (response.status_code, response.json()) == (status, body)
    world.proposal.refresh_from_db()
    assert world.proposal.status == Proposal.Status.OPEN


def test_withdrawing_a_closed_proposal_is_a_409(client: Client, world: World) -> None:
    # given
    services.proposal_withdraw(proposal=world.proposal, actor=world.proposer)
    # when
    response = post_json(
        client, f"/api/proposals/{world.proposal.pk}/withdraw", **world.headers("proposer")
    )
    # then
    assert (response.status_code, response.json()) == (
        409,
        {"detail": "This proposal has already closed."},
    )


# What a closed proposal did


def test_a_passed_role_proposal_links_to_the_role_it_gave(client: Client, world: World) -> None:
    # given
    proposal = propose(
        world.group,
        world.proposer,
        kind=Proposal.Kind.ROLE_GRANT,
        effect={"holder": world.member.pk, "role": Role.TREASURER, "days": 90},
    )
    for voter in (world.proposer, world.member):
        services.stance_take(proposal=proposal, member=voter, position="agree")
    services.proposal_close(proposal=proposal, now=proposal.closes_at + timedelta(seconds=1))
    proposal.refresh_from_db()
    # when
    response = client.get(f"/api/proposals/{proposal.pk}", headers=world.headers("member"))
    # then
    body = response.json()
    assert (body["status"], body["outcome"], body["your_stance"]) == (
        "passed",
        "passed",
        {"position": "agree", "reason": ""},
    )
    assert body["result"] == {
        "applied_at": as_json_time(proposal.effect_applied_at),
        "error": "",
        "disbursement": None,
        "transaction": None,
        "role_grant": proposal.role_grant_id,
        "changes": None,
    }
    assert proposal.role_grant is not None
    assert proposal.role_grant.holder == world.member


def test_a_spend_proposal_shows_its_payment_and_once_passed_the_movement_it_made(
    client: Client,
) -> None:
    # given: a fund holding 80.00, and a member asking for a neighbour's rent
    where = books(balance=8000, name="Levenshulme Mutual Aid", slug="levenshulme")
    help_request = make_request(where.group, name="Margaret Okafor")
    headers = token_for(where.member)
    response = post_json(
        client,
        "/api/groups/levenshulme/proposals",
        proposal_body(
            kind="spend",
            title="Rent help",
            spend={
                "fund": where.fund.pk,
                "amount_minor": 6000,
                "purpose": "Rent arrears",
                "payee_kind": "request",
                "request": help_request.pk,
            },
        ),
        **headers,
    )
    assert response.status_code == 201
    disbursement = Disbursement.objects.get()
    assert response.json()["effect"]["disbursement"] == {
        "id": disbursement.pk,
        "fund": where.fund.pk,
        "fund_name": where.fund.name,
        "amount_minor": 6000,
        "currency": "GBP",
        "purpose": "Rent arrears",
        "payee_kind": "request",
        "payee": f"neighbour {help_request.reference}",
        "status": "proposed",
    }
    assert "Margaret" not in response.content.decode()
    proposal = Proposal.objects.get(pk=response.json()["id"])
    # when
    services.proposal_close(proposal=proposal, now=proposal.closes_at + timedelta(seconds=1))
    response = client.get(f"/api/proposals/{proposal.pk}", headers=headers)
    # then
    disbursement.refresh_from_db()
    assert disbursement.transaction_id is not None
    body = response.json()
    assert (body["status"], body["effect"]["disbursement"]["status"]) == ("passed", "paid")
    assert (body["result"]["disbursement"], body["result"]["transaction"]) == (
        disbursement.pk,
        disbursement.transaction_id,
    )


def test_a_spend_from_another_groups_fund_is_refused(client: Client, world: World) -> None:
    # given
    elsewhere = books(balance=8000)
    # when
    response = post_json(
        client,
        f"/api/groups/{world.group.slug}/proposals",
        proposal_body(
            kind="spend",
            spend={
                "fund": elsewhere.fund.pk,
                "amount_minor": 600,
                "purpose": "Rent arrears",
                "payee_kind": "payee",
                "payee_name": "Landlord",
            },
        ),
        **world.headers("proposer"),
    )
    # then
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "Please choose one of this group's funds."},
    )
    assert Disbursement.objects.count() == 0


def test_a_general_proposal_cannot_spend(client: Client) -> None:
    # given
    where = books(balance=8000)
    # when
    response = post_json(
        client,
        f"/api/groups/{where.group.slug}/proposals",
        proposal_body(
            spend={
                "fund": where.fund.pk,
                "amount_minor": 600,
                "purpose": "Rent arrears",
                "payee_kind": "payee",
                "payee_name": "Landlord",
            }
        ),
        **token_for(where.member),
    )
    # then
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "Only a spending proposal spends from a fund."},
    )
    assert (Proposal.objects.count(), Disbursement.objects.count()) == (0, 0)


def test_a_closing_time_without_a_time_zone_is_a_400(client: Client, world: World) -> None:
    # given
    before = Proposal.objects.count()
    # when
    response = post_json(
        client,
        f"/api/groups/{world.group.slug}/proposals",
        proposal_body(closes_at="2030-01-01T00:00:00"),
        **world.headers("proposer"),
    )
    # then
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "Please give the closing time with its time zone."},
    )
    assert Proposal.objects.count() == before


def test_text_that_would_read_backwards_is_refused(client: Client, world: World) -> None:
    # when
    response = post_json(
        client,
        f"/api/groups/{world.group.slug}/proposals",
        proposal_body(title="Pay \u202eevil"),
        **world.headers("proposer"),
    )
    # then
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "Please remove the unusual characters from the text."},
    )
