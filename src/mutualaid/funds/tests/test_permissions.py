"""Who may do what with the funds: each rule with those it lets in and those it keeps out."""

import pytest
from django.contrib.auth.models import AnonymousUser

from mutualaid.funds import permissions
from mutualaid.funds.tests.factories import (
    asked,
    attach,
    books,
    make_claim,
    make_group,
    member_of,
    role_holder,
    treasurer_of,
)
from mutualaid.groups.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    where = books(balance=1000)
    where.steward = where.group.created_by
    where.dispatcher = role_holder(where.group, Role.DISPATCHER)
    where.outsider = member_of(make_group())
    where.outside_treasurer = treasurer_of(make_group())
    where.anonymous = AnonymousUser()
    return where


def _who(world, rule, obj) -> set[str]:
    people = [
        "treasurer",
        "member",
        "steward",
        "dispatcher",
        "outsider",
        "outside_treasurer",
        "anonymous",
    ]
    return {name for name in people if rule(getattr(world, name), obj)}


def test_every_member_and_nobody_else_reads_the_books(world):
    expected = {"treasurer", "member", "steward", "dispatcher"}
    assert _who(world, permissions.can_view_books, world.fund) == expected
    assert _who(world, permissions.can_view_books, world.group) == expected


def test_treasurers_and_stewards_manage_funds(world):
    assert _who(world, permissions.can_manage_fund, world.group) == {"treasurer", "steward"}


@pytest.mark.parametrize(
    "rule",
    [
        permissions.can_record_contribution,
        permissions.can_request_disbursement,
        permissions.can_pay_reimbursement,
    ],
)
def test_only_the_groups_treasurers_move_money(world, rule):
    assert _who(world, rule, world.fund) == {"treasurer"}


def test_only_the_groups_treasurers_correct_or_pay_or_cancel(world):
    posted = world.fund.transactions.get()
    assert _who(world, permissions.can_reverse, posted) == {"treasurer"}
    waiting = asked(world, 100)
    assert _who(world, permissions.can_pay_disbursement, waiting) == {"treasurer"}
    assert _who(world, permissions.can_cancel_disbursement, waiting) == {"treasurer"}


def test_any_member_but_the_one_who_asked_confirms_a_payment(world):
    waiting = asked(world, 100)
    assert _who(world, permissions.can_confirm_disbursement, waiting) == {
        "member",
        "steward",
        "dispatcher",
    }


def test_the_volunteer_paid_back_does_not_confirm_their_own_reimbursement(world):
    claim = make_claim(world.group, 500, claimant=world.member)
    waiting = asked(world, 500, payee_kind="reimbursement", reimbursement=claim, purpose="Shopping")
    assert _who(world, permissions.can_confirm_disbursement, waiting) == {"steward", "dispatcher"}


def test_the_claimant_treasurers_and_dispatchers_see_a_receipt(world):
    claim = make_claim(world.group)
    receipt = attach(claim)
    assert _who(world, permissions.can_view_receipt, receipt) == {"treasurer", "dispatcher"}
    assert permissions.can_view_receipt(claim.claimant, receipt)


def test_the_claimant_and_treasurers_attach_a_receipt(world):
    claim = make_claim(world.group)
    assert _who(world, permissions.can_attach_receipt, claim) == {"treasurer"}
    assert permissions.can_attach_receipt(claim.claimant, claim)
