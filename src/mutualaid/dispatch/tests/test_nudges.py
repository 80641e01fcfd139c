"""The weekly nudge to members who have had no task for two weeks and whom open requests fit:
who gets it and who does not, what it says (and never says), and that it goes once a week."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mutualaid.dispatch import nudges, tasks, volunteers
from mutualaid.groups import services as group_services
from mutualaid.groups.models import Group
from mutualaid.needs import notifications, services
from mutualaid.needs.models import Assignment, Request, Urgency
from mutualaid.needs.tests.factories import dispatcher_of, make_group, make_request, member_of
from mutualaid.notify.models import Delivery
from mutualaid.notify.services import email_send
from mutualaid.people.models import Skill, User
from mutualaid.people.services import member_erase
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
CENTRE = {"home_latitude": Decimal("53.45"), "home_longitude": Decimal("-2.22")}
# About 11 km north of the centre: too far for anyone travelling 3 km.
FAR = {"home_latitude": Decimal("53.55"), "home_longitude": Decimal("-2.22")}


def _last_wednesday_noon() -> datetime:
    today = timezone.localdate()
    wednesday = today - timedelta(days=(today.weekday() - 2) % 7)
    return timezone.make_aware(datetime.combine(wednesday, time(12, 0)))


# A Wednesday at noon, so a day later is the same ISO week and a week later the next.
NOW = _last_wednesday_noon()
LONG_AGO = NOW - timedelta(days=30)


@pytest.fixture(autouse=True)
def _mail_to_the_outbox(settings):
    settings.EMAIL_DELIVERY_BACKEND = LOCMEM
    settings.SITE_URL = "https://aid.example.org"


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """Runs what was queued after commit (the deliveries), as the worker would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def nudge(now: datetime = NOW) -> int:
    """Run the nudge as at `now`, recording what it sends as made then."""
    volunteers.forget_all()
    before = set(Delivery.objects.values_list("pk", flat=True))
    sent = nudges.idle_members_nudge(now=now)
    Delivery.objects.exclude(pk__in=before).update(created_at=now)
    return sent


def nudged() -> list[str]:
    """Display names of the members a nudge was recorded for, in order."""
    return sorted(
        Delivery.objects.filter(kind=nudges.KIND_NUDGE).values_list(
            "recipient_user__display_name", flat=True
        )
    )


def veteran(group: Group, name: str, **fields) -> User:
    """A member of `group` for a month, living at its centre, travelling 3 km."""
    for key, value in CENTRE.items():
        fields.setdefault(key, value)
    return member_of(group, display_name=name, date_joined=LONG_AGO, travel_km=3, **fields)


@dataclass
class World:
    group: Group
    dispatcher: User
    requests: dict[str, Request]


@pytest.fixture
def world() -> World:
    """A group whose founder and dispatchers joined today (so are never idle), with five open
    requests at its centre or near it: a prescription needed today, shopping and a ride this
    week, food this week 2 km north, and household help with no hurry."""
    group = make_group(
        creator=UserFactory(notify_by_email=False),
        name="Southside Mutual Aid",
        centre_latitude=Decimal("53.45"),
        centre_longitude=Decimal("-2.22"),
    )
    dispatcher = dispatcher_of(group)
    this_morning = NOW - timedelta(hours=2)

    def ask(category: str, **fields) -> Request:
        fields.setdefault("area_name", "Levenshulme")
        return make_request(group, category=category, now=this_morning, **fields)

    requests = {
        "today": ask("prescription", urgency=Urgency.TODAY),
        "shopping": ask("shopping", urgency=Urgency.THIS_WEEK),
        "ride": ask("ride", urgency=Urgency.THIS_WEEK),
        "food": ask("food", urgency=Urgency.THIS_WEEK, latitude=53.47, longitude=-2.22),
        "household": ask("household", urgency=Urgency.FLEXIBLE, area_name="Burnage"),
    }
    return World(group=group, dispatcher=dispatcher, requests=requests)


def took_a_task(group: Group, member: User, *, days_ago: float, done: bool = True) -> None:
    """`member` claimed a request `days_ago` days before NOW, and marked it done a day later."""
    claimed_at = NOW - timedelta(days=days_ago)
    request = make_request(group, category="shopping", now=claimed_at - timedelta(hours=1))
    services.request_claim(request=request, member=member, now=claimed_at)
    if done:
        services.request_complete(
            request=request, member=member, now=claimed_at + timedelta(days=1)
        )


