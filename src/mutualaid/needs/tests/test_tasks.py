from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mutualaid.common.models import AuditEvent
from mutualaid.needs import services, tasks
from mutualaid.needs.models import (
    Assignment,
    Claim,
    ContactMethod,
    Message,
    Recurrence,
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


def overdue(request: Request, days: int = 1) -> None:
    Request.objects.filter(pk=request.pk).update(
        needed_by=timezone.localdate() - timedelta(days=days)
    )


def closed_days_ago(request: Request, days: float, *, now, status: str | None = None) -> None:
    changes = {"closed_at": now - timedelta(days=days)}
    if status:
        changes["status"] = status
    Request.objects.filter(pk=request.pk).update(**changes)


# requests_mark_unmet


def test_open_requests_past_their_date_become_unmet_and_nothing_else_does():
    # given
    group = make_group()
    now = timezone.now()
    late = make_request(group)
    overdue(late)
    due_today = make_request(group, urgency="today")
    no_date = make_request(group, urgency="flexible")
    held, _member = claimed_request(group)
    overdue(held)
    # when
    changed = services.requests_mark_unmet(now=now)
    again = services.requests_mark_unmet(now=now)
    # then
    assert (changed, again) == (1, 0)
    statuses = dict(Request.objects.values_list("pk", "status"))
    assert [statuses[r.pk] for r in (late, due_today, no_date, held)] == [
        "unmet",
        "open",
        "open",
        "claimed",
    ]
    late.refresh_from_db()
    assert late.closed_at == now


def test_the_day_is_the_local_day_of_the_time_given():
    group = make_group()
    make_request(group, urgency="today")
    now = timezone.now()

    assert services.requests_mark_unmet(now=now) == 0
    assert services.requests_mark_unmet(now=now + timedelta(days=1)) == 1


def test_a_pending_assignment_of_an_unmet_request_is_withdrawn():
    group = make_group()
    request = make_request(group)
    assignment = services.request_assign(
        request=request, member=member_of(group), dispatcher=dispatcher_of(group)
    )
    overdue(request)

    services.requests_mark_unmet()

    assignment.refresh_from_db()
    assert assignment.answer == "withdrawn"


# requests_purge_personal_data


def test_personal_data_of_requests_closed_longer_than_the_retention_days_is_erased():
    # given: a group keeping personal data 30 days, with a done request closed 31 days ago
    group = make_group(retention_days=30)
    now = timezone.now()
    request, holder = claimed_request(
        group,
        name="Irene",
        email="irene@example.org",
        address="7 Medlar Row",
        accessibility_notes="Knock loudly",
        contact_method=ContactMethod.PHONE,
        area_name="Levenshulme",
    )
    services.message_post(request=request, body="At four?", author=holder)
    services.message_post(request=request, body="Yes", secret=request.secret)
    services.request_complete(
        request=request, member=holder, notes="Left at flat 3", spent_minor=500
    )
    closed_days_ago(request, 31, now=now)
    kept_before = Request.objects.values_list(
        "reference", "category", "area_name", "created_at", "needed_by", "status", "closed_at"
    ).get(pk=request.pk)
    # when
    erased = services.requests_purge_personal_data(now=now)
    # then
    assert erased == 1
    request.refresh_from_db()
    assert [getattr(request, field) for field in services.PERSONAL_FIELDS] == [""] * 6
    assert (
        request.description,
        request.household_key,
        request.secret_digest,
        request.secret_sealed,
    ) == ("", "", "", "")
    assert request.personal_data_erased_at == now
    assert services.request_status_url(request) is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_sealed FROM needs_request WHERE id = %s", [request.pk])
        assert cursor.fetchone() == ("",)
    assert (
        Request.objects.values_list(
            "reference", "category", "area_name", "created_at", "needed_by", "status", "closed_at"
        ).get(pk=request.pk)
        == kept_before
    )
    assert Message.objects.filter(request=request).count() == 0
    claim = Claim.objects.get(request=request)
    assert (claim.member, claim.done_notes, claim.done_at is not None) == (holder, "", True)
    assert ReimbursementClaim.objects.get(request=request).amount_minor == 500
    event = AuditEvent.objects.get(action="erase")
    assert (event.actor, event.subject_label, event.fields, event.reason, event.channel) == (
        None,
        f"request {request.reference}",
        [
            "accessibility_notes",
            "address",
            "contact_via",
            "description",
            "email",
            "messages",
            "name",
            "phone",
        ],
        "retention period ended",
        "command",
    )


def test_the_erased_columns_hold_nothing_encrypted():
    group = make_group(retention_days=1)
    now = timezone.now()
    request = make_request(group)
    services.request_cancel(request=request, secret=request.secret)
    closed_days_ago(request, 2, now=now)

    services.requests_purge_personal_data(now=now)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, phone, email, address, contact_via, accessibility_notes, description "
            "FROM needs_request WHERE id = %s",
            [request.pk],
        )
        assert cursor.fetchone() == ("",) * 7


