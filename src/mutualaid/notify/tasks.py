from django_tasks import task

from mutualaid.notify import services


@task()
def deliver(delivery_id: int) -> str:
    """Send one recorded email; running it again for the same delivery sends nothing more."""
    return services.delivery_send(delivery_id=delivery_id)


@task()
def deliveries_retry_failed_task() -> int:
    return services.deliveries_retry_failed()


@task()
def deliveries_erase_content_task() -> int:
    return services.deliveries_erase_content()
