import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from mutualaid.common.errors import ApplicationError
from mutualaid.groups import services as group_services
from mutualaid.needs import services
from mutualaid.needs.models import Claim, Recurrence, Request, StandingNeed
from mutualaid.needs.tests.factories import dispatcher_of, make_group, make_request, member_of
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def exactly(message: str) -> str:
    return f"^{re.escape(message)}$"


def weekly(group, **fields) -> Request:
    """The first occurrence of a weekly need, needed today; the next is due in 7 days."""
    fields.setdefault("needed_by", timezone.localdate())
    return make_request(group, recurrence=Recurrence.WEEKLY, **fields)


def occurrences(need: StandingNeed) -> list[Request]:
    return list(Request.objects.filter(standing_need=need).order_by("created_at", "pk"))


# standing_needs_create_due


def test_the_next_occurrence_is_made_the_day_before_it_is_due_as_a_copy():
    # given
    group = make_group()
    today = timezone.localdate()
    first = weekly(
        group,
        name="Vera",
        phone="0161 496 0022",
        address="2 Quince Street",
        accessibility_notes="Hard of hearing",
        language="pl",
        area_name="Rusholme",
    )
    need = first.standing_need
    # when: the day before, then the same day again
    made = services.standing_needs_create_due(today=today + timedelta(days=6))
    again = services.standing_needs_create_due(today=today + timedelta(days=6))
    # then
    need.refresh_from_db()
    first_occurrence, second = occurrences(need)
    assert (made, again) == (1, 0)
    assert first_occurrence == first
    assert second.needed_by == today + timedelta(days=7)
    assert need.next_due == today + timedelta(days=14)
    copied = [
        "group",
        "category",
        "description",
        "urgency",
        "language",
        "accessibility_notes",
        "name",
        "phone",
        "email",
        "address",
        "contact_method",
        "contact_via",
        "household_key",
        "area_name",
        "area_group",
        "rough_latitude",
        "rough_longitude",
        "channel",
    ]
    assert [getattr(second, field) for field in copied] == [
        getattr(first, field) for field in copied
    ]
    assert (second.status, second.claimed_by) == ("open", None)
    assert second.reference != first.reference
    assert (second.secret_digest, second.secret_sealed) == (first.secret_digest, first.secret)


def test_nothing_is_made_earlier_than_the_day_before():
    group = make_group()
    first = weekly(group)

    made = services.standing_needs_create_due(today=timezone.localdate() + timedelta(days=5))

    assert made == 0
    assert occurrences(first.standing_need) == [first]


def test_the_requesters_one_link_works_for_every_occurrence():
    # given
    group = make_group()
    first = weekly(group)
    services.standing_needs_create_due(today=timezone.localdate() + timedelta(days=6))
    second = occurrences(first.standing_need)[1]
    # when
    message = services.message_post(request=second, body="Same as last week", secret=first.secret)
    services.request_cancel(request=second, secret=first.secret)
    # then
    second.refresh_from_db()
    assert (message.author_kind, second.status) == ("requester", "cancelled")


def test_each_occurrence_has_its_own_link_with_the_requesters_one_secret(settings):
    # given
    settings.SITE_URL = "https://aid.example.org"
    group = make_group()
    first = weekly(group)
    services.standing_needs_create_due(today=timezone.localdate() + timedelta(days=6))
    second = occurrences(first.standing_need)[1]
    # when
    url = services.request_status_url(second)
    # then
    assert url == f"https://aid.example.org/help/{second.reference}/{first.secret}/"
    assert services.request_find_by_secret(reference=second.reference, secret=first.secret) == (
        second
    )
    assert services.request_find_by_secret(reference=first.reference, secret=first.secret) == (
        first
    )


