import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection
from django.utils import timezone

from mutualaid.notify import selectors, services, tasks
from mutualaid.notify.models import Delivery
from mutualaid.people.services import member_erase
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
TEMPLATE = "greeting"


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses the recipient, quoting the address as real servers do."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError(f"no such mailbox: {email_messages[0].to[0]}")


class SlowBackend(LocmemBackend):
    """A mail server that takes a while, so two workers overlap."""

    def send_messages(self, email_messages):
        time.sleep(0.3)
        return super().send_messages(email_messages)


@pytest.fixture(autouse=True)
def email_templates(settings, tmp_path):
    """Two small templates of our own, so these tests depend on no app's wording."""
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / f"{TEMPLATE}_subject.txt").write_text(
        "{% load i18n %}{% translate 'English' %}\n for {{ name }}\n"
    )
    (folder / f"{TEMPLATE}_message.txt").write_text(
        "{% load i18n %}{% autoescape off %}Hello {{ name }} & <friends>.\n{% endautoescape %}"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [folder]}]
    settings.EMAIL_DELIVERY_BACKEND = LOCMEM


def send(key="greeting:1", to="ana@example.org", **options):
    options.setdefault("context", {"name": "Ana"})
    return services.email_send(key=key, to=to, template=TEMPLATE, **options)


def test_an_email_is_recorded_encrypted_and_sent_after_commit(django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        delivery = send()

    # then: nothing goes out before the transaction commits
    assert mail.outbox == []
    assert len(callbacks) == 1
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT recipient, subject, body FROM notify_delivery WHERE id = %s", [delivery.pk]
        )
        stored = " ".join(cursor.fetchone())
    assert "ana@example.org" not in stored
    assert "Ana" not in stored

    # when: it commits
    callbacks[0]()

    # then: the subject is one line, with the site's prefix; the text is not HTML-escaped
    (sent,) = mail.outbox
    assert sent.to == ["ana@example.org"]
    assert sent.subject == "[Mutual Aid] English for Ana"
    assert sent.body == "Hello Ana & <friends>.\n"
    assert sent.extra_headers == {"Auto-Submitted": "auto-generated"}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.error) == (Delivery.Status.SENT, 1, "")
    assert delivery.sent_at is not None


def test_an_email_is_written_in_the_language_asked_for(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send(language="es")

    assert mail.outbox[0].subject == "[Ayuda Mutua] Inglés for Ana"


def test_an_unknown_language_falls_back_to_the_default(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send(language="so")

    assert mail.outbox[0].subject == "[Mutual Aid] English for Ana"


def test_the_same_key_sends_once(django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        first = send(key="request-done:7:requester")
        second = send(key="request-done:7:requester", context={"name": "Someone else"})

    # then
    assert first is not None
    assert second is None
    assert Delivery.objects.count() == 1
    assert [m.subject for m in mail.outbox] == ["[Mutual Aid] English for Ana"]


def test_no_address_sends_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        delivery = send(to="  ")

    assert delivery is None
    assert Delivery.objects.count() == 0
    assert mail.outbox == []


def test_nothing_is_sent_to_an_erased_member(django_capture_on_commit_callbacks):
    # given
    member = UserFactory()
    member_erase(member=member)
    member.refresh_from_db()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        delivery = send(to="former@example.org", recipient_user=member)

    # then
    assert delivery is None
    assert mail.outbox == []


def test_a_member_erased_before_delivery_is_skipped(django_capture_on_commit_callbacks):
    # given: queued, not yet delivered
    member = UserFactory(email="leaving@example.org")
    with django_capture_on_commit_callbacks(execute=False):
        delivery = send(to=member.email, recipient_user=member)

    # when
    member_erase(member=member)
    status = tasks.deliver.call(delivery.pk)

    # then
    assert status == Delivery.Status.SKIPPED
    assert mail.outbox == []


def test_a_retried_deliver_task_sends_once(django_capture_on_commit_callbacks):
    # given: delivered once
    with django_capture_on_commit_callbacks(execute=True):
        delivery = send()

    # when: the worker runs the same task again, as after a crash before it acknowledged
    again = tasks.deliver.enqueue(delivery.pk)

    # then
    assert again.return_value == Delivery.Status.SENT
    assert len(mail.outbox) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1


def test_a_delivery_another_worker_is_sending_is_left_to_it():
    # given
    delivery = Delivery.objects.create(
        idempotency_key="busy", recipient="ana@example.org", subject="S", body="B"
    )
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.SENDING)

    # when
    status = services.delivery_send(delivery_id=delivery.pk)

    # then
    assert status == Delivery.Status.SENDING
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_two_workers_running_the_same_delivery_at_once_send_it_once(settings):
    # given: a slow mail server, and a delivery recorded and committed
    settings.EMAIL_DELIVERY_BACKEND = "mutualaid.notify.tests.test_services.SlowBackend"
    delivery = Delivery.objects.create(
        idempotency_key="twice", recipient="ana@example.org", subject="S", body="B"
    )
    barrier = threading.Barrier(2)
    statuses: list[str] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            statuses.append(services.delivery_send(delivery_id=delivery.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]

    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then
    assert sorted(statuses) == [Delivery.Status.SENDING, Delivery.Status.SENT]
    assert len(mail.outbox) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SENT, 1)


def test_a_failure_is_recorded_without_the_servers_words_and_retried(
    settings, caplog, django_capture_on_commit_callbacks
):
    # given: the mail server refuses
    settings.EMAIL_DELIVERY_BACKEND = "mutualaid.notify.tests.test_services.RefusingBackend"

    # when
    with django_capture_on_commit_callbacks(execute=True):
        delivery = send(to="ana@example.org")

    # then: failed, with the kind of error only; the address is in no log line
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.error) == (
        Delivery.Status.FAILED,
        1,
        "ConnectionRefusedError",
    )
    assert "ana@example.org" not in caplog.text
    assert f"Delivery #{delivery.pk} failed: ConnectionRefusedError" in caplog.text

    # when: the server is back, and the scheduler's retry job runs
    settings.EMAIL_DELIVERY_BACKEND = LOCMEM
    with django_capture_on_commit_callbacks(execute=True):
        retried = services.deliveries_retry_failed()

    # then
    assert retried == 1
    assert [m.to for m in mail.outbox] == [["ana@example.org"]]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.error) == (Delivery.Status.SENT, 2, "")


