"""The pages a volunteer opens from a proposal's email: they work without logging in thanks to
the signed link, show no personal data, change nothing on GET, and refuse links that are
altered, made for someone else or out of time."""

import re
from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mutualaid.dispatch import answer_links, services
from mutualaid.dispatch.tests.proposal_helpers import World, make_world, volunteer
from mutualaid.needs import services as needs_services
from mutualaid.needs.models import Assignment, Claim, Request, Urgency
from mutualaid.needs.tests.factories import make_request, member_of
from mutualaid.people.models import User

pytestmark = pytest.mark.django_db

PERSONAL = ("Margaret", "Okafor", "7700", "margaret@", "Acacia", "Inhaler", "M19 2QX")


class Proposal:
    def __init__(self, world: World, first: User, second: User, request: Request) -> None:
        self.world, self.first, self.second, self.request = world, first, second, request
        self.assignment = Assignment.objects.get(request=request, answer="pending")

    def url(self, answer: str = "") -> str:
        return answer_links.answer_path(self.assignment, answer=answer)


@pytest.fixture
def proposal() -> Proposal:
    world = make_world()
    first = volunteer(world.group, 1, display_name="Kettle On")
    second = volunteer(world.group, 2)
    request = make_request(
        world.group,
        category="prescription",
        name="Margaret Okafor",
        phone="+44 7700 900123",
        email="margaret@example.org",
        address="14 Acacia Avenue, M19 2QX",
        description="Inhaler from the chemist",
        area_name="Levenshulme",
        urgency=Urgency.FLEXIBLE,
    )
    services.requests_match_all(group=world.group, dispatcher=world.dispatcher)
    return Proposal(world, first, second, request)


def answer_of(proposal: Proposal) -> str:
    proposal.assignment.refresh_from_db()
    return proposal.assignment.answer


@pytest.mark.parametrize("answer", ["", "accept", "decline"])
def test_opening_a_link_shows_the_request_without_personal_data_and_changes_nothing(
    client: Client, proposal: Proposal, answer: str
):
    response = client.get(proposal.url(answer))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Could you take this request?</h1>" in html
    assert "<dd>Prescription pickup</dd>" in html
    assert "Levenshulme · about 1 km away" in html
    for personal in PERSONAL:
        assert personal not in html
    accept_button = "Yes, I'll take it</button>"
    decline_button = "No, I can't</button>"
    assert (accept_button in html) == (answer != "decline")
    assert (decline_button in html) == (answer != "accept")
    assert "no-cache" in response["Cache-Control"]
    assert answer_of(proposal) == "pending"
    assert not Claim.objects.exists()


def test_accepting_without_logging_in_takes_the_request_and_points_to_its_page(
    client: Client, proposal: Proposal
):
    response = client.post(proposal.url("accept"))

    assert response.status_code == 200
    detail = reverse("needs:request_detail", kwargs={"pk": proposal.request.pk})
    html = response.content.decode()
    assert "<h1>Thank you: the request is yours</h1>" in html
    assert f'href="{detail}"' in html
    assert answer_of(proposal) == "accepted"
    proposal.request.refresh_from_db()
    assert (proposal.request.status, proposal.request.claimed_by) == ("claimed", proposal.first)
    # the contact details are behind the login
    assert client.get(detail).status_code == 302


def test_accepting_logged_in_goes_to_the_request_page(client: Client, proposal: Proposal):
    client.force_login(proposal.first)

    response = client.post(proposal.url("accept"))

    assert response.status_code == 302
    assert response["Location"] == reverse(
        "needs:request_detail", kwargs={"pk": proposal.request.pk}
    )
    assert answer_of(proposal) == "accepted"


def test_declining_passes_the_request_to_the_next_volunteer(client: Client, proposal: Proposal):
    response = client.post(proposal.url("decline"), {"reason": "Away until Monday"})

    assert response.status_code == 200
    assert "<h1>Thank you for answering</h1>" in response.content.decode()
    proposal.assignment.refresh_from_db()
    assert (proposal.assignment.answer, proposal.assignment.decline_reason) == (
        "declined",
        "Away until Monday",
    )
    following = Assignment.objects.get(request=proposal.request, answer="pending")
    assert following.member == proposal.second


def test_a_decline_reason_too_long_is_shown_back_and_nothing_changes(
    client: Client, proposal: Proposal
):
    response = client.post(proposal.url("decline"), {"reason": "x" * 501})

    assert response.status_code == 400
    assert answer_of(proposal) == "pending"


