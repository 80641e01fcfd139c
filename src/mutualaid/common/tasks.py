from django_tasks import task

from mutualaid.common import mail


@task()
def deliver_email(sealed_message: str) -> None:
    """Send one queued email. The worker retries nothing by itself: a failed delivery shows as
    a failed task result, and the message stays sealed."""
    mail.deliver_now(sealed_message)
