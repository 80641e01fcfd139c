import email
import email.policy
import logging
import re
import socket
from datetime import timedelta
from decimal import Decimal

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.utils import timezone
from django.utils.formats import date_format

from mutualaid.groups import services as group_services
from mutualaid.needs import notifications, services, tasks
from mutualaid.needs.models import Channel, Recurrence, Request
from mutualaid.needs.tests import factories
from mutualaid.needs.tests.factories import claimed_request, make_group, make_request, member_of
from mutualaid.notify.models import Delivery
from mutualaid.people.models import Skill, User
from mutualaid.people.services import member_erase, member_profile_update
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
# The group's centre, where a request without a point of its own is.
HOME = {"home_latitude": Decimal("53.45"), "home_longitude": Decimal("-2.22")}
# About 11 km north of it.
FAR = {"home_latitude": Decimal("53.55"), "home_longitude": Decimal("-2.22")}


@pytest.fixture(autouse=True)
def _mail_to_the_outbox(settings):
    settings.EMAIL_DELIVERY_BACKEND = LOCMEM
    settings.SITE_URL = "https://aid.example.org"


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """Runs what services queue after commit (notification tasks, then deliveries), as the
    worker would once the transaction has committed."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def quiet_group(**fields):
    """A group whose founder hears of no request near them."""
    return make_group(creator=UserFactory(notify_by_email=False), **fields)


def dispatcher_of(group, **fields):
    """A dispatcher; the two members who proposed and confirmed the role hear of no request
    near them, so each test decides who lives nearby."""
    before = set(User.objects.filter(memberships__group=group).values_list("pk", flat=True))
    dispatcher = factories.dispatcher_of(group, **fields)
    User.objects.filter(memberships__group=group).exclude(pk__in=before | {dispatcher.pk}).update(
        notify_by_email=False
    )
    return dispatcher


def recipients() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def sent_to(address: str):
    (message,) = [message for message in mail.outbox if address in message.to]
    return message


# A real mail server on loopback.


class Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_inbox(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = "Mutual Aid <noreply@aid.example.org>"
    yield inbox
    controller.stop()


def test_a_claim_reaches_the_requester_through_a_real_smtp_server(smtp_inbox, run_tasks):
    # given: a request from someone who gave an email address
    group = quiet_group(name="Levenshulme Mutual Aid", hotline_phone="0161 496 0000")
    request = make_request(
        group, email="Asker@Example.org", contact_method="email", category="prescription"
    )
    volunteer = member_of(group, display_name="Sunny Fox", phone="+44 7700 900123")

    # when: a member claims it, and the worker runs what was queued
    with run_tasks():
        services.request_claim(request=request, member=volunteer)

    # then: the SMTP server received one message for the requester
    (envelope,) = smtp_inbox.envelopes
    assert envelope.mail_from == "noreply@aid.example.org"
    assert envelope.rcpt_tos == ["asker@example.org"]
    received = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert received["To"] == "asker@example.org"
    assert received["Subject"] == (
        f"[Mutual Aid] A volunteer has taken your request {request.reference}"
    )
    assert received["Auto-Submitted"] == "auto-generated"
    assert received.get_content().replace("\r\n", "\n") == (
        "Hello,\n"
        "\n"
        "Good news: Sunny Fox, a volunteer with Levenshulme Mutual Aid, has taken your request "
        f"{request.reference} (prescription pickup). They will get in touch the way you asked "
        "to be reached.\n"
        "\n"
        "To see how your request is going, write to the volunteer or cancel it, open your "
        "status page:\n"
        f"https://aid.example.org/help/{request.reference}/{request.secret}/\n"
        "\n"
        "This link is yours alone: anyone who has it can read and cancel your request, so share "
        "it only with someone you trust.\n"
        "\n"
        "You can also contact Levenshulme Mutual Aid and quote your reference "
        f"{request.reference}:\n"
        "Phone: 0161 496 0000\n"
        "\n"
        "-- \n"
        "Mutual Aid, for Levenshulme Mutual Aid\n"
    )
    assert volunteer.email not in received.as_string()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.idempotency_key) == (
        Delivery.Status.SENT,
        1,
        f"request-claimed:{request.pk}:claim-{request.claims.get().pk}:requester",
    )


def test_a_claim_notification_that_runs_again_sends_nothing_more(run_tasks):
    # given
    group = quiet_group()
    request = make_request(group, email="asker@example.org")
    with run_tasks():
        services.request_claim(request=request, member=member_of(group))
    assert len(mail.outbox) == 1

    # when: the task is retried
    with run_tasks():
        again = notifications.request_claimed_notify.enqueue(request.pk)

    # then
    assert again.return_value == 0
    assert len(mail.outbox) == 1
    assert Delivery.objects.count() == 1


# The requester's confirmation and their link.

SITE = "https://aid.example.org"


def status_link(message) -> str:
    """The path of the one status-page link in an email."""
    (path,) = re.findall(rf"{re.escape(SITE)}(/help/[^\s#]+/)", message.body)
    return path


def test_a_new_request_is_confirmed_to_its_email_with_the_link_that_opens_its_page(
    run_tasks, client
):
    # given
    group = quiet_group(name="Rusholme Mutual Aid", hotline_phone="0161 496 0002")

    # when
    with run_tasks():
        request = make_request(
            group,
            email="Asker@Example.org",
            category="prescription",
            urgency="flexible",
            area_name="Rusholme",
            description="My inhaler from the chemist on Wilmslow Road",
        )

    # then: one email, to the requester, with the exact address of their status page
    (message,) = mail.outbox
    assert message.to == ["asker@example.org"]
    assert message.subject == f"[Mutual Aid] Your request {request.reference} is in"
    assert message.body == (
        "Hello,\n"
        "\n"
        "Rusholme Mutual Aid has your request for help. We are looking for a volunteer, and we "
        "will write to you here when one takes it.\n"
        "\n"
        f"Reference: {request.reference}\n"
        "What kind of help: prescription pickup\n"
        "Area: Rusholme\n"
        "How soon: flexible\n"
        "\n"
        "What you asked for:\n"
        "My inhaler from the chemist on Wilmslow Road\n"
        "\n"
        "To see how your request is going, write to the volunteer or cancel it, open your "
        "status page:\n"
        f"{SITE}/help/{request.reference}/{request.secret}/\n"
        "\n"
        "This link is yours alone: anyone who has it can read and cancel your request, so share "
        "it only with someone you trust.\n"
        "\n"
        f"You can also contact Rusholme Mutual Aid and quote your reference {request.reference}:\n"
        "Phone: 0161 496 0002\n"
        "\n"
        "-- \n"
        "Mutual Aid, for Rusholme Mutual Aid\n"
    )
    assert Delivery.objects.get().idempotency_key == f"request-received:{request.pk}:requester"

    # when: the requester follows the link
    page = client.get(status_link(message))

    # then
    assert page.status_code == 200
    assert f"Your request {request.reference}" in page.content.decode()
    assert "My inhaler from the chemist on Wilmslow Road" in page.content.decode()


def test_a_caller_who_gave_an_email_is_sent_their_link_too(run_tasks, client):
    # given
    group = quiet_group()
    desk = dispatcher_of(group, notify_by_email=False)

    # when
    with run_tasks():
        request = make_request(
            group, email="caller@example.org", channel=Channel.PHONE, created_by=desk
        )

    # then
    message = sent_to("caller@example.org")
    assert status_link(message) == f"/help/{request.reference}/{request.secret}/"
    assert client.get(status_link(message)).status_code == 200


def test_a_request_without_an_email_confirms_to_nobody(run_tasks):
    group = quiet_group()

    with run_tasks():
        request = make_request(group)
        sent = notifications.request_received_notify.enqueue(request.pk)

    assert sent.return_value == 0
    assert mail.outbox == []


def test_a_confirmation_that_runs_again_sends_nothing_more(run_tasks):
    group = quiet_group()
    with run_tasks():
        request = make_request(group, email="asker@example.org")

    with run_tasks():
        again = notifications.request_received_notify.enqueue(request.pk)

    assert again.return_value == 0
    assert len(mail.outbox) == 1


def test_a_request_cancelled_before_the_worker_confirms_it_sends_nothing(run_tasks):
    group = quiet_group()
    request = make_request(group, email="asker@example.org")
    services.request_cancel(request=request, secret=request.secret)

    with run_tasks():
        sent = notifications.request_received_notify.enqueue(request.pk)

    assert sent.return_value == 0
    assert mail.outbox == []


def test_the_email_about_a_repeat_links_to_that_occurrence_with_the_one_secret(run_tasks, client):
    # given: the second occurrence of a weekly need
    group = quiet_group()
    first = make_request(
        group,
        email="asker@example.org",
        recurrence=Recurrence.WEEKLY,
        needed_by=timezone.localdate(),
    )
    services.standing_needs_create_due(today=timezone.localdate() + timedelta(days=6))
    second = Request.objects.exclude(pk=first.pk).get()

    # when
    with run_tasks():
        services.request_claim(request=second, member=member_of(group))

    # then: the link opens the occurrence that was taken
    link = status_link(sent_to("asker@example.org"))
    assert link == f"/help/{second.reference}/{first.secret}/"
    page = client.get(link)
    assert page.status_code == 200
    assert f"Your request {second.reference}" in page.content.decode()


def test_no_email_but_the_requesters_own_carries_their_secret(run_tasks):
    # given: a caller with an email address, two dispatchers and members around
    group = quiet_group()
    desk = dispatcher_of(group, email="desk@example.org", notify_by_email=False)
    other_desk = dispatcher_of(group, email="other-desk@example.org", notify_by_email=False)
    near = member_of(group, email="near@example.org", **HOME)
    volunteer = member_of(group, email="volunteer@example.org", **FAR)

    # when: the whole life of the request, each step's tasks run as the worker would
    with run_tasks():
        request = make_request(
            group, email="asker@example.org", channel=Channel.PHONE, created_by=desk
        )
    steps = [
        lambda: services.message_post(request=request, secret=request.secret, body="Still?"),
        lambda: services.request_assign(request=request, member=volunteer, dispatcher=other_desk),
        lambda: services.assignment_accept(assignment=request.assignments.get(), member=volunteer),
        lambda: services.message_post(request=request, author=volunteer, body="At five"),
        lambda: services.message_post(request=request, secret=request.secret, body="Fine"),
        lambda: services.request_release(request=request, member=volunteer, reason="Ill"),
        lambda: services.request_claim(request=request, member=near),
        lambda: services.request_complete(request=request, member=near),
    ]
    for step in steps:
        with run_tasks():
            step()

    # then: the requester heard six times, each time with their link; nobody else ever
    to_requester = [message for message in mail.outbox if message.to == ["asker@example.org"]]
    to_others = [message for message in mail.outbox if message.to != ["asker@example.org"]]
    assert [message.subject.split(": ")[0] for message in to_requester] == [
        f"[Mutual Aid] Your request {request.reference} is in",
        f"[Mutual Aid] A volunteer has taken your request {request.reference}",
        f"[Mutual Aid] New message about your request {request.reference}",
        f"[Mutual Aid] Your request {request.reference} is open again",
        f"[Mutual Aid] A volunteer has taken your request {request.reference}",
        "[Mutual Aid] Thank you",
    ]
    assert all(request.secret in message.body for message in to_requester)
    assert {address for message in to_others for address in message.to} == {
        desk.email,
        other_desk.email,
        near.email,
        volunteer.email,
    }
    for message in to_others:
        assert request.secret not in message.subject + message.body
    kept = [
        delivery for delivery in Delivery.objects.all() if delivery.recipient != "asker@example.org"
    ]
    assert len(kept) == len(to_others)
    assert not [delivery for delivery in kept if request.secret in delivery.body]


# Who hears of a new request.


def test_a_new_request_emails_the_dispatchers_and_the_members_nearby_who_fit(run_tasks):
    # given
    group = quiet_group()
    dispatcher = dispatcher_of(group, email="dispatcher@example.org", notify_by_email=False)
    near = member_of(group, email="near@example.org", **HOME)
    far_but_travels = member_of(group, email="travels@example.org", travel_km=20, **FAR)
    member_of(group, email="far@example.org", travel_km=3, **FAR)
    member_of(group, email="quiet@example.org", notify_by_email=False, **HOME)
    member_of(group, email="nowhere@example.org", home_latitude=None, home_longitude=None)
    member_of(group, email="inactive@example.org", is_active=False, **HOME)
    erased = member_of(group, email="erased@example.org", **HOME)
    member_erase(member=erased)
    UserFactory(email="outsider@example.org", **HOME)
    other_group = quiet_group()
    member_of(other_group, email="other-group@example.org", **HOME)

    # when
    with run_tasks():
        request = make_request(group, category="shopping", area_name="Levenshulme")

    # then
    assert recipients() == sorted([dispatcher.email, near.email, far_but_travels.email])
    assert sent_to(dispatcher.email).subject == (
        f"[Mutual Aid] New request {request.reference} in {group.name}: shopping"
    )
    assert sent_to(near.email).subject == (
        "[Mutual Aid] Someone near you needs help: shopping in Levenshulme"
    )
    assert "Someone about 0.5 km from your home area" in sent_to(near.email).body
    assert "Someone about 11.0 km from your home area" in sent_to(far_but_travels.email).body


def test_the_email_to_members_nearby_holds_no_personal_data_of_the_requester(run_tasks):
    # given
    group = quiet_group(name="Burnage Mutual Aid")
    member = member_of(group, email="near@example.org", display_name="Red Kite", **HOME)

    # when
    with run_tasks():
        request = make_request(
            group,
            category="shopping",
            urgency="today",
            area_name="Burnage",
            name="Ada Lovelace",
            phone="+44 7700 900456",
            email="ada@example.org",
            address="12 Crescent Road, M19 2QX",
            description="Milk and a newspaper",
            accessibility_notes="Doorbell is broken",
        )

    # then
    message = sent_to(member.email)
    today = date_format(timezone.localdate(), "DATE_FORMAT")
    assert message.body == (
        "Hello Red Kite,\n"
        "\n"
        "Someone about 0.5 km from your home area has asked Burnage Mutual Aid for help.\n"
        "\n"
        f"Reference: {request.reference}\n"
        "What kind of help: shopping\n"
        "Area: Burnage\n"
        "How soon: today\n"
        f"Needed by: {today}\n"
        "\n"
        "If you can help, open the request and take it; the first member to take it gets the "
        "details:\n"
        f"https://aid.example.org/requests/{request.pk}/\n"
        "\n"
        "You get these emails because you asked to hear about requests near you, at most 5 a "
        "day. To change that or stop them, edit your profile:\n"
        "https://aid.example.org/me/profile/\n"
        "\n"
        "-- \n"
        "Mutual Aid, for Burnage Mutual Aid\n"
    )
    for personal in ["Ada", "7700", "ada@example.org", "Crescent", "Milk", "Doorbell"]:
        assert personal not in message.subject + message.body


def test_a_request_in_a_language_reaches_only_members_who_speak_it(run_tasks):
    # given
    group = quiet_group()
    speaks = member_of(group, email="habla@example.org", languages=["en", "es"], **HOME)
    member_of(group, email="english@example.org", languages=["en"], **HOME)

    # when
    with run_tasks():
        make_request(group, language="es")

    # then: written in the first of their languages the site has
    assert recipients() == [speaks.email]
    assert mail.outbox[0].subject.startswith("[Mutual Aid] ")


@pytest.mark.parametrize(
    ("category", "skill"),
    [
        ("ride", "Driving"),
        ("dog_walking", "Dog walking"),
        ("talk", "Befriending and phone chats"),
        ("check_in", "Befriending and phone chats"),
        ("childcare", "Childcare"),
        ("repairs", "DIY repairs"),
    ],
)
def test_a_category_that_needs_a_skill_reaches_only_members_with_it(run_tasks, category, skill):
    # given
    group = quiet_group()
    skilled = member_of(group, email="skilled@example.org", **HOME)
    skilled.skills.add(Skill.objects.get(name=skill, group=None))
    unskilled = member_of(group, email="unskilled@example.org", **HOME)
    unskilled.skills.add(Skill.objects.get(name="Gardening", group=None))

    # when
    with run_tasks():
        make_request(group, category=category)

    # then
    assert recipients() == [skilled.email]


def test_every_skill_a_category_needs_is_a_shared_skill():
    shared = set(Skill.objects.filter(group=None).values_list("name", flat=True))

    assert set(notifications.CATEGORY_SKILLS.values()) <= shared


def test_the_dispatcher_who_entered_a_request_is_not_told_of_it(run_tasks):
    # given
    group = quiet_group()
    desk = dispatcher_of(group, email="desk@example.org", **HOME)
    other = dispatcher_of(group, email="other-desk@example.org", notify_by_email=False)

    # when
    with run_tasks():
        make_request(group, channel=Channel.PHONE, created_by=desk)

    # then: the other dispatcher once, as a dispatcher, not again as a member nearby
    assert recipients() == [other.email]


def test_a_request_no_longer_open_when_the_task_runs_tells_nobody(run_tasks):
    # given: claimed before the worker got to the new-request task
    group = quiet_group()
    member_of(group, email="near@example.org", **HOME)
    request = make_request(group)
    services.request_claim(request=request, member=member_of(group, notify_by_email=False))

    # when
    with run_tasks():
        result = notifications.request_created_notify.enqueue(request.pk)

    # then
    assert result.return_value == 0
    assert mail.outbox == []


def test_members_get_at_most_their_daily_number_of_new_request_emails(run_tasks):
    # given: a member who wants at most two a day, and a dispatcher
    group = quiet_group()
    member = member_of(group, email="near@example.org", notify_max_per_day=2, **HOME)
    dispatcher = dispatcher_of(group, email="desk@example.org", notify_by_email=False)

    # when: three requests come in
    with run_tasks():
        for _ in range(3):
            make_request(group)

    # then: the member heard of two; the dispatcher of every one
    assert recipients().count(member.email) == 2
    assert recipients().count(dispatcher.email) == 3
    assert Delivery.objects.filter(recipient_user=member, kind="request_nearby").count() == 2

    # when: the next day, another
    Delivery.objects.filter(recipient_user=member).update(
        created_at=timezone.now() - timedelta(days=1)
    )
    with run_tasks():
        make_request(group)

    # then
    assert recipients().count(member.email) == 3


# What the requester and the phone desk hear.


def test_a_phone_request_claimed_tells_the_dispatcher_who_took_the_call(run_tasks):
    # given: a caller without email
    group = quiet_group()
    desk = dispatcher_of(group, email="desk@example.org", notify_by_email=False)
    request = make_request(group, channel=Channel.PHONE, created_by=desk)
    volunteer = member_of(group, display_name="Sunny Fox", notify_by_email=False)

    # when
    with run_tasks():
        services.request_claim(request=request, member=volunteer)

    # then
    assert recipients() == [desk.email]
    message = mail.outbox[0]
    assert message.subject == (
        f"[Mutual Aid] The request {request.reference} you took by phone has been taken"
    )
    assert f"Sunny Fox has taken the request {request.reference} (shopping)" in message.body
    assert f"https://aid.example.org/requests/{request.pk}/" in message.body


def test_a_caller_with_email_hears_of_the_claim_with_their_status_link(run_tasks):
    # given
    group = quiet_group(name="Hulme Mutual Aid", contact_email="help@hulme.example.org")
    desk = dispatcher_of(group, notify_by_email=False)
    request = make_request(
        group, email="caller@example.org", channel=Channel.PHONE, created_by=desk
    )

    # when
    with run_tasks():
        services.request_claim(request=request, member=member_of(group, display_name="Sunny Fox"))

    # then
    body = sent_to("caller@example.org").body
    assert (
        "open your status page:\n"
        f"https://aid.example.org/help/{request.reference}/{request.secret}/\n"
    ) in body
    assert (
        "You can also contact Hulme Mutual Aid and quote your reference "
        f"{request.reference}:\n"
        "Email: help@hulme.example.org\n"
    ) in body


def test_a_requester_whose_secret_was_never_kept_is_told_to_quote_their_reference(run_tasks):
    # given: a request from before secrets were kept for emailing
    group = quiet_group(name="Hulme Mutual Aid", contact_email="help@hulme.example.org")
    request = make_request(group, email="asker@example.org")
    Request.objects.filter(pk=request.pk).update(secret_sealed="")

    # when
    with run_tasks():
        services.request_claim(request=request, member=member_of(group))

    # then
    body = sent_to("asker@example.org").body
    assert (
        "To ask about your request or cancel it, contact Hulme Mutual Aid and quote your "
        f"reference {request.reference}.\n"
        "Email: help@hulme.example.org\n"
    ) in body
    assert "/help/" not in body


def test_the_dispatcher_who_claims_their_own_phone_request_is_not_told(run_tasks):
    group = quiet_group()
    desk = dispatcher_of(group, email="desk@example.org", notify_by_email=False)
    request = make_request(group, channel=Channel.PHONE, created_by=desk)

    with run_tasks():
        services.request_claim(request=request, member=desk)

    assert mail.outbox == []


def test_a_web_request_claimed_tells_nobody_but_the_requester(run_tasks):
    group = quiet_group()
    creator = member_of(group, notify_by_email=False)
    request = make_request(group, created_by=creator)

    with run_tasks():
        services.request_claim(request=request, member=member_of(group))

    assert mail.outbox == []


def test_done_thanks_the_requester_and_invites_them_back_through_their_link(run_tasks):
    # given
    group = quiet_group(name="Ardwick Mutual Aid")
    request, volunteer = claimed_request(group, email="asker@example.org")

    # when
    with run_tasks():
        services.request_complete(request=request, member=volunteer, notes="All delivered")

    # then
    assert recipients() == ["asker@example.org"]
    thanks = mail.outbox[0]
    assert thanks.subject == f"[Mutual Aid] Thank you: your request {request.reference} is done"
    assert (
        f"{volunteer.display_name} has marked your request {request.reference} (shopping) as "
        "done. Thank you for asking Ardwick Mutual Aid: we hope it helped.\n"
        "\n"
        "Did everything go well, or is something still needed? Reply on your status page: write "
        "a message there and we will read it.\n"
        f"https://aid.example.org/help/{request.reference}/{request.secret}/#messages\n"
        "\n"
        "You can ask for help again at any time:\n"
        f"https://aid.example.org/groups/{group.slug}/ask/\n"
    ) in thanks.body
    assert "All delivered" not in thanks.body


def test_done_thanks_a_caller_with_their_link_and_tells_the_phone_desk_without_it(run_tasks):
    # given: a caller who gave an email address
    group = quiet_group(name="Ardwick Mutual Aid", hotline_phone="0161 496 0001")
    desk = dispatcher_of(group, email="desk@example.org", notify_by_email=False)
    request, volunteer = claimed_request(
        group, email="caller@example.org", channel=Channel.PHONE, created_by=desk
    )

    # when
    with run_tasks():
        services.request_complete(request=request, member=volunteer)

    # then
    assert recipients() == ["caller@example.org", desk.email]
    link = f"https://aid.example.org/help/{request.reference}/{request.secret}/#messages\n"
    assert link in sent_to("caller@example.org").body
    desk_email = sent_to(desk.email)
    assert desk_email.subject == (
        f"[Mutual Aid] The request {request.reference} you took by phone is done"
    )
    assert request.secret not in desk_email.body


def test_done_without_a_kept_secret_tells_the_requester_to_quote_their_reference(run_tasks):
    group = quiet_group(name="Ardwick Mutual Aid", hotline_phone="0161 496 0001")
    request, volunteer = claimed_request(group, email="asker@example.org")
    Request.objects.filter(pk=request.pk).update(secret_sealed="")

    with run_tasks():
        services.request_complete(request=request, member=volunteer)

    assert (
        "Did everything go well, or is something still missing? Tell us: contact Ardwick Mutual "
        f"Aid and quote your reference {request.reference}. You can ask for help again at any "
        "time.\n"
        "Phone: 0161 496 0001\n"
    ) in sent_to("asker@example.org").body


def test_a_released_phone_request_tells_the_phone_desk_it_is_open_again(run_tasks):
    # given
    group = quiet_group()
    desk = dispatcher_of(group, email="desk@example.org", notify_by_email=False)
    request, volunteer = claimed_request(
        group, channel=Channel.PHONE, created_by=desk, member=member_of(group, **FAR)
    )

    # when
    with run_tasks():
        services.request_release(request=request, member=volunteer, reason="Ill this week")

    # then: the desk hears; nobody hears the reason
    assert recipients() == [desk.email]
    assert mail.outbox[0].subject == (
        f"[Mutual Aid] The request {request.reference} you took by phone is open again"
    )
    assert "Ill this week" not in mail.outbox[0].body


def test_a_released_request_tells_the_requester_it_is_open_again_but_not_why(run_tasks):
    # given
    group = quiet_group(name="Gorton Mutual Aid")
    request, volunteer = claimed_request(group, email="asker@example.org", category="ride")

    # when
    with run_tasks():
        services.request_release(request=request, member=volunteer, reason="Ill this week")

    # then
    (message,) = mail.outbox
    assert message.to == ["asker@example.org"]
    assert message.subject == f"[Mutual Aid] Your request {request.reference} is open again"
    assert message.body.startswith(
        "Hello,\n"
        "\n"
        f"The volunteer who had taken your request {request.reference} (a ride) can no longer do "
        "it. Your request is open again, and we are looking for someone else to help you.\n"
        "\n"
        "To see how your request is going, write to the volunteer or cancel it, open your "
        "status page:\n"
        f"{SITE}/help/{request.reference}/{request.secret}/\n"
    )
    assert "Ill" not in message.body
    assert volunteer.display_name not in message.body


def test_the_requester_is_written_to_in_their_language(run_tasks):
    group = quiet_group()
    request = make_request(group, email="asker@example.org", language="es")

    with run_tasks():
        services.request_claim(request=request, member=member_of(group, languages=["es"]))

    assert mail.outbox[0].subject.startswith("[Ayuda Mutua] ")


# Messages relayed by email.


def test_a_volunteers_message_is_relayed_to_the_requester_without_their_contacts(run_tasks):
    # given
    group = quiet_group(name="Gorton Mutual Aid")
    volunteer = member_of(group, display_name="Sunny Fox", phone="+44 7700 900999")
    request, _ = claimed_request(group, email="asker@example.org", member=volunteer)

    # when
    with run_tasks():
        services.message_post(request=request, author=volunteer, body="I can come at 5 <pm>.")

    # then
    (message,) = mail.outbox
    assert message.to == ["asker@example.org"]
    assert message.subject == f"[Mutual Aid] New message about your request {request.reference}"
    assert message.body.startswith(
        "Hello,\n"
        "\n"
        f"Sunny Fox, the volunteer helping you, wrote about your request {request.reference}:\n"
        "\n"
        "I can come at 5 <pm>.\n"
        "\n"
        "Please do not reply to this email. To answer, write your message on your status page:\n"
        f"https://aid.example.org/help/{request.reference}/{request.secret}/#messages\n"
    )
    assert volunteer.email not in message.body
    assert "900999" not in message.body


def test_a_dispatchers_message_is_relayed_as_from_a_dispatcher(run_tasks):
    group = quiet_group(name="Gorton Mutual Aid")
    desk = dispatcher_of(group, display_name="Blue Tit", notify_by_email=False)
    request = make_request(group, email="asker@example.org")

    with run_tasks():
        services.message_post(request=request, author=desk, body="Someone will call today.")

    assert (
        f"Blue Tit, a dispatcher with Gorton Mutual Aid, wrote about your request "
        f"{request.reference}:\n\nSomeone will call today.\n"
    ) in mail.outbox[0].body


def test_a_message_to_a_requester_without_email_is_not_relayed(run_tasks):
    group = quiet_group()
    request, volunteer = claimed_request(group)

    with run_tasks():
        services.message_post(request=request, author=volunteer, body="On my way")

    assert mail.outbox == []


def test_a_requesters_message_tells_the_claimer_with_a_link_only(run_tasks):
    # given
    group = quiet_group()
    dispatcher_of(group, email="desk@example.org", notify_by_email=False)
    request, volunteer = claimed_request(group, email="asker@example.org")

    # when
    with run_tasks():
        services.message_post(request=request, secret=request.secret, body="Side door please")

    # then
    assert recipients() == [volunteer.email]
    message = mail.outbox[0]
    assert message.subject == (
        f"[Mutual Aid] New message from the person who asked: request {request.reference}"
    )
    assert f"https://aid.example.org/requests/{request.pk}/" in message.body
    assert "Side door" not in message.body


def test_a_requesters_message_on_an_open_request_tells_the_dispatchers(run_tasks):
    group = quiet_group()
    desk = dispatcher_of(group, email="desk@example.org", notify_by_email=False)
    request = make_request(group, email="asker@example.org")

    with run_tasks():
        services.message_post(request=request, secret=request.secret, body="Still need it")

    assert recipients() == [desk.email]


# Assignments.


def test_an_assigned_member_is_asked_with_a_link_to_the_request(run_tasks):
    # given
    group = quiet_group(name="Moss Side Mutual Aid")
    desk = dispatcher_of(group, display_name="Blue Tit", notify_by_email=False)
    member = member_of(group, email="chosen@example.org", display_name="Red Kite", **FAR)
    request = make_request(group, category="ride", area_name="Moss Side")

    # when
    with run_tasks():
        services.request_assign(request=request, member=member, dispatcher=desk)

    # then
    assert recipients() == [member.email]
    message = mail.outbox[0]
    assert message.subject == f"[Mutual Aid] Could you take the request {request.reference}?"
    assert message.body.startswith(
        "Hello Red Kite,\n"
        "\n"
        "Blue Tit, a dispatcher with Moss Side Mutual Aid, asks whether you could take this "
        "request:\n"
        "\n"
        f"Reference: {request.reference}\n"
        "What kind of help: a ride\n"
        "Area: Moss Side\n"
    )
    assert f"https://aid.example.org/requests/{request.pk}/" in message.body


# Nothing personal in the logs.


def test_no_log_line_carries_the_requesters_address(run_tasks, caplog):
    group = quiet_group()
    member_of(group, **HOME)
    with caplog.at_level(logging.DEBUG), run_tasks():
        request = make_request(group, email="private@example.org", name="Ada Lovelace")
        volunteer = member_of(group)
        services.request_claim(request=request, member=volunteer)
        services.request_complete(request=request, member=volunteer)

    assert "private@example.org" in recipients()
    assert "private@example.org" not in caplog.text
    assert "Ada" not in caplog.text
    assert request.secret not in caplog.text


def test_an_erased_request_sends_nothing(run_tasks):
    group = quiet_group()
    request = make_request(group, email="asker@example.org")
    Request.objects.filter(pk=request.pk).update(personal_data_erased_at=timezone.now())

    with run_tasks():
        sent = notifications.request_done_notify.enqueue(request.pk)

    assert sent.return_value == 0
    assert mail.outbox == []


# The daily summary.

# An hour after the requests of a test were made: the summary's run.
LATER = timedelta(hours=1)


def summarise(now=None):
    """Run the daily summary as the scheduler's task would, an hour from now unless told."""
    return notifications.request_digests_send(now=now or timezone.now() + LATER)


