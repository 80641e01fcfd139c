from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from mutualaid.api.tests.wire import MEMBER_OPERATIONS, NEEDS_TOKEN, as_json_time, bearer, post_join
from mutualaid.groups import services
from mutualaid.groups.models import Group, JoinRequest, Membership, Role, RoleGrant
from mutualaid.groups.tests.factories import make_group
from mutualaid.people.models import User
from mutualaid.people.services import api_token_create
from mutualaid.people.tests.factories import UserFactory


def _join(group: Group, display_name: str) -> User:
    user = UserFactory(display_name=display_name)
    services.group_join(group=group, member=user)
    return user


# GET /api/groups


def test_group_list_is_public_and_shows_the_directory(client: Client, db: None) -> None:
    # given
    area = make_group(name="Manchester Mutual Aid", slug="manchester", place="Manchester")
    ward = make_group(
        creator=area.created_by,
        name="Levenshulme Mutual Aid",
        slug="levenshulme",
        kind=Group.Kind.WARD,
        parent=area,
        languages=["en", "ur"],
        members=2,
    )
    # when
    response = client.get("/api/groups")
    # then
    assert response.status_code == 200
    assert response.json() == {
        "count": 2,
        "items": [
            {
                "slug": "levenshulme",
                "name": "Levenshulme Mutual Aid",
                "kind": "ward",
                "place": "",
                "parent": "manchester",
                "languages": ["en", "ur"],
                "member_count": 3,
            },
            {
                "slug": "manchester",
                "name": "Manchester Mutual Aid",
                "kind": "area",
                "place": "Manchester",
                "parent": None,
                "languages": [],
                "member_count": 1,
            },
        ],
    }
    assert ward.parent == area


def test_group_list_searches_with_q(client: Client, db: None) -> None:
    # given
    make_group(name="Burnage Mutual Aid", slug="burnage")
    make_group(name="Didsbury Mutual Aid", slug="didsbury", place="South Manchester")
    # when
    response = client.get("/api/groups", {"q": "south manchester"})
    # then
    assert response.json()["count"] == 1
    assert [group["slug"] for group in response.json()["items"]] == ["didsbury"]


def test_group_list_pages_with_limit_and_offset(client: Client, db: None) -> None:
    # given
    for name in ["Ardwick", "Burnage", "Chorlton"]:
        make_group(name=name, slug=name.lower())
    # when
    response = client.get("/api/groups", {"limit": 1, "offset": 1})
    # then
    assert response.json()["count"] == 3
    assert [group["slug"] for group in response.json()["items"]] == ["burnage"]


@pytest.mark.parametrize(("params", "field"), [({"q": "x" * 101}, "q"), ({"limit": 0}, "limit")])
def test_group_list_rejects_bad_query_parameters_with_422(
    client: Client, db: None, params: dict[str, Any], field: str
) -> None:
    # when
    response = client.get("/api/groups", params)
    # then
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["query", field]]


def test_group_list_treats_html_in_the_search_as_text(client: Client, db: None) -> None:
    # given
    make_group(name="<b>Bold</b> Street", slug="bold-street")
    # when
    response = client.get("/api/groups", {"q": "<b>"})
    # then
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert [group["name"] for group in response.json()["items"]] == ["<b>Bold</b> Street"]


def test_group_list_query_count_is_fixed(
    client: Client, db: None, django_assert_num_queries: Any
) -> None:
    # given
    parent = make_group(members=2)
    for _ in range(4):
        make_group(creator=parent.created_by, parent=parent, kind=Group.Kind.WARD, members=1)
    # when / then: the count and one page, with parents and member counts in the same query
    with django_assert_num_queries(2):
        response = client.get("/api/groups")
    assert response.json()["count"] == 5


def test_group_list_query_count_with_a_token(
    client: Client, auth: dict[str, str], django_assert_num_queries: Any
) -> None:
    # given
    for _ in range(3):
        make_group(members=1)
    client.get("/api/groups", headers=auth)  # the first use also stamps the token
    # when / then: the token, the count and one page
    with django_assert_num_queries(3):
        response = client.get("/api/groups", headers=auth)
    assert response.json()["count"] == 3


