import logging
import os
import signal
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django_tasks import task
from django_tasks.base import Task

from mutualaid.common import schedule
from mutualaid.common.models import ScheduledRun
from mutualaid.common.schedule import PeriodicJob

pytestmark = pytest.mark.django_db

CALLS: list[str] = []


@task()
def count_a_call() -> None:
    CALLS.append("called")


@pytest.fixture(autouse=True)
def _no_calls_yet():
    CALLS.clear()
    yield
    CALLS.clear()


HOURLY = PeriodicJob(
    "count_hourly", "mutualaid.common.tests.test_schedule.count_a_call", timedelta(hours=1)
)
TEN_PAST_TEN = datetime(2026, 11, 23, 10, 10, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("interval", "slot"),
    [
        (timedelta(hours=1), datetime(2026, 11, 23, 10, 0, tzinfo=UTC)),
        (timedelta(days=1), datetime(2026, 11, 23, 0, 0, tzinfo=UTC)),
        (timedelta(minutes=15), datetime(2026, 11, 23, 10, 0, tzinfo=UTC)),
        (timedelta(minutes=5), datetime(2026, 11, 23, 10, 10, tzinfo=UTC)),
    ],
)
def test_a_slot_is_the_start_of_the_interval_the_time_falls_in(interval, slot):
    job = PeriodicJob("job", "x.y", interval)

    assert job.slot(TEN_PAST_TEN) == slot


@pytest.mark.parametrize(
    ("now", "slot"),
    [
        (TEN_PAST_TEN, datetime(2026, 11, 23, 7, 0, tzinfo=UTC)),
        (datetime(2026, 11, 23, 6, 59, tzinfo=UTC), datetime(2026, 11, 22, 7, 0, tzinfo=UTC)),
    ],
)
def test_an_offset_moves_a_daily_slot_to_that_time_of_day(now, slot):
    job = PeriodicJob("job", "x.y", timedelta(days=1), offset=timedelta(hours=7))

    assert job.slot(now) == slot


def test_a_due_job_is_enqueued_once_per_slot():
    # when: the scheduler looks three times in one hour, then once in the next
    first = schedule.run_due_jobs(now=TEN_PAST_TEN, jobs=[HOURLY])
    again = schedule.run_due_jobs(now=TEN_PAST_TEN + timedelta(minutes=40), jobs=[HOURLY])
    still = schedule.run_due_jobs(now=TEN_PAST_TEN + timedelta(minutes=49), jobs=[HOURLY])
    next_hour = schedule.run_due_jobs(now=TEN_PAST_TEN + timedelta(minutes=50), jobs=[HOURLY])

    # then
    assert (first, again, still, next_hour) == (["count_hourly"], [], [], ["count_hourly"])
    assert CALLS == ["called", "called"]
    assert list(ScheduledRun.objects.order_by("slot").values_list("job", "slot")) == [
        ("count_hourly", datetime(2026, 11, 23, 10, 0, tzinfo=UTC)),
        ("count_hourly", datetime(2026, 11, 23, 11, 0, tzinfo=UTC)),
    ]


def test_a_slot_another_scheduler_took_is_not_enqueued_again():
    # given: another machine's scheduler recorded this hour's run
    ScheduledRun.objects.create(job="count_hourly", slot=datetime(2026, 11, 23, 10, tzinfo=UTC))

    # when
    enqueued = schedule.run_due_jobs(now=TEN_PAST_TEN, jobs=[HOURLY])

    # then
    assert enqueued == []
    assert CALLS == []


@pytest.mark.django_db(transaction=True)
def test_schedulers_running_at_once_enqueue_a_slot_exactly_once():
    # given: eight schedulers that look at the same moment
    count = 8
    barrier = threading.Barrier(count)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def scheduler() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(schedule.run_due_jobs(now=TEN_PAST_TEN, jobs=[HOURLY]))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=scheduler) for _ in range(count)]

    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then
    assert errors == []
    assert sorted(results) == [[]] * (count - 1) + [["count_hourly"]]
    assert CALLS == ["called"]
    assert ScheduledRun.objects.count() == 1


def test_a_job_that_cannot_be_loaded_is_logged_and_the_others_still_run(caplog):
    # given
    broken = PeriodicJob("broken", "mutualaid.no_such_module.task", timedelta(hours=1))

    # when
    with caplog.at_level(logging.ERROR, logger="mutualaid.common.schedule"):
        enqueued = schedule.run_due_jobs(now=TEN_PAST_TEN, jobs=[broken, HOURLY])

    # then
    assert enqueued == ["count_hourly"]
    assert CALLS == ["called"]
    assert [record.getMessage() for record in caplog.records] == [
        "Periodic job broken was not queued: ModuleNotFoundError"
    ]
    assert not ScheduledRun.objects.filter(job="broken").exists()