def test_the_status_link_no_longer_opens_an_erased_request():
    group = make_group(retention_days=1)
    now = timezone.now()
    request = make_request(group)
    services.request_cancel(request=request, secret=request.secret)
    closed_days_ago(request, 2, now=now)
    services.requests_purge_personal_data(now=now)

    from mutualaid.common.errors import ApplicationError

    with pytest.raises(ApplicationError) as refused:
        services.request_find_by_secret(reference=request.reference, secret=request.secret)
    assert refused.value.status == 404


def test_what_is_kept_is_decided_per_group_and_by_status():
    # given
    now = timezone.now()
    short, long = make_group(retention_days=7), make_group(retention_days=90)
    done_short = _done(short)
    closed_days_ago(done_short, 8, now=now)
    recent_short = _done(short)
    closed_days_ago(recent_short, 6, now=now)
    done_long = _done(long)
    closed_days_ago(done_long, 8, now=now)
    unmet = make_request(short)
    closed_days_ago(unmet, 8, now=now, status="unmet")
    cancelled = make_request(short)
    services.request_cancel(request=cancelled, secret=cancelled.secret)
    closed_days_ago(cancelled, 8, now=now)
    old_open = make_request(short)
    Request.objects.filter(pk=old_open.pk).update(created_at=now - timedelta(days=400))
    old_claimed, _member = claimed_request(short)
    Request.objects.filter(pk=old_claimed.pk).update(created_at=now - timedelta(days=400))
    # when
    erased = services.requests_purge_personal_data(now=now)
    # then
    assert erased == 3
    assert set(
        Request.objects.filter(personal_data_erased_at__isnull=False).values_list("pk", flat=True)
    ) == {done_short.pk, unmet.pk, cancelled.pk}
    assert services.requests_purge_personal_data(now=now) == 0
    assert AuditEvent.objects.filter(action="erase").count() == 3


def _done(group) -> Request:
    request, holder = claimed_request(group)
    services.request_complete(request=request, member=holder)
    return request


def test_the_latest_occurrence_of_a_running_standing_need_is_kept_to_copy_from():
    # given: a weekly need whose only occurrence was done long ago
    group = make_group(retention_days=1)
    now = timezone.now()
    request = make_request(group, recurrence=Recurrence.WEEKLY, needed_by=timezone.localdate())
    holder = member_of(group)
    services.request_claim(request=request, member=holder)
    services.request_complete(request=request, member=holder)
    closed_days_ago(request, 5, now=now)
    # when
    kept = services.requests_purge_personal_data(now=now)
    services.standing_need_end(standing_need=request.standing_need, secret=request.secret)
    erased_after_end = services.requests_purge_personal_data(now=now)
    # then
    assert (kept, erased_after_end) == (0, 1)


def test_erasing_many_requests_takes_a_few_queries_per_batch():
    # given: 120 requests closed long ago, with a message and a claim each for some
    group = make_group(retention_days=1)
    now = timezone.now()
    requests = [make_request(group) for _ in range(120)]
    for request in requests[:10]:
        services.message_post(request=request, body="Thanks", secret=request.secret)
    Request.objects.filter(group=group).update(
        status="cancelled", closed_at=now - timedelta(days=3)
    )
    # when: batches of 50
    with (
        mock.patch.object(services, "PURGE_BATCH", 50),
        CaptureQueriesContext(connection) as queries,
    ):
        erased = services.requests_purge_personal_data(now=now)
    # then: three look-ups, then three batches of the same eight queries whatever their size
    # (savepoint, lock, erase, messages, claims, assignments, audit, release)
    assert erased == 120
    assert len(queries) == 3 + 3 * 8
    assert Message.objects.count() == 0
    assert AuditEvent.objects.filter(action="erase").count() == 120


# tasks


def test_the_tasks_call_the_services_and_report_how_many_changed():
    group = make_group(retention_days=1)
    late = make_request(group)
    overdue(late)
    gone = make_request(group)
    services.request_cancel(request=gone, secret=gone.secret)
    Request.objects.filter(pk=gone.pk).update(closed_at=timezone.now() - timedelta(days=2))
    make_request(group, recurrence=Recurrence.DAILY, needed_by=timezone.localdate())

    assert tasks.requests_mark_unmet_task.enqueue().return_value == 1
    assert tasks.requests_purge_personal_data_task.enqueue().return_value == 1
    assert tasks.standing_needs_create_due_task.enqueue().return_value == 1
    assert tasks.standing_needs_create_due_task.enqueue().return_value == 0


def test_an_assignment_is_kept_when_its_request_is_erased():
    group = make_group(retention_days=1)
    now = timezone.now()
    request = make_request(group)
    member = member_of(group)
    assignment = services.request_assign(
        request=request, member=member, dispatcher=dispatcher_of(group)
    )
    services.assignment_decline(assignment=assignment, member=member, reason="Away at my mum's")
    services.request_cancel(request=request, secret=request.secret)
    closed_days_ago(request, 2, now=now)

    services.requests_purge_personal_data(now=now)

    assignment.refresh_from_db()
    assert (assignment.answer, assignment.decline_reason) == ("declined", "")
    assert Assignment.objects.count() == 1