# GET /api/groups/{slug}


def test_group_detail_is_public_with_policies_parent_and_member_count(
    client: Client, db: None
) -> None:
    # given
    area = make_group(name="Manchester Mutual Aid", slug="manchester")
    group = make_group(
        creator=area.created_by,
        name="Levenshulme Mutual Aid",
        slug="levenshulme",
        kind=Group.Kind.WARD,
        parent=area,
        description="Neighbours helping neighbours.",
        place="Levenshulme",
        centre_latitude=Decimal("53.44310"),
        centre_longitude=Decimal("-2.19170"),
        radius_km=Decimal("1.50"),
        languages=["en"],
        hotline_phone="+441614960000",
        contact_email="hello@levenshulme.example.org",
        retention_days=30,
        join_needs_vouch=True,
        spending_limit_minor=2500,
        members=1,
    )
    # when
    response = client.get("/api/groups/levenshulme")
    # then
    assert response.status_code == 200
    assert response.json() == {
        "slug": "levenshulme",
        "name": "Levenshulme Mutual Aid",
        "kind": "ward",
        "place": "Levenshulme",
        "parent": "manchester",
        "languages": ["en"],
        "member_count": 1,
        "description": "Neighbours helping neighbours.",
        "centre_latitude": 53.4431,
        "centre_longitude": -2.1917,
        "radius_km": 1.5,
        "hotline_phone": "+441614960000",
        "contact_email": "hello@levenshulme.example.org",
        "created_at": as_json_time(group.created_at),
        "policies": {
            "join_needs_vouch": True,
            "retention_days": 30,
            "request_pacing_days": 7,
            "match_radius_km": 5,
            "answer_within_hours": 12,
            "spending_limit_minor": 2500,
            "currency": "GBP",
            "decision_rule": "consent",
            "quorum_percent": 25,
            "fallback_majority_percent": 67,
            "reimbursement_limit_minor": 5000,
            "publishes_fund_summary": False,
        },
    }


def test_group_detail_of_an_unknown_slug_is_404(client: Client, db: None) -> None:
    # when
    response = client.get("/api/groups/no-such-group")
    # then
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_group_detail_with_a_token_is_the_same(client: Client, auth: dict[str, str]) -> None:
    # given
    group = make_group(slug="ardwick")
    # when
    response = client.get("/api/groups/ardwick", headers=auth)
    # then
    assert response.status_code == 200
    assert response.json()["member_count"] == 1
    assert group.slug == "ardwick"


# POST /api/groups/{slug}/join


@pytest.mark.parametrize(("before", "status"), [(False, 201), (True, 200)], ids=["new", "again"])
def test_join_an_open_group_is_201_member_then_200_with_one_membership(
    client: Client, member: User, auth: dict[str, str], before: bool, status: int
) -> None:
    # given
    group = make_group()
    if before:
        services.group_join(group=group, member=member)
    # when
    response = post_join(client, group, headers=auth)
    # then
    assert response.status_code == status
    assert response.json() == {"status": "member"}
    assert Membership.objects.filter(group=group, member=member).count() == 1


# Markup is stored as typed; pages escape it when they show it.
@pytest.mark.parametrize("message", ["I live on Stockport Road.", "<script>alert(1)</script>"])
def test_join_a_group_that_wants_a_vouch_is_202_pending_with_the_message_as_typed(
    client: Client, member: User, auth: dict[str, str], message: str
) -> None:
    # given
    group = make_group(join_needs_vouch=True)
    # when
    response = post_join(client, group, {"message": message}, headers=auth)
    # then
    assert response.status_code == 202
    assert response.json() == {"status": "pending"}
    join_request = JoinRequest.objects.get(group=group, applicant=member)
    assert join_request.status == JoinRequest.Status.PENDING
    assert join_request.message == message
    assert not Membership.objects.filter(group=group, member=member).exists()


def test_asking_again_while_pending_keeps_one_request(
    client: Client, member: User, auth: dict[str, str]
) -> None:
    # given
    group = make_group(join_needs_vouch=True)
    post_join(client, group, headers=auth)
    # when
    response = post_join(client, group, headers=auth)
    # then
    assert response.status_code == 202
    assert JoinRequest.objects.filter(group=group, applicant=member).count() == 1