def digest_member(group, **fields):
    """A member of `group` who asked for one daily summary instead of an email per request."""
    fields = {**HOME, **fields}
    return member_of(group, notify_digest=True, **fields)


def test_a_member_who_asked_for_a_summary_gets_no_email_for_each_new_request(run_tasks):
    # given
    group = quiet_group()
    summary = digest_member(group, email="summary@example.org")
    single = member_of(group, email="single@example.org", **HOME)

    # when
    with run_tasks():
        make_request(group)

    # then: only the member who asked for an email per request hears now
    assert recipients() == [single.email]
    assert not Delivery.objects.filter(recipient_user=summary).exists()


def test_the_summary_lists_the_open_requests_that_fit_most_urgent_first_and_nothing_personal(
    run_tasks,
):
    # given: a member 11 km north of the group's centre who travels 20 km
    group = quiet_group(name="Burnage Mutual Aid")
    member = digest_member(
        group, email="kite@example.org", display_name="Red Kite", travel_km=20, **FAR
    )
    with run_tasks():
        flexible = make_request(
            group, category="shopping", urgency="flexible", area_name="Burnage", name="Ada Lovelace"
        )
        today = make_request(
            group,
            category="prescription",
            urgency="today",
            area_name="Levenshulme",
            latitude=53.54,
            longitude=-2.22,
            email="ada@example.org",
        )
        this_week = make_request(group, category="food", urgency="this_week")
        flexible_nearer = make_request(
            group, category="household", urgency="flexible", latitude=53.54, longitude=-2.22
        )
        # What does not fit, is no longer open, or is older than a day: none of it is listed.
        make_request(group, language="es")
        make_request(group, category="ride")
        make_request(group, latitude=53.80, longitude=-2.22)
        cancelled = make_request(group)
        services.request_cancel(request=cancelled, secret=cancelled.secret)
        make_request(quiet_group())
        old = make_request(group)
    Request.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    mail.outbox.clear()  # the requester's own confirmation

    # when
    with run_tasks():
        sent = summarise()

    # then: one email, the most urgent request first, then the nearest
    assert sent == 1
    (message,) = mail.outbox
    assert message.to == [member.email]
    assert message.subject == "[Mutual Aid] Your daily summary: 4 new requests near you"
    assert message.body == (
        "Hello Red Kite,\n"
        "\n"
        "These requests near you came in since your last summary and still need someone, the "
        "most urgent first. Open one to take it; the first member to take a request gets the "
        "details.\n"
        "\n"
        "* Prescription pickup\n"
        "  Area: Levenshulme\n"
        "  How soon: today\n"
        "  About 1.0 km from your home area\n"
        f"  https://aid.example.org/requests/{today.pk}/\n"
        "\n"
        "* Food or a meal\n"
        "  How soon: this week\n"
        "  About 11.0 km from your home area\n"
        f"  https://aid.example.org/requests/{this_week.pk}/\n"
        "\n"
        "* Household task\n"
        "  How soon: flexible\n"
        "  About 1.0 km from your home area\n"
        f"  https://aid.example.org/requests/{flexible_nearer.pk}/\n"
        "\n"
        "* Shopping\n"
        "  Area: Burnage\n"
        "  How soon: flexible\n"
        "  About 11.0 km from your home area\n"
        f"  https://aid.example.org/requests/{flexible.pk}/\n"
        "\n"
        "You get this summary once a day instead of an email for each request, because you "
        "asked for it. To change that or stop it, edit your profile:\n"
        "https://aid.example.org/me/profile/\n"
        "\n"
        "-- \n"
        "Mutual Aid, for Burnage Mutual Aid\n"
    )
    for personal in ["Ada", "ada@example.org", "7700", "Acacia", "Milk"]:
        assert personal not in message.subject + message.body
    # One a day, outside the cap on emails about each request.
    delivery = Delivery.objects.get(recipient_user=member)
    assert (delivery.kind, delivery.idempotency_key) == (
        "request_digest",
        f"digest:{member.pk}:{timezone.localdate(timezone.now() + LATER).isoformat()}",
    )


