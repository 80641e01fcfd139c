"""Periodic work on requests: unmet needs, standing needs, the retention period and the
daily summaries.

Each task calls one service and is safe to run again: a second run the same day finds nothing
more to do.
"""

from django_tasks import task

from mutualaid.needs import notifications, services


@task()
def requests_mark_unmet_task() -> int:
    return services.requests_mark_unmet()


@task()
def requests_purge_personal_data_task() -> int:
    return services.requests_purge_personal_data()


@task()
def standing_needs_create_due_task() -> int:
    return services.standing_needs_create_due()


@task()
def request_digests_send_task() -> int:
    return notifications.request_digests_send()
