"""Rewording a proposal from its page, until the first stance is in."""

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from mutualaid.decisions.models import Proposal
from mutualaid.decisions.tests.factories import make_proposal, member_of, stances

pytestmark = pytest.mark.django_db


def edit_url(proposal: Proposal) -> str:
    return reverse("decisions:edit", kwargs={"slug": proposal.group.slug, "pk": proposal.pk})


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_proposer_rewords_it_from_its_page(client: Client) -> None:
    proposal = make_proposal(title="Buy a bike")
    client.force_login(proposal.proposed_by)

    page = client.get(proposal.get_absolute_url()).content.decode()
    form = client.get(edit_url(proposal))
    response = client.post(edit_url(proposal), {"title": "Buy a cargo bike", "text": "Deliveries."})

    assert edit_url(proposal) in page
    assert form.status_code == 200
    assert 'value="Buy a bike"' in form.content.decode()
    assert (response.status_code, response.url) == (302, proposal.get_absolute_url())
    assert messages_of(response) == ["The proposal is reworded."]
    proposal.refresh_from_db()
    assert (proposal.title, proposal.text) == ("Buy a cargo bike", "Deliveries.")


def test_an_empty_title_is_a_form_error_and_changes_nothing(client: Client) -> None:
    proposal = make_proposal(title="Buy a bike")
    client.force_login(proposal.proposed_by)

    response = client.post(edit_url(proposal), {"title": "", "text": "Deliveries."})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.title == "Buy a bike"


def test_after_the_first_stance_the_text_is_frozen(client: Client) -> None:
    proposal = make_proposal(title="Buy a bike")
    stances(proposal, [member_of(proposal.group)], "agree")
    client.force_login(proposal.proposed_by)

    page = client.get(proposal.get_absolute_url()).content.decode()
    response = client.post(edit_url(proposal), {"title": "Buy a car", "text": "Now."})

    assert edit_url(proposal) not in page
    assert (response.status_code, response.url) == (302, proposal.get_absolute_url())
    assert messages_of(response) == [
        "Members have taken stances on this text, so it can no longer change. Withdraw it and "
        "propose again."
    ]
    proposal.refresh_from_db()
    assert proposal.title == "Buy a bike"


def test_another_member_cannot_reword_it(client: Client) -> None:
    proposal = make_proposal(title="Buy a bike")
    client.force_login(member_of(proposal.group))

    assert client.get(edit_url(proposal)).status_code == 403
    assert client.post(edit_url(proposal), {"title": "Mine", "text": "Yes."}).status_code == 403
    proposal.refresh_from_db()
    assert proposal.title == "Buy a bike"