def test_join_by_get_is_not_allowed(client: Client, auth: dict[str, str]) -> None:
    # given
    group = make_group()
    # when
    response = client.get(f"/api/groups/{group.slug}/join", headers=auth)
    # then
    assert response.status_code == 405
    assert response.json() == {"detail": "This address does not take this method."}
    assert response["Allow"] == "POST"
    assert Membership.objects.filter(group=group).count() == 1


# What only a member's token opens: joining, the members and the roles


@pytest.mark.parametrize(("method", "suffix"), MEMBER_OPERATIONS)
def test_member_operations_need_a_token(client: Client, db: None, method: str, suffix: str) -> None:
    # given
    group = make_group()
    # when
    response = client.generic(method.upper(), f"/api/groups/{group.slug}{suffix}")
    # then
    assert response.status_code == 401
    assert response.json() == {"detail": NEEDS_TOKEN}
    assert Membership.objects.filter(group=group).count() == 1


@pytest.mark.parametrize(("method", "suffix"), MEMBER_OPERATIONS)
def test_member_operations_on_an_unknown_group_are_404(
    client: Client, auth: dict[str, str], method: str, suffix: str
) -> None:
    # when
    response = client.generic(method.upper(), f"/api/groups/no-such-group{suffix}", headers=auth)
    # then
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize(
    ("suffix", "detail"),
    [
        ("/members", "Only members of this group can see who is in it."),
        ("/roles", "Only members of this group can see who holds its roles."),
    ],
)
def test_members_and_roles_are_403_for_a_non_member(
    client: Client, auth: dict[str, str], suffix: str, detail: str
) -> None:
    # given
    group = make_group(members=2)
    # when
    response = client.get(f"/api/groups/{group.slug}{suffix}", headers=auth)
    # then
    assert response.status_code == 403
    assert response.json() == {"detail": detail}


def test_a_former_members_token_loses_access_to_members_and_roles(client: Client, db: None) -> None:
    # given
    group = make_group()
    leaver = _join(group, "Leaver")
    _token, raw = api_token_create(user=leaver, name="phone")
    services.group_leave(group=group, member=leaver)
    # when
    members = client.get(f"/api/groups/{group.slug}/members", headers=bearer(raw))
    roles = client.get(f"/api/groups/{group.slug}/roles", headers=bearer(raw))
    # then
    assert (members.status_code, roles.status_code) == (403, 403)


# GET /api/groups/{slug}/members


def test_members_see_display_names_and_join_dates_only(
    client: Client, member: User, auth: dict[str, str]
) -> None:
    # given
    founder = UserFactory(display_name="Ali", phone="+44 161 496 0001", address="2 Hidden Lane")
    group = make_group(creator=founder)
    services.group_join(group=group, member=member)
    memberships = list(Membership.objects.filter(group=group).order_by("joined_at"))
    # when
    response = client.get(f"/api/groups/{group.slug}/members", headers=auth)
    # then
    assert response.status_code == 200
    assert response.json() == {
        "count": 2,
        "items": [
            {"display_name": "Ali", "joined_at": as_json_time(memberships[0].joined_at)},
            {"display_name": "Rosa", "joined_at": as_json_time(memberships[1].joined_at)},
        ],
    }
    assert founder.email not in response.content.decode()


def test_members_list_names_an_erased_member_as_former_member(
    client: Client, member: User, auth: dict[str, str]
) -> None:
    # given
    group = make_group(creator=member)
    gone = _join(group, "Gone")
    User.objects.filter(pk=gone.pk).update(erased_at=timezone.now(), display_name="")
    # when
    items = client.get(f"/api/groups/{group.slug}/members", headers=auth).json()["items"]
    # then
    assert [item["display_name"] for item in items] == ["Rosa", "former member"]


def test_members_list_is_403_while_a_join_request_waits(
    client: Client, member: User, auth: dict[str, str]
) -> None:
    # given
    group = make_group(join_needs_vouch=True)
    services.group_join(group=group, member=member)
    # when
    response = client.get(f"/api/groups/{group.slug}/members", headers=auth)
    # then
    assert response.status_code == 403
    assert response.json() == {"detail": "Only members of this group can see who is in it."}