def test_the_summary_follows_the_skill_a_category_needs(run_tasks):
    group = quiet_group()
    driver = digest_member(group, email="driver@example.org")
    driver.skills.add(Skill.objects.get(name="Driving", group=None))
    digest_member(group, email="walker@example.org")
    with run_tasks():
        ride = make_request(group, category="ride")

    with run_tasks():
        summarise()

    assert recipients() == [driver.email]
    assert f"/requests/{ride.pk}/" in mail.outbox[0].body


def test_a_summary_run_again_sends_nothing_more_and_the_next_lists_only_what_is_new(
    run_tasks, django_assert_num_queries
):
    # given: a summary sent
    group = quiet_group()
    member = digest_member(group, email="summary@example.org")
    with run_tasks():
        first = make_request(group)
    with run_tasks():
        assert summarise() == 1

    # when: the job runs again the same day; it reads the members and their last summaries
    with django_assert_num_queries(3), run_tasks():
        again = notifications.request_digests_send(now=timezone.now() + LATER)

    # then
    assert again == 0
    assert len(mail.outbox) == 1

    # when: a request comes in, and the next day's summary runs
    with run_tasks():
        second = make_request(group)
    with run_tasks():
        next_day = summarise(now=timezone.now() + timedelta(days=1))

    # then: it lists only the new request; the first is still open but was in the last one
    assert next_day == 1
    assert len(mail.outbox) == 2
    assert f"/requests/{second.pk}/" in mail.outbox[1].body
    assert f"/requests/{first.pk}/" not in mail.outbox[1].body
    assert Delivery.objects.filter(recipient_user=member, kind="request_digest").count() == 2