def test_the_latest_occurrences_link_still_opens_it_after_the_first_is_erased():
    # given: the first occurrence was done long ago; the second is open
    group = make_group(retention_days=1)
    first = weekly(group)
    member = member_of(group)
    services.request_claim(request=first, member=member)
    services.request_complete(request=first, member=member)
    Request.objects.filter(pk=first.pk).update(closed_at=timezone.now() - timedelta(days=5))
    services.standing_needs_create_due(today=timezone.localdate() + timedelta(days=6))
    second = occurrences(first.standing_need)[1]
    # when
    erased = services.requests_purge_personal_data()
    # then
    assert erased == 1
    with pytest.raises(ApplicationError):
        services.request_find_by_secret(reference=first.reference, secret=first.secret)
    assert services.request_find_by_secret(reference=second.reference, secret=first.secret) == (
        second
    )


def test_the_secret_of_one_standing_need_opens_nothing_of_another():
    group = make_group()
    mine, theirs = weekly(group), weekly(group)

    with pytest.raises(PermissionDenied):
        services.request_cancel(request=theirs, secret=mine.secret)


def test_a_member_who_took_the_need_holds_each_new_occurrence():
    # given
    group = make_group()
    first = weekly(group)
    member = member_of(group)
    services.request_claim(request=first, member=member)
    services.standing_need_commit(standing_need=first.standing_need, member=member)
    # when
    services.standing_needs_create_due(today=timezone.localdate() + timedelta(days=6))
    # then
    second = occurrences(first.standing_need)[1]
    assert (second.status, second.claimed_by) == ("claimed", member)
    assert Claim.objects.get(request=second).member == member
    assert second.first_claimed_at is not None


def test_a_volunteer_who_left_the_group_is_not_given_new_occurrences():
    group = make_group()
    first = weekly(group)
    member = member_of(group)
    services.standing_need_commit(standing_need=first.standing_need, member=member)
    group_services.group_leave(group=group, member=member)

    services.standing_needs_create_due(today=timezone.localdate() + timedelta(days=6))

    second = occurrences(first.standing_need)[1]
    assert (second.status, second.claimed_by) == ("open", None)


def test_missed_occurrences_are_skipped_not_made_late():
    # given: nothing ran for three weeks
    group = make_group()
    today = timezone.localdate()
    first = weekly(group)
    # when
    made = services.standing_needs_create_due(today=today + timedelta(days=27))
    # then
    need = first.standing_need
    need.refresh_from_db()
    assert made == 1
    assert [r.needed_by for r in occurrences(need)] == [today, today + timedelta(days=28)]
    assert need.next_due == today + timedelta(days=35)


def test_a_daily_need_due_today_makes_today_and_tomorrow():
    group = make_group()
    today = timezone.localdate()
    first = make_request(group, recurrence=Recurrence.DAILY, needed_by=today)

    made = services.standing_needs_create_due(today=today + timedelta(days=1))

    assert made == 2
    assert [r.needed_by for r in occurrences(first.standing_need)] == [
        today,
        today + timedelta(days=1),
        today + timedelta(days=2),
    ]


def test_a_need_stops_after_its_last_date():
    # given: a weekly need until day 10
    group = make_group()
    today = timezone.localdate()
    first = weekly(group, recurrence_until=today + timedelta(days=10))
    need = first.standing_need
    # when
    services.standing_needs_create_due(today=today + timedelta(days=6))
    made_later = services.standing_needs_create_due(today=today + timedelta(days=13))
    # then
    need.refresh_from_db()
    assert made_later == 0
    assert [r.needed_by for r in occurrences(need)] == [today, today + timedelta(days=7)]
    assert need.ended_at is not None


def test_an_ended_need_makes_nothing():
    group = make_group()
    first = weekly(group)
    services.standing_need_end(standing_need=first.standing_need, actor=dispatcher_of(group))

    assert services.standing_needs_create_due(today=timezone.localdate() + timedelta(days=6)) == 0


def test_each_run_copies_the_latest_occurrence():
    group = make_group()
    today = timezone.localdate()
    first = weekly(group)
    services.standing_needs_create_due(today=today + timedelta(days=6))
    second = occurrences(first.standing_need)[1]
    Request.objects.filter(pk=second.pk).update(urgency="today")

    services.standing_needs_create_due(today=today + timedelta(days=13))

    assert occurrences(first.standing_need)[2].urgency == "today"


# standing_need_commit


