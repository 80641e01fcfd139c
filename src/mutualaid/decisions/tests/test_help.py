"""The help page: how proposals pass, with the group's own rule and numbers."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from mutualaid.decisions.tests.factories import deciding_group, member_of
from mutualaid.groups.models import Group
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def help_url(group: Group) -> str:
    return reverse("decisions:help", kwargs={"slug": group.slug})


@pytest.mark.parametrize("who", ["visitor", "non-member", "member"])
def test_anyone_can_read_how_a_group_decides(client: Client, who: str) -> None:
    # given: how a group works is public, as on its own page
    group = deciding_group(rule="consensus", quorum_percent=30, majority_percent=75)
    if who == "non-member":
        client.force_login(UserFactory())
    elif who == "member":
        client.force_login(member_of(group))

    # when
    response = client.get(help_url(group))

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        "<p>Consensus: a proposal passes when at least 30% of members "
        "take a stance, nobody blocks, and more members agree than disagree." in html
    )
    assert "30% of members" in html
    assert "75% of those who agree, disagree or block" in html
    propose = reverse("decisions:create", args=[group.slug])
    assert (f'href="{propose}"' in html) == (who == "member")


def test_the_help_page_states_the_three_rules_with_the_groups_numbers(client: Client) -> None:
    group = deciding_group(rule="consent", quorum_percent=40, majority_percent=60)

    html = client.get(help_url(group)).content.decode()

    assert "A proposal passes unless anyone blocks it. There is no quorum" in html
    assert (
        "A proposal passes when at least 40% of the members took a stance (rounded up, and at "
        "least one member), nobody blocks, and more members agree than disagree." in html
    )
    assert "In the vote a block counts as disagreeing." in html
    assert (
        "passes when at least 40% of the members took part and at least 60% of those who "
        "agree, disagree or block agree (abstentions are left out), with at least one member "
        "agreeing." in html
    )
    assert "(not used under consent)" in html


def test_the_help_page_explains_stances_kinds_and_roles(client: Client) -> None:
    group = deciding_group()

    html = client.get(help_url(group)).content.decode()

    assert "its text cannot change" in html
    assert "You can change your stance as often as you like until the proposal closes." in html
    assert "Disagreeing and blocking need a reason" in html
    assert "Pays from one of the group's funds" in html
    assert "Gives a member a role" in html
    assert "Changes one of the group's policies" in html
    assert "During a group's first 30 days, a role can also be given by two people" in html
    ends = group.founding_period_ends_at.strftime("%-d %b %Y")
    assert f"The first 30 days of {group.name} end on {ends}." in html


def test_after_the_first_30_days_the_help_page_says_they_ended(client: Client) -> None:
    group = deciding_group()
    Group.objects.filter(pk=group.pk).update(created_at=group.created_at - timedelta(days=40))

    html = client.get(help_url(group)).content.decode()

    assert f"The first 30 days of {group.name} ended on" in html


def test_an_unknown_group_has_no_help_page(client: Client) -> None:
    response = client.get(reverse("decisions:help", kwargs={"slug": "nowhere"}))

    assert response.status_code == 404
