"""The bridge from the database to the matching engine: what the index holds about each member,
how it follows their changes, and how a request becomes a Need."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from mutualaid.dispatch import volunteers
from mutualaid.dispatch.models import VolunteerChange
from mutualaid.dispatch.services import member_duty_end, member_duty_start
from mutualaid.dispatch.tasks import volunteer_changes_purge_task
from mutualaid.dispatch.tests.volunteer_helpers import (
    edit_profile,
    rebuilt,
    rows,
    shared_skill,
    skill_bit,
)
from mutualaid.dispatch.volunteers import (
    ALL_WEEK,
    LANGUAGE_BITS,
    UNMATCHABLE_SKILL_BIT,
    day_bits,
    group_volunteers,
    now_seconds,
    request_window,
    volunteers_changed,
)
from mutualaid.groups import services as group_services
from mutualaid.groups.models import Group
from mutualaid.needs import services as needs_services
from mutualaid.needs.models import Urgency
from mutualaid.needs.tests.factories import (
    claimed_request,
    dispatcher_of,
    make_group,
    make_request,
    member_of,
)
from mutualaid.people import services as people_services
from mutualaid.people.models import Skill, availability_bit

pytestmark = pytest.mark.django_db


class Undone(Exception):
    pass


def in_a_transaction(work) -> None:
    with transaction.atomic():
        work()


def row_of(group: Group, member_id: int) -> dict:
    return rows(group_volunteers(group))[member_id]


def test_a_member_is_in_the_index_with_what_matching_needs_of_their_profile():
    group = make_group()
    driving = shared_skill("Driving")
    member = member_of(group)
    until = timezone.now() + timedelta(hours=2)
    edit_profile(
        member,
        languages=["pl", "en"],
        skills=[driving],
        availability=availability_bit(5, 0) | availability_bit(6, 2),
        home_latitude=Decimal("53.4612"),
        home_longitude=Decimal("-2.2049"),
        travel_km=7,
        max_open_tasks=4,
    )
    member_duty_start(member=member, hours=2, now=until - timedelta(hours=2))

    index = group_volunteers(group)

    assert rows(index)[member.pk] == {
        "latitude": 53.46,
        "longitude": -2.2,
        "travel_km": 7.0,
        "skills": frozenset({driving.pk}),
        "languages": LANGUAGE_BITS["pl"] | LANGUAGE_BITS["en"],
        "availability": availability_bit(5, 0) | availability_bit(6, 2),
        "capacity": 4,
        "load": 0,
        "recent_tasks": 0,
        "on_duty_until": until.timestamp(),
    }


def test_languages_are_numbered_in_the_order_of_spoken_languages():
    assert [LANGUAGE_BITS[code] for code in ("ar", "bn", "zh", "en")] == [1, 2, 4, 8]


def test_a_member_who_has_not_said_when_they_are_free_counts_as_free_any_time():
    group = make_group()
    member = member_of(group)

    assert row_of(group, member.pk)["availability"] == ALL_WEEK


def test_members_without_a_home_are_left_out_until_they_give_one():
    group = make_group()
    homeless = member_of(group, home_latitude=None, home_longitude=None)
    index = group_volunteers(group)
    assert homeless.pk not in index.index

    edit_profile(homeless, home_latitude=Decimal("53.44"), home_longitude=Decimal("-2.21"))
    assert homeless.pk in group_volunteers(group).index

    edit_profile(homeless, home_latitude=None, home_longitude=None)
    assert homeless.pk not in group_volunteers(group).index


def test_joining_and_leaving_are_followed():
    group = make_group()
    group_volunteers(group)  # built before they join
    member = member_of(group)
    assert member.pk in group_volunteers(group).index

    group_services.group_leave(group=group, member=member)

    assert member.pk not in group_volunteers(group).index


def test_a_member_joining_by_vouch_is_followed():
    group = make_group(join_needs_vouch=True)
    voucher = group.created_by
    applicant = member_of(make_group())
    join_request = group_services.group_join(group=group, member=applicant)
    assert applicant.pk not in group_volunteers(group).index

    group_services.join_request_vouch(join_request=join_request, voucher=voucher)  # type: ignore[arg-type]

    assert applicant.pk in group_volunteers(group).index


def test_leaving_one_group_keeps_the_member_in_their_other_groups():
    first, second = make_group(), make_group()
    member = member_of(first)
    group_services.group_join(group=second, member=member)
    group_volunteers(first), group_volunteers(second)

    group_services.group_leave(group=first, member=member)

    assert member.pk not in group_volunteers(first).index
    assert member.pk in group_volunteers(second).index


def test_an_erased_member_is_taken_out_of_every_index():
    first, second = make_group(), make_group()
    member = member_of(first)
    group_services.group_join(group=second, member=member)
    group_volunteers(first), group_volunteers(second)

    people_services.member_erase(member=member)

    assert member.pk not in group_volunteers(first).index
    assert member.pk not in group_volunteers(second).index


def test_a_change_of_skills_is_followed_including_a_skill_the_group_adds_later():
    group = make_group()
    member = member_of(group)
    driving = shared_skill("Driving")
    index = group_volunteers(group)
    assert rows(index)[member.pk]["skills"] == frozenset()

    bikes = group_services.group_skill_add(group=group, member=member, name="Bike repair")
    edit_profile(member, skills=[driving, bikes])
    index = group_volunteers(group)

    assert rows(index)[member.pk]["skills"] == frozenset({driving.pk, bikes.pk})
    assert skill_bit(index, bikes.pk) not in (0, UNMATCHABLE_SKILL_BIT)


def test_skills_of_another_group_are_not_numbered():
    group, other = make_group(), make_group()
    member = member_of(group)
    group_services.group_join(group=other, member=member)
    theirs = group_services.group_skill_add(group=other, member=member, name="Sign language")
    edit_profile(member, skills=[theirs])

    index = group_volunteers(group)

    assert theirs.pk not in index.skill_bits
    assert rows(index)[member.pk]["skills"] == frozenset()


def test_skills_beyond_the_sixty_third_are_left_out_of_matching():
    group = make_group()
    member = member_of(group)
    shared = Skill.objects.filter(group__isnull=True).count()
    own = [
        group_services.group_skill_add(group=group, member=member, name=f"Skill {n}")
        for n in range(volunteers.SKILL_BITS - shared + 2)
    ]
    edit_profile(member, skills=own)

    index = group_volunteers(group)

    assert len(index.skill_bits) == volunteers.SKILL_BITS
    assert sorted(index.skill_bits.values()) == list(range(volunteers.SKILL_BITS))
    assert rows(index)[member.pk]["skills"] == frozenset(skill.pk for skill in own[:-2])


def test_capacity_and_load_follow_claims_and_pending_questions_in_every_group():
    group, other = make_group(), make_group()
    member = member_of(group)
    group_services.group_join(group=other, member=member)
    dispatcher = dispatcher_of(group)
    edit_profile(member, max_open_tasks=3)
    group_volunteers(group), group_volunteers(other)

    request, _member = claimed_request(group, member=member)
    asked = make_request(group)
    assignment = needs_services.request_assign(request=asked, member=member, dispatcher=dispatcher)
    assert row_of(group, member.pk)["load"] == 2
    assert {key: row_of(other, member.pk)[key] for key in ("capacity", "load", "recent_tasks")} == {
        "capacity": 3,
        "load": 2,
        "recent_tasks": 1,
    }

    needs_services.assignment_decline(assignment=assignment, member=member)
    assert row_of(group, member.pk)["load"] == 1

    needs_services.request_complete(request=request, member=member)
    assert (row_of(group, member.pk)["load"], row_of(other, member.pk)["load"]) == (0, 0)
    assert row_of(other, member.pk)["recent_tasks"] == 1


def test_a_request_let_go_is_no_load_and_no_recent_task():
    group = make_group()
    request, member = claimed_request(group)
    assert (row_of(group, member.pk)["load"], row_of(group, member.pk)["recent_tasks"]) == (1, 1)

    needs_services.request_release(request=request, member=member, reason="Ill")

    assert (row_of(group, member.pk)["load"], row_of(group, member.pk)["recent_tasks"]) == (0, 0)


def test_member_loads_counts_claims_and_questions_in_one_query(django_assert_num_queries):
    group = make_group()
    dispatcher = dispatcher_of(group)
    _request, busy = claimed_request(group)
    needs_services.request_assign(request=make_request(group), member=busy, dispatcher=dispatcher)
    idle = member_of(group)

    with django_assert_num_queries(1):
        loads = volunteers.member_loads(member_ids=[busy.pk, idle.pk])

    assert loads == {busy.pk: 2}


def test_going_on_and_off_duty_is_followed():
    group = make_group()
    member = member_of(group)
    group_volunteers(group)

    until = member_duty_start(member=member, hours=4)
    assert row_of(group, member.pk)["on_duty_until"] == until.timestamp()

    member_duty_end(member=member)
    assert row_of(group, member.pk)["on_duty_until"] == 0.0


def test_nothing_changed_costs_one_query(django_assert_num_queries):
    group = make_group(members=3)
    group_volunteers(group)

    with django_assert_num_queries(1):
        group_volunteers(group)


def test_a_change_read_once_is_not_loaded_again(django_assert_num_queries):
    group = make_group()
    member = member_of(group)
    group_volunteers(group)
    edit_profile(member, travel_km=9)
    with django_assert_num_queries(3):  # the changes; the member; their skills
        group_volunteers(group)

    with django_assert_num_queries(1):
        group_volunteers(group)

    assert row_of(group, member.pk)["travel_km"] == 9.0


def test_a_change_that_committed_late_within_the_margin_is_still_read():
    group = make_group()
    member = member_of(group)
    index = group_volunteers(group)
    # A transaction that wrote its note a minute before the index last looked, and committed
    # only now.
    User = type(member)
    User.objects.filter(pk=member.pk).update(travel_km=11)
    VolunteerChange.objects.create(
        member_id=member.pk, changed_at=index.synced_to - timedelta(minutes=1)
    )

    assert row_of(group, member.pk)["travel_km"] == 11.0


def test_an_old_index_is_built_again_from_scratch():
    group = make_group()
    member = member_of(group)
    index = group_volunteers(group)
    # A change nobody announced, as only time makes (a task turning five weeks old).
    type(member).objects.filter(pk=member.pk).update(travel_km=12)
    assert row_of(group, member.pk)["travel_km"] == 3.0

    index.built_at = timezone.now() - volunteers.REBUILD_AFTER - timedelta(seconds=1)

    assert row_of(group, member.pk)["travel_km"] == 12.0


def test_each_process_keeps_a_few_dozen_groups(monkeypatch):
    monkeypatch.setattr(volunteers, "CACHED_GROUPS", 2)
    first, second, third = make_group(), make_group(), make_group()
    kept = group_volunteers(first)
    group_volunteers(second)
    assert group_volunteers(first) is kept

    group_volunteers(third)

    assert group_volunteers(first) is kept
    assert [key[0] for key in volunteers._cache] == [third.pk, first.pk]


def test_the_synced_index_equals_one_built_from_scratch():
    group = make_group()
    dispatcher = dispatcher_of(group)
    members = [member_of(group) for _ in range(4)]
    group_volunteers(group)
    edit_profile(members[0], languages=["so"], skills=[shared_skill("Driving")])
    claimed_request(group, member=members[1])
    needs_services.request_assign(
        request=make_request(group), member=members[2], dispatcher=dispatcher
    )
    group_services.group_leave(group=group, member=members[3])
    member_duty_start(member=members[0], hours=8)

    assert rows(group_volunteers(group)) == rows(rebuilt(group))


def test_old_changes_are_purged():
    now = timezone.now()
    old = VolunteerChange.objects.create(
        member_id=1, changed_at=now - volunteers.CHANGES_KEPT - timedelta(seconds=1)
    )
    volunteers_changed(member_ids=[1, 2, 2])

    assert volunteer_changes_purge_task.call() == 1

    assert not VolunteerChange.objects.filter(pk=old.pk).exists()
    assert sorted(VolunteerChange.objects.values_list("member_id", flat=True)) == [1, 2]


def test_no_members_no_note():
    volunteers_changed(member_ids=[])

    assert VolunteerChange.objects.count() == 0


# From a request to a Need


def test_a_request_becomes_a_need_with_its_point_radius_skill_and_language():
    group = make_group()
    Group.objects.filter(pk=group.pk).update(match_radius_km=8)
    group.refresh_from_db()
    driving = shared_skill("Driving")
    member = member_of(group)
    edit_profile(member, skills=[driving])
    request = make_request(
        group, category="ride", language="pl", latitude=53.4412, longitude=-2.2311
    )
    index = group_volunteers(group)

    need = index.need_for(request)

    assert (need.id, need.latitude, need.longitude, need.radius_km) == (
        request.pk,
        53.44,
        -2.23,
        8.0,
    )
    assert (need.skills, need.languages, need.preferred_language) == (
        skill_bit(index, driving.pk),
        LANGUAGE_BITS["pl"],
        LANGUAGE_BITS["pl"],
    )
    assert need.skills != 0


def test_a_request_of_a_category_with_no_skill_or_language_asks_for_neither():
    group = make_group()
    request = make_request(group, category="shopping", urgency=Urgency.FLEXIBLE)

    need = group_volunteers(group).need_for(request)

    assert (need.skills, need.languages, need.preferred_language, need.window) == (0, 0, 0, 0)


def test_a_request_needing_a_skill_nobody_can_have_finds_nobody():
    group = make_group()
    member = member_of(group)
    Skill.objects.filter(name="Driving", group=None).delete()
    request = make_request(group, category="ride")
    index = group_volunteers(group)

    need = index.need_for(request)

    assert need.skills == UNMATCHABLE_SKILL_BIT
    assert member.pk in index.index
    assert index.index.candidates(need, 5, now=now_seconds()) == []


MONDAY = date(2025, 6, 2)


@pytest.mark.parametrize(
    ("urgency", "needed_by", "window"),
    [
        (Urgency.FLEXIBLE, None, 0),
        (Urgency.THIS_WEEK, None, 0),
        (Urgency.TODAY, None, day_bits(0)),
        (Urgency.THIS_WEEK, MONDAY, day_bits(0)),
        (Urgency.THIS_WEEK, MONDAY + timedelta(days=2), day_bits(0) | day_bits(1) | day_bits(2)),
        (Urgency.FLEXIBLE, MONDAY - timedelta(days=3), day_bits(0)),
        (Urgency.FLEXIBLE, MONDAY + timedelta(days=5), ALL_WEEK & ~day_bits(6)),
        (Urgency.FLEXIBLE, MONDAY + timedelta(days=6), 0),
    ],
)
def test_the_window_is_the_days_from_today_to_the_needed_by_date(urgency, needed_by, window):
    group = make_group()
    request = make_request(group, urgency=urgency)
    request.needed_by = needed_by

    assert request_window(request, today=MONDAY) == window


def test_the_window_wraps_around_the_week():
    request = make_request(make_group())
    request.needed_by = MONDAY + timedelta(days=7)  # Sunday to Monday

    assert request_window(request, today=MONDAY - timedelta(days=1)) == 0
    request.needed_by = MONDAY
    assert request_window(request, today=MONDAY - timedelta(days=1)) == day_bits(6) | day_bits(0)


def test_day_bits_are_the_three_parts_of_a_day():
    assert day_bits(1) == availability_bit(1, 0) | availability_bit(1, 1) | availability_bit(1, 2)


def test_a_change_read_inside_a_transaction_that_rolls_back_is_undone():
    group = make_group()
    member = member_of(group)
    group_volunteers(group)

    seen_inside = []

    def look_then_undo() -> None:
        edit_profile(member, travel_km=15)
        seen_inside.append(row_of(group, member.pk)["travel_km"])
        raise Undone

    with pytest.raises(Undone):
        in_a_transaction(look_then_undo)

    # A look from inside the transaction saw its own write, and the next look, after the
    # rollback, sees the member as they are.
    assert seen_inside == [15.0]
    assert row_of(group, member.pk)["travel_km"] == 3.0
    assert row_of(group, member.pk)["travel_km"] == 3.0


def test_a_change_read_inside_a_transaction_that_commits_is_kept(
    django_assert_num_queries, django_capture_on_commit_callbacks
):
    group = make_group()
    member = member_of(group)
    group_volunteers(group)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        edit_profile(member, travel_km=15)
        assert row_of(group, member.pk)["travel_km"] == 15.0

    with django_assert_num_queries(1):
        assert row_of(group, member.pk)["travel_km"] == 15.0


def test_a_change_written_after_one_rolled_back_is_read_though_it_may_reuse_its_id():
    group = make_group()
    first, second = member_of(group), member_of(group)
    group_volunteers(group)

    def look_then_undo() -> None:
        edit_profile(first, travel_km=9)
        group_volunteers(group)
        raise Undone

    with pytest.raises(Undone):
        in_a_transaction(look_then_undo)
    # SQLite gives this note the id of the one rolled back.
    edit_profile(second, travel_km=8)

    assert (row_of(group, first.pk)["travel_km"], row_of(group, second.pk)["travel_km"]) == (
        3.0,
        8.0,
    )
