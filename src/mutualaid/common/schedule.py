"""Periodic jobs: which background tasks run how often, and the loop that enqueues them.

Time is cut into slots of each job's interval, counted from the Unix epoch (so a daily job's
slot starts at midnight UTC). When a slot has begun, the scheduler inserts a ScheduledRun row
for (job, slot) and enqueues the job's task in the same transaction. The row is unique, so
however many schedulers run, on one machine or many, each slot is enqueued once: the database
decides. A slot missed while no scheduler ran is not made up; the jobs catch up by themselves
(each handles everything that is due when it runs).
"""

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import close_old_connections, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from mutualaid.common.models import ScheduledRun

logger = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# How often the loop looks for due jobs; a job starts at most this late.
TICK_SECONDS = 30.0
# ScheduledRun rows older than this are deleted: only the current slots matter.
KEEP_RUNS = timedelta(days=7)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task_path: str
    """Dotted path of a django_tasks task that takes no arguments."""
    interval: timedelta
    offset: timedelta = timedelta(0)
    """Where in its interval a slot starts: 7 hours makes a daily job run at 07:00 UTC."""

    def slot(self, now: datetime) -> datetime:
        """The start of the interval `now` falls in."""
        start = EPOCH + self.offset
        step = int(self.interval.total_seconds())
        elapsed = int((now - start).total_seconds())
        return start + timedelta(seconds=elapsed - elapsed % step)

    def task(self) -> Any:
        return import_string(self.task_path)


JOBS: tuple[PeriodicJob, ...] = (
    # Open requests past their needed-by date become unmet, for the dispatchers' follow-up.
    PeriodicJob(
        "requests_mark_unmet",
        "mutualaid.needs.tasks.requests_mark_unmet_task",
        timedelta(hours=1),
    ),
    # Personal data of requests closed longer than their group's retention days is erased.
    PeriodicJob(
        "requests_purge_personal_data",
        "mutualaid.needs.tasks.requests_purge_personal_data_task",
        timedelta(days=1),
    ),
    # The next occurrence of each standing need that has come due is created.
    PeriodicJob(
        "standing_needs_create_due",
        "mutualaid.needs.tasks.standing_needs_create_due_task",
        timedelta(hours=1),
    ),
    # Members who asked for one daily summary of new requests near them get it, in the
    # morning rather than at midnight.
    PeriodicJob(
        "request_digests_send",
        "mutualaid.needs.tasks.request_digests_send_task",
        timedelta(days=1),
        offset=timedelta(hours=7),
    ),
    # Emails whose delivery failed are tried again, a few times within a day.
    PeriodicJob(
        "deliveries_retry_failed",
        "mutualaid.notify.tasks.deliveries_retry_failed_task",
        timedelta(minutes=15),
    ),
    # Addresses and texts of emails sent long ago are emptied.
    PeriodicJob(
        "deliveries_erase_content",
        "mutualaid.notify.tasks.deliveries_erase_content_task",
        timedelta(days=1),
    ),
    # Proposals made by matching and not answered in time pass to the next volunteer.
    PeriodicJob(
        "assignments_expire_overdue",
        "mutualaid.dispatch.tasks.assignments_expire_overdue_task",
        timedelta(minutes=5),
    ),
    # Change rows of the volunteer indexes are deleted once every index has read them.
    PeriodicJob(
        "volunteer_changes_purge",
        "mutualaid.dispatch.tasks.volunteer_changes_purge_task",
        timedelta(hours=1),
    ),
    # Members with no task for two weeks whom open requests fit hear of a few, once a week.
    PeriodicJob(
        "idle_members_nudge",
        "mutualaid.dispatch.tasks.idle_members_nudge_task",
        timedelta(days=1),
        offset=timedelta(hours=9),
    ),
    # Proposals past their closing time are decided and a passed one takes effect.
    PeriodicJob(
        "proposals_close_due",
        "mutualaid.decisions.tasks.proposals_close_due_task",
        timedelta(minutes=5),
    ),
    # Members hear a day before a proposal closes.
    PeriodicJob(
        "proposals_remind_closing",
        "mutualaid.decisions.tasks.proposals_remind_closing_task",
        timedelta(hours=1),
    ),
)


def job_enqueue_if_due(*, job: PeriodicJob, now: datetime | None = None) -> bool:
    """Enqueue `job` for the slot `now` falls in unless some scheduler already has.

    The ScheduledRun row and, with the database task queue, the queued task are written in one
    transaction, so the run is recorded exactly when it is queued.
    """
    now = now or timezone.now()
    task = job.task()
    with transaction.atomic():
        _run, created = ScheduledRun.objects.get_or_create(job=job.name, slot=job.slot(now))
        if created:
            task.enqueue()
    return created


def run_due_jobs(
    *, now: datetime | None = None, jobs: Iterable[PeriodicJob] | None = None
) -> list[str]:
    """Enqueue every job whose current slot nobody has enqueued yet; returns their names.

    A job that cannot be imported or queued is logged and skipped, so one broken job never
    stops the others.
    """
    now = now or timezone.now()
    enqueued = []
    for job in JOBS if jobs is None else jobs:
        try:
            if job_enqueue_if_due(job=job, now=now):
                enqueued.append(job.name)
        except Exception as error:
            logger.error("Periodic job %s was not queued: %s", job.name, type(error).__name__)
    if enqueued:
        ScheduledRun.objects.filter(slot__lt=now - KEEP_RUNS).delete()
        logger.info("Queued periodic jobs: %s", ", ".join(enqueued))
    return enqueued


def run_forever(
    *,
    should_stop: Callable[[], bool],
    tick_seconds: float = TICK_SECONDS,
    jobs: Iterable[PeriodicJob] | None = None,
) -> None:
    """Look for due jobs every `tick_seconds` until `should_stop()` says so."""
    jobs = tuple(JOBS if jobs is None else jobs)
    while not should_stop():
        close_old_connections()
        run_due_jobs(jobs=jobs)
        close_old_connections()
        deadline = time.monotonic() + tick_seconds
        while not should_stop() and time.monotonic() < deadline:
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
