"""The intake pages: asking for help with no account, the requester's status page reached by
its secret link, and the dispatchers' phone desk."""

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mutualaid.groups.models import Group, RoleGrant
from mutualaid.groups.tests.factories import make_group
from mutualaid.needs import services
from mutualaid.needs.models import Channel, ContactMethod, Message, Request, StandingNeed, Urgency
from mutualaid.needs.tests.factories import (
    claimed_request,
    dispatcher_of,
    make_request,
    member_of,
)
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HOTLINE = "+441614960000"


class _FormControls(HTMLParser):
    """The names of the form controls in a page's main part, in order; which of them are
    required, and which has the focus when the page opens."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.required: list[str] = []
        self.autofocus: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        name = attributes.get("name")
        if tag not in {"input", "select", "textarea"} or not name:
            return
        if attributes.get("type") in {"hidden", "submit"}:
            return
        if name not in self.names:
            self.names.append(name)
        if "required" in attributes and name not in self.required:
            self.required.append(name)
        if "autofocus" in attributes:
            self.autofocus.append(name)


def controls(response) -> _FormControls:
    html = response.content.decode()
    parser = _FormControls()
    parser.feed(html[html.index("<main") : html.index("</main>")])
    return parser


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def ask_url(group: Group) -> str:
    return reverse("needs:ask", kwargs={"slug": group.slug})


def status_url(request: Request, secret: str) -> str:
    return reverse("needs:status", kwargs={"reference": request.reference, "secret": secret})


def cancel_url(request: Request, secret: str) -> str:
    return reverse("needs:status_cancel", kwargs={"reference": request.reference, "secret": secret})


def message_url(request: Request, secret: str) -> str:
    return reverse(
        "needs:status_message", kwargs={"reference": request.reference, "secret": secret}
    )


def desk_url(group: Group) -> str:
    return reverse("needs:phone_desk", kwargs={"slug": group.slug})


@pytest.fixture
def area() -> Group:
    """An area group with one ward inside it, and a street inside the ward."""
    group = make_group(
        name="Manchester Mutual Aid",
        kind=Group.Kind.AREA,
        hotline_phone=HOTLINE,
        retention_days=60,
        languages=["ur", "en"],
    )
    ward = make_group(
        creator=group.created_by, name="Levenshulme", kind=Group.Kind.WARD, parent=group
    )
    make_group(creator=group.created_by, name="Elm Road", kind=Group.Kind.STREET, parent=ward)
    return group


def ward_of(area: Group) -> Group:
    return Group.objects.get(name="Levenshulme", parent=area)


def ask_data(group: Group, /, **fields: str) -> dict[str, str]:
    data = {
        "category": "shopping",
        "description": "Milk, bread and eggs",
        "name": "Ann Smith",
        "contact_method": ContactMethod.PHONE,
        "contact": "0161 496 0000",
        "area": str(ward_of(group).pk),
    }
    data.update(fields)
    return data


def assert_not_kept(response) -> None:
    assert "no-store" in response.headers["Cache-Control"]
    assert response.headers["Referrer-Policy"] == "strict-origin"


# Asking for help


def test_the_ask_page_needs_no_account_and_asks_six_things_at_most(client, area):
    # when
    response = client.get(ask_url(area))

    # then
    assert response.status_code == 200
    found = controls(response)
    assert len(found.required) <= 6
    assert found.required == [
        "category",
        "description",
        "name",
        "contact_method",
        "contact",
        "area",
    ]
    assert found.names == [
        *found.required,
        "urgency",
        "needed_by",
        "address",
        "language",
        "accessibility_notes",
        "contact_via",
        "recurrence",
        "recurrence_until",
    ]
    html = response.content.decode()
    assert "<summary><strong>More (optional)</strong>" in html
    assert "Your personal details are deleted 60 days after your request is closed." in html
    assert '<a href="tel:+441614960000">+44 161 496 0000</a>' in html
    assert '<option value="" selected>Choose your area</option>' in html
    assert f'<option value="{area.pk}">Manchester Mutual Aid</option>' in html
    assert f'<option value="{ward_of(area).pk}">Levenshulme</option>' in html
    assert ">Elm Road, Levenshulme</option>" in html
    assert '<option value="shopping">Shopping</option>' in html
    for question in ("income", "benefit", "eligib", "means test", "savings"):
        assert question not in html.lower()


def test_a_group_without_wards_or_streets_does_not_ask_for_an_area(client):
    group = make_group()

    response = client.get(ask_url(group))

    assert controls(response).required == [
        "category",
        "description",
        "name",
        "contact_method",
        "contact",
    ]


def test_asking_records_a_web_request_with_its_personal_data_encrypted(client, area):
    # when
    response = client.post(
        ask_url(area), ask_data(area, address="12 Acacia Avenue", urgency=Urgency.TODAY)
    )

    # then
    request = Request.objects.get()
    assert request.channel == Channel.WEB
    assert request.created_by is None
    assert request.name == "Ann Smith"
    assert request.phone == "+441614960000"
    assert request.email == ""
    assert request.address == "12 Acacia Avenue"
    assert request.contact_method == ContactMethod.PHONE
    assert request.urgency == Urgency.TODAY
    assert request.needed_by == timezone.localdate()
    assert request.area_group == ward_of(area)
    assert request.area_name == "Levenshulme"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, phone, address, description FROM needs_request WHERE id = %s",
            [request.pk],
        )
        raw = cursor.fetchone()
    for stored, plain in zip(
        raw, ["Ann Smith", "+441614960000", "12 Acacia Avenue", "Milk, bread and eggs"], strict=True
    ):
        assert plain not in stored
    assert response.status_code == 302
    match = re.fullmatch(rf"/help/{request.reference}/([A-Za-z0-9_-]+)/", response["Location"])
    assert match is not None
    assert services.request_find_by_secret(reference=request.reference, secret=match[1]) == request
    assert_not_kept(response)
    assert messages_of(response) == [
        f'Your request is in. Its reference is <strong class="reference">{request.reference}'
        "</strong>. Keep the address of this page: bookmark it or copy it from below. It is the "
        "only way to see how your request is going, and we cannot send it to you again."
    ]


def test_the_status_page_after_asking_shows_the_reference_and_the_whole_link(client, area):
    response = client.post(ask_url(area), ask_data(area), follow=True)

    request = Request.objects.get()
    html = response.content.decode()
    assert f'<strong class="reference">{request.reference}</strong>. Keep the address' in html
    link = f"http://testserver{response.redirect_chain[-1][0]}"
    assert f'value="{link}"' in html


def test_a_logged_in_member_asks_for_themselves(client, area):
    member = member_of(area, display_name="Rosa")
    client.force_login(member)

    page = client.get(ask_url(area))
    client.post(ask_url(area), ask_data(area, name="Rosa"))

    assert 'name="name" value="Rosa"' in page.content.decode()
    request = Request.objects.get()
    assert (request.channel, request.created_by, request.name) == (Channel.WEB, member, "Rosa")


def test_asking_by_email_or_through_someone_stores_what_that_needs(client, area):
    client.post(
        ask_url(area),
        ask_data(area, contact_method=ContactMethod.EMAIL, contact="Ann@Example.org"),
    )
    client.post(
        ask_url(area),
        ask_data(
            area,
            contact_method=ContactMethod.CONTACT,
            contact="07700 900123",
            contact_via="my neighbour Sam",
        ),
    )

    by_email, through_sam = Request.objects.order_by("pk")
    assert (by_email.email, by_email.phone, by_email.contact_via) == ("ann@example.org", "", "")
    assert (through_sam.phone, through_sam.email) == ("", "")
    assert through_sam.contact_via == "my neighbour Sam, 07700 900123"
    assert through_sam.contact_method == ContactMethod.CONTACT


def test_asking_with_an_email_address_emails_the_link_that_opens_the_status_page(
    client, area, settings, django_capture_on_commit_callbacks
):
    # given
    settings.EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://aid.example.org"

    # when: a neighbour asks, giving their email address, and the worker runs
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            ask_url(area),
            ask_data(area, contact_method=ContactMethod.EMAIL, contact="Ann@Example.org"),
        )

    # then: the page told them the link is on its way to them
    request = Request.objects.get()
    assert messages_of(response) == [
        f'Your request is in. Its reference is <strong class="reference">{request.reference}'
        "</strong>. Keep the address of this page: bookmark it or copy it from below. We are "
        "also emailing it to the address you gave."
    ]
    (email,) = [message for message in mail.outbox if message.to == ["ann@example.org"]]
    links = re.findall(r"https://aid\.example\.org(/help/\S+/)\n", email.body)
    assert links == [response["Location"]]

    # when: they open the link from the email in another browser
    page = Client().get(links[0])

    # then
    assert page.status_code == 200
    html = page.content.decode()
    assert f"Your request {request.reference}" in html
    assert (
        "Keep this link to come back to this page. We cannot send it to you on request; if you "
        "gave an email address when you asked, it is in the emails we send you there."
    ) in html
    assert_not_kept(page)


@pytest.mark.parametrize(
    ("fields", "field", "error"),
    [
        pytest.param({"description": "  "}, "description", "This field is required.", id="blank"),
        pytest.param({"category": "bail"}, "category", "Select a valid choice.", id="category"),
        pytest.param(
            {"contact": "ann@example.org"},
            "contact",
            "Enter a phone number, for example 0161 496 0000, or choose email.",
            id="email-for-a-call",
        ),
        pytest.param(
            {"contact_method": ContactMethod.EMAIL, "contact": "0161 496 0000"},
            "contact",
            "Enter an email address, like name@example.org, or choose a call.",
            id="number-for-email",
        ),
        pytest.param(
            {"contact_method": ContactMethod.CONTACT},
            "contact_via",
            "Tell us who to ask for.",
            id="nobody-to-go-through",
        ),
        pytest.param({"area": "999999"}, "area", "Select a valid choice.", id="area"),
        pytest.param(
            {"needed_by": "2001-01-01"},
            "needed_by",
            "This date has passed. Choose today or a later day.",
            id="past-date",
        ),
        pytest.param(
            {"name": "<b>Ann</b>"},
            "name",
            "Please use plain text: the characters &lt; and &gt; are not allowed.",
            id="markup-in-name",
        ),
        pytest.param({"description": "x" * 2001}, "description", "at most 2000", id="overlong"),
    ],
)
def test_wrong_input_shows_the_form_again_and_records_nothing(client, area, fields, field, error):
    response = client.post(ask_url(area), ask_data(area, **fields))

    assert response.status_code == 200
    assert Request.objects.count() == 0
    html = response.content.decode()
    assert 'class="errorlist nonfield" role="alert"' in html
    assert error in html
    assert f'href="#id_{field}' in html


def test_wrong_optional_input_opens_the_optional_section(client, area):
    response = client.post(ask_url(area), ask_data(area, needed_by="2001-01-01"))

    assert "<details open>" in response.content.decode()


def test_hostile_text_is_kept_as_given_and_shown_as_text(client, area):
    response = client.post(
        ask_url(area), ask_data(area, description="<script>alert('x')</script>"), follow=True
    )

    assert Request.objects.get().description == "<script>alert('x')</script>"
    html = response.content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "<script>alert(" not in html


def test_anonymous_asking_is_rate_limited_with_the_hotline_on_the_refusal(client, area, settings):
    settings.NEEDS_ANONYMOUS_REQUEST_RATE = "2/h"
    for _ in range(2):
        assert client.post(ask_url(area), ask_data(area)).status_code == 302

    # when
    response = client.post(ask_url(area), ask_data(area))

    # then
    assert response.status_code == 429
    assert Request.objects.count() == 2
    html = response.content.decode()
    assert "<h1>Please try again later</h1>" in html
    assert (
        'If you need help now, call Manchester Mutual Aid on <a href="tel:+441614960000">'
        "+44 161 496 0000</a>." in html
    )
    assert client.get(ask_url(area)).status_code == 429


def test_members_asking_are_not_held_to_the_anonymous_limit(client, area, settings):
    settings.NEEDS_ANONYMOUS_REQUEST_RATE = "1/h"
    client.force_login(member_of(area))

    statuses = [client.post(ask_url(area), ask_data(area)).status_code for _ in range(2)]

    assert statuses == [302, 302]


def test_asking_an_unknown_group_is_not_found(client):
    assert client.get(reverse("needs:ask", kwargs={"slug": "nowhere"})).status_code == 404


# The status page


def test_the_status_page_shows_what_was_asked_and_nothing_about_who(client, area):
    request = make_request(
        area,
        name="Ann Smith",
        phone="0161 496 0000",
        address="12 Acacia Avenue",
        description="Milk, bread and eggs",
        urgency=Urgency.TODAY,
    )

    response = client.get(status_url(request, request.secret))

    assert response.status_code == 200
    assert_not_kept(response)
    html = response.content.decode()
    assert '<meta name="robots" content="noindex">' in html
    assert f"<h1>Your request {request.reference}</h1>" in html
    assert "We are looking for someone to help you." in html
    assert "<dt>Kind of help</dt><dd>Shopping</dd>" in html
    assert "<dt>What you asked for</dt><dd>Milk, bread and eggs</dd>" in html
    today = timezone.localdate()
    assert f"<dt>Needed by</dt><dd>{today.day} {today:%b %Y}</dd>" in html
    assert f'value="http://testserver{status_url(request, request.secret)}"' in html
    assert f'href="{cancel_url(request, request.secret)}"' in html
    for personal in ("Ann Smith", "496 0000", "4961", "Acacia"):
        assert personal not in html


@pytest.mark.parametrize("wrong", ["secret", "reference"])
def test_a_wrong_link_is_not_found_with_one_neutral_message(client, area, wrong):
    request = make_request(area)
    reference, secret = request.reference, request.secret
    if wrong == "secret":
        secret = secret[:-2] + ("AA" if not secret.endswith("AA") else "BB")
    else:
        reference = make_request(area).reference

    response = client.get(
        reverse("needs:status", kwargs={"reference": reference, "secret": secret})
    )

    assert response.status_code == 404
    assert_not_kept(response)
    html = response.content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    assert "<h1>Request not found</h1>" in main
    assert "We cannot find a request at this address." in main
    assert request.reference not in main


def test_every_status_page_is_not_found_without_the_secret(client, area):
    request = make_request(area)

    responses = [
        client.post(cancel_url(request, "nope")),
        client.post(message_url(request, "nope"), {"body": "Hello"}),
        client.get(cancel_url(request, "nope")),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404]
    request.refresh_from_db()
    assert request.status == Request.Status.OPEN
    assert Message.objects.count() == 0


def test_a_claimed_request_names_its_volunteer(client, area):
    request, _member = claimed_request(area, member=member_of(area, display_name="Kofi"))

    response = client.get(status_url(request, request.secret))

    assert "A volunteer, Kofi, has your request and will get in touch" in response.content.decode()


def test_an_unmet_request_gives_the_hotline(client, area):
    request = make_request(area, urgency=Urgency.TODAY)
    services.requests_mark_unmet(now=timezone.now() + timedelta(days=2))

    response = client.get(status_url(request, request.secret))

    html = response.content.decode()
    assert "We are sorry: we could not find someone in time." in html
    assert (
        'Please call Manchester Mutual Aid on <a href="tel:+441614960000">+44 161 496 0000</a>'
        in html
    )
    assert "Cancel this request" not in html


def test_the_requester_cancels_after_confirming(client, area):
    request = make_request(area)

    confirm = client.get(cancel_url(request, request.secret))
    response = client.post(cancel_url(request, request.secret), {"what": "request"})

    assert confirm.status_code == 200
    assert_not_kept(confirm)
    assert '<button class="danger" name="what" value="request">Yes, cancel my request</button>' in (
        confirm.content.decode()
    )
    assert response.status_code == 302
    assert response["Location"] == status_url(request, request.secret)
    assert_not_kept(response)
    request.refresh_from_db()
    assert request.status == Request.Status.CANCELLED
    assert messages_of(response) == ["Your request is cancelled. Thank you for telling us."]
    page = client.get(status_url(request, request.secret)).content.decode()
    assert "This request is cancelled." in page
    assert "Cancel this request" not in page
    assert message_url(request, request.secret) not in page


def test_cancelling_twice_says_it_is_closed(client, area):
    request = make_request(area)
    services.request_cancel(request=request, secret=request.secret)

    response = client.post(cancel_url(request, request.secret), {"what": "request"})

    assert response.status_code == 302
    assert messages_of(response) == ["This request is already closed."]


def test_messages_go_both_ways_on_the_status_page(client, area):
    request, member = claimed_request(area, member=member_of(area, display_name="Kofi"))
    dispatcher = dispatcher_of(area)

    # when: the requester writes, then the volunteer and a dispatcher answer
    response = client.post(message_url(request, request.secret), {"body": "Please knock <loudly>."})
    services.message_post(request=request, body="On my way at 5.", author=member)
    services.message_post(request=request, body="Kofi is coming.", author=dispatcher)

    # then
    assert response.status_code == 302
    assert response["Location"] == f"{status_url(request, request.secret)}#messages"
    assert_not_kept(response)
    assert list(Message.objects.values_list("author_kind", "author")) == [
        (Message.Author.REQUESTER, None),
        (Message.Author.MEMBER, member.pk),
        (Message.Author.DISPATCHER, dispatcher.pk),
    ]
    html = client.get(status_url(request, request.secret)).content.decode()
    thread = html[html.index('<section id="messages"') :]
    authors = re.findall(r"<li class=\"card\"><p><strong>([^<]+)</strong>", thread)
    assert authors == ["You", "Kofi", "A dispatcher"]
    assert "Please knock &lt;loudly&gt;." in thread
    assert "On my way at 5." in thread
    assert dispatcher.display_name not in thread


def test_an_empty_message_is_refused_on_the_page(client, area):
    request = make_request(area)

    response = client.post(message_url(request, request.secret), {"body": "   "})

    assert response.status_code == 200
    assert_not_kept(response)
    assert "This field is required." in response.content.decode()
    assert Message.objects.count() == 0


def test_a_standing_need_lists_its_other_times_and_can_be_stopped(client, area):
    request = make_request(area, recurrence="daily", urgency=Urgency.TODAY)
    services.standing_needs_create_due(today=timezone.localdate())
    later = Request.objects.exclude(pk=request.pk).get()

    page = client.get(status_url(request, request.secret)).content.decode()
    confirm = client.get(cancel_url(request, request.secret)).content.decode()
    response = client.post(cancel_url(request, request.secret), {"what": "repeats"})

    assert "This request repeats every day. Each time is a request of its own." in page
    assert f"<td>{later.reference}</td><td>looking for someone</td>" in page
    assert 'name="what" value="repeats">Stop the repeats, keep this time</button>' in confirm
    assert messages_of(response) == ["The repeats are stopped. Nothing new will be made."]
    assert StandingNeed.objects.get().ended_at is not None
    request.refresh_from_db()
    assert request.status == Request.Status.OPEN
    assert (
        "The repeats are stopped."
        in client.get(status_url(request, request.secret)).content.decode()
    )


# The phone desk


def test_the_phone_desk_sends_visitors_to_log_in(client, area):
    response = client.get(desk_url(area))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("who", ["member", "non-member", "expired dispatcher"])
def test_the_phone_desk_is_for_dispatchers_only(client, area, who):
    if who == "member":
        user = member_of(area)
    elif who == "non-member":
        user = UserFactory()
    else:
        user = dispatcher_of(area)
        past = timezone.now() - timedelta(minutes=1)
        RoleGrant.objects.filter(holder=user).update(
            granted_at=past - timedelta(days=30), expires_at=past
        )
    client.force_login(user)

    response = client.get(desk_url(area))
    attempt = client.post(desk_url(area), {"name": "Ann", "phone": "0161 496 0000"})

    assert (response.status_code, attempt.status_code) == (403, 403)
    assert Request.objects.count() == 0


def test_the_phone_desk_follows_the_call_and_starts_on_the_name(client, area):
    client.force_login(dispatcher_of(area))

    response = client.get(desk_url(area))

    assert response.status_code == 200
    assert_not_kept(response)
    found = controls(response)
    assert found.names == [
        "name",
        "phone",
        "category",
        "description",
        "area",
        "urgency",
        "address",
        "contact_method",
        "email",
        "contact_via",
        "needed_by",
        "language",
        "accessibility_notes",
        "recurrence",
        "recurrence_until",
    ]
    assert found.autofocus == ["name"]
    html = response.content.decode()
    assert '<option value="ur" selected>Urdu</option>' in html
    assert 'name="urgency" value="this_week" class="check" id="id_urgency_1" checked' in html
    assert (
        'name="contact_method" value="phone" class="check" id="id_contact_method_0" checked' in html
    )


def test_a_dispatcher_takes_a_call_and_gets_the_reference_to_read_out(client, area):
    dispatcher = dispatcher_of(area)
    client.force_login(dispatcher)

    # when: "Ann Smith, 0161 496 0000, shopping, milk, bread and eggs, ward Levenshulme,
    # today, 12 Acacia Avenue"
    response = client.post(
        desk_url(area),
        {
            "name": "Ann Smith",
            "phone": "0161 496 0000",
            "category": "shopping",
            "description": "Milk, bread and eggs",
            "area": str(ward_of(area).pk),
            "urgency": Urgency.TODAY,
            "address": "12 Acacia Avenue",
            "contact_method": ContactMethod.PHONE,
            "language": "ur",
        },
    )

    # then
    request = Request.objects.get()
    assert (request.channel, request.created_by) == (Channel.PHONE, dispatcher)
    assert (request.name, request.phone, request.address) == (
        "Ann Smith",
        "+441614960000",
        "12 Acacia Avenue",
    )
    assert (request.urgency, request.language, request.area_group) == (
        Urgency.TODAY,
        "ur",
        ward_of(area),
    )
    assert response.status_code == 302
    assert response["Location"] == desk_url(area)
    detail = reverse("needs:request_detail", kwargs={"pk": request.pk})
    assert messages_of(response) == [
        f'Taken. Read the caller their reference: <strong class="reference">{request.reference}'
        "</strong>. They quote it when they call back: with no email address, they have no link "
        f'to follow it. <a href="{detail}">Open the request</a>'
    ]


def test_a_caller_who_gives_an_email_is_emailed_their_link(
    client, area, settings, django_capture_on_commit_callbacks
):
    # given
    settings.EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client.force_login(dispatcher_of(area))

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            desk_url(area),
            {
                "name": "Ann Smith",
                "phone": "0161 496 0000",
                "email": "ann@example.org",
                "category": "shopping",
                "description": "Milk",
                "area": str(ward_of(area).pk),
            },
        )

    # then
    request = Request.objects.get()
    detail = reverse("needs:request_detail", kwargs={"pk": request.pk})
    assert messages_of(response) == [
        f'Taken. Read the caller their reference: <strong class="reference">{request.reference}'
        "</strong>. They quote it when they call back. We email them a private link to follow "
        "their request, and tell them by email when someone takes it and when it is done. "
        f'<a href="{detail}">Open the request</a>'
    ]
    (email,) = [message for message in mail.outbox if message.to == ["ann@example.org"]]
    (link,) = re.findall(rf"{re.escape(settings.SITE_URL)}(/help/\S+/)\n", email.body)
    assert Client().get(link).status_code == 200
    # The dispatcher never sees it: the link is the caller's alone.
    desk_page = client.get(response["Location"])
    assert link not in desk_page.content.decode()
    assert request.reference in desk_page.content.decode()


def test_the_phone_desk_needs_the_number_when_the_caller_is_to_be_phoned(client, area):
    client.force_login(dispatcher_of(area))

    response = client.post(
        desk_url(area),
        {"name": "Ann", "category": "shopping", "description": "Milk", "area": str(area.pk)},
    )

    assert response.status_code == 200
    assert Request.objects.count() == 0
    assert "Enter the caller&#x27;s phone number." in response.content.decode()
    assert controls(response).autofocus == ["phone"]


def test_an_unknown_cancel_choice_changes_nothing(client, area):
    request = make_request(area)

    responses = [
        client.post(cancel_url(request, request.secret), {"what": what})
        for what in ("everything", "repeats", "both")
    ]

    assert [r["Location"] for r in responses] == [status_url(request, request.secret)] * 3
    assert [messages_of(r) for r in responses] == [[], [], []]
    request.refresh_from_db()
    assert request.status == Request.Status.OPEN


# A call typed at the phone desk in a real browser


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_typical_call_is_seven_fields_and_68_keystrokes(live_server, area):
    from mutualaid.tests.chromium import chromium

    dispatcher = dispatcher_of(area)
    session = Client()
    session.force_login(dispatcher)
    cookie = session.cookies[settings.SESSION_COOKIE_NAME].value
    keys: list[str] = []

    def press(*sequence: str) -> None:
        for key in sequence:
            keys.append(key)
            page.keyboard.press(key)

    def type_in(text: str) -> None:
        press(*("Space" if char == " " else char for char in text))

    with chromium() as browser:
        context = browser.new_context(locale="en-GB")
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(live_server.url + desk_url(area))

        # when: "Ann Smith, 0161 496 0000, shopping, milk, bread and eggs, ward Levenshulme,
        # today, 12 Acacia Avenue", with nothing but the keyboard from where the page starts
        type_in("Ann Smith")
        press("Tab")
        type_in("0161 496 0000")
        press("Tab")
        type_in("s")  # the first kind of help starting with s: shopping
        press("Tab")
        type_in("Milk, bread and eggs")
        press("Tab")
        type_in("l")  # the first area starting with l: Levenshulme
        press("Tab", "ArrowUp")  # from "this week" to "today"
        press("Tab")
        type_in("12 Acacia Avenue")
        with page.expect_navigation():
            press("Enter")
        shown = page.locator(".messages").inner_text()
        context.close()

    # then
    request = Request.objects.get()
    assert len(keys) == 68
    assert keys.count("Tab") == 6
    assert (request.name, request.phone, request.category) == (
        "Ann Smith",
        "+441614960000",
        "shopping",
    )
    assert (request.description, request.area_group, request.urgency, request.address) == (
        "Milk, bread and eggs",
        ward_of(area),
        Urgency.TODAY,
        "12 Acacia Avenue",
    )
    assert (request.channel, request.created_by, request.language) == (
        Channel.PHONE,
        dispatcher,
        "ur",
    )
    assert f"Read the caller their reference: {request.reference}." in shown


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_neighbour_asks_writes_and_cancels_in_a_real_browser(live_server, area):
    """The status page's forms are sent by a browser that obeys its Referrer-Policy."""
    from playwright.sync_api import expect

    from mutualaid.tests.chromium import chromium

    with chromium() as browser:
        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(live_server.url + ask_url(area))

        # when: asking with the six required answers only
        page.get_by_label("What kind of help").select_option("shopping")
        page.get_by_label("What you need").fill("Milk, bread and eggs")
        page.get_by_label("Your name").fill("Ann")
        page.get_by_label("text message").check()
        page.get_by_label("Your phone number or email").fill("07700 900123")
        page.get_by_label("Your area").select_option(label="Elm Road, Levenshulme")
        page.get_by_role("button", name="Send my request").click()

        # then
        expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Your request "))
        request = Request.objects.get()
        assert page.get_by_label("Address of this page").input_value() == page.url

        # when: writing, then cancelling
        page.get_by_label("Your message").fill("The bell is broken, please knock.")
        page.get_by_role("button", name="Send message").click()
        expect(page.locator(".messages")).to_have_text("Your message is sent.")
        page.get_by_role("link", name="Cancel this request").click()
        page.get_by_role("button", name="Yes, cancel my request").click()
        expect(page.get_by_text("This request is cancelled.")).to_be_visible()
        thread = page.locator("#messages").inner_text()
        context.close()

    request.refresh_from_db()
    assert (request.status, request.contact_method, request.phone) == (
        Request.Status.CANCELLED,
        ContactMethod.SMS,
        "+447700900123",
    )
    assert request.area_name == "Elm Road"
    assert "You" in thread
    assert "The bell is broken, please knock." in thread


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_intake_pages_have_no_wcag_a_or_aa_violation(live_server, area):
    from axe_playwright_python.sync_playwright import Axe

    from mutualaid.tests.chromium import chromium

    # given: a request with a standing need, held by a volunteer, with messages both ways
    dispatcher = dispatcher_of(area)
    request, member = claimed_request(
        area, member=member_of(area, display_name="Kofi"), recurrence="weekly"
    )
    services.message_post(request=request, body="On my way at 5.", author=member)
    services.message_post(request=request, body="Thank you!", secret=request.secret)
    session = Client()
    session.force_login(dispatcher)
    cookie = session.cookies[settings.SESSION_COOKIE_NAME].value
    options = {
        "runOnly": {
            "type": "tag",
            "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"],
        },
        "resultTypes": ["violations"],
    }
    found: list[str] = []

    def check(name: str) -> None:
        for violation in Axe().run(page, options=options).response["violations"]:
            found.extend(f"{name}: {violation['id']} at {n['target']}" for n in violation["nodes"])

    with chromium() as browser:
        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        page.set_default_timeout(10_000)

        # when: every intake page as it first shows, and with errors
        for name, path in [
            ("ask", ask_url(area)),
            ("status", status_url(request, request.secret)),
            ("cancel", cancel_url(request, request.secret)),
            ("not found", status_url(request, "wrong")),
        ]:
            page.goto(live_server.url + path)
            check(name)
        page.goto(live_server.url + ask_url(area))
        page.get_by_role("button", name="Send my request").click()
        check("ask with errors")
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
        )
        page.goto(live_server.url + desk_url(area))
        check("phone desk")
        page.get_by_role("button", name="Save the request").click()
        check("phone desk with errors")
        context.close()

    # then
    assert found == []
