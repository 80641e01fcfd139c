import re
from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.test import RequestFactory
from django.utils import timezone

from mutualaid.common.errors import ApplicationError
from mutualaid.common.models import AuditEvent
from mutualaid.groups import services as group_services
from mutualaid.groups.models import RoleGrant
from mutualaid.needs import services
from mutualaid.needs.models import (
    Assignment,
    Claim,
    ContactMethod,
    Message,
    ReimbursementClaim,
    Request,
)
from mutualaid.needs.tests.factories import (
    claimed_request,
    dispatcher_of,
    make_group,
    make_request,
    member_of,
)

pytestmark = pytest.mark.django_db


def exactly(message: str) -> str:
    return f"^{re.escape(message)}$"


def refusal(error: pytest.ExceptionInfo) -> tuple[str, int, str]:
    return (error.value.message, error.value.status, error.value.code)


def expire_roles_of(user) -> None:
    now = timezone.now()
    RoleGrant.objects.filter(holder=user).update(
        granted_at=now - timedelta(days=40), expires_at=now - timedelta(seconds=1)
    )


# request_claim


def test_a_member_claims_an_open_request():
    # given
    group = make_group()
    request = make_request(group)
    member = member_of(group)
    # when
    claim = services.request_claim(request=request, member=member)
    # then
    request.refresh_from_db()
    assert (request.status, request.claimed_by, request.claimed_at) == (
        "claimed",
        member,
        claim.claimed_at,
    )
    assert request.first_claimed_at == claim.claimed_at
    assert (claim.request, claim.member, claim.released_at, claim.done_at) == (
        request,
        member,
        None,
        None,
    )


def test_the_callers_instance_follows_the_claim():
    group = make_group()
    request = make_request(group)
    member = member_of(group)

    services.request_claim(request=request, member=member)

    assert (request.status, request.claimed_by) == ("claimed", member)


def test_a_second_claimer_is_told_someone_else_has_it():
    # given
    group = make_group()
    request = make_request(group)
    first, second = member_of(group), member_of(group)
    stale = Request.objects.get(pk=request.pk)
    services.request_claim(request=request, member=first)
    # when
    with pytest.raises(ApplicationError) as refused:
        services.request_claim(request=stale, member=second)
    # then
    assert refusal(refused) == ("Someone else has already taken this request.", 409, "conflict")
    assert Claim.objects.filter(request=request).count() == 1
    request.refresh_from_db()
    assert request.claimed_by == first


def test_claiming_twice_says_you_already_hold_it():
    group = make_group()
    request, member = claimed_request(group)

    with pytest.raises(ApplicationError) as refused:
        services.request_claim(request=request, member=member)

    assert refusal(refused) == ("You already hold this request.", 409, "conflict")


@pytest.mark.parametrize("status", ["done", "cancelled", "unmet"])
def test_a_closed_request_cannot_be_claimed(status):
    group = make_group()
    request = make_request(group)
    Request.objects.filter(pk=request.pk).update(status=status, closed_at=timezone.now())

    with pytest.raises(ApplicationError) as refused:
        services.request_claim(request=request, member=member_of(group))

    assert refusal(refused) == ("This request is no longer open.", 409, "conflict")
    assert Claim.objects.count() == 0


@pytest.mark.parametrize("who", ["anonymous", "outsider", "member of another group"])
def test_only_members_claim(who):
    from django.contrib.auth.models import AnonymousUser

    from mutualaid.people.tests.factories import UserFactory

    group = make_group()
    request = make_request(group)
    actor = {
        "anonymous": AnonymousUser,
        "outsider": UserFactory,
        "member of another group": lambda: member_of(make_group()),
    }[who]()

    with pytest.raises(
        PermissionDenied, match=exactly("Only members of this group can take its requests.")
    ):
        services.request_claim(request=request, member=actor)
    request.refresh_from_db()
    assert (request.status, request.claimed_by) == ("open", None)


