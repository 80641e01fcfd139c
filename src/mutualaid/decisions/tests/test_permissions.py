"""Who may read, propose, take a stance, withdraw and comment; every rule with its refusals."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from freezegun import freeze_time

from mutualaid.decisions import permissions, services
from mutualaid.decisions.tests.factories import close, deciding_group, make_proposal, member_of
from mutualaid.groups import services as group_services
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposal():
    return make_proposal(deciding_group())


def test_members_view_and_propose(proposal):
    member = member_of(proposal.group)
    assert permissions.can_view_proposals(member, proposal.group)
    assert permissions.can_propose(member, proposal.group)


@pytest.mark.parametrize("who", ["anonymous", "outsider", "member_elsewhere", "left"])
def test_others_neither_view_nor_propose_nor_stance_nor_comment(proposal, who):
    group = proposal.group
    if who == "anonymous":
        user = AnonymousUser()
    elif who == "outsider":
        user = UserFactory()
    elif who == "member_elsewhere":
        user = member_of(deciding_group())
    else:
        user = member_of(group)
        group_services.group_leave(group=group, member=user)
    assert not permissions.can_view_proposals(user, group)
    assert not permissions.can_propose(user, group)
    assert not permissions.can_take_stance(user, proposal)
    assert not permissions.can_comment(user, proposal)
    assert not permissions.can_withdraw(user, proposal)


def test_members_take_a_stance_only_while_it_is_open(proposal):
    member = member_of(proposal.group)
    assert permissions.can_take_stance(member, proposal)
    with freeze_time(proposal.closes_at + timedelta(seconds=1)):
        assert not permissions.can_take_stance(member, proposal)
    close(proposal)
    assert not permissions.can_take_stance(member, proposal)


def test_members_comment_on_closed_proposals_too(proposal):
    member = member_of(proposal.group)
    close(proposal)
    assert permissions.can_comment(member, proposal)


def test_only_the_proposer_withdraws_and_only_while_open(proposal):
    other = member_of(proposal.group)
    assert permissions.can_withdraw(proposal.proposed_by, proposal)
    assert not permissions.can_withdraw(other, proposal)
    assert not permissions.can_withdraw(proposal.group.created_by, proposal)
    with freeze_time(proposal.closes_at + timedelta(seconds=1)):
        assert not permissions.can_withdraw(proposal.proposed_by, proposal)


def test_a_withdrawn_proposal_cannot_be_withdrawn_again_or_stanced(proposal):
    services.proposal_withdraw(proposal=proposal, actor=proposal.proposed_by)
    assert not permissions.can_withdraw(proposal.proposed_by, proposal)
    assert not permissions.can_take_stance(member_of(proposal.group), proposal)


def test_a_proposer_whose_account_is_gone_leaves_nobody_to_withdraw(proposal):
    proposal.proposed_by = None
    assert not permissions.can_withdraw(AnonymousUser(), proposal)
    assert not permissions.can_withdraw(member_of(proposal.group), proposal)
