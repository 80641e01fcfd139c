"""Funds, treasurers, money in and out, claims and receipts, made through the real services."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from mutualaid.funds import services
from mutualaid.funds.models import Contribution, Disbursement, Fund, Receipt
from mutualaid.groups import services as group_services
from mutualaid.groups.models import Group, Role
from mutualaid.groups.tests.factories import make_group
from mutualaid.needs import services as need_services
from mutualaid.needs.models import ReimbursementClaim
from mutualaid.needs.tests.factories import claimed_request, make_request, member_of
from mutualaid.people.models import User

__all__ = [
    "JPEG",
    "PDF",
    "PNG",
    "WEBP",
    "Books",
    "asked",
    "attach",
    "books",
    "contribute",
    "make_claim",
    "make_fund",
    "make_group",
    "make_request",
    "member_of",
    "paid",
    "receipt_file",
    "role_holder",
    "treasurer_of",
]

_counter = iter(range(1, 1_000_000))

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def role_holder(group: Group, role: str, *, days: int = 30, **fields: Any) -> User:
    """A member of `group` wearing `role`, proposed and confirmed by two other members."""
    holder = member_of(group, **fields)
    grant = group_services.role_grant_propose(
        group=group,
        proposer=member_of(group),
        holder=holder,
        role=role,
        reason="Chosen at the assembly",
        expires_at=timezone.now() + timedelta(days=days),
    )
    group_services.role_grant_confirm(grant=grant, confirmer=member_of(group))
    return holder


def treasurer_of(group: Group, **fields: Any) -> User:
    return role_holder(group, Role.TREASURER, **fields)


def make_fund(group: Group | None = None, *, actor: User | None = None, **fields: Any) -> Fund:
    """A fund opened by `actor` (the group's founding steward when not given)."""
    group = group or make_group()
    fields.setdefault("name", f"Hardship fund {next(_counter)}")
    return services.fund_create(group=group, actor=actor or group.created_by, **fields)


@dataclass
class Books:
    """A group with a fund, a treasurer and another member who can confirm payments."""

    group: Group
    fund: Fund
    treasurer: User
    member: User


def books(*, balance: int = 0, **group_fields: Any) -> Books:
    group = make_group(**group_fields)
    treasurer = treasurer_of(group)
    fund = make_fund(group, actor=treasurer)
    result = Books(group=group, fund=fund, treasurer=treasurer, member=member_of(group))
    if balance:
        contribute(result, balance)
    return result


def contribute(where: Books, amount_minor: int, **fields: Any) -> Contribution:
    fields.setdefault("method", Contribution.Method.CASH)
    return services.contribution_record(
        fund=where.fund, actor=where.treasurer, amount_minor=amount_minor, **fields
    )


def asked(where: Books, amount_minor: int, **fields: Any) -> Disbursement:
    """A payment a treasurer asked for, waiting for a second member (to a payee by default)."""
    fields.setdefault("purpose", "Electricity top-up")
    fields.setdefault("payee_kind", Disbursement.PayeeKind.PAYEE)
    if fields["payee_kind"] == Disbursement.PayeeKind.PAYEE:
        fields.setdefault("payee_name", "Northern Power")
    return services.disbursement_request(
        fund=where.fund, actor=where.treasurer, amount_minor=amount_minor, **fields
    )


def paid(where: Books, amount_minor: int, **fields: Any) -> Disbursement:
    disbursement = asked(where, amount_minor, **fields)
    return services.disbursement_confirm(disbursement=disbursement, actor=where.member)


def make_claim(group: Group, amount_minor: int = 1250, *, claimant: User | None = None):
    """A pending reimbursement claim: a member claimed a request, did it and spent money."""
    request, member = claimed_request(group, member=claimant)
    claim = need_services.request_complete(
        request=request, member=member, spent_minor=amount_minor, spent_note="Groceries"
    )
    assert isinstance(claim, ReimbursementClaim)
    return claim


def receipt_file(content: bytes = PNG, *, name: str = "receipt.png", content_type: str = ""):
    return SimpleUploadedFile(name, content, content_type=content_type or "image/png")


def attach(claim: ReimbursementClaim, content: bytes = PNG) -> Receipt:
    return services.receipt_attach(claim=claim, actor=claim.claimant, upload=receipt_file(content))
