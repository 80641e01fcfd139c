"""What the tests of the funds pages share: a group with a fund, its treasurer, a member, an
outsider and a request whose requester's name must never show; money in and out through the
services."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mutualaid.funds import services
from mutualaid.funds.models import Contribution, Disbursement, Fund
from mutualaid.groups import services as group_services
from mutualaid.groups.models import Group, Role
from mutualaid.needs.models import Request
from mutualaid.needs.tests.factories import make_group, make_request, member_of
from mutualaid.people.models import User

SECRET_NAME = "Zebedee Quux"


def holder_of(group: Group, role: str, **fields: Any) -> User:
    """A member of `group` holding `role`, proposed and confirmed by two other members."""
    holder = member_of(group, **fields)
    grant = group_services.role_grant_propose(
        group=group,
        proposer=member_of(group),
        holder=holder,
        role=role,
        reason="Keeps the books",
        expires_at=timezone.now() + timedelta(days=30),
    )
    group_services.role_grant_confirm(grant=grant, confirmer=member_of(group))
    return holder


@dataclass
class Books:
    group: Group
    fund: Fund
    treasurer: User
    member: User
    outsider: User
    request: Request

    def url(self, name: str, pk: int | None = None) -> str:
        kwargs: dict[str, Any] = {"slug": self.group.slug}
        if pk is not None:
            kwargs["pk"] = pk
        return reverse(f"funds:{name}", kwargs=kwargs)

    @property
    def detail(self) -> str:
        return self.url("detail", self.fund.pk)


def contribute(books: Books, amount_minor: int, **fields: Any) -> Contribution:
    fields.setdefault("method", Contribution.Method.CASH)
    return services.contribution_record(
        fund=books.fund, actor=books.treasurer, amount_minor=amount_minor, **fields
    )


def pay(books: Books, amount_minor: int, **fields: Any) -> Disbursement:
    """A disbursement asked for by the treasurer and confirmed (so paid) by a member."""
    fields.setdefault("purpose", "Rent help")
    if "payee_kind" not in fields:
        fields.update(payee_kind=Disbursement.PayeeKind.PAYEE, payee_name="Corner Shop Ltd")
    disbursement = services.disbursement_request(
        fund=books.fund, actor=books.treasurer, amount_minor=amount_minor, **fields
    )
    return services.disbursement_confirm(disbursement=disbursement, actor=books.member)


@pytest.fixture(name="books")
def books_fixture() -> Books:
    group = make_group(spending_limit_minor=5000, currency="GBP")
    treasurer = holder_of(group, Role.TREASURER, display_name="Tess Treasurer")
    fund = services.fund_create(
        group=group, actor=treasurer, name="Hardship fund", purpose="Rent and food"
    )
    return Books(
        group=group,
        fund=fund,
        treasurer=treasurer,
        member=member_of(group, display_name="Mo Member"),
        outsider=member_of(make_group()),
        request=make_request(group, name=SECRET_NAME),
    )


def logged_in(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]