def test_a_day_the_summary_did_not_run_is_made_up_the_next(run_tasks):
    # given: a summary sent three days ago, and a request made two days ago; nothing ran since
    group = quiet_group()
    digest_member(group, email="summary@example.org")
    three_days_ago = timezone.now() - timedelta(days=3)
    with run_tasks():
        listed = make_request(group)
        missed = make_request(group)
    Request.objects.filter(pk=listed.pk).update(created_at=three_days_ago - LATER)
    Request.objects.filter(pk=missed.pk).update(created_at=timezone.now() - timedelta(days=2))
    with run_tasks():
        assert summarise(now=three_days_ago) == 1
    Delivery.objects.update(created_at=three_days_ago)

    # when
    with run_tasks():
        sent = summarise()

    # then: the request of the missed days is listed, the one already listed is not
    assert sent == 1
    assert [int(pk) for pk in re.findall(r"/requests/(\d+)/", mail.outbox[-1].body)] == [missed.pk]


def test_nothing_that_fits_sends_no_summary(run_tasks):
    # given: a request in a language the member does not speak, and one far away
    group = quiet_group()
    digest_member(group, email="summary@example.org", languages=["en"])
    with run_tasks():
        make_request(group, language="es")
        make_request(group, latitude=53.80, longitude=-2.22)

    # when
    with run_tasks():
        sent = summarise()

    # then
    assert sent == 0
    assert mail.outbox == []
    assert not Delivery.objects.exists()