def test_the_first_claim_time_is_kept_through_a_release():
    # given: a request claimed, then let go
    group = make_group()
    request = make_request(group)
    first_time = timezone.now() - timedelta(hours=5)
    first = member_of(group)
    services.request_claim(request=request, member=first, now=first_time)
    services.request_release(request=request, member=first, reason="Ill")
    # when
    later = services.request_claim(request=request, member=member_of(group))
    # then
    request.refresh_from_db()
    assert (request.first_claimed_at, request.claimed_at) == (first_time, later.claimed_at)


def test_claiming_withdraws_anothers_pending_assignment_and_accepts_ones_own():
    # given
    group = make_group()
    dispatcher = dispatcher_of(group)
    asked = member_of(group)
    other_request = make_request(group)
    request = make_request(group)
    to_other = services.request_assign(request=request, member=asked, dispatcher=dispatcher)
    own = services.request_assign(request=other_request, member=asked, dispatcher=dispatcher)
    # when
    services.request_claim(request=request, member=member_of(group))
    services.request_claim(request=other_request, member=asked)
    # then
    to_other.refresh_from_db()
    own.refresh_from_db()
    assert (to_other.answer, own.answer) == ("withdrawn", "accepted")


def test_the_claim_is_announced_after_commit(django_capture_on_commit_callbacks):
    group = make_group()
    request = make_request(group)

    with (
        mock.patch("mutualaid.needs.notifications.request_claimed_notify") as notify,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.request_claim(request=request, member=member_of(group))

    notify.enqueue.assert_called_once_with(request.pk)


def test_the_database_refuses_a_second_active_claim_and_a_claimed_request_without_claimer():
    group = make_group()
    request, _member = claimed_request(group)

    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.create(request=request, member=member_of(group))
    with pytest.raises(IntegrityError), transaction.atomic():
        Request.objects.filter(pk=request.pk).update(claimed_by=None)


# request_release


def test_the_holder_releases_with_a_reason_and_the_request_is_open_again():
    # given
    group = make_group()
    request, member = claimed_request(group)
    # when
    services.request_release(request=request, member=member, reason="  I am ill  ")
    # then
    request.refresh_from_db()
    claim = Claim.objects.get(request=request)
    assert (request.status, request.claimed_by, request.claimed_at) == ("open", None, None)
    assert claim.release_reason == "I am ill"
    assert claim.released_at is not None
    services.request_claim(request=request, member=member_of(group))
    assert Claim.objects.filter(request=request).count() == 2


def test_a_release_needs_a_reason():
    group = make_group()
    request, member = claimed_request(group)

    with pytest.raises(ApplicationError, match=exactly("Please say why you are letting it go.")):
        services.request_release(request=request, member=member, reason=" ")
    with pytest.raises(
        ApplicationError, match=exactly("Please keep the reason to 500 characters.")
    ):
        services.request_release(request=request, member=member, reason="x" * 501)


@pytest.mark.parametrize("who", ["member", "dispatcher"])
def test_only_the_holder_releases(who):
    group = make_group()
    request, _holder = claimed_request(group)
    actor = member_of(group) if who == "member" else dispatcher_of(group)

    with pytest.raises(
        PermissionDenied, match=exactly("Only the member holding this request can let it go.")
    ):
        services.request_release(request=request, member=actor, reason="No")


def test_a_release_on_a_stale_page_after_a_cancel_is_refused():
    group = make_group()
    request, member = claimed_request(group)
    stale = Request.objects.get(pk=request.pk)
    services.request_cancel(request=request, secret=request.secret)

    with pytest.raises(ApplicationError) as refused:
        services.request_release(request=stale, member=member, reason="Busy")

    assert refusal(refused) == ("You no longer hold this request.", 409, "conflict")


def test_a_release_is_announced(django_capture_on_commit_callbacks):
    group = make_group()
    request, member = claimed_request(group)

    with (
        mock.patch("mutualaid.needs.notifications.request_released_notify") as notify,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.request_release(request=request, member=member, reason="Busy")

    notify.enqueue.assert_called_once_with(request.pk)


# request_complete


def test_the_holder_marks_it_done_with_notes():
    # given
    group = make_group()
    request, member = claimed_request(group)
    # when
    reimbursement = services.request_complete(request=request, member=member, notes="Delivered")
    # then
    request.refresh_from_db()
    claim = Claim.objects.get(request=request)
    assert reimbursement is None
    assert (request.status, request.claimed_by) == ("done", member)
    assert request.closed_at == claim.done_at
    assert (claim.done_notes, claim.released_at) == ("Delivered", None)
    assert ReimbursementClaim.objects.count() == 0


def test_what_the_holder_spent_becomes_a_reimbursement_claim_in_the_groups_currency():
    group = make_group(currency="EUR")
    request, member = claimed_request(group)

    reimbursement = services.request_complete(
        request=request, member=member, spent_minor=2340, spent_note="Receipt from the Co-op"
    )

    assert reimbursement == ReimbursementClaim.objects.get()
    assert (
        reimbursement.request,
        reimbursement.claimant,
        reimbursement.amount_minor,
        reimbursement.currency,
        reimbursement.note,
        reimbursement.status,
    ) == (request, member, 2340, "EUR", "Receipt from the Co-op", "pending")


def test_spending_nothing_makes_no_reimbursement_claim():
    group = make_group()
    request, member = claimed_request(group)

    assert services.request_complete(request=request, member=member, spent_minor=0) is None
    assert ReimbursementClaim.objects.count() == 0


@pytest.mark.parametrize(
    ("spent", "message"),
    [
        (-1, "Please give what you spent as an amount of money."),
        (True, "Please give what you spent as an amount of money."),
        (12.5, "Please give what you spent as an amount of money."),
        (10_000_001, "That amount is too large to claim back here."),
    ],
)
def test_a_spent_amount_must_be_whole_minor_units(spent, message):
    group = make_group()
    request, member = claimed_request(group)

    with pytest.raises(ApplicationError, match=exactly(message)):
        services.request_complete(request=request, member=member, spent_minor=spent)
    request.refresh_from_db()
    assert request.status == "claimed"


def test_a_claim_above_the_groups_safeguarding_limit_is_refused_and_the_request_stays_held():
    group = make_group(reimbursement_limit_minor=3000)
    request, member = claimed_request(group)

    with pytest.raises(
        ApplicationError,
        match=exactly(
            "The group pays back at most £30.00 per claim. Claim up to that, and ask a "
            "treasurer about the rest."
        ),
    ):
        services.request_complete(request=request, member=member, spent_minor=3001)
    request.refresh_from_db()
    assert request.status == "claimed"
    assert services.request_complete(request=request, member=member, spent_minor=3000) is not None


@pytest.mark.parametrize("who", ["member", "dispatcher"])
def test_only_the_holder_marks_it_done(who):
    group = make_group()
    request, _holder = claimed_request(group)
    actor = member_of(group) if who == "member" else dispatcher_of(group)

    with pytest.raises(
        PermissionDenied, match=exactly("Only the member holding this request can mark it done.")
    ):
        services.request_complete(request=request, member=actor)


def test_done_is_announced(django_capture_on_commit_callbacks):
    group = make_group()
    request, member = claimed_request(group)

    with (
        mock.patch("mutualaid.needs.notifications.request_done_notify") as notify,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.request_complete(request=request, member=member)

    notify.enqueue.assert_called_once_with(request.pk)


def test_notes_are_limited():
    group = make_group()
    request, member = claimed_request(group)

    with pytest.raises(
        ApplicationError, match=exactly("Please keep the notes to 2000 characters.")
    ):
        services.request_complete(request=request, member=member, notes="x" * 2001)


# request_assign, assignment_accept, assignment_decline


def test_a_dispatcher_asks_a_member_who_accepts_and_holds_the_request(
    django_capture_on_commit_callbacks,
):
    # given
    group = make_group()
    dispatcher = dispatcher_of(group)
    member = member_of(group)
    request = make_request(group)
    # when
    with (
        mock.patch("mutualaid.needs.notifications.assignment_made_notify") as made,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assignment = services.request_assign(request=request, member=member, dispatcher=dispatcher)
    claim = services.assignment_accept(assignment=assignment, member=member)
    # then
    made.enqueue.assert_called_once_with(assignment.pk)
    assignment.refresh_from_db()
    request.refresh_from_db()
    assert (assignment.assigned_by, assignment.answer) == (dispatcher, "accepted")
    assert assignment.answered_at == claim.claimed_at
    assert (request.status, request.claimed_by, claim.member) == ("claimed", member, member)


def test_a_member_declines_with_a_reason_and_the_request_stays_open():
    group = make_group()
    member = member_of(group)
    request = make_request(group)
    assignment = services.request_assign(
        request=request, member=member, dispatcher=dispatcher_of(group)
    )

    services.assignment_decline(assignment=assignment, member=member, reason=" Away this week ")

    assignment.refresh_from_db()
    request.refresh_from_db()
    assert (assignment.answer, assignment.decline_reason) == ("declined", "Away this week")
    assert request.status == "open"
    services.request_assign(
        request=request, member=member_of(group), dispatcher=dispatcher_of(group)
    )


@pytest.mark.parametrize("who", ["member", "expired dispatcher", "other group's dispatcher"])
def test_only_a_dispatcher_of_the_group_assigns(who):
    group = make_group()
    request = make_request(group)
    if who == "member":
        actor = member_of(group)
    elif who == "expired dispatcher":
        actor = dispatcher_of(group)
        expire_roles_of(actor)
    else:
        actor = dispatcher_of(make_group())

    with pytest.raises(
        PermissionDenied, match=exactly("Only a dispatcher of this group can ask a member to help.")
    ):
        services.request_assign(request=request, member=member_of(group), dispatcher=actor)
    assert Assignment.objects.count() == 0


def test_only_members_of_the_group_can_be_asked():
    group = make_group()
    request = make_request(group)

    with pytest.raises(ApplicationError, match=exactly("You can only ask a member of this group.")):
        services.request_assign(
            request=request, member=member_of(make_group()), dispatcher=dispatcher_of(group)
        )


def test_one_request_waits_for_one_answer_at_a_time():
    group = make_group()
    dispatcher = dispatcher_of(group)
    request = make_request(group)
    services.request_assign(request=request, member=member_of(group), dispatcher=dispatcher)

    with pytest.raises(ApplicationError) as refused:
        services.request_assign(request=request, member=member_of(group), dispatcher=dispatcher)

    assert refusal(refused) == (
        "This request is already waiting for a member's answer.",
        409,
        "conflict",
    )


def test_a_claimed_request_cannot_be_assigned():
    group = make_group()
    request, _member = claimed_request(group)

    with pytest.raises(ApplicationError) as refused:
        services.request_assign(
            request=request, member=member_of(group), dispatcher=dispatcher_of(group)
        )

    assert refusal(refused) == ("This request is no longer open.", 409, "conflict")


def test_only_the_member_asked_answers():
    group = make_group()
    request = make_request(group)
    assignment = services.request_assign(
        request=request, member=member_of(group), dispatcher=dispatcher_of(group)
    )
    someone = member_of(group)

    with pytest.raises(
        PermissionDenied, match=exactly("Only the member who was asked can answer.")
    ):
        services.assignment_accept(assignment=assignment, member=someone)
    with pytest.raises(
        PermissionDenied, match=exactly("Only the member who was asked can answer.")
    ):
        services.assignment_decline(assignment=assignment, member=someone)


def test_accepting_after_someone_else_claimed_loses_with_409():
    # given: the request was offered to one member, and another claimed it first
    group = make_group()
    asked = member_of(group)
    request = make_request(group)
    assignment = services.request_assign(
        request=request, member=asked, dispatcher=dispatcher_of(group)
    )
    stale = Assignment.objects.get(pk=assignment.pk)
    services.request_claim(request=request, member=member_of(group))
    # when
    with pytest.raises(ApplicationError) as refused:
        services.assignment_accept(assignment=stale, member=asked)
    # then
    assert refusal(refused) == ("Someone else has already taken this request.", 409, "conflict")
    assert Claim.objects.filter(request=request).count() == 1


def test_an_answer_given_twice_is_refused():
    group = make_group()
    asked = member_of(group)
    request = make_request(group)
    assignment = services.request_assign(
        request=request, member=asked, dispatcher=dispatcher_of(group)
    )
    stale = Assignment.objects.get(pk=assignment.pk)
    services.assignment_decline(assignment=assignment, member=asked)

    with pytest.raises(ApplicationError) as refused:
        services.assignment_decline(assignment=stale, member=asked)

    assert refusal(refused) == (
        "This request is no longer waiting for your answer.",
        409,
        "conflict",
    )


def test_accepting_a_withdrawn_offer_of_a_request_open_again_is_refused():
    # given: someone else claimed and released it, withdrawing the assignment
    group = make_group()
    asked = member_of(group)
    request = make_request(group)
    assignment = services.request_assign(
        request=request, member=asked, dispatcher=dispatcher_of(group)
    )
    stale = Assignment.objects.get(pk=assignment.pk)
    other = member_of(group)
    services.request_claim(request=request, member=other)
    services.request_release(request=request, member=other, reason="Busy")
    # when
    with pytest.raises(ApplicationError) as refused:
        services.assignment_accept(assignment=stale, member=asked)
    # then
    assert refusal(refused) == (
        "This request is no longer waiting for your answer.",
        409,
        "conflict",
    )
    request.refresh_from_db()
    assert (request.status, Claim.objects.filter(request=request).count()) == ("open", 1)


# request_reopen


def test_a_dispatcher_reopens_an_unmet_request_with_a_new_date():
    group = make_group()
    request = make_request(group)
    Request.objects.filter(pk=request.pk).update(status="unmet", closed_at=timezone.now())
    new_date = timezone.localdate() + timedelta(days=3)

    services.request_reopen(request=request, dispatcher=dispatcher_of(group), needed_by=new_date)

    request.refresh_from_db()
    assert (request.status, request.needed_by, request.closed_at) == ("open", new_date, None)


def test_an_open_request_past_its_date_gets_a_new_date():
    group = make_group()
    request = make_request(group)
    Request.objects.filter(pk=request.pk).update(needed_by=timezone.localdate() - timedelta(days=1))

    services.request_reopen(request=request, dispatcher=dispatcher_of(group), needed_by=None)

    request.refresh_from_db()
    assert (request.status, request.needed_by) == ("open", None)


@pytest.mark.parametrize("status", ["open", "claimed", "done", "cancelled"])
def test_only_unmet_or_overdue_requests_reopen(status):
    group = make_group()
    request = make_request(group)
    if status == "claimed":
        services.request_claim(request=request, member=member_of(group))
    elif status != "open":
        Request.objects.filter(pk=request.pk).update(status=status, closed_at=timezone.now())

    with pytest.raises(ApplicationError) as refused:
        services.request_reopen(request=request, dispatcher=dispatcher_of(group), needed_by=None)

    assert refusal(refused) == (
        "Only an unmet request, or an open one whose date has passed, can be reopened.",
        409,
        "conflict",
    )


def test_a_reopened_request_needs_a_date_not_in_the_past_and_a_dispatcher():
    group = make_group()
    request = make_request(group)
    Request.objects.filter(pk=request.pk).update(status="unmet", closed_at=timezone.now())

    with pytest.raises(ApplicationError, match=exactly("The new date cannot be in the past.")):
        services.request_reopen(
            request=request,
            dispatcher=dispatcher_of(group),
            needed_by=timezone.localdate() - timedelta(days=1),
        )
    with pytest.raises(
        PermissionDenied, match=exactly("Only a dispatcher of this group can reopen a request.")
    ):
        services.request_reopen(request=request, dispatcher=member_of(group), needed_by=None)


def test_an_erased_request_cannot_be_reopened():
    group = make_group()
    request = make_request(group)
    Request.objects.filter(pk=request.pk).update(
        status="unmet", closed_at=timezone.now(), personal_data_erased_at=timezone.now()
    )

    with pytest.raises(ApplicationError):
        services.request_reopen(request=request, dispatcher=dispatcher_of(group), needed_by=None)


# request_contact_details


def test_the_holder_sees_how_to_reach_the_requester_and_the_view_is_audited():
    # given
    group = make_group()
    request, member = claimed_request(
        group,
        name="Irene",
        phone="0161 496 0021",
        address="7 Medlar Row",
        accessibility_notes="Knock loudly",
    )
    http_request = RequestFactory().get(f"/requests/{request.pk}/")
    # when
    details = services.request_contact_details(
        request=request, viewer=member, http_request=http_request
    )
    # then
    assert details == {
        "name": "Irene",
        "phone": "+441614960021",
        "email": "",
        "address": "7 Medlar Row",
        "contact_method": "phone",
        "contact_via": "",
        "accessibility_notes": "Knock loudly",
    }
    event = AuditEvent.objects.get()
    assert (
        event.actor,
        event.subject_label,
        event.fields,
        event.reason,
        event.channel,
        event.where,
    ) == (
        member,
        f"request {request.reference}",
        ["accessibility_notes", "address", "name", "phone"],
        "claimed the request",
        "web",
        f"/requests/{request.pk}/",
    )


def test_a_dispatcher_sees_contact_details_of_an_open_request_for_the_group():
    group = make_group()
    request = make_request(
        group, contact_method=ContactMethod.EMAIL, phone="", email="rita@example.org"
    )
    dispatcher = dispatcher_of(group)

    details = services.request_contact_details(request=request, viewer=dispatcher)

    assert (details["email"], details["contact_method"]) == ("rita@example.org", "email")
    event = AuditEvent.objects.get()
    assert (event.actor, event.fields, event.reason, event.channel) == (
        dispatcher,
        ["address", "email", "name"],
        "dispatcher for the group",
        "command",
    )


@pytest.mark.parametrize(
    "who", ["member", "former holder", "expired dispatcher", "other dispatcher", "anonymous"]
)
def test_nobody_else_sees_contact_details_and_nothing_is_audited(who):
    from django.contrib.auth.models import AnonymousUser

    group = make_group()
    request, holder = claimed_request(group)
    if who == "member":
        viewer = member_of(group)
    elif who == "former holder":
        services.request_release(request=request, member=holder, reason="Busy")
        viewer = holder
    elif who == "expired dispatcher":
        viewer = dispatcher_of(group)
        expire_roles_of(viewer)
    elif who == "other dispatcher":
        viewer = dispatcher_of(make_group())
    else:
        viewer = AnonymousUser()

    with pytest.raises(PermissionDenied):
        services.request_contact_details(request=request, viewer=viewer)
    assert AuditEvent.objects.count() == 0


def test_a_holder_with_a_stale_page_after_releasing_sees_nothing():
    group = make_group()
    request, holder = claimed_request(group)
    stale = Request.objects.get(pk=request.pk)
    services.request_release(request=request, member=holder, reason="Busy")

    with pytest.raises(PermissionDenied):
        services.request_contact_details(request=stale, viewer=holder)


def test_after_erasure_not_even_a_dispatcher_sees_contact_details():
    group = make_group()
    request = make_request(group)
    Request.objects.filter(pk=request.pk).update(personal_data_erased_at=timezone.now())

    with pytest.raises(PermissionDenied):
        services.request_contact_details(request=request, viewer=dispatcher_of(group))


# message_post


def test_requester_holder_and_dispatcher_talk_in_one_thread(django_capture_on_commit_callbacks):
    # given
    group = make_group()
    request, holder = claimed_request(group)
    dispatcher = dispatcher_of(group)
    # when
    with (
        mock.patch("mutualaid.needs.notifications.message_posted_notify") as notify,
        django_capture_on_commit_callbacks(execute=True),
    ):
        first = services.message_post(request=request, body=" Is four OK? ", author=holder)
        services.message_post(request=request, body="Yes please", secret=request.secret)
        services.message_post(request=request, body="Noted", author=dispatcher)
    # then
    assert [
        (message.author_kind, message.author, message.body)
        for message in Message.objects.filter(request=request)
    ] == [
        ("member", holder, "Is four OK?"),
        ("requester", None, "Yes please"),
        ("dispatcher", dispatcher, "Noted"),
    ]
    assert notify.enqueue.call_args_list[0] == mock.call(first.pk)
    assert notify.enqueue.call_count == 3


@pytest.mark.parametrize("who", ["member", "former holder", "expired dispatcher", "nobody"])
def test_only_the_thread_people_write(who):
    group = make_group()
    request, holder = claimed_request(group)
    if who == "member":
        author = member_of(group)
    elif who == "former holder":
        services.request_release(request=request, member=holder, reason="Busy")
        author = holder
    elif who == "expired dispatcher":
        author = dispatcher_of(group)
        expire_roles_of(author)
    else:
        author = None

    with pytest.raises(
        PermissionDenied,
        match=exactly(
            "Only the person who asked, the member holding the request and the dispatchers can "
            "write here."
        ),
    ):
        services.message_post(request=request, body="Hello", author=author)
    assert Message.objects.count() == 0


def test_a_wrong_secret_writes_nothing():
    group = make_group()
    request = make_request(group)
    other = make_request(group)

    with pytest.raises(
        PermissionDenied, match=exactly("Only the person who asked can write here.")
    ):
        services.message_post(request=request, body="Hello", secret=other.secret)


@pytest.mark.parametrize(
    ("body", "message"),
    [(" ", "Please write a message."), ("x" * 2001, "A message can be at most 2000 characters.")],
)
def test_a_message_has_1_to_2000_characters(body, message):
    group = make_group()
    request = make_request(group)

    with pytest.raises(ApplicationError, match=exactly(message)):
        services.message_post(request=request, body=body, secret=request.secret)
    services.message_post(request=request, body="x" * 2000, secret=request.secret)


def test_a_cancelled_requests_thread_is_closed():
    group = make_group()
    request = make_request(group)
    services.request_cancel(request=request, secret=request.secret)

    with pytest.raises(ApplicationError, match=exactly("This conversation is closed.")):
        services.message_post(request=request, body="Hello?", author=dispatcher_of(group))


def test_an_erased_requests_thread_takes_no_message():
    group = make_group()
    request = make_request(group)
    dispatcher = dispatcher_of(group)
    Request.objects.filter(pk=request.pk).update(personal_data_erased_at=timezone.now())

    with pytest.raises(PermissionDenied):
        services.message_post(request=request, body="Hello?", author=dispatcher)
    with pytest.raises(PermissionDenied):
        services.message_post(request=request, body="Hello?", secret=request.secret)


def test_a_done_request_still_takes_a_thank_you():
    group = make_group()
    request, holder = claimed_request(group)
    services.request_complete(request=request, member=holder)

    message = services.message_post(request=request, body="Thank you!", secret=request.secret)

    assert message.author_kind == "requester"


def test_a_member_who_left_the_group_loses_the_thread_once_released():
    group = make_group()
    request, holder = claimed_request(group)
    services.request_release(request=request, member=holder, reason="Moving away")
    group_services.group_leave(group=group, member=holder)

    with pytest.raises(PermissionDenied):
        services.message_post(request=request, body="Bye", author=holder)
