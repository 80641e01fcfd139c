"""Run the periodic jobs of common/schedule.py: enqueue each when its time slot begins."""

import signal
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from mutualaid.common import schedule


class Command(BaseCommand):
    help = (
        "Enqueue the periodic background jobs when they are due, until stopped. Any number "
        "may run at once, on one machine or many: each due run is enqueued once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="enqueue what is due now, then stop"
        )
        parser.add_argument(
            "--tick",
            type=float,
            default=schedule.TICK_SECONDS,
            help=f"seconds between looks for due jobs (default {schedule.TICK_SECONDS:g})",
        )

    def handle(self, *args: Any, once: bool, tick: float, **options: Any) -> None:
        if once:
            for name in schedule.run_due_jobs():
                self.stdout.write(f"Queued {name}.")
            return
        stopping: list[int] = []

        def stop(signum: int, frame: FrameType | None) -> None:
            stopping.append(signum)

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.stdout.write(
                "Scheduler started: "
                + ", ".join(f"{job.name} every {job.interval}" for job in schedule.JOBS)
            )
            self.stdout.flush()
            schedule.run_forever(should_stop=lambda: bool(stopping), tick_seconds=max(0.1, tick))
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("Scheduler stopped.")