def test_no_request_at_all_sends_no_summary(run_tasks):
    group = quiet_group()
    digest_member(group)

    with run_tasks():
        sent = summarise()

    assert sent == 0
    assert mail.outbox == []


def test_a_member_who_wants_no_email_or_has_left_gets_no_summary(run_tasks):
    group = quiet_group()
    digest_member(group, email="quiet@example.org", notify_by_email=False)
    digest_member(group, email="inactive@example.org", is_active=False)
    member_erase(member=digest_member(group, email="erased@example.org"))
    with run_tasks():
        make_request(group)

    with run_tasks():
        sent = summarise()

    assert sent == 0
    assert mail.outbox == []


def test_the_summary_leaves_out_requests_the_member_heard_of_singly_or_made(run_tasks):
    # given: a member told of a request singly, who then asks for a summary instead
    group = quiet_group()
    member = member_of(group, email="member@example.org", **HOME)
    with run_tasks():
        told = make_request(group)
    assert recipients() == [member.email]
    member_profile_update(
        member=member,
        display_name=member.display_name,
        home_latitude=member.home_latitude,
        home_longitude=member.home_longitude,
        notify_digest=True,
    )
    with run_tasks():
        own = make_request(group, created_by=member)
        new = make_request(group)

    # when
    with run_tasks():
        summarise()

    # then: the summary lists the new request only
    assert len(mail.outbox) == 2
    summary = mail.outbox[-1]
    assert summary.to == [member.email]
    listed = [int(pk) for pk in re.findall(r"/requests/(\d+)/", summary.body)]
    assert (told.pk in listed, own.pk in listed, listed) == (False, False, [new.pk])