def test_the_forms_carry_csrf_protection_for_a_volunteer_not_logged_in(proposal: Proposal):
    browser = Client(enforce_csrf_checks=True)

    refused = browser.post(proposal.url("accept"))
    page = browser.get(proposal.url("accept")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    accepted = browser.post(proposal.url("accept"), {"csrfmiddlewaretoken": token})

    assert refused.status_code == 403
    assert accepted.status_code == 200
    assert answer_of(proposal) == "accepted"


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_link_for_another_member_is_refused(client: Client, proposal: Proposal, method: str):
    # signed by the site, but naming the second volunteer for the first one's proposal
    forged = signing.dumps(
        [
            proposal.assignment.pk,
            proposal.second.pk,
            int(proposal.assignment.expires_at.timestamp()),
        ],
        salt=answer_links.SALT,
    )

    response = getattr(client, method)(
        reverse("dispatch:proposal_accept", kwargs={"token": forged})
    )

    assert response.status_code == 403
    assert answer_of(proposal) == "pending"


@pytest.mark.parametrize("method", ["get", "post"])
def test_someone_else_logged_in_cannot_use_the_link(
    client: Client, proposal: Proposal, method: str
):
    client.force_login(proposal.second)

    response = getattr(client, method)(proposal.url("accept"))

    assert response.status_code == 403
    assert answer_of(proposal) == "pending"


@pytest.mark.parametrize(
    "token",
    ["nonsense", "WzEsMiwzXQ:1t:abc", "x" * 300],
)
def test_an_altered_link_is_not_found(client: Client, proposal: Proposal, token: str):
    page = reverse("dispatch:proposal_answer", kwargs={"token": token})
    accept = reverse("dispatch:proposal_accept", kwargs={"token": token})

    assert client.get(page).status_code == 404
    assert client.post(accept).status_code == 404
    assert answer_of(proposal) == "pending"


def test_a_tampered_link_is_not_found(client: Client, proposal: Proposal):
    token = answer_links.make_token(proposal.assignment)
    value, _sep, signature = token.rpartition(":")
    tampered = f"{value}:{signature[::-1]}"

    response = client.post(reverse("dispatch:proposal_accept", kwargs={"token": tampered}))

    assert response.status_code == 404
    assert answer_of(proposal) == "pending"


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_link_out_of_time_is_gone(client: Client, proposal: Proposal, method: str):
    url = proposal.url("accept")
    Assignment.objects.filter(pk=proposal.assignment.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    expired = answer_links.answer_path(
        Assignment.objects.get(pk=proposal.assignment.pk), answer="accept"
    )

    response = getattr(client, method)(expired)

    assert response.status_code == 410
    assert "<h1>This link has expired</h1>" in response.content.decode()
    assert answer_of(proposal) == "pending"
    assert not Claim.objects.exists()
    # the link sent before names the old time, which has not passed: still usable
    assert client.get(url).status_code == 200


def test_a_link_to_a_dispatchers_own_ask_is_not_found(client: Client):
    world = make_world()
    member = member_of(world.group)
    asked = needs_services.request_assign(
        request=make_request(world.group), member=member, dispatcher=world.dispatcher
    )
    Assignment.objects.filter(pk=asked.pk).update(expires_at=timezone.now() + timedelta(hours=1))
    asked.refresh_from_db()
    token = answer_links.make_token(asked)

    response = client.get(reverse("dispatch:proposal_answer", kwargs={"token": token}))

    assert response.status_code == 404


def test_a_proposal_already_answered_says_so_and_cannot_be_answered_again(
    client: Client, proposal: Proposal
):
    needs_services.assignment_decline(assignment=proposal.assignment, member=proposal.first)

    page = client.get(proposal.url())
    again = client.post(proposal.url("accept"))

    assert page.status_code == 200
    html = page.content.decode()
    assert "<h1>This request is no longer waiting for your answer</h1>" in html
    assert "</button></form>" not in html.split("<main")[1].split("</main>")[0]
    assert again.status_code == 409
    assert "This request is no longer waiting for your answer." in again.content.decode()
    assert not Claim.objects.exists()


def test_a_request_taken_by_someone_else_meanwhile_cannot_be_accepted(
    client: Client, proposal: Proposal
):
    needs_services.request_claim(request=proposal.request, member=member_of(proposal.world.group))

    response = client.post(proposal.url("accept"))

    assert response.status_code == 409
    assert Claim.objects.get().member != proposal.first
