from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from mutualaid.api.tests.wire import as_json_time, bearer
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
            "spending_limit_minor": 2500,
            "currency": "GBP",
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


def test_join_an_open_group_is_201_member(
    client: Client, member: User, auth: dict[str, str]
) -> None:
    # given
    group = make_group()
    # when
    response = client.generic("POST", f"/api/groups/{group.slug}/join", headers=auth)
    # then
    assert response.status_code == 201
    assert response.json() == {"status": "member"}
    assert Membership.objects.filter(group=group, member=member).count() == 1


def test_join_again_is_200_and_changes_nothing(
    client: Client, member: User, auth: dict[str, str]
) -> None:
    # given
    group = make_group()
    services.group_join(group=group, member=member)
    # when
    response = client.generic("POST", f"/api/groups/{group.slug}/join", headers=auth)
    # then
    assert response.status_code == 200
    assert response.json() == {"status": "member"}
    assert Membership.objects.filter(group=group, member=member).count() == 1


def test_join_a_group_that_wants_a_vouch_is_202_pending(
    client: Client, member: User, auth: dict[str, str]
) -> None:
    # given
    group = make_group(join_needs_vouch=True)
    # when
    response = client.post(
        f"/api/groups/{group.slug}/join",
        {"message": "I live on Stockport Road."},
        content_type="application/json",
        headers=auth,
    )
    # then
    assert response.status_code == 202
    assert response.json() == {"status": "pending"}
    join_request = JoinRequest.objects.get(group=group, applicant=member)
    assert join_request.status == JoinRequest.Status.PENDING
    assert join_request.message == "I live on Stockport Road."
    assert not Membership.objects.filter(group=group, member=member).exists()


def test_asking_again_while_pending_keeps_one_request(
    client: Client, member: User, auth: dict[str, str]
) -> None:
    # given
    group = make_group(join_needs_vouch=True)
    client.generic("POST", f"/api/groups/{group.slug}/join", headers=auth)
    # when
    response = client.generic("POST", f"/api/groups/{group.slug}/join", headers=auth)
    # then
    assert response.status_code == 202
    assert JoinRequest.objects.filter(group=group, applicant=member).count() == 1


def test_join_keeps_html_in_the_message_as_plain_text(
    client: Client, member: User, auth: dict[str, str]
) -> None:
    # given
    group = make_group(join_needs_vouch=True)
    # when
    response = client.post(
        f"/api/groups/{group.slug}/join",
        {"message": "<script>alert(1)</script>"},
        content_type="application/json",
        headers=auth,
    )
    # then: stored as typed; pages escape it when they show it
    assert response.status_code == 202
    assert JoinRequest.objects.get(applicant=member).message == "<script>alert(1)</script>"


@pytest.mark.parametrize("body", ['{"message": ', "not json", '["message"]', '"hi"', "null"])
def test_join_with_a_body_that_is_not_a_json_object_is_400_and_joins_nothing(
    client: Client, member: User, auth: dict[str, str], body: str
) -> None:
    # given
    group = make_group()
    # when
    response = client.post(
        f"/api/groups/{group.slug}/join", body, content_type="application/json", headers=auth
    )
    # then
    assert response.status_code == 400
    assert response.json() == {"detail": "Cannot parse request body"}
    assert not Membership.objects.filter(group=group, member=member).exists()


@pytest.mark.parametrize("body", [{"message": "x" * 1001}, {"message": 12}, {"message": None}])
def test_join_with_an_invalid_body_is_422_and_joins_nothing(
    client: Client, member: User, auth: dict[str, str], body: Any
) -> None:
    # given
    group = make_group()
    # when
    response = client.post(
        f"/api/groups/{group.slug}/join", body, content_type="application/json", headers=auth
    )
    # then
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"
    assert not Membership.objects.filter(group=group, member=member).exists()


def test_join_needs_a_token(client: Client, db: None) -> None:
    # given
    group = make_group()
    # when
    response = client.generic("POST", f"/api/groups/{group.slug}/join")
    # then
    assert response.status_code == 401
    assert Membership.objects.filter(group=group).count() == 1


def test_join_an_unknown_group_is_404(client: Client, auth: dict[str, str]) -> None:
    # when
    response = client.generic("POST", "/api/groups/no-such-group/join", headers=auth)
    # then
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


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


def test_members_list_is_403_for_a_non_member(client: Client, auth: dict[str, str]) -> None:
    # given
    group = make_group(members=2)
    # when
    response = client.get(f"/api/groups/{group.slug}/members", headers=auth)
    # then
    assert response.status_code == 403
    assert response.json() == {"detail": "Only members of this group can see who is in it."}


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


def test_members_list_needs_a_token(client: Client, db: None) -> None:
    # given
    group = make_group()
    # when
    response = client.get(f"/api/groups/{group.slug}/members")
    # then
    assert response.status_code == 401


def test_members_list_of_an_unknown_group_is_404(client: Client, auth: dict[str, str]) -> None:
    # when
    response = client.get("/api/groups/no-such-group/members", headers=auth)
    # then
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


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


def _grant(
    group: Group, holder: User, role: str, *, days: int = 30, confirm: bool = True
) -> RoleGrant:
    proposer = _join(group, "Proposer")
    grant = services.role_grant_propose(
        group=group,
        proposer=proposer,
        holder=holder,
        role=role,
        reason="Chosen at the assembly",
        expires_at=timezone.now() + timedelta(days=days),
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


def test_roles_are_403_for_a_non_member(client: Client, auth: dict[str, str]) -> None:
    # given
    group = make_group()
    # when
    response = client.get(f"/api/groups/{group.slug}/roles", headers=auth)
    # then
    assert response.status_code == 403
    assert response.json() == {"detail": "Only members of this group can see who holds its roles."}


def test_roles_need_a_token(client: Client, db: None) -> None:
    # given
    group = make_group()
    # when
    response = client.get(f"/api/groups/{group.slug}/roles")
    # then
    assert response.status_code == 401


def test_roles_of_an_unknown_group_are_404(client: Client, auth: dict[str, str]) -> None:
    # when
    response = client.get("/api/groups/no-such-group/roles", headers=auth)
    # then
    assert response.status_code == 404


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