def test_a_member_takes_the_need_and_open_occurrences_become_theirs():
    group = make_group()
    first = weekly(group)
    member = member_of(group)

    services.standing_need_commit(standing_need=first.standing_need, member=member)

    first.refresh_from_db()
    first.standing_need.refresh_from_db()
    assert first.standing_need.volunteer == member
    assert (first.status, first.claimed_by) == ("claimed", member)


def test_taking_a_need_leaves_an_occurrence_someone_else_holds_with_them():
    group = make_group()
    first = weekly(group)
    holder, member = member_of(group), member_of(group)
    services.request_claim(request=first, member=holder)

    services.standing_need_commit(standing_need=first.standing_need, member=member)

    first.refresh_from_db()
    assert first.claimed_by == holder


def test_a_need_is_taken_by_one_member_at_a_time():
    group = make_group()
    need = weekly(group).standing_need
    first, second = member_of(group), member_of(group)
    services.standing_need_commit(standing_need=need, member=first)

    with pytest.raises(ApplicationError) as refused:
        services.standing_need_commit(standing_need=need, member=second)
    assert (refused.value.message, refused.value.status) == (
        "Someone else has already taken this standing need.",
        409,
    )
    with pytest.raises(ApplicationError) as again:
        services.standing_need_commit(standing_need=need, member=first)
    assert (again.value.message, again.value.status) == (
        "You have already taken this standing need.",
        409,
    )


def test_an_ended_need_cannot_be_taken():
    group = make_group()
    need = weekly(group).standing_need
    services.standing_need_end(standing_need=need, actor=dispatcher_of(group))

    with pytest.raises(ApplicationError, match=exactly("This standing need has ended.")):
        services.standing_need_commit(standing_need=need, member=member_of(group))


def test_only_members_take_a_need():
    group = make_group()
    need = weekly(group).standing_need

    with pytest.raises(
        PermissionDenied, match=exactly("Only members of this group can take a standing need.")
    ):
        services.standing_need_commit(standing_need=need, member=UserFactory())


# standing_need_release


def test_the_volunteer_gives_the_need_back_and_keeps_what_they_hold():
    group = make_group()
    first = weekly(group)
    member = member_of(group)
    need = first.standing_need
    services.standing_need_commit(standing_need=need, member=member)

    services.standing_need_release(standing_need=need, member=member)

    need.refresh_from_db()
    first.refresh_from_db()
    assert (need.volunteer, first.claimed_by) == (None, member)


def test_only_the_volunteer_gives_a_need_back():
    group = make_group()
    need = weekly(group).standing_need
    services.standing_need_commit(standing_need=need, member=member_of(group))

    with pytest.raises(
        PermissionDenied,
        match=exactly("Only the member who took this standing need can give it back."),
    ):
        services.standing_need_release(standing_need=need, member=member_of(group))


# standing_need_end


def test_the_requester_ends_the_need_with_the_secret_of_any_occurrence():
    group = make_group()
    first = weekly(group)
    need = first.standing_need

    services.standing_need_end(standing_need=need, secret=first.secret)

    need.refresh_from_db()
    assert need.ended_at is not None
    with pytest.raises(ApplicationError, match=exactly("This standing need has already ended.")):
        services.standing_need_end(standing_need=need, secret=first.secret)


@pytest.mark.parametrize("who", ["member", "volunteer", "wrong secret", "empty secret"])
def test_nobody_else_ends_a_need(who):
    group = make_group()
    need = weekly(group).standing_need
    other = weekly(group)
    kwargs = {
        "member": lambda: {"actor": member_of(group)},
        "volunteer": lambda: {"actor": need.volunteer},
        "wrong secret": lambda: {"secret": other.secret},
        "empty secret": lambda: {"secret": ""},
    }
    if who == "volunteer":
        services.standing_need_commit(standing_need=need, member=member_of(group))
        need.refresh_from_db()

    with pytest.raises(
        PermissionDenied,
        match=exactly("Only the person who asked or a dispatcher can stop a standing need."),
    ):
        services.standing_need_end(standing_need=need, **kwargs[who]())
    need.refresh_from_db()
    assert need.ended_at is None
