"""The group's report: figures per week and per kind of help, for members, without personal
data."""

from datetime import datetime, time, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mutualaid.groups.models import Group, RoleGrant
from mutualaid.needs import services
from mutualaid.needs.models import Request, Urgency
from mutualaid.needs.tests.factories import dispatcher_of, make_group, make_request, member_of
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def report_url(group: Group) -> str:
    return reverse("needs:report", kwargs={"slug": group.slug})


def at(day, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("outsider", 403),
        ("member", 200),
        ("dispatcher", 200),
        ("expired_dispatcher", 200),
    ],
)
def test_the_report_is_for_members(client: Client, db: None, role, status):
    group = make_group()
    users = {
        "anonymous": None,
        "outsider": UserFactory(),
        "member": member_of(group),
        "dispatcher": dispatcher_of(group),
        "expired_dispatcher": dispatcher_of(group),
    }
    RoleGrant.objects.filter(holder=users["expired_dispatcher"]).update(
        granted_at=timezone.now() - timedelta(days=10),
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    if users[role] is not None:
        client.force_login(users[role])

    response = client.get(report_url(group))

    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith(reverse("account_login"))


def row(*cells: object) -> str:
    return "".join(f"<td>{cell}</td>" for cell in cells)


def test_the_report_counts_each_week_and_kind_exactly(client, db):
    # given: two weeks ago three requests, one done (claimed after 2 h), one held (claimed after
    # 4 h) and one cancelled; last week one unmet, one open and one let go after 30 minutes
    group = make_group()
    member = member_of(group)
    dispatcher = dispatcher_of(group)
    this_monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    two_weeks_ago, last_week = this_monday - timedelta(weeks=2), this_monday - timedelta(weeks=1)
    monday_10 = at(two_weeks_ago, 10)

    done = make_request(group, category="shopping", name="Margaret Okafor", now=monday_10)
    services.request_claim(request=done, member=member, now=monday_10 + timedelta(hours=2))
    services.request_complete(request=done, member=member, now=monday_10 + timedelta(hours=3))
    held = make_request(group, category="shopping", now=monday_10)
    services.request_claim(request=held, member=member, now=monday_10 + timedelta(hours=4))
    cancelled = make_request(group, category="ride", now=monday_10)
    services.request_cancel(request=cancelled, actor=dispatcher)

    tuesday_10 = at(last_week + timedelta(days=1), 10)
    make_request(group, category="ride", urgency=Urgency.TODAY, now=tuesday_10)
    make_request(group, category="talk", urgency=Urgency.FLEXIBLE, now=tuesday_10)
    let_go = make_request(group, category="prescription", urgency=Urgency.FLEXIBLE, now=tuesday_10)
    services.request_claim(request=let_go, member=member, now=tuesday_10 + timedelta(minutes=30))
    services.request_release(request=let_go, member=member, reason="Ill")
    assert services.requests_mark_unmet() == 1
    client.force_login(member)

    # when
    response = client.get(report_url(group))

    # then
    html = response.content.decode()
    weeks = [week.week_start for week, _row in response.context["weeks"]]
    assert weeks == [this_monday - timedelta(weeks=n) for n in range(11, -1, -1)]
    assert (
        f'<tr><th scope="row"><time datetime="{two_weeks_ago:%Y-%m-%d}">'
        f"{two_weeks_ago:%-d %b %Y}</time></th>" + row(3, 1, 0, 1, 1, "3.0") + "</tr>"
    ) in html
    assert (
        f'<tr><th scope="row"><time datetime="{last_week:%Y-%m-%d}">'
        f"{last_week:%-d %b %Y}</time></th>" + row(3, 0, 1, 0, 2, "0.5") + "</tr>"
    ) in html
    assert (
        f'<tr><th scope="row"><time datetime="{this_monday:%Y-%m-%d}">'
        f"{this_monday:%-d %b %Y}</time></th>" + row(0, 0, 0, 0, 0, "—") + "</tr>"
    ) in html
    assert (
        '<thead><tr><th scope="col">Week of</th><th scope="col">Requests</th>'
        '<th scope="col">Done</th><th scope="col">Unmet</th><th scope="col">Cancelled</th>'
        '<th scope="col">Still open</th><th scope="col">Median hours to claim</th></tr></thead>'
    ) in html
    by_category = [
        '<tr><th scope="row">A ride</th>' + row(2, 0, 1, 1, 0) + "</tr>",
        '<tr><th scope="row">Shopping</th>' + row(2, 1, 0, 0, 1) + "</tr>",
        '<tr><th scope="row">Prescription pickup</th>' + row(1, 0, 0, 0, 1) + "</tr>",
        '<tr><th scope="row">Someone to talk to</th>' + row(1, 0, 0, 0, 1) + "</tr>",
    ]
    assert "<tbody>\n" + "\n".join(by_category) + "\n</tbody>" in html
    assert '<tfoot><tr><th scope="row">All kinds</th>' + row(6, 1, 1, 1, 3) + "</tr></tfoot>" in (
        html
    )
    assert html.count("<caption") == 2
    # figures only: nobody who asked or helped is named
    assert "Margaret Okafor" not in html
    assert member.public_name not in html
    assert Request.objects.count() == 6


def test_an_empty_report_says_so(client, db):
    group = make_group()
    client.force_login(group.created_by)

    html = client.get(report_url(group)).content.decode()

    assert "No requests in these weeks." in html
    assert html.count(row(0, 0, 0, 0, 0, "—")) == 12


def test_the_report_has_a_fixed_number_of_queries(client, db, django_assert_num_queries):
    group = make_group()
    member = member_of(group)
    for n in range(20):
        make_request(group, category="shopping" if n % 2 else "ride")
    client.force_login(member)

    # session, user, group, membership, requests, group's categories, leftover counts
    with django_assert_num_queries(7):
        response = client.get(report_url(group))

    assert response.context["category_total"].total == 20
