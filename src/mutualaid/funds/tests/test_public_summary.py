"""The public summary: totals per fund for anyone, only when the group chose to publish them,
and never a movement or a name."""

import pytest
from django.test import Client

from mutualaid.funds import services
from mutualaid.funds.models import Disbursement
from mutualaid.funds.tests.test_views_support import (
    SECRET_NAME,
    Books,
    books_fixture,  # noqa: F401 (the fixture `books`)
    contribute,
    pay,
)
from mutualaid.groups.models import Group

pytestmark = pytest.mark.django_db


def publish(group: Group, publishes: bool = True) -> None:
    Group.objects.filter(pk=group.pk).update(publishes_fund_summary=publishes)


def test_anyone_reads_the_totals_when_the_group_publishes_them(books: Books) -> None:
    publish(books.group)
    contribute(books, 10000, contributor_name="Ada Giver", memo="Spring appeal")
    pay(books, 2500, payee_kind=Disbursement.PayeeKind.REQUEST, request=books.request)
    services.fund_create(group=books.group, actor=books.treasurer, name="Bail fund")

    response = Client().get(books.url("public_summary"))

    assert response.status_code == 200
    html = response.content.decode()
    assert (
        '<tr><th scope="row">Hardship fund</th><td>£100.00</td><td>£25.00</td><td>£75.00</td></tr>'
    ) in html
    assert (
        '<tr><th scope="row">Bail fund</th><td>£0.00</td><td>£0.00</td><td>£0.00</td></tr>'
    ) in html
    for private in ("Ada Giver", "Spring appeal", books.request.reference, SECRET_NAME):
        assert private not in html


def test_there_is_no_summary_when_the_group_does_not_publish_one(books: Books) -> None:
    publish(books.group, False)

    assert Client().get(books.url("public_summary")).status_code == 404


def test_members_too_find_no_summary_the_group_did_not_publish(books: Books) -> None:
    publish(books.group, False)
    client = Client()
    client.force_login(books.member)

    assert client.get(books.url("public_summary")).status_code == 404


def test_the_list_of_funds_links_to_the_published_summary(books: Books) -> None:
    client = Client()
    client.force_login(books.member)
    summary = books.url("public_summary")
    assert summary not in client.get(books.url("list")).content.decode()
    publish(books.group)

    assert summary in client.get(books.url("list")).content.decode()
