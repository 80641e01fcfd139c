"""The members' and dispatchers' pages about requests: who sees what, the claim flow, and the
actions each state allows."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mutualaid.common.models import AuditEvent
from mutualaid.groups.models import Group, RoleGrant
from mutualaid.needs import services
from mutualaid.needs.models import (
    Assignment,
    Claim,
    ContactMethod,
    Message,
    Recurrence,
    ReimbursementClaim,
    Request,
    Urgency,
)
from mutualaid.needs.tests.factories import (
    claimed_request,
    dispatcher_of,
    make_group,
    make_offer,
    make_request,
    member_of,
)
from mutualaid.needs.views import requests as request_views
from mutualaid.people.models import User
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@dataclass
class World:
    group: Group
    member: User
    claimer: User
    dispatcher: User
    expired_dispatcher: User
    outsider: User
    held: Request  # claimed by `claimer`
    open: Request

    def user(self, role: str) -> User | None:
        return None if role == "anonymous" else getattr(self, role)


ROLES = ["anonymous", "outsider", "member", "claimer", "dispatcher", "expired_dispatcher"]


def expire_roles(user: User) -> None:
    RoleGrant.objects.filter(holder=user).update(
        granted_at=timezone.now() - timedelta(days=10),
        expires_at=timezone.now() - timedelta(seconds=1),
    )


@pytest.fixture
def world(db: None) -> World:
    group = make_group(name="Levenshulme Mutual Aid")
    held, claimer = claimed_request(
        group,
        name="Margaret Okafor",
        phone="+44 161 496 0011",
        email="margaret@example.net",
        address="14 Acacia Avenue, M19 2QX",
        accessibility_notes="Ring twice, I am slow to the door",
        area_name="Levenshulme",
        description="Weekly shop: milk, bread, eggs",
    )
    expired = dispatcher_of(group, display_name="Former Dispatcher")
    expire_roles(expired)
    return World(
        group=group,
        member=member_of(group, display_name="Plain Member"),
        claimer=claimer,
        dispatcher=dispatcher_of(group, display_name="Dee Dispatcher"),
        expired_dispatcher=expired,
        outsider=UserFactory(),
        held=held,
        open=make_request(group, area_name="Longsight", description="Prescription pickup"),
    )


def client_as(client: Client, user: User | None) -> Client:
    if user is not None:
        client.force_login(user)
    return client


def detail_url(request: Request) -> str:
    return reverse("needs:request_detail", kwargs={"pk": request.pk})


def list_url(group: Group) -> str:
    return reverse("needs:request_list", kwargs={"slug": group.slug})


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def contact_views() -> int:
    return AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).count()


# Who may open which page


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("outsider", 403),
        ("member", 200),
        ("claimer", 200),
        ("dispatcher", 200),
        ("expired_dispatcher", 200),
    ],
)
def test_the_list_of_open_requests_is_for_members(client, world, role, status):
    response = client_as(client, world.user(role)).get(list_url(world.group))

    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith(reverse("account_login"))
    if status == 200:
        html = response.content.decode()
        assert detail_url(world.open) in html
        assert detail_url(world.held) not in html
        phone_desk = reverse("needs:phone_desk", kwargs={"slug": world.group.slug})
        assert (phone_desk in html) == (role == "dispatcher")


@pytest.mark.parametrize(
    ("role", "status", "sees_contact"),
    [
        ("anonymous", 302, False),
        ("outsider", 403, False),
        ("member", 200, False),
        ("claimer", 200, True),
        ("dispatcher", 200, True),
        ("expired_dispatcher", 200, False),
    ],
)
def test_contact_details_reach_only_the_claimer_and_dispatchers(
    client, world, role, status, sees_contact
):
    # when
    response = client_as(client, world.user(role)).get(detail_url(world.held))

    # then
    assert response.status_code == status
    html = response.content.decode()
    for personal in (
        "Margaret Okafor",
        "+441614960011",
        "margaret@example.net",
        "14 Acacia Avenue",
        "Ring twice",
    ):
        assert (personal in html) == sees_contact, personal
    assert contact_views() == (1 if sees_contact else 0)
    if status == 200:
        assert "no-store" in response["Cache-Control"]
        assert "Weekly shop: milk, bread, eggs" in html
    if sees_contact:
        event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW)
        assert event.actor_id == world.user(role).pk
        assert event.subject_label == f"request {world.held.reference}"
        assert event.fields == sorted(["name", "phone", "email", "address", "accessibility_notes"])
        assert event.where == detail_url(world.held)
        assert '<a href="tel:+441614960011">+44 161 496 0011</a>' in html
        assert '<a href="sms:+441614960011">' in html
        assert '<a href="mailto:margaret@example.net">margaret@example.net</a>' in html


def test_each_view_of_contact_details_is_recorded(client, world):
    client.force_login(world.claimer)

    client.get(detail_url(world.held))
    client.get(detail_url(world.held))

    assert contact_views() == 2


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("outsider", 403),
        ("member", 403),
        ("claimer", 403),
        ("dispatcher", 200),
        ("expired_dispatcher", 403),
    ],
)
def test_the_follow_up_list_is_for_dispatchers(client, world, role, status):
    url = reverse("needs:follow_up", kwargs={"slug": world.group.slug})

    response = client_as(client, world.user(role)).get(url)

    assert response.status_code == status


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        # anyone logged in sees their own page, empty when they hold nothing
        ("outsider", 200),
        ("member", 200),
        ("claimer", 200),
        ("dispatcher", 200),
        ("expired_dispatcher", 200),
    ],
)
def test_my_requests_needs_a_login(client, world, role, status):
    response = client_as(client, world.user(role)).get(reverse("needs:my_requests"))

    assert response.status_code == status
    if status == 200:
        held = [r.pk for r in response.context["held"]]
        assert held == ([world.held.pk] if role == "claimer" else [])


@pytest.mark.parametrize("role", ["anonymous", "outsider", "member", "expired_dispatcher"])
@pytest.mark.parametrize(
    "url_name",
    [
        "request_release",
        "request_complete",
        "request_assign",
        "request_cancel",
        "request_reopen",
        "message_post",
    ],
)
def test_actions_are_refused_to_those_without_the_right(client, world, role, url_name):
    # given
    before = (Request.objects.get(pk=world.held.pk).status, Claim.objects.count())
    data = {"reason": "Busy", "notes": "", "member": world.member.pk, "body": "Hello"}

    # when
    response = client_as(client, world.user(role)).post(
        reverse(f"needs:{url_name}", kwargs={"pk": world.held.pk}), data
    )

    # then
    assert response.status_code == (302 if role == "anonymous" else 403)
    if role == "anonymous":
        assert response["Location"].startswith(reverse("account_login"))
    assert (Request.objects.get(pk=world.held.pk).status, Claim.objects.count()) == before
    assert Message.objects.count() == 0
    assert Assignment.objects.count() == 0


def test_an_outsider_cannot_claim(client, world):
    response = client_as(client, world.outsider).post(
        reverse("needs:request_claim", kwargs={"pk": world.open.pk})
    )

    assert response.status_code == 403
    assert Request.objects.get(pk=world.open.pk).status == Request.Status.OPEN


def test_an_unknown_request_is_not_found(client, world):
    client.force_login(world.member)

    assert client.get("/requests/999999/").status_code == 404
    assert client.post("/requests/999999/claim/").status_code == 404
    assert client.post(f"/requests/{2**63}/claim/").status_code == 404
    assert client.post("/assignments/999999/accept/").status_code == 404


# The list of open requests


def test_the_list_shows_what_was_asked_where_and_how_soon_nearest_first(client, db):
    # given: a member living at 53.45, -2.22 and requests 1 km, 2 km and at the group's centre
    group = make_group(centre_latitude=Decimal("53.45"), centre_longitude=Decimal("-2.22"))
    member = member_of(group)
    far = make_request(
        group,
        category="dog_walking",
        latitude=Decimal("53.47"),
        longitude=Decimal("-2.22"),
        area_name="Rusholme",
        urgency=Urgency.FLEXIBLE,
    )
    near = make_request(
        group,
        category="prescription",
        latitude=Decimal("53.459"),
        longitude=Decimal("-2.22"),
        area_name="Levenshulme",
        urgency=Urgency.TODAY,
    )
    here = make_request(group, category="talk", urgency=Urgency.THIS_WEEK)
    client.force_login(member)

    # when
    response = client.get(list_url(group))

    # then
    html = response.content.decode()
    assert [r.pk for r in response.context["requests"]] == [here.pk, near.pk, far.pk]
    assert "Levenshulme · about 1 km away" in html
    assert "Rusholme · about 2 km away" in html
    assert "Area not given · less than 0.5 km away" in html
    assert "Prescription pickup</a>" in html
    assert f"Today · needed by {timezone.localdate():%-d %b %Y}" in html
    assert "Flexible</dd>" in html
    assert html.count('action="/requests/') == 3
    assert f'action="{reverse("needs:request_claim", kwargs={"pk": near.pk})}"' in html


def test_without_a_home_area_the_distance_is_unknown_with_a_link_to_the_profile(client, db):
    group = make_group()
    member = member_of(group, home_latitude=None, home_longitude=None, home_area="")
    make_request(group)
    client.force_login(member)

    html = client.get(list_url(group)).content.decode()

    assert (
        f'distance unknown (<a href="{reverse("people:profile")}">'
        "add your rough area to your profile</a>)"
    ) in html


def test_the_list_filters_by_kind_and_urgency_without_javascript(client, db):
    group = make_group()
    member = member_of(group)
    shopping_today = make_request(group, category="shopping", urgency=Urgency.TODAY)
    make_request(group, category="shopping", urgency=Urgency.FLEXIBLE)
    make_request(group, category="ride", urgency=Urgency.TODAY)
    client.force_login(member)

    response = client.get(list_url(group), {"category": "shopping", "urgency": "today"})

    assert [r.pk for r in response.context["requests"]] == [shopping_today.pk]
    html = response.content.decode()
    assert '<option value="shopping" selected>shopping</option>' in html
    assert '<option value="today" selected>today</option>' in html


def test_an_unknown_filter_value_shows_a_form_error_and_every_request(client, db):
    group = make_group()
    member = member_of(group)
    make_request(group)
    client.force_login(member)

    response = client.get(list_url(group), {"category": "<script>", "urgency": "soon"})

    assert response.status_code == 200
    assert len(response.context["requests"]) == 1
    assert "Select a valid choice." in response.content.decode()
    assert "<script>" not in response.content.decode()


def test_a_paced_request_comes_later_without_a_label(client, db):
    # given: the same household asks for shopping twice, and someone else once
    group = make_group()
    member = member_of(group)
    first = make_request(group, phone="+44 7700 900111")
    again = make_request(group, phone="+44 7700 900111")
    other = make_request(group, phone="+44 7700 900222")
    client.force_login(member)

    # when
    response = client.get(list_url(group))

    # then: the repeat request is listed after the others, and nothing marks it
    assert Request.objects.get(pk=again.pk).paced is True
    assert [r.pk for r in response.context["requests"]] == [first.pk, other.pk, again.pk]
    html = response.content.decode().lower()
    for word in ("paced", "recently", "again", "repeat"):
        assert word not in html


def test_hostile_text_in_a_request_is_escaped(client, db):
    group = make_group()
    member = member_of(group)
    request = make_request(
        group,
        description="<script>alert('x')</script> & <b>bold</b>",
        address="<img src=x onerror=alert(1)>",
    )
    services.request_claim(request=request, member=member)
    client.force_login(member)

    list_html = client.get(list_url(group)).content.decode()
    detail_html = client.get(detail_url(request)).content.decode()

    for html in (list_html, detail_html):
        assert "<script>alert" not in html
        assert "<b>bold</b>" not in html
        assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in (
        detail_html
    )
    assert "&lt;img src=x onerror=alert(1)&gt;" in detail_html


def test_the_list_has_a_fixed_number_of_queries(client, db, django_assert_num_queries):
    group = make_group()
    member = member_of(group)
    for n in range(30):
        make_request(group, category="shopping" if n % 2 else "ride", phone=f"+4477009{n:05d}")
    client.force_login(member)

    # session, user, group, membership, dispatcher role, group's categories, the order of the
    # open requests, the requests shown
    with django_assert_num_queries(8):
        response = client.get(list_url(group))

    assert len(response.context["requests"]) == 30


# Claiming


def test_a_member_claims_and_then_sees_how_to_reach_the_person(client, world):
    client.force_login(world.member)

    response = client.post(reverse("needs:request_claim", kwargs={"pk": world.open.pk}))

    assert response.status_code == 302
    assert response["Location"] == detail_url(world.open)
    world.open.refresh_from_db()
    assert world.open.status == Request.Status.CLAIMED
    assert world.open.claimed_by == world.member
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "You have taken this request. How to reach the person is below." in html
    assert world.open.name in html
    assert world.open.address in html
    assert "no-store" in page["Cache-Control"]
    assert contact_views() == 1


def test_a_second_claim_is_told_someone_else_has_it(client, world):
    # given: the claimer holds the request
    second = world.member
    client.force_login(second)

    # when
    response = client.post(reverse("needs:request_claim", kwargs={"pk": world.held.pk}))

    # then
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else has already taken this request." in html
    assert "Margaret Okafor" not in html
    assert Claim.objects.filter(request=world.held).count() == 1
    assert contact_views() == 0
    assert "no-store" in response["Cache-Control"]


# Letting go and marking done


def test_letting_go_needs_a_reason(client, world):
    client.force_login(world.claimer)
    url = reverse("needs:request_release", kwargs={"pk": world.held.pk})

    response = client.post(url, {"reason": "   "})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert Request.objects.get(pk=world.held.pk).status == Request.Status.CLAIMED


def test_letting_go_opens_the_request_again(client, world):
    client.force_login(world.claimer)

    response = client.post(
        reverse("needs:request_release", kwargs={"pk": world.held.pk}),
        {"reason": "My car broke down"},
    )

    assert response.status_code == 302
    assert response["Location"] == list_url(world.group)
    world.held.refresh_from_db()
    assert world.held.status == Request.Status.OPEN
    claim = Claim.objects.get(request=world.held)
    assert claim.release_reason == "My car broke down"
    assert claim.released_at is not None
    # they no longer see how to reach the person
    html = client.get(detail_url(world.held)).content.decode()
    assert "Margaret Okafor" not in html


@pytest.mark.parametrize(
    ("currency", "typed", "minor"),
    [("GBP", "12.50", 1250), ("GBP", "7", 700), ("EUR", "0.01", 1), ("JPY", "1500", 1500)],
)
def test_marking_done_with_what_was_spent_makes_a_reimbursement_claim(
    client, db, currency, typed, minor
):
    # given
    group = make_group(currency=currency)
    request, member = claimed_request(group)
    client.force_login(member)

    # when
    response = client.post(
        reverse("needs:request_complete", kwargs={"pk": request.pk}),
        {"notes": "Left it with the neighbour", "spent": typed, "spent_note": "Groceries"},
    )

    # then
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == Request.Status.DONE
    reimbursement = ReimbursementClaim.objects.get(request=request)
    assert (reimbursement.amount_minor, reimbursement.currency) == (minor, currency)
    assert reimbursement.claimant == member
    assert reimbursement.note == "Groceries"
    assert Claim.objects.get(request=request).done_notes == "Left it with the neighbour"
    assert messages_of(response) == [
        "Thank you. The request is done, and what you spent is waiting to be paid back."
    ]


def test_marking_done_without_an_amount_makes_no_reimbursement_claim(client, world):
    client.force_login(world.claimer)

    client.post(reverse("needs:request_complete", kwargs={"pk": world.held.pk}), {"notes": ""})

    assert Request.objects.get(pk=world.held.pk).status == Request.Status.DONE
    assert ReimbursementClaim.objects.count() == 0


@pytest.mark.parametrize(
    ("currency", "typed", "error"),
    [
        ("GBP", "12.505", "This currency has no smaller unit than 2 decimal places."),
        ("JPY", "10.5", "This currency has no smaller unit than 0 decimal places."),
        ("GBP", "-3", "Ensure this value is greater than or equal to 0.01."),
        ("GBP", "0", "Ensure this value is greater than or equal to 0.01."),
        ("GBP", "NaN", "Enter a number."),
        ("GBP", "1e309", "Ensure this value is less than or equal to 100000."),
        ("GBP", "9" * 30, "Ensure this value is less than or equal to 100000."),
        ("GBP", "twelve", "Enter a number."),
    ],
)
def test_an_amount_that_is_no_amount_of_money_is_a_form_error(client, db, currency, typed, error):
    group = make_group(currency=currency)
    request, member = claimed_request(group)
    client.force_login(member)

    response = client.post(
        reverse("needs:request_complete", kwargs={"pk": request.pk}), {"spent": typed}
    )

    assert response.status_code == 400
    assert error in response.content.decode()
    assert Request.objects.get(pk=request.pk).status == Request.Status.CLAIMED
    assert ReimbursementClaim.objects.count() == 0


# Assigning


def test_a_dispatcher_asks_a_member_who_accepts(client, world):
    # given
    client.force_login(world.dispatcher)
    response = client.post(
        reverse("needs:request_assign", kwargs={"pk": world.open.pk}),
        {"member": world.member.pk},
    )
    assert response.status_code == 302
    assignment = Assignment.objects.get(request=world.open)
    assert (assignment.member, assignment.assigned_by) == (world.member, world.dispatcher)
    assert (
        "Waiting for Plain Member to answer." in client.get(detail_url(world.open)).content.decode()
    )

    # when: the member opens the request and accepts
    client.force_login(world.member)
    html = client.get(detail_url(world.open)).content.decode()
    assert "A dispatcher asked you to take this" in html
    assert contact_views() == 1  # the dispatcher's view only
    response = client.post(reverse("needs:assignment_accept", kwargs={"pk": assignment.pk}))

    # then
    assert response["Location"] == detail_url(world.open)
    world.open.refresh_from_db()
    assert (world.open.status, world.open.claimed_by) == (Request.Status.CLAIMED, world.member)
    assignment.refresh_from_db()
    assert assignment.answer == Assignment.Answer.ACCEPTED


def test_a_member_declines_with_a_reason(client, world):
    assignment = services.request_assign(
        request=world.open, member=world.member, dispatcher=world.dispatcher
    )
    client.force_login(world.member)

    response = client.post(
        reverse("needs:assignment_decline", kwargs={"pk": assignment.pk}),
        {"reason": "Away this week"},
    )

    assert response["Location"] == reverse("needs:my_requests")
    assignment.refresh_from_db()
    assert (assignment.answer, assignment.decline_reason) == (
        Assignment.Answer.DECLINED,
        "Away this week",
    )
    assert Request.objects.get(pk=world.open.pk).status == Request.Status.OPEN


def test_only_the_member_asked_can_answer(client, world):
    assignment = services.request_assign(
        request=world.open, member=world.member, dispatcher=world.dispatcher
    )
    client.force_login(world.claimer)

    accept = client.post(reverse("needs:assignment_accept", kwargs={"pk": assignment.pk}))
    decline = client.post(reverse("needs:assignment_decline", kwargs={"pk": assignment.pk}))

    assert (accept.status_code, decline.status_code) == (403, 403)
    assignment.refresh_from_db()
    assert assignment.answer == Assignment.Answer.PENDING


def test_a_dispatcher_can_only_ask_members_of_the_group(client, world):
    client.force_login(world.dispatcher)

    response = client.post(
        reverse("needs:request_assign", kwargs={"pk": world.open.pk}),
        {"member": world.outsider.pk},
    )

    assert response.status_code == 400
    assert "You can only ask a member of this group." in response.content.decode()
    assert Assignment.objects.count() == 0


@pytest.mark.parametrize("typed", ["", "x", "0", "-3", "99999999999999999999"])
def test_asking_with_no_member_id_is_refused(client, world, typed):
    client.force_login(world.dispatcher)

    response = client.post(
        reverse("needs:request_assign", kwargs={"pk": world.open.pk}), {"member": typed}
    )

    assert response.status_code == 400
    assert Assignment.objects.count() == 0


def test_the_suggestions_list_members_of_the_group_only(client, world):
    client.force_login(world.dispatcher)

    response = client.get(detail_url(world.open))

    names = [suggestion.member.public_name for suggestion in response.context["suggestions"]]
    assert "Plain Member" in names
    assert world.outsider.public_name not in names


# Cancelling, reopening and the follow-up list


def test_a_dispatcher_cancels_a_request(client, world):
    client.force_login(world.dispatcher)

    response = client.post(reverse("needs:request_cancel", kwargs={"pk": world.held.pk}))

    assert response["Location"] == detail_url(world.held)
    assert Request.objects.get(pk=world.held.pk).status == Request.Status.CANCELLED
    assert messages_of(response) == [f"Request {world.held.reference} is cancelled."]


def test_cancelling_a_closed_request_says_so(client, world):
    services.request_cancel(request=world.open, actor=world.dispatcher)
    client.force_login(world.dispatcher)

    response = client.post(reverse("needs:request_cancel", kwargs={"pk": world.open.pk}))

    assert response.status_code == 409
    assert "This request is already closed." in response.content.decode()


def unmet_request(group: Group) -> Request:
    request = make_request(group, urgency=Urgency.TODAY)
    services.requests_mark_unmet(now=timezone.now() + timedelta(days=2))
    request.refresh_from_db()
    assert request.status == Request.Status.UNMET
    return request


def test_the_follow_up_list_reopens_an_unmet_request_with_a_new_date(client, world):
    # given
    unmet = unmet_request(world.group)
    follow_up = reverse("needs:follow_up", kwargs={"slug": world.group.slug})
    client.force_login(world.dispatcher)
    html = client.get(follow_up).content.decode()
    assert detail_url(unmet) in html
    assert detail_url(world.open) not in html
    new_date = timezone.localdate() + timedelta(days=3)

    # when
    response = client.post(
        reverse("needs:request_reopen", kwargs={"pk": unmet.pk}),
        {"needed_by": new_date.isoformat(), "next": follow_up},
    )

    # then
    assert response["Location"] == follow_up
    unmet.refresh_from_db()
    assert (unmet.status, unmet.needed_by) == (Request.Status.OPEN, new_date)
    assert detail_url(unmet) not in client.get(follow_up).content.decode()


def test_reopening_refuses_a_past_date_and_a_foreign_next(client, world):
    unmet = unmet_request(world.group)
    client.force_login(world.dispatcher)
    url = reverse("needs:request_reopen", kwargs={"pk": unmet.pk})

    past = client.post(url, {"needed_by": "2001-01-01"})
    foreign = client.post(url, {"needed_by": "", "next": "https://evil.example/"})

    assert past.status_code == 400
    assert "Choose today or a later date." in past.content.decode()
    assert foreign["Location"] == detail_url(unmet)


def test_the_follow_up_list_has_a_fixed_number_of_queries(client, world, django_assert_num_queries):
    for _ in range(10):
        make_request(world.group, urgency=Urgency.TODAY)
    services.requests_mark_unmet(now=timezone.now() + timedelta(days=2))
    client.force_login(world.dispatcher)
    url = reverse("needs:follow_up", kwargs={"slug": world.group.slug})

    # session, user, group, dispatcher role, group's categories, requests
    with django_assert_num_queries(6):
        response = client.get(url)

    assert len(response.context["requests"]) == 10


# Offers, standing needs and the thread on a request


def test_the_holder_links_an_offer(client, world):
    offer = make_offer(world.group, title="Cargo bike deliveries")
    client.force_login(world.claimer)

    response = client.post(
        reverse("needs:request_link_offer", kwargs={"pk": world.held.pk}), {"offer": offer.pk}
    )

    assert response["Location"] == detail_url(world.held)
    assert Request.objects.get(pk=world.held.pk).offer == offer
    assert "Cargo bike deliveries" in client.get(detail_url(world.held)).content.decode()


def test_a_member_not_holding_it_cannot_link_an_offer(client, world):
    offer = make_offer(world.group)
    client.force_login(world.member)

    response = client.post(
        reverse("needs:request_link_offer", kwargs={"pk": world.held.pk}), {"offer": offer.pk}
    )

    assert response.status_code == 403
    assert Request.objects.get(pk=world.held.pk).offer is None


def test_a_member_takes_and_gives_back_a_standing_need(client, db):
    group = make_group()
    member = member_of(group)
    request = make_request(group, recurrence=Recurrence.WEEKLY)
    client.force_login(member)
    assert "Take it each time" in client.get(detail_url(request)).content.decode()

    taken = client.post(reverse("needs:standing_need_commit", kwargs={"pk": request.pk}))

    assert taken["Location"] == detail_url(request)
    request.refresh_from_db()
    assert request.standing_need.volunteer == member
    assert request.claimed_by == member  # the open occurrence is theirs now
    assert "Stop taking it each time" in client.get(detail_url(request)).content.decode()

    client.post(reverse("needs:standing_need_release", kwargs={"pk": request.pk}))

    request.standing_need.refresh_from_db()
    assert request.standing_need.volunteer is None


def test_a_request_that_does_not_come_back_has_no_standing_need_to_take(client, world):
    client.force_login(world.member)

    response = client.post(reverse("needs:standing_need_commit", kwargs={"pk": world.open.pk}))

    assert response.status_code == 404


def test_the_holder_and_the_dispatchers_talk_in_the_thread(client, world):
    services.message_post(request=world.held, body="Back door, please <3", secret=world.held.secret)
    client.force_login(world.claimer)

    response = client.post(
        reverse("needs:message_post", kwargs={"pk": world.held.pk}),
        {"body": "On my way <b>now</b>"},
    )

    assert response["Location"] == detail_url(world.held) + "#thread"
    html = client.get(detail_url(world.held)).content.decode()
    assert "Back door, please &lt;3" in html
    assert "The person who asked" in html
    assert "On my way &lt;b&gt;now&lt;/b&gt;" in html
    dispatcher_html = client_as(client, world.dispatcher).get(detail_url(world.held))
    assert "On my way &lt;b&gt;now&lt;/b&gt;" in dispatcher_html.content.decode()
    member_html = client_as(client, world.member).get(detail_url(world.held)).content.decode()
    assert "On my way" not in member_html
    assert 'id="thread"' not in member_html


def test_an_empty_message_is_a_form_error(client, world):
    client.force_login(world.claimer)

    response = client.post(
        reverse("needs:message_post", kwargs={"pk": world.held.pk}), {"body": " \n "}
    )

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert Message.objects.count() == 0


# Kinds of help


def test_members_see_the_kinds_of_help_and_dispatchers_add_one(client, world):
    url = reverse("needs:categories", kwargs={"slug": world.group.slug})
    member_page = client_as(client, world.member).get(url)
    assert member_page.status_code == 200
    assert "prescription pickup" in member_page.content.decode()
    assert member_page.context["can_add"] is False
    assert client.post(url, {"name": "School uniforms"}).status_code == 403

    client.force_login(world.dispatcher)
    response = client.post(url, {"name": "School uniforms"})

    assert response["Location"] == url
    assert world.group.request_categories.get().name == "School uniforms"
    assert "<li>School uniforms</li>" in client.get(url).content.decode()


def test_a_steward_adds_a_kind_of_help_and_a_duplicate_is_a_form_error(client, world):
    url = reverse("needs:categories", kwargs={"slug": world.group.slug})
    client.force_login(world.group.created_by)  # the founding steward

    client.post(url, {"name": "School uniforms"})
    response = client.post(url, {"name": "school uniforms"})

    assert response.status_code == 200
    assert "That kind of help is already on the list." in response.content.decode()
    assert world.group.request_categories.count() == 1


def test_an_outsider_cannot_see_the_kinds_of_help(client, world):
    url = reverse("needs:categories", kwargs={"slug": world.group.slug})

    assert client_as(client, world.outsider).get(url).status_code == 403


# What I hold, on its own page and on the dashboard


def test_my_requests_lists_what_i_hold_am_asked_take_each_time_and_did(client, db):
    group = make_group()
    member = member_of(group)
    dispatcher = dispatcher_of(group)
    held, _ = claimed_request(group, member=member, category="ride")
    asked = make_request(group, category="talk")
    assignment = services.request_assign(request=asked, member=member, dispatcher=dispatcher)
    done, _ = claimed_request(group, member=member, category="prescription")
    services.request_complete(request=done, member=member)
    standing = make_request(group, recurrence=Recurrence.WEEKLY, category="shopping")
    services.standing_need_commit(standing_need=standing.standing_need, member=member)
    client.force_login(member)

    response = client.get(reverse("needs:my_requests"))

    assert [r.pk for r in response.context["held"]] == [held.pk, standing.pk]
    assert [a.pk for a in response.context["assignments"]] == [assignment.pk]
    assert [s.pk for s in response.context["standing"]] == [standing.standing_need_id]
    assert [c.request_id for c in response.context["done"]] == [done.pk]
    html = response.content.decode()
    assert reverse("needs:assignment_accept", kwargs={"pk": assignment.pk}) in html
    assert "Every week</a>" in html
    assert "Prescription pickup</a>" in html


def test_my_requests_has_a_fixed_number_of_queries(client, db, django_assert_num_queries):
    group = make_group()
    member = member_of(group)
    dispatcher = dispatcher_of(group)
    for _ in range(5):
        claimed_request(group, member=member)
        services.request_assign(request=make_request(group), member=member, dispatcher=dispatcher)
    client.force_login(member)

    # session, user, held, assignments, labels, standing, done
    with django_assert_num_queries(7):
        response = client.get(reverse("needs:my_requests"))

    assert len(response.context["held"]) == 5
    assert len(response.context["assignments"]) == 5


def test_the_dashboard_loads_what_i_hold_after_the_page(client, world, django_assert_num_queries):
    client.force_login(world.claimer)

    dashboard = client.get(reverse("people:dashboard")).content.decode()
    assert f'hx-get="{reverse("needs:my_requests")}" hx-trigger="load"' in dashboard

    # session, user, held, assignments
    with django_assert_num_queries(4):
        part = client.get(reverse("needs:my_requests"), headers={"HX-Request": "true"})

    html = part.content.decode()
    assert "<h1>" not in html
    assert f"Request {world.held.reference} in Levenshulme Mutual Aid" in html
    assert "HX-Request" in part["Vary"]


# Entry points on the group page


@pytest.mark.parametrize(
    "role", ["anonymous", "outsider", "member", "dispatcher", "expired_dispatcher"]
)
def test_the_group_page_leads_to_the_request_pages(client, world, role):
    html = client_as(client, world.user(role)).get(world.group.get_absolute_url()).content.decode()
    slug = world.group.slug

    assert f'href="{reverse("needs:ask", kwargs={"slug": slug})}">Ask for help</a>' in html
    is_member = role not in ("anonymous", "outsider")
    for name in ("request_list", "offer_list", "report"):
        assert (reverse(f"needs:{name}", kwargs={"slug": slug}) in html) == is_member
    for name in ("phone_desk", "follow_up"):
        assert (reverse(f"needs:{name}", kwargs={"slug": slug}) in html) == (role == "dispatcher")


def test_the_contact_method_is_shown_in_words(client, db):
    group = make_group()
    request = make_request(group, contact_method=ContactMethod.SMS)
    dispatcher = dispatcher_of(group)
    client.force_login(dispatcher)

    html = client.get(detail_url(request)).content.decode()

    assert "<dd>Text message</dd>" in html


def test_the_request_list_shows_the_nearest_hundred_and_says_how_many_there_are(
    client, monkeypatch
):
    # given: more open requests than a page shows
    monkeypatch.setattr(request_views, "OPEN_REQUESTS_SHOWN", 3)
    group = make_group()
    member = member_of(group)
    for _ in range(5):
        make_request(group)
    client.force_login(member)

    # when
    response = client.get(reverse("needs:request_list", args=[group.slug]))

    # then
    page = response.content.decode()
    assert "5 open requests" in page
    assert page.count('class="card"') == 3
    assert "The nearest 3 are shown." in page
