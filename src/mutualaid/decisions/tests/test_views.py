"""The decision pages: the list, a proposal with its stances and comments, and the help page."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mutualaid.decisions import services
from mutualaid.decisions.models import Comment, Proposal, Stance
from mutualaid.decisions.tests.factories import (
    deciding_group,
    make_proposal,
    member_of,
    members_of,
    stances,
)
from mutualaid.groups.models import Group
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def list_url(group: Group) -> str:
    return reverse("decisions:list", kwargs={"slug": group.slug})


def detail_url(proposal: Proposal) -> str:
    return reverse("decisions:detail", kwargs={"slug": proposal.group.slug, "pk": proposal.pk})


def action_url(name: str, proposal: Proposal) -> str:
    return reverse(f"decisions:{name}", kwargs={"slug": proposal.group.slug, "pk": proposal.pk})


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def make_due(proposal: Proposal) -> None:
    """Move a proposal's times back, as if it had been open for a day and its time is up."""
    now = timezone.now()
    Proposal.objects.filter(pk=proposal.pk).update(
        created_at=now - timedelta(days=2),
        round_started_at=now - timedelta(days=2),
        closes_at=now - timedelta(minutes=1),
    )


# Who may see and use the pages


def page_urls(proposal: Proposal) -> dict[str, str]:
    group = proposal.group
    return {
        "list": list_url(group),
        "create": reverse("decisions:create", kwargs={"slug": group.slug}),
        "create general": reverse("decisions:create", kwargs={"slug": group.slug})
        + "?kind=general",
        "detail": detail_url(proposal),
    }


POST_ACTIONS = ["stance", "comment", "withdraw"]


@pytest.mark.parametrize("page", ["list", "create", "create general", "detail"])
def test_a_visitor_is_sent_to_log_in(client: Client, page: str) -> None:
    # given
    proposal = make_proposal()
    url = page_urls(proposal)[page]

    # when
    response = client.get(url)

    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login") + "?next=")


@pytest.mark.parametrize("page", ["list", "create", "create general", "detail"])
def test_a_non_member_is_refused(client: Client, page: str) -> None:
    # given
    proposal = make_proposal()
    client.force_login(UserFactory())

    # when
    response = client.get(page_urls(proposal)[page])

    # then
    assert response.status_code == 403


