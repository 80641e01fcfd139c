"""Suggested volunteers on a request's page: the best five with their reasons for dispatchers, an
"Ask them" button for each, why nobody fits when nobody does, and nothing of it for anyone
else."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from mutualaid.dispatch.selectors import LEFTOVER_REASONS, request_suggestions
from mutualaid.dispatch.services import member_duty_start
from mutualaid.dispatch.tests.volunteer_helpers import edit_profile, shared_skill
from mutualaid.matching import Reason
from mutualaid.needs import services as needs_services
from mutualaid.needs.models import Assignment, Urgency
from mutualaid.needs.tests.factories import (
    claimed_request,
    dispatcher_of,
    make_group,
    make_request,
    member_of,
)
from mutualaid.people.models import User, availability_bit

pytestmark = pytest.mark.django_db

# About 1.1 km of latitude per 0.01 degree: homes due north of the request at these latitudes.
REQUEST_POINT = {"latitude": Decimal("53.45"), "longitude": Decimal("-2.22")}


def detail_url(request) -> str:
    return reverse("needs:request_detail", kwargs={"pk": request.pk})


def at(latitude: str, **fields):
    return {
        "home_latitude": Decimal(latitude),
        "home_longitude": Decimal("-2.22"),
        "travel_km": 10,
        **fields,
    }


def quiet_group(**fields):
    """A group and a dispatcher of it, where the members made along the way (its founder, the
    dispatcher and the two who gave them the role) gave no home, so only the members a test
    adds can be suggested."""
    group = make_group(**fields)
    dispatcher = dispatcher_of(group)
    for member in User.objects.filter(memberships__group=group):
        edit_profile(member, home_latitude=None, home_longitude=None)
    return group, dispatcher


def names(suggestions) -> list[str]:
    return [suggestion.member.public_name for suggestion in suggestions]


def test_the_five_best_come_on_duty_first_then_nearest():
    group, _dispatcher = quiet_group()
    far_on_duty = member_of(group, display_name="Far but on duty", **at("53.48"))
    member_duty_start(member=far_on_duty, hours=2)
    for n, latitude in enumerate(["53.46", "53.45", "53.47", "53.46", "53.47", "53.49"]):
        member_of(group, display_name=f"Neighbour at {latitude} ({n})", **at(latitude))
    request = make_request(group, **REQUEST_POINT)

    suggestions = request_suggestions(request=request).suggestions

    assert names(suggestions)[0] == "Far but on duty"
    assert len(suggestions) == 5
    assert [round(s.candidate.distance_km, 1) for s in suggestions[1:]] == [0.0, 1.1, 1.1, 2.2]


def test_each_suggestion_says_why():
    group, _dispatcher = quiet_group()
    driving = shared_skill("Driving")
    busy = member_of(group, display_name="Busy", **at("53.46", languages=["pl"]))
    edit_profile(busy, skills=[driving], max_open_tasks=5)
    for _ in range(3):
        claimed_request(group, member=busy)
    member_duty_start(member=busy, hours=2)
    once = member_of(group, display_name="Once", **at("53.47", languages=["pl", "en"]))
    edit_profile(once, skills=[driving])
    claimed_request(group, member=once)
    fresh = member_of(group, display_name="Fresh", **at("53.45", languages=["pl"]))
    edit_profile(fresh, skills=[driving])
    member_of(group, display_name="Cannot drive", **at("53.45", languages=["pl"]))
    request = make_request(group, category="ride", language="pl", **REQUEST_POINT)

    suggestions = request_suggestions(request=request).suggestions

    assert [(s.member.public_name, s.reasons) for s in suggestions] == [
        (
            "Busy",
            [
                "1.0 km away",
                "on duty",
                "speaks Polish",
                "has Driving",
                "3 tasks in the last four weeks",
            ],
        ),
        (
            "Fresh",
            ["0.5 km away", "speaks Polish", "has Driving", "no tasks in the last four weeks"],
        ),
        (
            "Once",
            ["2.0 km away", "speaks Polish", "has Driving", "1 task in the last four weeks"],
        ),
    ]


def test_a_request_needed_today_says_they_are_free_then():
    group, _dispatcher = quiet_group()
    today = timezone.localdate().weekday()
    member_of(group, **at("53.45", availability=availability_bit(today, 1)))
    request = make_request(group, urgency=Urgency.TODAY, **REQUEST_POINT)

    (suggestion,) = request_suggestions(request=request).suggestions

    assert "usually free when it is needed" in suggestion.reasons


def test_excluded_members_are_not_suggested():
    group, _dispatcher = quiet_group()
    left_out = member_of(group, **at("53.45"))
    other = member_of(group, **at("53.46"))
    request = make_request(group, **REQUEST_POINT)

    suggestions = request_suggestions(
        request=request, exclude={left_out.pk, group.created_by_id}
    ).suggestions

    assert [s.member.pk for s in suggestions] == [other.pk]


# Why nobody fits


def _leftover_on_page(client, request, dispatcher) -> str:
    client.force_login(dispatcher)
    response = client.get(detail_url(request))
    assert response.status_code == 200
    assert response.context["suggestions"] == []
    return response.context["leftover_reason"]


def test_nobody_in_range_is_said_in_plain_words(client):
    group, dispatcher = quiet_group()
    member_of(group, **at("53.60", travel_km=3))
    request = make_request(group, **REQUEST_POINT)

    assert _leftover_on_page(client, request, dispatcher) == str(
        LEFTOVER_REASONS[Reason.NOBODY_IN_RANGE]
    )


def test_nobody_with_the_skill_is_said_in_plain_words(client):
    group, dispatcher = quiet_group()
    shared_skill("Driving")
    member_of(group, **at("53.45"))
    request = make_request(group, category="ride", **REQUEST_POINT)

    assert _leftover_on_page(client, request, dispatcher) == str(
        LEFTOVER_REASONS[Reason.NO_SKILL_OR_LANGUAGE]
    )


def test_nobody_free_in_time_is_said_in_plain_words(client):
    group, dispatcher = quiet_group()
    tomorrow = (timezone.localdate().weekday() + 1) % 7
    member_of(group, **at("53.45", availability=availability_bit(tomorrow, 0)))
    request = make_request(group, urgency=Urgency.TODAY, **REQUEST_POINT)

    assert _leftover_on_page(client, request, dispatcher) == str(
        LEFTOVER_REASONS[Reason.NOT_AVAILABLE]
    )


def test_everyone_at_capacity_is_said_in_plain_words(client):
    group, dispatcher = quiet_group()
    member = member_of(group, **at("53.45"))
    edit_profile(member, max_open_tasks=1)
    claimed_request(group, member=member)
    request = make_request(group, **REQUEST_POINT)

    reason = _leftover_on_page(client, request, dispatcher)

    assert reason == str(LEFTOVER_REASONS[Reason.AT_CAPACITY])
    assert (
        reason
        == "Everyone nearby who could help already holds as many requests as they said they can."
    )


# The page


def test_a_dispatcher_sees_the_suggestions_and_asks_one(client):
    group, dispatcher = quiet_group()
    volunteer = member_of(group, display_name="Asha <b>", **at("53.45"))
    request = make_request(group, **REQUEST_POINT)
    client.force_login(dispatcher)

    html = client.get(detail_url(request)).content.decode()
    assert "Suggested volunteers" in html
    assert "Asha &lt;b&gt;" in html
    assert f'<input type="hidden" name="member" value="{volunteer.pk}">' in html

    response = client.post(
        reverse("needs:request_assign", kwargs={"pk": request.pk}), {"member": volunteer.pk}
    )

    assert response.status_code == 302
    assignment = Assignment.objects.get(request=request)
    assert (assignment.member_id, assignment.assigned_by_id, assignment.answer) == (
        volunteer.pk,
        dispatcher.pk,
        Assignment.Answer.PENDING,
    )


def test_while_a_member_is_asked_no_one_else_is_suggested(client):
    group, dispatcher = quiet_group()
    asked = member_of(group, display_name="Asked", **at("53.45"))
    request = make_request(group, **REQUEST_POINT)
    needs_services.request_assign(request=request, member=asked, dispatcher=dispatcher)
    client.force_login(dispatcher)

    response = client.get(detail_url(request))

    assert "suggestions" not in response.context
    assert "Waiting for Asked to answer." in response.content.decode()


def test_a_member_who_declined_is_not_suggested_again(client):
    group, dispatcher = quiet_group()
    declined = member_of(group, **at("53.45"))
    other = member_of(group, **at("53.46"))
    request = make_request(group, **REQUEST_POINT)
    assignment = needs_services.request_assign(
        request=request, member=declined, dispatcher=dispatcher
    )
    needs_services.assignment_decline(assignment=assignment, member=declined)
    client.force_login(dispatcher)

    response = client.get(detail_url(request))

    assert [s.member.pk for s in response.context["suggestions"]] == [other.pk]


def test_a_member_who_let_the_question_lapse_is_not_suggested_again(client):
    group, dispatcher = quiet_group()
    lapsed = member_of(group, **at("53.45"))
    other = member_of(group, **at("53.46"))
    request = make_request(group, **REQUEST_POINT)
    assignment = needs_services.request_assign(
        request=request, member=lapsed, dispatcher=dispatcher
    )
    Assignment.objects.filter(pk=assignment.pk).update(answer=Assignment.Answer.EXPIRED)
    client.force_login(dispatcher)

    response = client.get(detail_url(request))

    assert [s.member.pk for s in response.context["suggestions"]] == [other.pk]


def test_the_member_who_asked_for_help_is_not_suggested(client):
    group, dispatcher = quiet_group()
    asker = member_of(group, **at("53.45"))
    other = member_of(group, **at("53.46"))
    request = make_request(group, created_by=asker, channel="api", **REQUEST_POINT)
    client.force_login(dispatcher)

    response = client.get(detail_url(request))

    assert [s.member.pk for s in response.context["suggestions"]] == [other.pk]


@pytest.mark.parametrize("who", ["member", "holder", "expired_dispatcher"])
def test_only_dispatchers_see_suggestions(client, who):
    group, _dispatcher = quiet_group()
    member_of(group, display_name="Suggestable", **at("53.45"))
    request = make_request(group, **REQUEST_POINT)
    if who == "holder":
        request, viewer = claimed_request(group)
    elif who == "expired_dispatcher":
        viewer = dispatcher_of(group, days=1)
        from mutualaid.groups.models import RoleGrant

        RoleGrant.objects.filter(holder=viewer).update(
            granted_at=timezone.now() - timedelta(days=3),
            expires_at=timezone.now() - timedelta(seconds=1),
        )
    else:
        viewer = member_of(group)
    client.force_login(viewer)

    response = client.get(detail_url(request))

    assert response.status_code == 200
    assert "suggestions" not in response.context
    assert "Suggested volunteers" not in response.content.decode()


def test_a_member_cannot_ask_anyone(client):
    group, _dispatcher = quiet_group()
    member = member_of(group, **at("53.45"))
    request = make_request(group, **REQUEST_POINT)
    client.force_login(member)

    response = client.post(
        reverse("needs:request_assign", kwargs={"pk": request.pk}), {"member": member.pk}
    )

    assert response.status_code == 403
    assert Assignment.objects.count() == 0


def test_asking_a_member_who_left_is_refused(client):
    from mutualaid.groups import services as group_services

    group, dispatcher = quiet_group()
    gone = member_of(group, **at("53.45"))
    group_services.group_leave(group=group, member=gone)
    request = make_request(group, **REQUEST_POINT)
    client.force_login(dispatcher)

    response = client.post(
        reverse("needs:request_assign", kwargs={"pk": request.pk}), {"member": gone.pk}
    )

    assert response.status_code == 400
    assert "You can only ask a member of this group." in response.content.decode()
    assert Assignment.objects.count() == 0


def _queries_of_the_page(client, django_assert_num_queries, members: int) -> None:
    group, dispatcher = quiet_group()
    for n in range(members):
        member_of(group, **at(f"53.{45 + n % 5}"))
    request = make_request(group, **REQUEST_POINT)
    client.force_login(dispatcher)
    client.get(detail_url(request))  # the index is built once per process
    # The page's own queries, and for the suggestions: who may see them, who declined, the
    # index's changes and the five members chosen; however many members the group has.
    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(detail_url(request))
    assert len(response.context["suggestions"]) == 5


PAGE_QUERIES = 20


@pytest.mark.parametrize("members", [6, 40])
def test_the_page_has_a_fixed_number_of_queries(client, django_assert_num_queries, members):
    _queries_of_the_page(client, django_assert_num_queries, members)
