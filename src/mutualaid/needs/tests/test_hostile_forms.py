"""Every form of the needs pages, filled with junk by the people allowed to use it, answers
with a page or a redirect (a form error, a message), never a server error, and stores nothing
it could not store."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from mutualaid.needs import services
from mutualaid.needs.models import Recurrence, Request
from mutualaid.needs.tests.factories import (
    claimed_request,
    dispatcher_of,
    make_group,
    make_offer,
    make_request,
    member_of,
)

pytestmark = pytest.mark.django_db

FIELDS = [
    "reason",
    "notes",
    "spent",
    "spent_note",
    "member",
    "needed_by",
    "offer",
    "body",
    "kind",
    "category",
    "title",
    "description",
    "area_name",
    "availability",
    "quantity",
    "available_until",
    "name",
    "contact",
    "contact_method",
    "area",
    "urgency",
    "address",
    "language",
    "accessibility_notes",
    "contact_via",
    "recurrence",
    "recurrence_until",
    "phone",
    "email",
    "next",
    "what",
]
JUNK: list[Any] = [
    "\x00",
    "x" * 100_000,
    "-1",
    "9" * 40,
    "2026-13-45",
    "<script>alert(1)</script>",
    ["a", "b"],
]


def _pages(client: Client) -> list[tuple[Client, str]]:
    group = make_group()
    dispatcher = dispatcher_of(group)
    holder = member_of(group)
    held, _holder = claimed_request(group, member=holder)
    to_release, _holder = claimed_request(group, member=holder)
    to_complete, _holder = claimed_request(group, member=holder)
    asker = make_request(group)
    open_request = make_request(group)
    standing = make_request(group, recurrence=Recurrence.WEEKLY)
    services.request_claim(request=standing, member=holder)
    asked = member_of(group)
    assignment = services.request_assign(request=open_request, member=asked, dispatcher=dispatcher)
    offer = make_offer(group, member=holder)
    to_cancel = make_request(group)
    unmet = make_request(group)
    Request.objects.filter(pk=unmet.pk).update(status=Request.Status.UNMET)
    as_dispatcher, as_holder, as_asked, anyone = Client(), Client(), Client(), Client()
    as_dispatcher.force_login(dispatcher)
    as_holder.force_login(holder)
    as_asked.force_login(asked)
    secret = {"reference": asker.reference, "secret": asker.secret}  # type: ignore[attr-defined]
    return [
        (anyone, reverse("needs:ask", args=[group.slug])),
        (anyone, reverse("needs:status_message", kwargs=secret)),
        (anyone, reverse("needs:status_cancel", kwargs=secret)),
        (as_dispatcher, reverse("needs:phone_desk", args=[group.slug])),
        (as_dispatcher, reverse("needs:categories", args=[group.slug])),
        (as_dispatcher, reverse("needs:request_assign", args=[unmet.pk])),
        (as_dispatcher, reverse("needs:request_reopen", args=[unmet.pk])),
        (as_dispatcher, reverse("needs:request_cancel", args=[to_cancel.pk])),
        (as_holder, reverse("needs:request_release", args=[to_release.pk])),
        (as_holder, reverse("needs:request_complete", args=[to_complete.pk])),
        (as_holder, reverse("needs:request_link_offer", args=[held.pk])),
        (as_holder, reverse("needs:message_post", args=[held.pk])),
        (as_holder, reverse("needs:standing_need_commit", args=[standing.pk])),
        (as_holder, reverse("needs:offer_create", args=[group.slug])),
        (as_holder, reverse("needs:offer_withdraw", args=[offer.pk])),
        (as_asked, reverse("needs:assignment_decline", args=[assignment.pk])),
    ]


@pytest.mark.parametrize(
    "junk", JUNK, ids=["nul", "huge", "negative", "long-number", "bad-date", "markup", "list"]
)
def test_junk_in_every_field_of_every_form_is_never_a_server_error(client, junk):
    # given
    pages = _pages(client)
    data = dict.fromkeys(FIELDS, junk)

    # when
    answers = {url: browser.post(url, data).status_code for browser, url in pages}

    # then
    assert {url: status for url, status in answers.items() if status >= 500} == {}
    assert {url: s for url, s in answers.items() if s not in {200, 302, 400, 404, 409, 429}} == {}
