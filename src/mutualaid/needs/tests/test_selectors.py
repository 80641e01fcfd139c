from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from mutualaid.needs import selectors, services
from mutualaid.needs.models import BuiltInCategory, Offer, Request, Urgency
from mutualaid.needs.tests.factories import (
    claimed_request,
    dispatcher_of,
    make_group,
    make_offer,
    make_request,
    member_of,
)

pytestmark = pytest.mark.django_db

PERSONAL = {"name", "phone", "email", "address", "contact_via", "accessibility_notes"}


def at(request: Request, latitude: str, longitude: str = "-2.22") -> Request:
    Request.objects.filter(pk=request.pk).update(
        rough_latitude=Decimal(latitude), rough_longitude=Decimal(longitude)
    )
    return request


# categories


def test_category_choices_are_the_built_in_ones_then_the_groups_then_other():
    group = make_group()
    services.group_category_add(group=group, name="Uniform swap", actor=group.created_by)
    make_group_with_its_own = make_group()
    services.group_category_add(
        group=make_group_with_its_own, name="Elsewhere", actor=make_group_with_its_own.created_by
    )

    choices = selectors.category_choices(group=group)

    assert choices[0] == ("shopping", "shopping")
    assert choices[-2:] == [("uniform-swap", "Uniform swap"), ("other", "other")]
    assert [code for code, _label in choices] == [
        *[code for code in BuiltInCategory.values if code != "other"],
        "uniform-swap",
        "other",
    ]
    assert all(isinstance(label, str) for _code, label in choices)


def test_category_labels():
    group = make_group()
    services.group_category_add(group=group, name="Uniform swap", actor=group.created_by)

    assert [
        selectors.category_label(group=group, code=code)
        for code in ("prescription", "uniform-swap", "gone")
    ] == ["prescription pickup", "Uniform swap", "gone"]


# requests_open_for_member


def test_open_requests_come_nearest_first_with_distance_rounded_to_half_a_kilometre():
    # given: a member at 53.45,-2.22 and three open requests at different distances
    group = make_group()
    member = member_of(group, home_latitude=Decimal("53.45"), home_longitude=Decimal("-2.22"))
    far = at(make_request(group), "53.50")
    near = at(make_request(group), "53.46", "-2.20")
    middle = at(make_request(group), "53.48")
    # when
    listed = selectors.requests_open_for_member(member=member, group=group)
    # then
    assert [(r.pk, r.distance_km) for r in listed] == [
        (near.pk, 1.5),
        (middle.pk, 3.5),
        (far.pk, 5.5),
    ]


def test_first_requests_come_before_paced_ones_however_near():
    group = make_group()
    member = member_of(group)
    first = at(make_request(group, phone="07700 900001"), "53.50")
    paced = at(make_request(group, phone="07700 900001"), "53.45")

    listed = selectors.requests_open_for_member(member=member, group=group)

    assert [(r.pk, r.paced) for r in listed] == [(first.pk, False), (paced.pk, True)]


def test_at_the_same_distance_the_most_urgent_then_the_oldest_comes_first():
    group = make_group()
    member = member_of(group)
    now = timezone.now()
    flexible = make_request(group, urgency=Urgency.FLEXIBLE, now=now - timedelta(hours=5))
    week_new = make_request(group, urgency=Urgency.THIS_WEEK, now=now - timedelta(hours=1))
    week_old = make_request(group, urgency=Urgency.THIS_WEEK, now=now - timedelta(hours=3))
    today = make_request(group, urgency=Urgency.TODAY, now=now)

    listed = selectors.requests_open_for_member(member=member, group=group)

    assert [r.pk for r in listed] == [today.pk, week_old.pk, week_new.pk, flexible.pk]


def test_a_member_without_a_home_area_sees_no_distance():
    group = make_group()
    member = member_of(group, home_latitude=None, home_longitude=None)
    make_request(group)

    (listed,) = selectors.requests_open_for_member(member=member, group=group)

    assert listed.distance_km is None


