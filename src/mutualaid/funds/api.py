"""Funds and their open books in the JSON API.

Every member of a group reads its funds and every movement; the treasurers record money in and
out, and a second member confirms a payment within the spending limit, through the same
services as the pages. Amounts are whole minor units with their currency. A requester appears
only as "neighbour" and the request's reference, never by name.
"""

from datetime import datetime
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from mutualaid.api.errors import ErrorOut, ValidationErrorOut
from mutualaid.api.pagination import LimitOffset
from mutualaid.api.text import NO_NUL_CHARACTER
from mutualaid.common.errors import ApplicationError
from mutualaid.funds import ledger, permissions, selectors, services
from mutualaid.funds.models import Contribution, Disbursement, Fund, Transaction
from mutualaid.groups.models import Group
from mutualaid.needs.models import ReimbursementClaim, Request
from mutualaid.people.models import User

router = Router(tags=["funds"])

# Ids in a body are database keys: anything past a 63-bit integer names nothing.
MAX_ID = 2**63 - 1
# The most one movement may be, as the ledger takes it: a bigger number is a 422, never a
# database error.
MAX_AMOUNT_MINOR = ledger.AMOUNT_MAX_MINOR

AMOUNT_DESCRIPTION = "In whole minor units of the fund's currency (cents, pence)."


# What comes in


class ContributionIn(Schema):
    amount_minor: int = Field(
        ge=1, le=MAX_AMOUNT_MINOR, strict=True, description=AMOUNT_DESCRIPTION
    )
    method: Contribution.Method
    contributor: int | None = Field(
        None, ge=1, le=MAX_ID, description="The id of the member who gave it, if a member did."
    )
    contributor_name: str = Field(
        "",
        max_length=services.CONTRIBUTOR_NAME_MAX_LENGTH,
        pattern=NO_NUL_CHARACTER,
        description="Who gave it, if not a member; leave both empty for an anonymous gift.",
    )
    reference: str = Field(
        "",
        max_length=services.REFERENCE_MAX_LENGTH,
        pattern=NO_NUL_CHARACTER,
        description="A bank reference or receipt number.",
    )
    memo: str = Field(
        "",
        max_length=ledger.MEMO_MAX_LENGTH,
        pattern=NO_NUL_CHARACTER,
        description="What it was for, shown in the open books.",
    )
    received_at: datetime | None = Field(None, description="When it came; now when left out.")


class DisbursementIn(Schema):
    amount_minor: int = Field(
        ge=1, le=MAX_AMOUNT_MINOR, strict=True, description=AMOUNT_DESCRIPTION
    )
    purpose: str = Field(
        min_length=1,
        max_length=services.PAYMENT_PURPOSE_MAX_LENGTH,
        pattern=NO_NUL_CHARACTER,
        description="Shown in the open books: never a requester's name.",
    )
    payee_kind: Disbursement.PayeeKind
    request: int | None = Field(
        None, ge=1, le=MAX_ID, description='With payee_kind "request": the request\'s id.'
    )
    reimbursement: int | None = Field(
        None,
        ge=1,
        le=MAX_ID,
        description='With payee_kind "reimbursement": the reimbursement claim\'s id.',
    )
    payee_name: str = Field(
        "",
        max_length=services.PAYEE_NAME_MAX_LENGTH,
        pattern=NO_NUL_CHARACTER,
        description='With payee_kind "payee": a shop, a landlord, a utility company.',
    )


class ReverseIn(Schema):
    reason: str = Field(
        min_length=1,
        max_length=services.REASON_MAX_LENGTH,
        pattern=NO_NUL_CHARACTER,
        description="Why it is corrected; shown in the open books.",
    )


# What goes out


class FundOut(Schema):
    id: int
    group: str = Field(description="The group's slug.")
    name: str
    purpose: str
    currency: str
    balance_minor: int = Field(description="What the fund holds now.")
    in_minor: int = Field(description="Everything ever paid in, corrections included.")
    out_minor: int = Field(description="Everything ever paid out, corrections included.")
    overdraft_limit_minor: int = Field(description="How far below zero it may go; 0 for never.")


