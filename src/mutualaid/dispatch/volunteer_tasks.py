"""Periodic upkeep of the volunteer indexes' change rows. Safe to run again at any time."""

from django_tasks import task

from mutualaid.dispatch.volunteers import volunteer_changes_purge


@task()
def volunteer_changes_purge_task() -> int:
    return volunteer_changes_purge()