def test_only_open_requests_of_the_group_filtered_by_category_and_urgency():
    group = make_group()
    member = member_of(group)
    shopping_today = make_request(group, urgency=Urgency.TODAY)
    make_request(group, category="prescription", urgency=Urgency.TODAY)
    make_request(group, urgency=Urgency.FLEXIBLE)
    claimed_request(group)
    make_request(make_group())

    assert len(selectors.requests_open_for_member(member=member, group=group)) == 3
    assert [
        r.pk
        for r in selectors.requests_open_for_member(
            member=member, group=group, category="shopping", urgency=Urgency.TODAY
        )
    ] == [shopping_today.pk]


def test_the_list_loads_no_personal_data_in_two_queries(django_assert_num_queries):
    group = make_group()
    member = member_of(group)
    for _ in range(5):
        make_request(group, accessibility_notes="Wheelchair", email="a@example.org")

    # the order of the open requests, then the requests shown
    with django_assert_num_queries(2):
        listed = selectors.requests_open_for_member(member=member, group=group)[:]
        texts = [(r.reference, r.description, r.category, r.area_name) for r in listed]

    assert len(texts) == 5
    assert all(r.get_deferred_fields() >= PERSONAL for r in listed)
    assert "description" not in listed[0].get_deferred_fields()


def test_only_the_slice_shown_is_loaded(django_assert_num_queries):
    # given
    group = make_group()
    member = member_of(group)
    made = [make_request(group, urgency=Urgency.TODAY) for _ in range(5)]

    # when
    listed = selectors.requests_open_for_member(member=member, group=group)
    with django_assert_num_queries(1):
        page = listed[1:3]

    # then: oldest first among equals, the page in one query
    assert len(listed) == 5
    assert [r.pk for r in page] == [made[1].pk, made[2].pk]
    assert listed[-1].pk == made[4].pk


# requests_held_by, requests_follow_up


def test_what_a_member_holds_soonest_first_in_one_query(django_assert_num_queries):
    group = make_group()
    member = member_of(group)
    today = timezone.localdate()
    later, _m = claimed_request(group, member=member, needed_by=today + timedelta(days=5))
    sooner, _m = claimed_request(group, member=member, needed_by=today + timedelta(days=1))
    undated, _m = claimed_request(group, member=member, urgency=Urgency.FLEXIBLE)
    claimed_request(group)
    done, _m = claimed_request(group, member=member)
    services.request_complete(request=done, member=member)

    with django_assert_num_queries(1):
        held = [(r.pk, r.group.name) for r in selectors.requests_held_by(member=member)]

    assert held == [(sooner.pk, group.name), (later.pk, group.name), (undated.pk, group.name)]


def test_follow_up_lists_unmet_and_overdue_open_requests_not_erased_ones():
    # given
    group = make_group()
    today = timezone.localdate()
    overdue = make_request(group)
    Request.objects.filter(pk=overdue.pk).update(needed_by=today - timedelta(days=1))
    unmet = make_request(group)
    Request.objects.filter(pk=unmet.pk).update(
        status="unmet", needed_by=today - timedelta(days=3), closed_at=timezone.now()
    )
    erased = make_request(group)
    Request.objects.filter(pk=erased.pk).update(
        status="unmet", personal_data_erased_at=timezone.now()
    )
    make_request(group)
    make_request(make_group())
    # when
    listed = list(selectors.requests_follow_up(group=group))
    # then
    assert [(r.pk, r.status) for r in listed] == [(unmet.pk, "unmet"), (overdue.pk, "open")]
    assert listed[0].get_deferred_fields() >= PERSONAL


# offers_current