def test_a_dispatcher_who_asked_for_a_summary_still_hears_of_each_request_as_a_dispatcher(
    run_tasks,
):
    # given: a dispatcher of one group who lives near it and wants a summary, and is a plain
    # member of another group
    group = quiet_group(name="Gorton Mutual Aid")
    desk = dispatcher_of(group, email="desk@example.org", notify_digest=True, **HOME)
    other = quiet_group(name="Longsight Mutual Aid")
    group_services.group_join(group=other, member=desk)

    # when: a request comes in to each group
    with run_tasks():
        dispatched = make_request(group)
        nearby = make_request(other)

    # then: the dispatcher email comes at once; nothing for the other group's request
    assert recipients() == [desk.email]
    assert sent_to(desk.email).subject == (
        f"[Mutual Aid] New request {dispatched.reference} in Gorton Mutual Aid: shopping"
    )
    mail.outbox.clear()

    # when: the summary runs
    with run_tasks():
        summarise()

    # then: it lists the other group's request only, which the dispatcher heard of as nobody
    (message,) = mail.outbox
    assert message.to == [desk.email]
    assert f"/requests/{nearby.pk}/" in message.body
    assert f"/requests/{dispatched.pk}/" not in message.body


def test_a_summary_across_groups_names_each_requests_group(run_tasks):
    group = quiet_group(name="Gorton Mutual Aid")
    other = quiet_group(name="Longsight Mutual Aid")
    member = digest_member(group, email="summary@example.org", display_name="Red Kite")
    group_services.group_join(group=other, member=member)
    with run_tasks():
        make_request(group, urgency="today")
        make_request(other, urgency="flexible")

    with run_tasks():
        summarise()

    body = mail.outbox[0].body
    assert "* Shopping (Gorton Mutual Aid)\n" in body
    assert "* Shopping (Longsight Mutual Aid)\n" in body
    assert body.index("Gorton") < body.index("Longsight")
    assert body.endswith("-- \nMutual Aid, for Gorton Mutual Aid, Longsight Mutual Aid\n")


