import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives, send_mail
from django.core.management import call_command
from django.db import connection

from mutualaid.common.mail import seal_message, unseal_message


@pytest.fixture
def queued_mail(settings):
    settings.EMAIL_BACKEND = "mutualaid.common.mail.QueuedEmailBackend"
    settings.EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def test_sealed_message_round_trips_with_alternatives():
    message = EmailMultiAlternatives(
        subject="Your code", body="ABC123", from_email="a@example.org", to=["b@example.org"]
    )
    message.attach_alternative("<p>ABC123</p>", "text/html")

    sealed = seal_message(message)
    opened = unseal_message(sealed)

    assert "ABC123" not in sealed
    assert "b@example.org" not in sealed
    assert (opened.subject, opened.body, opened.to) == ("Your code", "ABC123", ["b@example.org"])
    assert opened.alternatives == [("<p>ABC123</p>", "text/html")]


@pytest.mark.django_db(transaction=True)
def test_mail_is_delivered_by_the_worker_after_commit(queued_mail, settings):
    # The settings fixture resets django_tasks' backends when TASKS changes.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

    send_mail("Your code", "Code 123456", None, ["someone@example.org"])
    assert mail.outbox == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT args_kwargs FROM django_tasks_database_dbtaskresult")
        (stored,) = cursor.fetchone()
    assert "123456" not in str(stored)
    assert "someone@example.org" not in str(stored)

    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)

    assert [m.to for m in mail.outbox] == [["someone@example.org"]]
    assert mail.outbox[0].body == "Code 123456"