def test_current_offers_are_active_and_not_past_their_last_day(django_assert_num_queries):
    group = make_group()
    today = timezone.localdate()
    open_ended = make_offer(group, title="Open ended")
    until_today = make_offer(group, title="Until today", available_until=today)
    withdrawn = make_offer(group, title="Withdrawn")
    services.offer_withdraw(offer=withdrawn, member=withdrawn.member)
    past = make_offer(group, title="Past", available_until=today)
    make_offer(make_group(), title="Elsewhere")

    with django_assert_num_queries(1):
        listed = [
            (o.title, o.member.display_name)
            for o in selectors.offers_current(group=group, today=today)
        ]
    later = selectors.offers_current(group=group, today=today + timedelta(days=1))

    assert listed == [
        ("Past", past.member.display_name),
        ("Until today", until_today.member.display_name),
        ("Open ended", open_ended.member.display_name),
    ]
    assert [o.title for o in later] == ["Open ended"]
    assert Offer.objects.count() == 5


# group_report


def _local(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time())) + timedelta(hours=hour)


def test_the_report_counts_each_week_and_the_median_hours_to_a_first_claim(
    django_assert_num_queries,
):
    # given: today is a Wednesday; two weeks of requests
    group = make_group()
    dispatcher = dispatcher_of(group)
    services.group_category_add(group=group, name="Uniform swap", actor=dispatcher)
    today = date(2031, 3, 12)
    this_monday, last_monday = date(2031, 3, 10), date(2031, 3, 3)
    member = member_of(group)

    def made(day: date, hour: int, **fields) -> Request:
        request = make_request(group, urgency=Urgency.FLEXIBLE, now=_local(day, hour), **fields)
        return request

    done = made(last_monday, 9)
    services.request_claim(request=done, member=member, now=_local(last_monday, 11))
    services.request_complete(request=done, member=member)
    claimed = made(last_monday + timedelta(days=6), 8, category="uniform-swap")
    services.request_claim(
        request=claimed, member=member, now=_local(last_monday, 8) + timedelta(days=6, hours=6)
    )
    cancelled = made(last_monday + timedelta(days=2), 10)
    services.request_cancel(request=cancelled, actor=dispatcher)
    first_this_week = made(this_monday, 0)
    services.request_claim(request=first_this_week, member=member, now=_local(this_monday, 1))
    made(today, 9)
    made(last_monday - timedelta(days=1), 12)  # the Sunday before: outside two weeks
    # when
    with django_assert_num_queries(2):
        report = selectors.group_report(group=group, weeks=2, today=today)
    # then
    zero = {"open": 0, "claimed": 0, "done": 0, "cancelled": 0, "unmet": 0}
    assert report.weeks == [
        selectors.WeekFigures(
            week_start=last_monday,
            requests=3,
            by_outcome={**zero, "done": 1, "claimed": 1, "cancelled": 1},
            median_hours_to_claim=4.0,
        ),
        selectors.WeekFigures(
            week_start=this_monday,
            requests=2,
            by_outcome={**zero, "claimed": 1, "open": 1},
            median_hours_to_claim=1.0,
        ),
    ]
    assert report.by_category == [
        ("shopping", {**zero, "done": 1, "cancelled": 1, "claimed": 1, "open": 1}),
        ("Uniform swap", {**zero, "claimed": 1}),
    ]


def test_a_week_without_requests_has_zeros_and_no_median():
    group = make_group()

    report = selectors.group_report(group=group, weeks=3, today=date(2031, 3, 12))

    assert [(w.week_start, w.requests, w.median_hours_to_claim) for w in report.weeks] == [
        (date(2031, 2, 24), 0, None),
        (date(2031, 3, 3), 0, None),
        (date(2031, 3, 10), 0, None),
    ]
    assert report.by_category == []


def test_erased_requests_still_count_in_the_report():
    group = make_group(retention_days=1)
    request = make_request(group)
    services.request_cancel(request=request, secret=request.secret)
    Request.objects.filter(pk=request.pk).update(closed_at=timezone.now() - timedelta(days=2))
    services.requests_purge_personal_data()

    report = selectors.group_report(group=group, weeks=1)

    assert report.weeks[0].by_outcome["cancelled"] == 1