class DisbursementOut(Schema):
    id: int
    fund: int
    amount_minor: int
    currency: str
    purpose: str
    payee_kind: str
    payee: str = Field(
        description=(
            'Who is paid: "neighbour" and the request\'s reference, the volunteer paid back, '
            "or the payee's name."
        )
    )
    status: str
    requested_by: str | None = Field(description="The display name of who asked for it.")
    confirmed_by: str | None = Field(description="The display name of the second member.")
    proposal: int | None = Field(description="The spend proposal that decided it, if any.")
    transaction: int | None = Field(description="The movement in the books, once paid.")
    created_at: datetime
    paid_at: datetime | None


class FundDetail(FundOut):
    disbursements_waiting: list[DisbursementOut] = Field(
        description=(
            "Payments not made yet: waiting for a second member, for a decision, or for money "
            "in the fund."
        )
    )


class EntryOut(Schema):
    account: str = Field(description='"holdings", "contributions" or "disbursements".')
    amount_minor: int = Field(description="Debits positive, credits negative.")


class TransactionOut(Schema):
    id: int
    fund: int = Field(alias="fund_id")
    kind: str = Field(description='"contribution", "disbursement" or "reversal".')
    posted_at: datetime
    amount_minor: int = Field(
        description="What it did to the fund's balance: money in positive, money out negative."
    )
    currency: str
    who: str = Field(
        description=(
            'The contributor (or "anonymous"), the payee, the volunteer paid back, or '
            "\"neighbour\" and a request's reference: never a requester's name."
        )
    )
    description: str = Field(description="What and who in one phrase, as the books show it.")
    memo: str
    posted_by: str | None = Field(description="The display name of who recorded it.")
    reverses: int | None = Field(
        alias="reverses_id", description="For a correction: the movement it corrects."
    )
    reversed_by: int | None = Field(description="The correction of this one, if any.")
    contribution: int | None = Field(description="The contribution it records, if any.")
    disbursement: int | None = Field(description="The payment it records, if any.")
    entries: list[EntryOut] = Field(description="Its entries, which sum to zero.")

    @staticmethod
    def resolve_amount_minor(transaction: Transaction) -> int:
        return selectors.movement_line(transaction)["amount_minor"]

    @staticmethod
    def resolve_currency(transaction: Transaction) -> str:
        return transaction.fund.currency

    @staticmethod
    def resolve_who(transaction: Transaction) -> str:
        return str(selectors.movement_line(transaction)["who"])

    @staticmethod
    def resolve_description(transaction: Transaction) -> str:
        return str(selectors.movement_line(transaction)["description"])

    @staticmethod
    def resolve_posted_by(transaction: Transaction) -> str | None:
        return _name(transaction.posted_by)

    @staticmethod
    def resolve_reversed_by(transaction: Transaction) -> int | None:
        return _related_id(transaction, "reversed_by")

    @staticmethod
    def resolve_contribution(transaction: Transaction) -> int | None:
        return _related_id(transaction, "contribution")

    @staticmethod
    def resolve_disbursement(transaction: Transaction) -> int | None:
        return _related_id(transaction, "disbursement")

    @staticmethod
    def resolve_entries(transaction: Transaction) -> list[dict[str, Any]]:
        return [
            {"account": entry.account.kind, "amount_minor": entry.amount_minor}
            for entry in transaction.entries.all()
        ]


# Shared steps


def _caller(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]


def _name(user: User | None) -> str | None:
    return user.public_name if user is not None else None


def _members_only(user: User, group: Group) -> None:
    if not permissions.can_view_books(user, group):
        raise PermissionDenied(_("Only members of this group can see its funds."))