def test_a_long_summary_lists_twenty_and_links_to_the_rest(run_tasks):
    # given
    group = quiet_group(name="Hulme Mutual Aid")
    digest_member(group, email="summary@example.org")
    with run_tasks():
        requests = [make_request(group, urgency="today") for _ in range(2)]
        requests += [make_request(group, urgency="flexible") for _ in range(21)]

    # when
    with run_tasks():
        summarise()

    # then: the twenty most urgent, then oldest, and a link to the requests page
    body = mail.outbox[0].body
    assert mail.outbox[0].subject == "[Mutual Aid] Your daily summary: 23 new requests near you"
    listed = [int(pk) for pk in re.findall(r"/requests/(\d+)/", body)]
    assert listed == [request.pk for request in requests[:20]]
    assert (
        "And 3 more: see every open request on the requests page.\n"
        f"https://aid.example.org/groups/{group.slug}/requests/\n"
        "\n"
        "You get this summary once a day"
    ) in body


def test_the_summary_is_written_in_the_members_language(run_tasks):
    group = quiet_group(name="Moss Side Mutual Aid")
    digest_member(group, email="es@example.org", display_name="Red Kite", languages=["es", "en"])
    with run_tasks():
        make_request(group, urgency="today", area_name="Moss Side")

    with run_tasks():
        summarise()

    message = mail.outbox[0]
    assert message.subject.startswith("[Ayuda Mutua] ")
    assert message.body.startswith("Hola, Red Kite:\n")
    assert "* Compras\n  Zona: Moss Side\n  Para cuándo: hoy\n" in message.body
    assert "0,5 km" in message.body
    assert message.body.endswith("-- \nAyuda Mutua, para Moss Side Mutual Aid\n")