def test_runs_older_than_a_week_are_deleted_when_a_job_is_enqueued():
    # given
    old = ScheduledRun.objects.create(job="count_hourly", slot=TEN_PAST_TEN - timedelta(days=8))
    recent = ScheduledRun.objects.create(job="count_hourly", slot=TEN_PAST_TEN - timedelta(days=6))

    # when
    schedule.run_due_jobs(now=TEN_PAST_TEN, jobs=[HOURLY])

    # then
    assert not ScheduledRun.objects.filter(pk=old.pk).exists()
    assert ScheduledRun.objects.filter(pk=recent.pk).exists()


def test_every_scheduled_job_names_a_task_that_takes_no_arguments():
    # then: each path imports to a django_tasks task the scheduler can enqueue as it is
    names = {job.name for job in schedule.JOBS}
    assert {
        "requests_mark_unmet",
        "requests_purge_personal_data",
        "standing_needs_create_due",
        "request_digests_send",
        "deliveries_retry_failed",
        "deliveries_erase_content",
        "assignments_expire_overdue",
        "volunteer_changes_purge",
        "idle_members_nudge",
        "proposals_close_due",
        "proposals_remind_closing",
    } <= names
    assert len(names) == len(schedule.JOBS)
    for job in schedule.JOBS:
        found = job.task()
        assert isinstance(found, Task), job.task_path
        assert found.func.__code__.co_argcount == 0, job.task_path


def test_the_jobs_run_hourly_daily_and_every_quarter_hour():
    intervals = {job.name: job.interval for job in schedule.JOBS}

    assert intervals["requests_mark_unmet"] == timedelta(hours=1)
    assert intervals["standing_needs_create_due"] == timedelta(hours=1)
    assert intervals["requests_purge_personal_data"] == timedelta(days=1)
    assert intervals["request_digests_send"] == timedelta(days=1)
    assert intervals["deliveries_retry_failed"] == timedelta(minutes=15)
    assert intervals["deliveries_erase_content"] == timedelta(days=1)
    assert intervals["assignments_expire_overdue"] == timedelta(minutes=5)
    assert intervals["volunteer_changes_purge"] == timedelta(hours=1)
    assert intervals["idle_members_nudge"] == timedelta(days=1)
    assert intervals["proposals_close_due"] == timedelta(minutes=5)
    assert intervals["proposals_remind_closing"] == timedelta(hours=1)


@pytest.mark.django_db(transaction=True)
def test_run_forever_looks_at_every_tick_until_told_to_stop(monkeypatch):
    # given: a clock that moves an hour between looks
    looks: list[datetime] = []
    moments = iter(TEN_PAST_TEN + timedelta(hours=hours) for hours in range(3))
    run_due_jobs = schedule.run_due_jobs

    def look(*, now=None, jobs=None):
        looks.append(next(moments))
        return run_due_jobs(now=looks[-1], jobs=jobs)

    monkeypatch.setattr(schedule, "run_due_jobs", look)

    # when
    schedule.run_forever(should_stop=lambda: len(looks) >= 3, tick_seconds=0.01, jobs=[HOURLY])

    # then
    assert len(looks) == 3
    assert CALLS == ["called"] * 3


def test_run_schedule_once_enqueues_what_is_due_and_says_so(monkeypatch, capsys):
    # given
    monkeypatch.setattr(schedule, "JOBS", (HOURLY,))

    # when
    call_command("run_schedule", "--once")
    call_command("run_schedule", "--once")

    # then: the second look finds the hour's run taken
    assert capsys.readouterr().out == "Queued count_hourly.\n"
    assert CALLS == ["called"]


@pytest.mark.django_db(transaction=True)
def test_run_schedule_stops_on_sigterm_and_restores_the_signal_handlers(monkeypatch, capsys):
    # given
    monkeypatch.setattr(schedule, "JOBS", (HOURLY,))
    before = signal.getsignal(signal.SIGTERM)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM))

    # when
    timer.start()
    call_command("run_schedule", "--tick", "0.1")
    timer.join()

    # then
    out = capsys.readouterr().out
    assert out.startswith("Scheduler started: count_hourly every 1:00:00\n")
    assert out.endswith("Scheduler stopped.\n")
    assert CALLS == ["called"]
    assert signal.getsignal(signal.SIGTERM) is before