def _fund(request: HttpRequest, fund_id: int) -> Fund:
    fund = get_object_or_404(Fund.objects.select_related("group"), pk=fund_id)
    _members_only(_caller(request), fund.group)
    return fund


def _fund_out(fund: Any) -> dict[str, Any]:
    return {
        "id": fund.pk,
        "group": fund.group.slug,
        "name": fund.name,
        "purpose": fund.purpose,
        "currency": fund.currency,
        "balance_minor": fund.balance_minor,
        "in_minor": fund.in_minor,
        "out_minor": fund.out_minor,
        "overdraft_limit_minor": fund.overdraft_limit_minor,
    }


def _disbursement_out(disbursement: Disbursement) -> dict[str, Any]:
    return {
        "id": disbursement.pk,
        "fund": disbursement.fund_id,
        "amount_minor": disbursement.amount_minor,
        "currency": disbursement.fund.currency,
        "purpose": disbursement.purpose,
        "payee_kind": disbursement.payee_kind,
        "payee": selectors.payee_shown(disbursement),
        "status": disbursement.status,
        "requested_by": _name(disbursement.requested_by),
        "confirmed_by": _name(disbursement.confirmed_by),
        "proposal": disbursement.proposal_id,
        "transaction": disbursement.transaction_id,
        "created_at": disbursement.created_at,
        "paid_at": disbursement.paid_at,
    }


DISBURSEMENT_RELATED = (
    "fund__group",
    "request",
    "reimbursement__claimant",
    "requested_by",
    "confirmed_by",
)


def _related_id(transaction: Transaction, name: str) -> int | None:
    """The id of the contribution, payment or correction on the other side, or None."""
    try:
        return getattr(transaction, name).pk
    except ObjectDoesNotExist:
        return None


def _movement(fund: Fund, transaction_id: int) -> Transaction:
    """One movement with all the open books show of it loaded."""
    return selectors.fund_movements(fund=fund).get(pk=transaction_id)


# Operations: reading the books


