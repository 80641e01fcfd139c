"""The unmet-needs part of the group's report: where matching found nobody, by kind of help
and area, and why, so a group sees where it lacks volunteers."""

import pytest
from django.test import Client
from django.urls import reverse

from mutualaid.dispatch import services
from mutualaid.dispatch.tests.proposal_helpers import make_world, volunteer
from mutualaid.dispatch.tests.volunteer_helpers import shared_skill
from mutualaid.needs import services as needs_services
from mutualaid.needs.models import Request
from mutualaid.needs.tests.factories import make_request, member_of

pytestmark = pytest.mark.django_db


def row(*cells: object) -> str:
    return "".join(f"<td>{cell}</td>" for cell in cells)


def test_the_report_counts_leftover_reasons_by_kind_of_help_and_area(
    client: Client, django_assert_num_queries
):
    # given: nobody drives; one volunteer, busy after one shopping request, speaks no Polish
    world = make_world()
    shared_skill("Driving")
    helper = volunteer(world.group, 1, max_open_tasks=1, languages=["en"])
    make_request(world.group, category="ride", area_name="Rusholme")
    make_request(world.group, category="ride", area_name="Rusholme")
    make_request(world.group, category="ride", area_name="Longsight")
    make_request(world.group, category="shopping", area_name="Rusholme")
    make_request(world.group, category="shopping", area_name="Rusholme", language="pl")
    cancelled = make_request(world.group, category="ride", area_name="Levenshulme")
    taken_later = make_request(world.group, category="ride", area_name="Levenshulme")
    outcome = services.requests_match_all(group=world.group, dispatcher=world.dispatcher)
    assert len(outcome.proposals) == 1
    assert len(outcome.leftovers) == 6
    needs_services.request_cancel(request=cancelled, actor=world.dispatcher)
    needs_services.request_claim(request=taken_later, member=member_of(world.group))
    client.force_login(helper)

    # when
    with django_assert_num_queries(8):
        response = client.get(reverse("needs:report", kwargs={"slug": world.group.slug}))

    # then
    html = response.content.decode()
    assert (
        '<thead><tr><th scope="col">Kind of help</th><th scope="col">Area</th>'
        '<th scope="col">Requests</th><th scope="col">Nobody lives near enough</th>'
        '<th scope="col">Nobody near enough has the skill or speaks the language</th>'
        '<th scope="col">Nobody who fits is free when it is needed</th>'
        '<th scope="col">Everyone who fits already has enough to do</th>'
        '<th scope="col">Everyone who fits was asked, and nobody could take it</th></tr></thead>'
    ) in html
    rows = [
        '<tr><th scope="row">A ride</th><td>Rusholme</td>' + row(2, 0, 2, 0, 0, 0) + "</tr>",
        '<tr><th scope="row">A ride</th><td>Longsight</td>' + row(1, 0, 1, 0, 0, 0) + "</tr>",
        '<tr><th scope="row">Shopping</th><td>Rusholme</td>' + row(1, 0, 1, 0, 0, 0) + "</tr>",
    ]
    assert "<tbody>\n" + "\n".join(rows) + "\n</tbody>" in html
    assert Request.objects.exclude(leftover_reason="").count() == 5


def test_a_report_without_leftovers_says_so(client: Client):
    world = make_world()
    client.force_login(world.dispatcher)

    html = client.get(reverse("needs:report", kwargs={"slug": world.group.slug})).content.decode()

    assert (
        "Matching has found a volunteer for every request it was asked about in these weeks."
    ) in html
