"""The proposer may reword a proposal until the first stance is in; then its text is frozen."""

import re

import pytest
from django.core.exceptions import PermissionDenied

from mutualaid.common.errors import ApplicationError
from mutualaid.decisions import permissions, services
from mutualaid.decisions.models import Proposal
from mutualaid.decisions.tests.factories import (
    close,
    deciding_group,
    make_proposal,
    member_of,
    stances,
)

pytestmark = pytest.mark.django_db

FROZEN = re.escape(
    "Members have taken stances on this text, so it can no longer change. Withdraw it and "
    "propose again."
)


def test_the_proposer_rewords_a_proposal_before_anyone_takes_a_stance():
    group = deciding_group()
    proposer = member_of(group)
    proposal = make_proposal(group, proposer=proposer, title="Buy a bike")

    edited = services.proposal_edit(
        proposal=proposal, actor=proposer, title="Buy a cargo bike", text="  For deliveries.  "
    )

    stored = Proposal.objects.get(pk=proposal.pk)
    assert (edited.title, edited.text) == ("Buy a cargo bike", "For deliveries.")
    assert (stored.title, stored.text) == ("Buy a cargo bike", "For deliveries.")


def test_the_text_is_frozen_once_the_first_stance_is_in():
    group = deciding_group()
    proposer, voter = member_of(group), member_of(group)
    proposal = make_proposal(group, proposer=proposer, title="Buy a bike")
    stances(proposal, [voter], "agree")

    assert permissions.can_edit(proposer, proposal) is False
    with pytest.raises(ApplicationError, match=FROZEN):
        services.proposal_edit(proposal=proposal, actor=proposer, title="Buy a car", text="Now.")
    assert Proposal.objects.get(pk=proposal.pk).title == "Buy a bike"


def test_only_the_proposer_edits_and_only_while_open():
    group = deciding_group()
    proposer, other = member_of(group), member_of(group)
    proposal = make_proposal(group, proposer=proposer, title="Buy a bike")

    with pytest.raises(PermissionDenied):
        services.proposal_edit(proposal=proposal, actor=other, title="Mine now", text="Yes.")
    close(proposal)
    with pytest.raises(PermissionDenied):
        services.proposal_edit(proposal=proposal, actor=proposer, title="Too late", text="No.")
    assert Proposal.objects.get(pk=proposal.pk).title == "Buy a bike"


@pytest.mark.parametrize(
    ("title", "text", "message"),
    [
        ("", "Some text", "Please give the proposal a title."),
        ("A title", "   ", "Please say what you propose."),
        ("A" * 201, "Some text", "A title can be at most 200 characters."),
        ("A title", "bad\x00text", "Please remove the unusual characters from the text."),
    ],
)
def test_an_edit_with_bad_text_changes_nothing(title, text, message):
    group = deciding_group()
    proposer = member_of(group)
    proposal = make_proposal(group, proposer=proposer, title="Buy a bike")

    with pytest.raises(ApplicationError, match=f"^{re.escape(message)}$"):
        services.proposal_edit(proposal=proposal, actor=proposer, title=title, text=text)
    assert Proposal.objects.get(pk=proposal.pk).title == "Buy a bike"