@router.get(
    "/groups/{slug:slug}/funds",
    response={200: list[FundOut], 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="List a group's funds",
)
def list_funds(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    """Each fund of the group with what it holds and its totals in and out. Members only."""
    group = get_object_or_404(Group, slug=slug)
    _members_only(_caller(request), group)
    funds = selectors.fund_balances(group=group)
    for fund in funds:
        fund.group = group
    return [_fund_out(fund) for fund in funds]


@router.get(
    "/funds/{int:id}",
    response={200: FundDetail, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Show a fund",
)
def get_fund(request: HttpRequest, id: int) -> dict[str, Any]:
    """A fund's balance and totals, and the payments not made yet. Members only."""
    fund = _fund(request, id)
    return _fund_detail(fund)


def _fund_detail(fund: Fund) -> dict[str, Any]:
    totals = next(item for item in selectors.fund_balances(group=fund.group) if item.pk == fund.pk)
    totals.group = fund.group
    waiting = (
        Disbursement.objects.filter(fund=fund)
        .exclude(status__in=[Disbursement.Status.PAID, Disbursement.Status.CANCELLED])
        .select_related(*DISBURSEMENT_RELATED)
        .order_by("created_at", "pk")
    )
    return {
        **_fund_out(totals),
        "disbursements_waiting": [_disbursement_out(item) for item in waiting],
    }


@router.get(
    "/funds/{int:id}/transactions",
    response={
        200: list[TransactionOut],
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        422: ValidationErrorOut,
    },
    summary="List a fund's movements",
)
@paginate(LimitOffset)
def list_transactions(request: HttpRequest, id: int) -> QuerySet[Transaction]:
    """Every movement of the fund, newest first, each with its entries: the open books.
    Members only."""
    return selectors.fund_movements(fund=_fund(request, id))


# Operations: money in and out


@router.post(
    "/funds/{int:id}/contributions",
    response={
        201: TransactionOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        413: ErrorOut,
        422: ValidationErrorOut,
    },
    summary="Record a contribution",
)
def record_contribution(
    request: HttpRequest, id: int, payload: ContributionIn
) -> Status[Transaction]:
    """Money given to the fund, named or anonymous; answers with its movement in the books.
    The group's treasurers only."""
    fund = _fund(request, id)
    contributor = None
    if payload.contributor is not None:
        contributor = User.objects.filter(pk=payload.contributor).first()
        if contributor is None:
            raise ApplicationError(_("A named contributor must be a member of the group."))
    contribution = services.contribution_record(
        fund=fund,
        actor=_caller(request),
        amount_minor=payload.amount_minor,
        method=payload.method,
        contributor=contributor,
        contributor_name=payload.contributor_name,
        reference=payload.reference,
        memo=payload.memo,
        received_at=payload.received_at,
    )
    return Status(201, _movement(fund, contribution.transaction_id))


@router.post(
    "/funds/{int:id}/disbursements",
    response={
        201: DisbursementOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        413: ErrorOut,
        422: ValidationErrorOut,
    },
    summary="Ask to pay out",
)
def request_disbursement(request: HttpRequest, id: int, payload: DisbursementIn) -> Status[dict]:
    """A payment within the group's spending limit, which a second member then confirms.
    Anything above the limit needs a spend proposal. The group's treasurers only."""
    fund = _fund(request, id)
    help_request = None
    if payload.request is not None:
        help_request = Request.objects.filter(group=fund.group, pk=payload.request).first()
        if help_request is None:
            raise ApplicationError(_("Please choose a request of this group."))
    claim = None
    if payload.reimbursement is not None:
        claim = (
            ReimbursementClaim.objects.filter(request__group=fund.group, pk=payload.reimbursement)
            .select_related("request", "claimant")
            .first()
        )
        if claim is None:
            raise ApplicationError(_("Please choose a reimbursement claim of this group."))
    disbursement = services.disbursement_request(
        fund=fund,
        actor=_caller(request),
        amount_minor=payload.amount_minor,
        purpose=payload.purpose,
        payee_kind=payload.payee_kind,
        request=help_request,
        reimbursement=claim,
        payee_name=payload.payee_name,
    )
    return Status(201, _disbursement_out(_one_disbursement(disbursement.pk)))


def _one_disbursement(disbursement_id: int) -> Disbursement:
    return get_object_or_404(
        Disbursement.objects.select_related(*DISBURSEMENT_RELATED), pk=disbursement_id
    )


@router.post(
    "/disbursements/{int:id}/confirm",
    response={
        200: DisbursementOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
    },
    summary="Confirm a payment",
)
def confirm_disbursement(request: HttpRequest, id: int) -> dict[str, Any]:
    """Be the second member for a payment within the spending limit; it is then paid. Any
    member but the one who asked for it; 409 when it is not waiting for a confirmation, 400
    when the fund does not hold enough (it stays approved and is paid later)."""
    disbursement = _one_disbursement(id)
    member = _caller(request)
    _members_only(member, disbursement.fund.group)
    services.disbursement_confirm(disbursement=disbursement, actor=member)
    return _disbursement_out(_one_disbursement(id))


@router.post(
    "/transactions/{int:id}/reverse",
    response={
        201: TransactionOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        413: ErrorOut,
        422: ValidationErrorOut,
    },
    summary="Correct a movement",
)
def reverse_transaction(request: HttpRequest, id: int, payload: ReverseIn) -> Status[Transaction]:
    """Correct a mistake with a reversing movement; the books keep both. 409 when it is
    already corrected or is itself a correction. The group's treasurers only."""
    transaction = get_object_or_404(Transaction.objects.select_related("fund__group"), pk=id)
    member = _caller(request)
    _members_only(member, transaction.fund.group)
    reversal = services.transaction_reverse(
        transaction=transaction, actor=member, reason=payload.reason
    )
    return Status(201, _movement(transaction.fund, reversal.pk))