def test_failed_deliveries_are_retried_three_times_within_a_day():
    # given
    now = timezone.now()
    Delivery.objects.create(
        idempotency_key="tried-twice",
        status=Delivery.Status.FAILED,
        attempts=2,
        recipient="a@x.org",
    )
    Delivery.objects.create(
        idempotency_key="tried-thrice",
        status=Delivery.Status.FAILED,
        attempts=3,
        recipient="a@x.org",
    )
    Delivery.objects.create(
        idempotency_key="yesterday",
        status=Delivery.Status.FAILED,
        attempts=1,
        recipient="a@x.org",
        created_at=now - timedelta(days=1, minutes=1),
    )

    assert services.deliveries_retry_failed(now=now) == 1


def test_old_deliveries_lose_their_address_and_text_but_keep_their_key():
    # given
    now = timezone.now()
    old = Delivery.objects.create(
        idempotency_key="old",
        recipient="ana@example.org",
        subject="S",
        body="B",
        status=Delivery.Status.SENT,
        created_at=now - timedelta(days=31),
    )
    recent = Delivery.objects.create(
        idempotency_key="recent",
        recipient="ana@example.org",
        subject="S",
        body="B",
        created_at=now - timedelta(days=29),
    )

    # when
    erased = services.deliveries_erase_content(now=now)

    # then
    assert erased == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.recipient, old.subject, old.body, old.content_erased_at) == ("", "", "", now)
    assert (old.idempotency_key, old.status) == ("old", Delivery.Status.SENT)
    assert (recent.recipient, recent.content_erased_at) == ("ana@example.org", None)
    assert services.deliveries_erase_content(now=now) == 0


def test_the_daily_count_covers_one_kind_since_local_midnight(settings):
    # given: a member allowed two a day, in a time zone ahead of UTC
    settings.TIME_ZONE = "Asia/Tokyo"
    member = UserFactory(notify_max_per_day=2)
    now = timezone.now()
    midnight = selectors.start_of_today(now)
    for key, kind, created_at in [
        ("a", "request_nearby", midnight + timedelta(minutes=1)),
        ("b", "request_nearby", midnight - timedelta(minutes=1)),
        ("c", "assignment", midnight + timedelta(minutes=2)),
    ]:
        Delivery.objects.create(
            idempotency_key=key,
            kind=kind,
            recipient_user=member,
            recipient=member.email,
            created_at=created_at,
        )

    # then
    assert timezone.localtime(midnight).hour == 0
    assert selectors.deliveries_today(user=member, kind="request_nearby", now=now) == 1
    assert selectors.daily_allowance_left(user=member, kind="request_nearby", now=now) == 1
    assert selectors.daily_allowance_left(user=member, kind="assignment", now=now) == 1


def test_the_allowance_never_goes_below_zero():
    member = UserFactory(notify_max_per_day=1)
    for key in ("a", "b"):
        Delivery.objects.create(
            idempotency_key=key, kind="request_nearby", recipient_user=member, recipient="x"
        )

    assert selectors.daily_allowance_left(user=member, kind="request_nearby") == 0


@pytest.mark.parametrize(
    ("languages", "expected"),
    [(["es", "en"], "es"), (["so", "en"], "en"), (["so"], "en"), ([], "en")],
)
def test_a_member_is_written_to_in_the_first_language_they_speak_that_the_site_has(
    languages, expected
):
    assert services.member_language(UserFactory.build(languages=languages)) == expected