def test_the_scheduled_task_sends_the_summaries(run_tasks):
    group = quiet_group()
    digest_member(group, email="summary@example.org")
    with run_tasks():
        request = make_request(group)
    Request.objects.filter(pk=request.pk).update(created_at=timezone.now() - timedelta(hours=1))

    with run_tasks():
        result = tasks.request_digests_send_task.enqueue()

    assert result.return_value == 1
    assert recipients() == ["summary@example.org"]


@pytest.mark.parametrize(("other_members", "requests"), [(1, 1), (40, 30)])
def test_a_summary_run_makes_the_same_few_queries_however_many_requests_and_members(
    django_assert_num_queries, other_members, requests
):
    # given: two members who fit every request, and others who fit none
    group = quiet_group()
    for n in range(2):
        digest_member(group, email=f"fits-{n}@example.org", languages=["en"])
    for n in range(other_members):
        digest_member(group, email=f"other-{n}@example.org", languages=["fr"])
    for _ in range(requests):
        make_request(group, language="en")

    # when, then: eight queries for the run (the members, their skills, their last summaries,
    # the requests, memberships, dispatchers, emails they had singly, the groups' categories)
    # and four for each email recorded
    with django_assert_num_queries(8 + 2 * 4):
        sent = summarise()
    assert sent == 2