def test_who_is_nudged_and_who_is_not(world):
    group = world.group
    veteran(group, "Idle Ida")
    took_a_task(group, veteran(group, "Olden Oli"), days_ago=20)
    took_a_task(group, veteran(group, "Recent Rae"), days_ago=5)
    took_a_task(group, veteran(group, "Holding Hal"), days_ago=20, done=False)
    asked = veteran(group, "Asked Ash")
    assignment = services.request_assign(
        request=make_request(group), member=asked, dispatcher=world.dispatcher
    )
    services.assignment_decline(assignment=assignment, member=asked)
    long_asked = veteran(group, "Asked Long Ago Abe")
    assignment = services.request_assign(
        request=make_request(group), member=long_asked, dispatcher=world.dispatcher
    )
    services.assignment_decline(assignment=assignment, member=long_asked)
    Assignment.objects.filter(pk=assignment.pk).update(created_at=NOW - timedelta(days=15))
    member_of(group, display_name="Newcomer Nia", **CENTRE)
    veteran(group, "Faraway Fay", **FAR)
    veteran(group, "Quiet Quinn", notify_by_email=False)
    veteran(group, "Paused Pat", is_active=False)
    member_erase(member=veteran(group, "Erased Eve"))
    veteran(group, "Homeless Hugo", home_latitude=None, home_longitude=None)
    UserFactory(display_name="Outsider Otto", date_joined=LONG_AGO, **CENTRE)

    sent = nudge()

    assert nudged() == ["Asked Long Ago Abe", "Idle Ida", "Olden Oli"]
    assert sent == 3


def test_only_members_fitting_a_request_are_nudged(world):
    # given: only the ride is left open; one member drives, one does not
    for key, request in world.requests.items():
        if key != "ride":
            services.request_cancel(request=request, secret=request.secret)
    veteran(world.group, "Walker Wyn")
    driver = veteran(world.group, "Driver Dot")
    driver.skills.add(Skill.objects.get_or_create(name="Driving", group=None)[0])

    nudge()

    assert nudged() == ["Driver Dot"]


def test_a_member_over_the_days_allowance_waits_for_another_day(world, run_tasks):
    # given: a member who hears of at most one request a day and has heard of one today
    member = veteran(world.group, "Busy Inbox Bo", notify_max_per_day=1)
    email_send(
        key=f"request-nearby:{world.requests['shopping'].pk}:member-{member.pk}",
        to=member.email,
        template="needs/email/request_nearby",
        recipient_user=member,
        kind=notifications.KIND_NEARBY,
    )
    Delivery.objects.filter(recipient_user=member).update(created_at=NOW - timedelta(hours=1))

    assert nudge() == 0
    # the next day, the same week, the allowance is back
    assert nudge(NOW + timedelta(days=1)) == 1
    assert nudged() == ["Busy Inbox Bo"]


def test_once_a_week_and_never_twice_in_six_days(world):
    veteran(world.group, "Idle Ida")

    assert nudge() == 1
    assert nudge() == 0
    # Thursday, the same ISO week
    assert nudge(NOW + timedelta(days=1)) == 0
    # Monday of the next week, five days on: still too soon
    assert nudge(NOW + timedelta(days=5)) == 0
    # Wednesday of the next week
    assert nudge(NOW + timedelta(days=7)) == 1
    assert nudged() == ["Idle Ida", "Idle Ida"]
    keys = sorted(
        Delivery.objects.filter(kind=nudges.KIND_NUDGE).values_list("idempotency_key", flat=True)
    )
    member_id = User.objects.get(display_name="Idle Ida").pk
    weeks = [timezone.localdate(NOW + timedelta(days=days)).isocalendar() for days in (0, 7)]
    assert keys == [f"idle-nudge:{member_id}:{year}-W{week:02d}" for year, week, _day in weeks]


def test_the_key_guards_the_week_even_when_the_gap_is_not_checked(world):
    member = veteran(world.group, "Idle Ida")
    # A nudge recorded by another run this week, older than the gap (as after a clock change)
    Delivery.objects.create(
        idempotency_key=nudges.nudge_key(member_id=member.pk, now=NOW),
        kind="",
        recipient_user=member,
    )

    assert nudge() == 0


def test_nothing_is_sent_while_notifications_are_paused(world):
    veteran(world.group, "Idle Ida")

    with notifications.paused():
        assert nudge() == 0
    assert nudged() == []