@pytest.mark.parametrize("action", POST_ACTIONS)
def test_a_visitor_cannot_act_on_a_proposal(client: Client, action: str) -> None:
    proposal = make_proposal()

    response = client.post(action_url(action, proposal), {"position": "agree", "text": "Hi"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert Stance.objects.count() == 0
    assert Comment.objects.count() == 0
    assert Proposal.objects.get().status == Proposal.Status.OPEN


@pytest.mark.parametrize("action", POST_ACTIONS)
def test_a_non_member_cannot_act_on_a_proposal(client: Client, action: str) -> None:
    proposal = make_proposal()
    client.force_login(UserFactory())

    response = client.post(action_url(action, proposal), {"position": "agree", "text": "Hi"})

    assert response.status_code == 403
    assert Stance.objects.count() == 0
    assert Comment.objects.count() == 0
    assert Proposal.objects.get().status == Proposal.Status.OPEN


def test_a_proposal_of_another_group_is_not_found(client: Client) -> None:
    proposal = make_proposal()
    other = deciding_group()
    client.force_login(other.created_by)

    response = client.get(
        reverse("decisions:detail", kwargs={"slug": other.slug, "pk": proposal.pk})
    )

    assert response.status_code == 404


def test_the_actions_take_only_post(client: Client) -> None:
    proposal = make_proposal()
    client.force_login(proposal.proposed_by)

    for action in POST_ACTIONS:
        assert client.get(action_url(action, proposal)).status_code == 405


# The list


def test_the_list_shows_open_proposals_first_with_my_stance(client: Client) -> None:
    # given
    group = deciding_group(rule="consent")
    reader = member_of(group)
    soon = make_proposal(group, title="Paint the hub", open_for=timedelta(days=2))
    later = make_proposal(group, title="Buy a freezer", open_for=timedelta(days=9))
    services.stance_take(proposal=soon, member=reader, position="agree")
    done = make_proposal(group, title="Move the pantry")
    services.proposal_withdraw(proposal=done, actor=done.proposed_by)
    client.force_login(reader)

    # when
    response = client.get(list_url(group))

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "2 open proposals" in html
    assert html.index("Paint the hub") < html.index("Buy a freezer") < html.index("Move the pantry")
    soon_card = html[html.index("Paint the hub") : html.index("Buy a freezer")]
    assert "Agree" in soon_card
    assert "You haven't taken a stance" not in soon_card
    later_card = html[html.index("Buy a freezer") : html.index("Closed proposals")]
    assert "You haven't taken a stance" in later_card
    assert "General" in later_card
    assert "in 1\xa0week, 1\xa0day" in later_card
    closed = html[html.index("Closed proposals") :]
    assert "Move the pantry" in closed
    assert "Withdrawn" in closed
    assert f'href="{reverse("decisions:create", args=[group.slug])}"' in html
    assert detail_url(later) in html


def test_the_list_says_why_a_closed_proposal_did_not_pass(client: Client) -> None:
    group = deciding_group(rule="consent")
    blocker = member_of(group)
    proposal = make_proposal(group, title="Close on Sundays")
    stances(proposal, [blocker], "block")
    make_due(proposal)
    services.proposals_close_due()
    client.force_login(blocker)

    html = client.get(list_url(group)).content.decode()

    assert "Close on Sundays" in html
    assert "Did not pass: blocked" in html


@pytest.mark.parametrize("count", [3, 30])
def test_the_list_costs_the_same_for_3_or_30_proposals(
    client: Client, django_assert_num_queries: Any, count: int
) -> None:
    # given
    group = deciding_group()
    reader = member_of(group)
    for n in range(count):
        proposal = make_proposal(group, proposer=reader)
        if n % 2:
            services.stance_take(proposal=proposal, member=reader, position="agree")
        if n % 3 == 0:
            services.proposal_withdraw(proposal=proposal, actor=reader)
    client.force_login(reader)
    client.get(list_url(group))

    # when / then: session, user, group, membership (to see, to propose), open proposals, my
    # stances, the count of closed ones and their page
    with django_assert_num_queries(9):
        response = client.get(list_url(group))
    assert response.status_code == 200


# A proposal


def test_the_detail_shows_the_proposal_the_rule_and_everyones_stances(client: Client) -> None:
    # given
    group = deciding_group(rule="consensus", quorum_percent=50)
    proposer = member_of(group, display_name="Priya")
    agreeing = member_of(group, display_name="Sam")
    disagreeing = member_of(group, display_name="Jo")
    proposal = make_proposal(
        group, proposer=proposer, title="Buy a freezer", text="For the fridge <b>overflow</b>."
    )
    stances(proposal, [agreeing], "agree")
    services.stance_take(
        proposal=proposal, member=disagreeing, position="disagree", reason="Too expensive"
    )
    services.comment_add(proposal=proposal, author=agreeing, text="Second hand is fine.")
    client.force_login(agreeing)

    # when
    response = client.get(detail_url(proposal))

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Buy a freezer</h1>" in html
    assert "For the fridge &lt;b&gt;overflow&lt;/b&gt;." in html
    assert "Priya" in html
    assert (
        "Consensus: a proposal passes when at least 50% of members take a stance, nobody "
        "blocks, and more members agree than disagree." in html
    )
    assert reverse("decisions:help", args=[group.slug]) in html
    assert "2 of 4 members took a stance." in html
    assert "The quorum is 2 members." in html
    assert "<li>Agree: 1</li>" in html
    assert "<li>Disagree: 1</li>" in html
    assert "<li>Block: 0</li>" in html
    assert "<strong>Jo</strong>: disagree" in html
    assert "Too expensive" in html
    assert "<strong>Sam</strong>: agree <small>(you)</small>" in html
    assert "Second hand is fine." in html
    assert "Change your stance" in html
    assert "the text cannot change any more" in html
    assert "Withdraw this proposal" not in html
    assert group.created_by.email not in html


def test_the_proposer_sees_withdraw_while_it_is_open(client: Client) -> None:
    proposal = make_proposal()
    client.force_login(proposal.proposed_by)

    html = client.get(detail_url(proposal)).content.decode()

    # withdrawing is asked for, then confirmed
    assert "<summary>Withdraw this proposal</summary>" in html
    assert '<button class="secondary">Yes, withdraw it</button>' in html
    assert action_url("withdraw", proposal) in html
    assert "Take your stance" in html


@pytest.mark.parametrize("count", [3, 30])
def test_the_detail_costs_the_same_for_3_or_30_stances_and_comments(
    client: Client, django_assert_num_queries: Any, count: int
) -> None:
    # given
    group = deciding_group()
    proposal = make_proposal(group)
    people = members_of(group, count)
    for n, member in enumerate(people):
        services.stance_take(
            proposal=proposal, member=member, position=["agree", "disagree"][n % 2], reason="x"
        )
        services.comment_add(proposal=proposal, author=member, text=f"Thought {n}")
    reader = people[0]
    client.force_login(reader)
    client.get(detail_url(proposal))

    # when / then: session, user, group, membership, the proposal, its stances and its
    # comments, membership for taking a stance and for commenting, the member count
    with django_assert_num_queries(10):
        response = client.get(detail_url(proposal))
    assert response.status_code == 200
    assert f"Thought {count - 1}" in response.content.decode()


def test_the_detail_closes_a_proposal_whose_time_is_up(client: Client) -> None:
    # given
    group = deciding_group(rule="consent")
    reader = member_of(group)
    proposal = make_proposal(group, title="Open on Sundays")
    stances(proposal, [reader], "agree")
    make_due(proposal)
    client.force_login(reader)

    # when
    response = client.get(detail_url(proposal))

    # then
    html = response.content.decode()
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.PASSED
    assert "It passed." in html
    assert "1 of 3 members took a stance." in html
    assert "Take your stance" not in html
    assert "Change your stance" not in html
    assert "Withdraw this proposal" not in html


def test_a_failed_first_round_shows_the_fallback_vote(client: Client) -> None:
    group = deciding_group(rule="consensus_then_vote", majority_percent=60)
    reader = member_of(group)
    proposal = make_proposal(group)
    stances(proposal, [reader], "block")
    make_due(proposal)
    client.force_login(reader)

    html = client.get(detail_url(proposal)).content.decode()

    proposal.refresh_from_db()
    assert proposal.round == 2
    assert proposal.status == Proposal.Status.OPEN
    assert "Fallback vote" in html
    assert "a block counts as disagreeing" in html
    assert "at least 60% of those who agree, disagree or block agree" in html
    assert "0 of 3 members took a stance." in html
    assert "Take your stance" in html


def test_a_proposal_that_did_not_pass_says_why(client: Client) -> None:
    group = deciding_group(rule="consensus", quorum_percent=100)
    reader = member_of(group)
    proposal = make_proposal(group)
    stances(proposal, [reader], "agree")
    make_due(proposal)
    client.force_login(reader)

    html = client.get(detail_url(proposal)).content.decode()

    assert "It did not pass: too few members took a stance." in html


# Taking a stance


def test_a_member_takes_and_changes_a_stance(client: Client) -> None:
    # given
    proposal = make_proposal()
    member = member_of(proposal.group)
    client.force_login(member)

    # when
    first = client.post(action_url("stance", proposal), {"position": "agree"})
    second = client.post(
        action_url("stance", proposal), {"position": "block", "reason": "Not safe"}
    )

    # then
    assert first.status_code == second.status_code == 302
    assert second["Location"] == detail_url(proposal)
    stance = Stance.objects.get()
    assert (stance.member, stance.position, stance.reason) == (member, "block", "Not safe")
    assert messages_of(second)[-1] == (
        "Your stance is recorded: block. You can change it until the proposal closes."
    )
    html = client.get(detail_url(proposal)).content.decode()
    assert re.search(r"<input [^>]*value=\"block\"[^>]*checked", html)


@pytest.mark.parametrize("position", ["disagree", "block"])
def test_disagreeing_or_blocking_needs_a_reason(client: Client, position: str) -> None:
    proposal = make_proposal()
    client.force_login(member_of(proposal.group))

    response = client.post(action_url("stance", proposal), {"position": position, "reason": " "})

    assert response.status_code == 200
    assert Stance.objects.count() == 0
    assert response.context["stance_form"].errors == {
        "reason": ["Give a reason when you disagree or block, so the group can respond."]
    }
    assert "Give a reason when you disagree or block" in response.content.decode()


def test_an_unknown_stance_is_a_form_error(client: Client) -> None:
    proposal = make_proposal()
    client.force_login(member_of(proposal.group))

    response = client.post(action_url("stance", proposal), {"position": "maybe"})

    assert response.status_code == 200
    assert list(response.context["stance_form"].errors) == ["position"]
    assert Stance.objects.count() == 0


def test_a_stance_after_closing_time_is_refused_and_the_proposal_shows_closed(
    client: Client,
) -> None:
    group = deciding_group(rule="consent")
    member = member_of(group)
    proposal = make_proposal(group)
    make_due(proposal)
    client.force_login(member)

    response = client.post(action_url("stance", proposal), {"position": "agree"})

    assert response.status_code == 200
    assert Stance.objects.count() == 0
    html = response.content.decode()
    assert "It passed." in html
    assert "Take your stance" not in html


# Comments and withdrawing


def test_a_member_comments(client: Client) -> None:
    proposal = make_proposal()
    member = member_of(proposal.group)
    client.force_login(member)

    response = client.post(action_url("comment", proposal), {"text": "  I can help paint.  "})

    comment = Comment.objects.get()
    assert (comment.author, comment.text) == (member, "I can help paint.")
    assert response.status_code == 302
    assert response["Location"] == f"{detail_url(proposal)}#comment-{comment.pk}"


def test_an_empty_comment_is_a_form_error(client: Client) -> None:
    proposal = make_proposal()
    client.force_login(member_of(proposal.group))

    response = client.post(action_url("comment", proposal), {"text": ""})

    assert response.status_code == 200
    assert response.context["comment_form"].errors == {"text": ["This field is required."]}
    assert Comment.objects.count() == 0


def test_the_proposer_withdraws(client: Client) -> None:
    proposal = make_proposal()
    client.force_login(proposal.proposed_by)

    response = client.post(action_url("withdraw", proposal))

    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.WITHDRAWN
    html = client.get(detail_url(proposal)).content.decode()
    assert "The proposer withdrew it." in html
    assert "Withdraw this proposal" not in html


def test_another_member_cannot_withdraw(client: Client) -> None:
    proposal = make_proposal()
    client.force_login(member_of(proposal.group))

    response = client.post(action_url("withdraw", proposal))

    assert response.status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.OPEN


def test_a_closed_proposal_cannot_be_withdrawn(client: Client) -> None:
    proposal = make_proposal()
    services.proposal_withdraw(proposal=proposal, actor=proposal.proposed_by)
    client.force_login(proposal.proposed_by)

    response = client.post(action_url("withdraw", proposal))

    assert response.status_code == 302
    assert messages_of(response) == ["This proposal has already closed."]