def test_members_list_query_count_is_fixed(
    client: Client, member: User, auth: dict[str, str], django_assert_num_queries: Any
) -> None:
    # given
    group = make_group(creator=member, members=6)
    client.get(f"/api/groups/{group.slug}/members", headers=auth)  # stamps the token
    # when / then: token, group, membership check, count, one page with the members
    with django_assert_num_queries(5):
        response = client.get(f"/api/groups/{group.slug}/members", headers=auth)
    assert response.json()["count"] == 7


# GET /api/groups/{slug}/roles


def _grant(group: Group, holder: User, role: str, *, confirm: bool = True) -> RoleGrant:
    proposer = _join(group, "Proposer")
    grant = services.role_grant_propose(
        group=group,
        proposer=proposer,
        holder=holder,
        role=role,
        reason="Chosen at the assembly",
        expires_at=timezone.now() + timedelta(days=30),
    )
    if confirm:
        grant = services.role_grant_confirm(grant=grant, confirmer=_join(group, "Confirmer"))
    return grant


def test_members_see_the_roles_in_force(client: Client, member: User, auth: dict[str, str]) -> None:
    # given
    founder = UserFactory(display_name="Ali")
    group = make_group(creator=founder)
    services.group_join(group=group, member=member)
    steward = RoleGrant.objects.get(group=group, holder=founder)
    treasurer = _grant(group, member, Role.TREASURER)
    # when
    response = client.get(f"/api/groups/{group.slug}/roles", headers=auth)
    # then
    assert response.status_code == 200
    assert response.json() == [
        {
            "role": "steward",
            "role_name": "steward",
            "holder": "Ali",
            "granted_at": as_json_time(steward.granted_at),
            "expires_at": as_json_time(steward.expires_at),
            "reason": "Started the group",
        },
        {
            "role": "treasurer",
            "role_name": "treasurer",
            "holder": "Rosa",
            "granted_at": as_json_time(treasurer.granted_at),
            "expires_at": as_json_time(treasurer.expires_at),
            "reason": "Chosen at the assembly",
        },
    ]


def test_roles_leave_out_expired_unconfirmed_and_given_back_grants(
    client: Client, member: User, auth: dict[str, str]
) -> None:
    # given
    group = make_group(creator=member)
    RoleGrant.objects.filter(group=group).update(
        granted_at=timezone.now() - timedelta(days=31),
        expires_at=timezone.now() - timedelta(days=1),
    )
    _grant(group, member, Role.DISPATCHER, confirm=False)
    given_back = _grant(group, member, Role.TREASURER)
    services.role_grant_step_down(grant=given_back, holder=member)
    kept = _grant(group, member, Role.HUB_KEEPER)
    # when
    response = client.get(f"/api/groups/{group.slug}/roles", headers=auth)
    # then
    assert [grant["role"] for grant in response.json()] == ["hub_keeper"]
    assert RoleGrant.objects.in_force().filter(pk=kept.pk).exists()


def test_roles_give_the_founding_reason_in_the_callers_language_as_the_group_page_does(
    client: Client, member: User, auth: dict[str, str]
) -> None:
    # given: the founding steward's reason is the platform's words; the others, the group's
    group = make_group(creator=member)
    _grant(group, member, Role.TREASURER)
    client.force_login(member)
    # when
    response = client.get(
        f"/api/groups/{group.slug}/roles", headers={**auth, "Accept-Language": "es"}
    )
    page = client.get(f"/groups/{group.slug}/", headers={"Accept-Language": "es"})
    # then
    assert [(grant["role_name"], grant["reason"]) for grant in response.json()] == [
        ("administrador/a del grupo", "Creó el grupo"),
        ("tesorero/a", "Chosen at the assembly"),
    ]
    assert RoleGrant.objects.get(group=group, role=Role.STEWARD).reason == "Started the group"
    html = page.content.decode()
    assert "<dd>Creó el grupo</dd>" in html
    assert "<dd>Chosen at the assembly</dd>" in html
