"""Matching all open requests of a group: who is proposed what, what is left over and why, who
may do it, and what the volunteers are emailed."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from mutualaid.dispatch import services, tasks, volunteers
from mutualaid.dispatch.models import VolunteerChange
from mutualaid.dispatch.tests.proposal_helpers import (
    LOCMEM,
    NO_HOME,
    make_world,
    volunteer,
)
from mutualaid.dispatch.tests.volunteer_helpers import shared_skill
from mutualaid.groups import services as group_services
from mutualaid.groups.models import RoleGrant
from mutualaid.matching import Reason
from mutualaid.needs import services as needs_services
from mutualaid.needs.models import Assignment, Channel, LeftoverReason, Request, Urgency
from mutualaid.needs.tests.factories import make_request, member_of
from mutualaid.notify.models import Delivery
from mutualaid.people.models import availability_bit
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mail_to_the_outbox(settings):
    settings.EMAIL_DELIVERY_BACKEND = LOCMEM
    settings.SITE_URL = "https://aid.example.org"


def pending(request: Request) -> Assignment:
    return Assignment.objects.get(request=request, answer=Assignment.Answer.PENDING)


def test_leftover_reasons_mirror_the_engines_and_add_everyone_asked():
    assert set(LeftoverReason.values) == {reason.value for reason in Reason} | {"everyone_asked"}


def test_each_open_request_is_proposed_to_a_volunteer_for_the_least_total_distance():
    # given: two requests at the centre; one volunteer 1 km away, another 2 km away, each with
    # room for one task
    world = make_world()
    near = volunteer(world.group, 1, max_open_tasks=1)
    farther = volunteer(world.group, 2, max_open_tasks=1)
    first = make_request(world.group)
    second = make_request(world.group)
    now = timezone.now()

    # when
    outcome = services.requests_match_all(group=world.group, dispatcher=world.dispatcher, now=now)

    # then
    assert outcome.leftovers == {}
    assert outcome.skipped == 0
    assert sorted((a.request_id, a.member_id) for a in outcome.proposals) == [
        (first.pk, near.pk),
        (second.pk, farther.pk),
    ]
    for request in (first, second):
        assignment = pending(request)
        assert assignment.source == Assignment.Source.MATCHING
        assert assignment.assigned_by == world.dispatcher
        assert assignment.expires_at == now + timedelta(hours=12)
        request.refresh_from_db()
        assert (request.status, request.leftover_reason, request.leftover_at) == ("open", "", None)


def test_volunteers_share_the_work_within_their_capacity_and_the_rest_is_left_over():
    # given: one volunteer with room for two tasks, and three requests
    world = make_world()
    only = volunteer(world.group, 1, max_open_tasks=2)
    requests = [make_request(world.group) for _ in range(3)]
    now = timezone.now()

    # when
    outcome = services.requests_match_all(group=world.group, dispatcher=world.dispatcher, now=now)

    # then
    assert [a.member_id for a in outcome.proposals] == [only.pk, only.pk]
    proposed = {a.request_id for a in outcome.proposals}
    (left,) = [request for request in requests if request.pk not in proposed]
    assert outcome.leftovers == {left.pk: "at_capacity"}
    left.refresh_from_db()
    assert (left.leftover_reason, left.leftover_at) == (LeftoverReason.AT_CAPACITY, now)
    assert left.get_leftover_reason_display() == "everyone who fits already has enough to do"


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("far", LeftoverReason.NOBODY_IN_RANGE),
        ("language", LeftoverReason.NO_SKILL_OR_LANGUAGE),
        ("skill", LeftoverReason.NO_SKILL_OR_LANGUAGE),
        ("busy_day", LeftoverReason.NOT_AVAILABLE),
        ("busy", LeftoverReason.AT_CAPACITY),
    ],
)
def test_a_request_left_over_records_why(case, reason):
    # given
    world = make_world()
    today = timezone.localdate().weekday()
    other_day = (today + 3) % 7
    fields = {"category": "shopping"}
    if case == "far":
        volunteer(world.group, 8, travel_km=20)
    elif case == "language":
        volunteer(world.group, 1, languages=["en"])
        fields["language"] = "pl"
    elif case == "skill":
        shared_skill("Driving")
        volunteer(world.group, 1)
        fields["category"] = "ride"
    elif case == "busy_day":
        volunteer(world.group, 1, availability=availability_bit(other_day, 0))
        fields["urgency"] = Urgency.TODAY
    else:
        busy = volunteer(world.group, 1, max_open_tasks=1)
        needs_services.request_claim(request=make_request(world.group), member=busy)
    request = make_request(world.group, **fields)

    # when
    outcome = services.requests_match_all(group=world.group, dispatcher=world.dispatcher)

    # then
    assert outcome.proposals == []
    assert outcome.leftovers == {request.pk: reason.value}
    request.refresh_from_db()
    assert request.leftover_reason == reason


def test_the_volunteer_with_the_skill_and_the_language_is_chosen_over_a_nearer_one():
    # given: a ride in Polish; the nearest member neither drives nor speaks Polish
    world = make_world()
    driving = shared_skill("Driving")
    volunteer(world.group, 0.5, languages=["en"])
    driver = volunteer(world.group, 3, languages=["en", "pl"])
    driver.skills.add(driving)
    request = make_request(world.group, category="ride", language="pl")

    # when
    outcome = services.requests_match_all(group=world.group, dispatcher=world.dispatcher)

    # then
    assert [(a.request_id, a.member_id) for a in outcome.proposals] == [(request.pk, driver.pk)]


def test_only_open_requests_waiting_for_nobody_are_matched_and_a_second_click_adds_nothing():
    # given: one open request, one already asked of a member, one claimed, one cancelled
    world = make_world()
    helper = volunteer(world.group, 1)
    asked_member = volunteer(world.group, 2)
    volunteer(world.group, 3)
    open_request = make_request(world.group)
    asked = make_request(world.group)
    needs_services.request_assign(request=asked, member=asked_member, dispatcher=world.dispatcher)
    needs_services.request_claim(request=make_request(world.group), member=helper)
    needs_services.request_cancel(request=make_request(world.group), actor=world.dispatcher)

    # when
    first = services.requests_match_all(group=world.group, dispatcher=world.dispatcher)
    again = services.requests_match_all(group=world.group, dispatcher=world.dispatcher)

    # then
    assert [a.request_id for a in first.proposals] == [open_request.pk]
    assert (again.proposals, again.leftovers, again.skipped) == ([], {}, 0)
    assert Assignment.objects.filter(request=open_request).count() == 1
    assert pending(asked).source == Assignment.Source.DISPATCHER


def test_nobody_is_proposed_a_request_they_were_asked_for_before():
    # given: the nearest member already said no to this request when a dispatcher asked
    world = make_world()
    declined = volunteer(world.group, 1)
    other = volunteer(world.group, 4)
    request = make_request(world.group)
    asked = needs_services.request_assign(
        request=request, member=declined, dispatcher=world.dispatcher
    )
    needs_services.assignment_decline(assignment=asked, member=declined)

    # when
    outcome = services.requests_match_all(group=world.group, dispatcher=world.dispatcher)

    # then
    assert [(a.request_id, a.member_id) for a in outcome.proposals] == [(request.pk, other.pk)]


def test_when_everyone_who_fits_was_asked_before_the_reason_says_so():
    world = make_world()
    declined = volunteer(world.group, 1)
    request = make_request(world.group)
    asked = needs_services.request_assign(
        request=request, member=declined, dispatcher=world.dispatcher
    )
    needs_services.assignment_decline(assignment=asked, member=declined)

    outcome = services.requests_match_all(group=world.group, dispatcher=world.dispatcher)

    assert outcome.proposals == []
    assert outcome.leftovers == {request.pk: "everyone_asked"}


def test_a_member_who_said_no_to_one_request_is_still_proposed_another():
    # given: the only volunteer, with room for one, declined the older request
    world = make_world()
    only = volunteer(world.group, 1, max_open_tasks=1)
    older = make_request(world.group)
    newer = make_request(world.group)
    asked = needs_services.request_assign(request=older, member=only, dispatcher=world.dispatcher)
    needs_services.assignment_decline(assignment=asked, member=only)

    # when
    outcome = services.requests_match_all(group=world.group, dispatcher=world.dispatcher)

    # then
    assert [(a.request_id, a.member_id) for a in outcome.proposals] == [(newer.pk, only.pk)]
    assert outcome.leftovers == {older.pk: "everyone_asked"}


def test_a_member_is_not_proposed_the_request_they_made_themself():
    world = make_world()
    asker = volunteer(world.group, 1)
    other = volunteer(world.group, 3)
    request = make_request(world.group, created_by=asker, channel=Channel.WEB)

    outcome = services.requests_match_all(group=world.group, dispatcher=world.dispatcher)

    assert [(a.request_id, a.member_id) for a in outcome.proposals] == [(request.pk, other.pk)]


def test_a_request_taken_while_matching_ran_is_skipped(monkeypatch):
    # given: a member takes one of the two requests just after the engine chose
    world = make_world()
    volunteer(world.group, 1)
    volunteer(world.group, 2)
    taker = member_of(world.group, **NO_HOME)
    first = make_request(world.group)
    second = make_request(world.group)
    engine = services.assign

    def assign_then_claim(*args, **kwargs):
        result = engine(*args, **kwargs)
        Request.objects.filter(pk=second.pk).update(status="claimed", claimed_by=taker)
        return result

    monkeypatch.setattr(services, "assign", assign_then_claim)

    # when
    outcome = services.requests_match_all(group=world.group, dispatcher=world.dispatcher)

    # then
    assert [a.request_id for a in outcome.proposals] == [first.pk]
    assert outcome.skipped == 1
    assert not Assignment.objects.filter(request=second).exists()


def test_a_volunteer_whose_load_grew_elsewhere_meanwhile_is_not_over_asked(monkeypatch):
    # given: the volunteer's last free slot is taken in another group after the engine chose
    world = make_world()
    other_world = make_world()
    only = volunteer(world.group, 1, max_open_tasks=1)
    group_services.group_join(group=other_world.group, member=only)
    request = make_request(world.group)
    elsewhere = make_request(other_world.group)
    engine = services.assign

    def assign_then_claim_elsewhere(*args, **kwargs):
        result = engine(*args, **kwargs)
        needs_services.request_claim(request=elsewhere, member=only)
        return result

    monkeypatch.setattr(services, "assign", assign_then_claim_elsewhere)

    # when
    outcome = services.requests_match_all(group=world.group, dispatcher=world.dispatcher)

    # then
    assert outcome.proposals == []
    assert outcome.skipped == 1
    assert not Assignment.objects.filter(request=request).exists()


def test_each_proposed_volunteer_is_noted_as_changed_for_every_index():
    world = make_world()
    first = volunteer(world.group, 1, max_open_tasks=1)
    second = volunteer(world.group, 2, max_open_tasks=1)
    make_request(world.group)
    make_request(world.group)
    VolunteerChange.objects.all().delete()

    services.requests_match_all(group=world.group, dispatcher=world.dispatcher)

    assert sorted(VolunteerChange.objects.values_list("member_id", flat=True)) == sorted(
        [first.pk, second.pk]
    )
    index = volunteers.group_volunteers(world.group).index
    assert index.volunteer(first.pk)["load"] == 1
    assert index.volunteer(second.pk)["load"] == 1


@pytest.mark.parametrize("who", ["member", "outsider", "former_dispatcher", "anonymous"])
def test_only_a_dispatcher_of_the_group_can_match_all(who):
    from django.contrib.auth.models import AnonymousUser

    world = make_world()
    volunteer(world.group, 1)
    make_request(world.group)
    RoleGrant.objects.filter(holder=world.dispatcher).update(
        granted_at=timezone.now() - timedelta(days=10),
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    actor = {
        "member": member_of(world.group),
        "outsider": UserFactory(),
        "former_dispatcher": world.dispatcher,
        "anonymous": AnonymousUser(),
    }[who]

    with pytest.raises(PermissionDenied):
        services.requests_match_all(group=world.group, dispatcher=actor)

    assert not Assignment.objects.exists()


def test_each_volunteer_is_emailed_once_with_answer_links_and_no_personal_data(
    django_capture_on_commit_callbacks,
):
    # given
    world = make_world(name="Levenshulme Mutual Aid")
    helper = volunteer(world.group, 1, display_name="Kettle On", email="kettle@example.org")
    request = make_request(
        world.group,
        category="prescription",
        name="Margaret Okafor",
        phone="+44 7700 900123",
        email="margaret@example.org",
        address="14 Acacia Avenue, M19 2QX",
        description="Inhaler from the chemist on Stockport Road",
        area_name="Levenshulme",
        urgency=Urgency.FLEXIBLE,
    )
    mail.outbox.clear()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.requests_match_all(group=world.group, dispatcher=world.dispatcher)

    # then
    (assignment,) = outcome.proposals
    (message,) = mail.outbox
    assert message.to == ["kettle@example.org"]
    assert (
        message.subject
        == "[Mutual Aid] Could you help with a request near you (prescription pickup)?"
    )
    body = message.body
    assert "Hello Kettle On," in body
    assert "Levenshulme Mutual Aid has a request for help about 1.0 km from your home area" in body
    assert f"Reference: {request.reference}" in body
    assert "What kind of help: prescription pickup" in body
    assert "Area: Levenshulme" in body
    accept = "https://aid.example.org/dispatch/proposals/"
    links = [line for line in body.splitlines() if line.startswith(accept)]
    assert len(links) == 2
    assert links[0].endswith("/accept/")
    assert links[1].endswith("/decline/")
    assert "Please answer by" in body
    for personal in (
        "Margaret",
        "Okafor",
        "7700",
        "margaret@",
        "Acacia",
        "Inhaler",
        "Stockport",
    ):
        assert personal not in body
        assert personal not in message.subject
    assert Delivery.objects.get().idempotency_key == f"proposal:{assignment.pk}:member"

    # and: the task running again sends nothing more
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.proposal_made_notify.call(assignment.pk) == 0
    assert len(mail.outbox) == 1
    assert helper.pk == assignment.member_id


def test_an_answered_proposal_is_not_emailed_when_the_worker_comes_late():
    world = make_world()
    helper = volunteer(world.group, 1)
    make_request(world.group)
    (assignment,) = services.requests_match_all(
        group=world.group, dispatcher=world.dispatcher
    ).proposals
    needs_services.assignment_decline(assignment=assignment, member=helper)

    assert tasks.proposal_made_notify.call(assignment.pk) == 0
    assert not Delivery.objects.exists()