def test_the_email_lists_three_requests_without_personal_data(world, run_tasks):
    member = veteran(world.group, "Idle Ida")

    with run_tasks():
        assert nudge() == 1

    (message,) = mail.outbox
    assert message.to == [member.email]
    assert message.subject == "[Mutual Aid] 4 requests near you are waiting for someone"
    url = "https://aid.example.org/requests/{}/".format
    requests = world.requests
    assert message.body == (
        "Hello Idle Ida,\n"
        "\n"
        "You have not taken a request for a while, and some near you still need someone. If "
        "you have an hour this week, open one and take it; the first member to take a request "
        "gets the details.\n"
        "\n"
        "* Prescription pickup\n"
        "  Area: Levenshulme\n"
        "  About 0.5 km from your home area\n"
        f"  {url(requests['today'].pk)}\n"
        "\n"
        "* Shopping\n"
        "  Area: Levenshulme\n"
        "  About 0.5 km from your home area\n"
        f"  {url(requests['shopping'].pk)}\n"
        "\n"
        "* Food or a meal\n"
        "  Area: Levenshulme\n"
        "  About 2.0 km from your home area\n"
        f"  {url(requests['food'].pk)}\n"
        "\n"
        "And one more you could take: see the requests page of your group.\n"
        f"https://aid.example.org/groups/{world.group.slug}/requests/\n"
        "\n"
        "You get this email at most once a week, only when you have had no task for two weeks, "
        'because you asked to hear about requests near you. To stop these emails, untick "Email '
        'me about new requests near me" in your profile:\n'
        "https://aid.example.org/me/profile/\n"
        "\n"
        "-- \n"
        "Mutual Aid, for Southside Mutual Aid\n"
    )
    for request in requests.values():
        request.refresh_from_db()
        for personal in (request.name, request.phone, request.address, request.description):
            assert personal not in message.body


def test_the_task_nudges_now(db):
    group = make_group(creator=UserFactory(notify_by_email=False))
    make_request(group, category="shopping")
    member_of(group, display_name="Idle Ida", date_joined=timezone.now() - timedelta(days=15))
    volunteers.forget_all()

    result = tasks.idle_members_nudge_task.enqueue()

    assert result.return_value == 1
    assert nudged() == ["Idle Ida"]


def test_the_requests_a_member_made_are_not_listed(world):
    # given: every open request but one was made by the idle member themself
    member = veteran(world.group, "Idle Ida")
    Request.objects.filter(group=world.group).exclude(pk=world.requests["household"].pk).update(
        created_by=member
    )

    nudge()

    (delivery,) = Delivery.objects.filter(kind=nudges.KIND_NUDGE)
    assert "Burnage" in delivery.body
    assert "Levenshulme" not in delivery.body


def queries_of_a_nudge() -> int:
    volunteers.forget_all()
    with CaptureQueriesContext(connection) as queries:
        nudges.idle_members_nudge(now=NOW)
    Delivery.objects.filter(kind=nudges.KIND_NUDGE).delete()
    return len(queries)


def test_the_queries_grow_with_the_members_written_to_only(world):
    veteran(world.group, "Idle Ida")
    one_member = queries_of_a_nudge()
    for _ in range(20):
        make_request(world.group, category="shopping", now=NOW - timedelta(hours=1))
    veteran(world.group, "Idle Ivo")
    veteran(world.group, "Idle Ines")

    three_members = queries_of_a_nudge()

    # idle members, open requests, the index built (changes, skills, members, their skills),
    # the groups' own categories; then for each member written to: their row locked, today's
    # count, the key looked up, the delivery recorded, and the two savepoints made and released
    # around the last two (a test runs inside a transaction)
    assert one_member == 7 + 8
    assert three_members == 7 + 3 * 8


def test_a_member_of_two_groups_gets_one_email_naming_each_group(world):
    other = make_group(
        creator=UserFactory(notify_by_email=False),
        name="Northside Mutual Aid",
        centre_latitude=Decimal("53.45"),
        centre_longitude=Decimal("-2.22"),
    )
    make_request(other, category="shopping", urgency=Urgency.TODAY, now=NOW - timedelta(hours=1))
    member = veteran(world.group, "Idle Ida")
    group_services.group_join(group=other, member=member)

    assert nudge() == 1

    (delivery,) = Delivery.objects.filter(kind=nudges.KIND_NUDGE)
    assert "* Shopping (Northside Mutual Aid)\n" in delivery.body
    assert "* Prescription pickup (Southside Mutual Aid)\n" in delivery.body
    assert delivery.body.endswith("Mutual Aid, for Northside Mutual Aid, Southside Mutual Aid\n")
