"""The dispatcher's "Match all open requests" page, and the whole journey through it: the
dispatcher matches, the volunteer answers from the email, the request is taken."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mutualaid.dispatch.tests.proposal_helpers import LOCMEM, NO_HOME, make_world, volunteer
from mutualaid.dispatch.tests.volunteer_helpers import shared_skill
from mutualaid.groups.models import Group, RoleGrant
from mutualaid.needs.models import Assignment, Request
from mutualaid.needs.tests.factories import dispatcher_of, make_request, member_of
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mail_to_the_outbox(settings):
    settings.EMAIL_DELIVERY_BACKEND = LOCMEM
    settings.SITE_URL = "https://aid.example.org"


def match_all_url(group: Group) -> str:
    return reverse("dispatch:match_all", kwargs={"slug": group.slug})


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("outsider", 403),
        ("member", 403),
        ("former_dispatcher", 403),
        ("dispatcher", 200),
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_only_the_groups_dispatchers_can_match_all(client: Client, role, status, method):
    world = make_world()
    volunteer(world.group, 1)
    make_request(world.group)
    former = dispatcher_of(world.group, **NO_HOME)
    RoleGrant.objects.filter(holder=former).update(
        granted_at=timezone.now() - timedelta(days=10),
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    users = {
        "anonymous": None,
        "outsider": UserFactory(),
        "member": member_of(world.group, **NO_HOME),
        "former_dispatcher": former,
        "dispatcher": world.dispatcher,
    }
    if users[role] is not None:
        client.force_login(users[role])

    response = getattr(client, method)(match_all_url(world.group))

    expected = 302 if (role, method) == ("dispatcher", "post") else status
    assert response.status_code == expected
    if role == "anonymous":
        assert response["Location"].startswith(reverse("account_login"))
    proposals = Assignment.objects.count()
    assert proposals == (1 if (role, method) == ("dispatcher", "post") else 0)


def test_the_page_counts_open_requests_and_available_volunteers(client: Client):
    world = make_world()
    volunteer(world.group, 1)
    volunteer(world.group, 2, max_open_tasks=0)
    volunteer(world.group, 3)
    make_request(world.group)
    make_request(world.group)
    client.force_login(world.dispatcher)

    html = client.get(match_all_url(world.group)).content.decode()

    assert "<h1>Match all open requests</h1>" in html
    assert '<dd id="open-count">2</dd>' in html
    assert '<dd id="available-count">2</dd>' in html
    assert '<dd id="waiting-count">0</dd>' in html
    assert "<dd>12 hours</dd>" in html
    assert "<button>Match all open requests</button>" in html


def test_after_matching_the_page_lists_each_proposal_and_each_leftover_with_its_reason(
    client: Client, django_assert_num_queries
):
    # given: three shopping requests and a ride; two volunteers with room for one each, and
    # nobody who drives
    world = make_world()
    shared_skill("Driving")
    first = volunteer(world.group, 1, display_name="Kettle On", max_open_tasks=1)
    second = volunteer(world.group, 2, display_name="Cargo Bike", max_open_tasks=1)
    shopping = [make_request(world.group, area_name="Levenshulme") for _ in range(3)]
    ride = make_request(world.group, category="ride", area_name="Rusholme")
    client.force_login(world.dispatcher)

    # when
    response = client.post(match_all_url(world.group))

    # then
    assert response.status_code == 302
    assert response["Location"] == match_all_url(world.group)
    proposals = {a.request_id: a for a in Assignment.objects.all()}
    assert sorted(a.member_id for a in proposals.values()) == sorted([first.pk, second.pk])
    (left_shopping,) = [request for request in shopping if request.pk not in proposals]
    # session, user, group, dispatcher role, the two counts, the index brought up to date
    # with the proposed volunteers (changes, members, skills), proposals, leftovers, categories:
    # the same for any number of proposals and leftovers
    with django_assert_num_queries(12):
        page = client.get(match_all_url(world.group))
    html = page.content.decode()
    assert (
        "2 requests were proposed to volunteers, who have been emailed a link to accept or "
        "decline them. 2 requests were left over."
    ) in html
    assert '<dd id="open-count">2</dd>' in html
    assert '<dd id="waiting-count">2</dd>' in html
    for request_id, assignment in proposals.items():
        reference = Request.objects.get(pk=request_id).reference
        assert (
            f'<a href="/requests/{request_id}/">Shopping</a><br><small>{reference} · '
            f"Levenshulme</small></th><td>{assignment.member.public_name}</td>"
        ) in html
    assert (
        f'<a href="/requests/{left_shopping.pk}/">Shopping</a><br><small>'
        f"{left_shopping.reference} · Levenshulme</small></th><td>Everyone who fits already "
        "has enough to do</td>"
    ) in html
    assert (
        f'<a href="/requests/{ride.pk}/">A ride</a><br><small>{ride.reference} · Rusholme'
        "</small></th><td>Nobody near enough has the skill or speaks the language</td>"
    ) in html


def test_matching_with_nothing_open_says_so(client: Client):
    world = make_world()
    client.force_login(world.dispatcher)

    html = client.get(match_all_url(world.group)).content.decode()

    assert "<button disabled>Match all open requests</button>" in html
    assert (
        "Nothing to match: no request is open, or every open one is waiting for a volunteer's "
        "answer." in html
    )


def test_a_dispatcher_matches_and_the_volunteer_accepts_from_the_email(
    client: Client, django_capture_on_commit_callbacks
):
    # given
    world = make_world()
    helper = volunteer(world.group, 1, email="helper@example.org")
    request = make_request(world.group, name="Margaret Okafor")
    client.force_login(world.dispatcher)
    mail.outbox.clear()

    # when: the dispatcher matches all from the page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(match_all_url(world.group))

    # and: the volunteer, not logged in, opens the accept link and presses the button
    (message,) = mail.outbox
    assert message.to == ["helper@example.org"]
    accept = re.search(r"https://aid\.example\.org(/dispatch/proposals/\S+/accept/)", message.body)
    volunteer_browser = Client()
    page = volunteer_browser.get(accept.group(1))
    assert page.status_code == 200
    assert "Margaret" not in page.content.decode()
    answered = volunteer_browser.post(accept.group(1))

    # then
    assert answered.status_code == 200
    request.refresh_from_db()
    assert (request.status, request.claimed_by) == ("claimed", helper)
    # and: once logged in, they see how to reach the person on the request's page
    volunteer_browser.force_login(helper)
    detail = volunteer_browser.get(reverse("needs:request_detail", kwargs={"pk": request.pk}))
    assert "Margaret Okafor" in detail.content.decode()
    # and: the dispatcher sees the proposal accepted
    html = client.get(match_all_url(world.group)).content.decode()
    assert f"<td>{helper.public_name}</td>" in html
    assert "<td>Accepted</td></tr>" in html
