"""A proposal declined or not answered in time passes to the next volunteer, until nobody is
left: then the request records why and the dispatchers hear of it. Accepting takes it."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from mutualaid.common.errors import ApplicationError
from mutualaid.dispatch import services, tasks, volunteers
from mutualaid.dispatch.models import VolunteerChange
from mutualaid.dispatch.tests.proposal_helpers import (
    LOCMEM,
    NO_HOME,
    World,
    make_world,
    volunteer,
)
from mutualaid.needs import services as needs_services
from mutualaid.needs.models import Assignment, Claim, LeftoverReason, Request
from mutualaid.needs.tests.factories import make_request, member_of
from mutualaid.people.models import User

pytestmark = pytest.mark.django_db

HOURS = 12


@pytest.fixture(autouse=True)
def _mail_to_the_outbox(settings):
    settings.EMAIL_DELIVERY_BACKEND = LOCMEM
    settings.SITE_URL = "https://aid.example.org"


def proposed(world: World) -> Assignment:
    """Match all, expecting exactly one proposal."""
    (assignment,) = services.requests_match_all(
        group=world.group, dispatcher=world.dispatcher
    ).proposals
    return assignment


def pending(request: Request) -> Assignment | None:
    return Assignment.objects.filter(request=request, answer=Assignment.Answer.PENDING).first()


def answers(request: Request) -> list[tuple[int, str]]:
    return list(
        Assignment.objects.filter(request=request)
        .order_by("created_at", "pk")
        .values_list("member_id", "answer")
    )


def test_a_declined_proposal_passes_at_once_to_the_next_nearest_volunteer():
    # given
    world = make_world()
    first = volunteer(world.group, 1)
    second = volunteer(world.group, 2)
    request = make_request(world.group)
    asked = proposed(world)
    assert asked.member == first

    # when
    before = timezone.now()
    needs_services.assignment_decline(assignment=asked, member=first, reason="Away this week")

    # then
    following = pending(request)
    assert following is not None
    assert (following.member, following.source, following.assigned_by) == (
        second,
        Assignment.Source.MATCHING,
        world.dispatcher,
    )
    assert before + timedelta(hours=HOURS) <= following.expires_at
    assert following.expires_at <= timezone.now() + timedelta(hours=HOURS)
    assert answers(request) == [(first.pk, "declined"), (second.pk, "pending")]
    asked.refresh_from_db()
    assert asked.decline_reason == "Away this week"


def test_declines_and_no_answer_pass_it_along_the_chain_until_nobody_is_left(
    django_capture_on_commit_callbacks,
):
    # given: three volunteers, nearest first; the dispatchers are told when the chain ends
    world = make_world(name="Longsight Mutual Aid")
    first, second, third = (volunteer(world.group, km) for km in (1, 2, 3))
    request = make_request(world.group, name="Margaret Okafor", area_name="Longsight")
    asked = proposed(world)
    mail.outbox.clear()

    # when: the first declines
    needs_services.assignment_decline(assignment=asked, member=first)
    # and: the second does not answer in time
    later = timezone.now() + timedelta(hours=HOURS, minutes=1)
    assert services.assignments_expire_overdue(now=later) == 1
    # and: the third declines
    third_asked = pending(request)
    assert third_asked is not None
    assert third_asked.member == third
    with django_capture_on_commit_callbacks(execute=True):
        needs_services.assignment_decline(assignment=third_asked, member=third)

    # then
    assert answers(request) == [
        (first.pk, "declined"),
        (second.pk, "expired"),
        (third.pk, "declined"),
    ]
    assert pending(request) is None
    request.refresh_from_db()
    assert request.status == Request.Status.OPEN
    assert request.leftover_reason == LeftoverReason.EVERYONE_ASKED
    assert request.leftover_at is not None
    (message,) = mail.outbox
    assert message.to == [world.dispatcher.email]
    assert (
        message.subject == f"[Mutual Aid] Nobody is left to ask for the request {request.reference}"
    )
    assert (
        "Why nobody is left: Everyone who fits was asked, and nobody could take it." in message.body
    )
    assert f"https://aid.example.org/requests/{request.pk}/" in message.body
    assert "https://aid.example.org/dispatch/groups/" in message.body
    assert "Margaret" not in message.body


def test_with_nobody_else_in_reach_the_reason_is_the_engines():
    # given: the only other member lives out of reach
    world = make_world()
    only = volunteer(world.group, 1)
    volunteer(world.group, 9, travel_km=2)
    request = make_request(world.group)
    asked = proposed(world)

    # when
    needs_services.assignment_decline(assignment=asked, member=only)

    # then
    request.refresh_from_db()
    assert request.leftover_reason == LeftoverReason.EVERYONE_ASKED
    assert pending(request) is None


def test_a_proposal_expires_only_once_its_time_is_over_and_only_once():
    world = make_world()
    first = volunteer(world.group, 1)
    second = volunteer(world.group, 2)
    request = make_request(world.group)
    asked = proposed(world)

    assert services.assignments_expire_overdue(now=asked.expires_at - timedelta(seconds=1)) == 0
    assert pending(request) == asked

    assert services.assignments_expire_overdue(now=asked.expires_at) == 1
    assert services.assignments_expire_overdue(now=asked.expires_at) == 0

    asked.refresh_from_db()
    assert (asked.answer, asked.answered_at) == (Assignment.Answer.EXPIRED, asked.expires_at)
    assert answers(request) == [(first.pk, "expired"), (second.pk, "pending")]


def test_the_periodic_task_expires_what_is_due():
    world = make_world()
    volunteer(world.group, 1)
    request = make_request(world.group)
    asked = proposed(world)
    Assignment.objects.filter(pk=asked.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    assert tasks.assignments_expire_overdue_task.call() == 1

    asked.refresh_from_db()
    assert asked.answer == Assignment.Answer.EXPIRED
    request.refresh_from_db()
    assert request.leftover_reason == LeftoverReason.EVERYONE_ASKED


def test_a_dispatchers_own_ask_neither_expires_nor_passes_on_when_declined():
    world = make_world()
    first = volunteer(world.group, 1)
    volunteer(world.group, 2)
    request = make_request(world.group)
    asked = needs_services.request_assign(
        request=request, member=first, dispatcher=world.dispatcher
    )

    assert services.assignments_expire_overdue(now=timezone.now() + timedelta(days=30)) == 0
    needs_services.assignment_decline(assignment=asked, member=first)

    assert answers(request) == [(first.pk, "declined")]
    request.refresh_from_db()
    assert request.leftover_reason == ""


def test_accepting_a_proposal_takes_the_request_and_clears_its_leftover_reason():
    # given: a request left over once, then proposed when a volunteer joined
    world = make_world()
    request = make_request(world.group)
    services.requests_match_all(group=world.group, dispatcher=world.dispatcher)
    request.refresh_from_db()
    assert request.leftover_reason == LeftoverReason.NOBODY_IN_RANGE
    helper = volunteer(world.group, 1)
    asked = proposed(world)
    request.refresh_from_db()
    assert (request.leftover_reason, request.leftover_at) == ("", None)
    Request.objects.filter(pk=request.pk).update(leftover_reason="at_capacity")

    # when
    claim = needs_services.assignment_accept(assignment=asked, member=helper)

    # then
    assert claim == Claim.objects.get(request=request, member=helper)
    request.refresh_from_db()
    assert (request.status, request.claimed_by, request.leftover_reason) == (
        "claimed",
        helper,
        "",
    )
    assert answers(request) == [(helper.pk, "accepted")]
    assert services.assignments_expire_overdue(now=asked.expires_at) == 0


def test_a_late_accept_after_the_proposal_expired_is_refused():
    world = make_world()
    first = volunteer(world.group, 1)
    volunteer(world.group, 2)
    make_request(world.group)
    asked = proposed(world)
    services.assignments_expire_overdue(now=asked.expires_at)

    with pytest.raises(ApplicationError) as refused:
        needs_services.assignment_accept(assignment=asked, member=first)

    assert (refused.value.status, refused.value.message) == (
        409,
        "This request is no longer waiting for your answer.",
    )
    assert not Claim.objects.exists()


def test_a_request_claimed_by_someone_else_is_not_passed_on():
    # given: while the first volunteer thinks, another member takes the request
    world = make_world()
    first = volunteer(world.group, 1)
    volunteer(world.group, 2)
    taker = member_of(world.group, **NO_HOME)
    request = make_request(world.group)
    asked = proposed(world)
    needs_services.request_claim(request=request, member=taker)

    # then: the proposal was withdrawn and nothing is due
    asked.refresh_from_db()
    assert asked.answer == Assignment.Answer.WITHDRAWN
    assert services.assignments_expire_overdue(now=asked.expires_at) == 0
    assert answers(request) == [(first.pk, "withdrawn")]


def test_pass_on_leaves_alone_a_request_that_is_closed_or_already_waiting():
    world = make_world()
    first = volunteer(world.group, 1)
    volunteer(world.group, 2)
    request = make_request(world.group)
    asked = proposed(world)

    # still waiting for the first answer: nothing more is proposed
    assert services.assignment_pass_on(assignment=asked) is None
    assert answers(request) == [(first.pk, "pending")]

    # cancelled: nothing is proposed
    needs_services.request_cancel(request=request, actor=world.dispatcher)
    assert services.assignment_pass_on(assignment=asked) is None
    assert answers(request) == [(first.pk, "withdrawn")]


def test_each_answer_notes_the_volunteers_load_changed():
    world = make_world()
    first = volunteer(world.group, 1)
    second = volunteer(world.group, 2)
    make_request(world.group)
    asked = proposed(world)
    VolunteerChange.objects.all().delete()

    needs_services.assignment_decline(assignment=asked, member=first)

    assert sorted(VolunteerChange.objects.values_list("member_id", flat=True)) == sorted(
        [first.pk, second.pk]
    )
    index = volunteers.group_volunteers(world.group).index
    assert (index.volunteer(first.pk)["load"], index.volunteer(second.pk)["load"]) == (0, 1)


def test_every_change_of_load_in_the_needs_services_is_noted():
    # given
    world = make_world()
    member = volunteer(world.group, 1)
    other = volunteer(world.group, 2)

    def noted(action) -> list[int]:
        VolunteerChange.objects.all().delete()
        action()
        return sorted(VolunteerChange.objects.values_list("member_id", flat=True))

    request = make_request(world.group)
    # then: claim, release, complete, cancel, assign, accept, decline, leave
    assert noted(lambda: needs_services.request_claim(request=request, member=member)) == [
        member.pk
    ]
    assert noted(
        lambda: needs_services.request_release(request=request, member=member, reason="Ill")
    ) == [member.pk]
    needs_services.request_claim(request=request, member=member)
    assert noted(lambda: needs_services.request_complete(request=request, member=member)) == [
        member.pk
    ]
    cancelled = make_request(world.group)
    needs_services.request_claim(request=cancelled, member=member)
    assert noted(
        lambda: needs_services.request_cancel(request=cancelled, actor=world.dispatcher)
    ) == [member.pk]
    asked_for = make_request(world.group)
    assert noted(
        lambda: needs_services.request_assign(
            request=asked_for, member=other, dispatcher=world.dispatcher
        )
    ) == [other.pk]
    # a claim by someone else withdraws the ask: both loads change
    assert noted(lambda: needs_services.request_claim(request=asked_for, member=member)) == [
        member.pk,
        other.pk,
    ]
    again = make_request(world.group)
    assignment = needs_services.request_assign(
        request=again, member=other, dispatcher=world.dispatcher
    )
    assert noted(lambda: needs_services.assignment_accept(assignment=assignment, member=other)) == [
        other.pk
    ]
    declined = make_request(world.group)
    assignment = needs_services.request_assign(
        request=declined, member=member, dispatcher=world.dispatcher
    )
    assert noted(
        lambda: needs_services.assignment_decline(assignment=assignment, member=member)
    ) == [member.pk]
    assert member.pk in noted(
        lambda: needs_services.member_left_group(group=world.group, member=member)
    )
    assert User.objects.filter(pk=member.pk).exists()
