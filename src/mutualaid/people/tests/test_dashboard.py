"""The member's home page: their groups, roles in force, and requests to join."""

from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mutualaid.groups import services as group_services
from mutualaid.groups.models import RoleGrant
from mutualaid.groups.tests.factories import make_group
from mutualaid.people.models import User


def test_dashboard_lists_groups_roles_and_pending_join_requests(
    client: Client, member: User
) -> None:
    # given: Rosa started one group (so she is its steward), joined another, and asked to join
    # a third that wants a vouch
    founded = make_group(creator=member, name="Levenshulme Mutual Aid")
    joined = make_group(name="Rusholme Mutual Aid")
    group_services.group_join(group=joined, member=member)
    vouched = make_group(name="Fallowfield Mutual Aid", join_needs_vouch=True)
    group_services.group_join(group=vouched, member=member)
    make_group(name="Somewhere Else")
    client.force_login(member)

    # when
    response = client.get(reverse("people:dashboard"))

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert [group.name for group in response.context["groups"]] == [
        "Levenshulme Mutual Aid",
        "Rusholme Mutual Aid",
    ]
    assert reverse("groups:detail", kwargs={"slug": founded.slug}) in html
    assert reverse("groups:detail", kwargs={"slug": joined.slug}) in html
    assert "Somewhere Else" not in html
    roles = list(response.context["roles"])
    assert [(grant.group, grant.role) for grant in roles] == [(founded, "steward")]
    assert roles[0].expires_at.date().isoformat() in html
    assert [request.group for request in response.context["join_requests"]] == [vouched]
    assert reverse("directory:home") in html
    assert reverse("groups:create") in html


def test_dashboard_leaves_out_expired_and_unconfirmed_roles(client: Client, member: User) -> None:
    # given
    group = make_group(members=2)
    group_services.group_join(group=group, member=member)
    RoleGrant.objects.filter(holder=group.created_by).update(
        expires_at=timezone.now() - timedelta(seconds=1), granted_at=timezone.now() - timedelta(1)
    )
    proposer = group.memberships.exclude(member__in=[member, group.created_by]).first().member
    group_services.role_grant_propose(
        group=group, proposer=proposer, holder=member, role="dispatcher", reason="Rota"
    )
    client.force_login(member)

    # when
    response = client.get(reverse("people:dashboard"))

    # then
    assert list(response.context["roles"]) == []
    assert "You hold no roles right now." in response.content.decode()


def test_dashboard_query_count_does_not_grow_with_groups(
    client: Client, member: User, django_assert_num_queries
) -> None:
    # given
    for _ in range(5):
        make_group(creator=member, members=1)
        group_services.group_join(group=make_group(join_needs_vouch=True), member=member)
    client.force_login(member)

    # then: session, member, groups, roles, join requests
    with django_assert_num_queries(5):
        response = client.get(reverse("people:dashboard"))
    assert len(response.context["groups"]) == 5
    assert len(response.context["roles"]) == 5
    assert len(response.context["join_requests"]) == 5


def test_dashboard_needs_login(client: Client, db: None) -> None:
    # when
    response = client.get(reverse("people:dashboard"))

    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
