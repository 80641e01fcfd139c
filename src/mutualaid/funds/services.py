"""Every write about a group's funds. Keyword-only; one transaction each.

Money moves only through `ledger.transaction_post`. A payment out (a disbursement) is made when
a passed spend proposal covers it, or when it is within the group's spending limit and a second
member, not the treasurer who asked for it, confirmed it. Rules that must hold under concurrency
(one payment of a disbursement, no overspending) are decided by the database: row locks, a
conditional update of the status, and the floor constraint on the fund's holdings.
"""

import re
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from mutualaid.common.audit import record_personal_data_access
from mutualaid.common.errors import ApplicationError
from mutualaid.common.models import AuditEvent
from mutualaid.funds import ledger, permissions, receipts
from mutualaid.funds.models import (
    Account,
    Contribution,
    Disbursement,
    Fund,
    Receipt,
    Transaction,
)
from mutualaid.groups.models import Group
from mutualaid.groups.money import format_money
from mutualaid.groups.permissions import is_member
from mutualaid.needs.models import ReimbursementClaim, Request
from mutualaid.people.models import User

if TYPE_CHECKING:
    # Only for types: the decisions app calls in here, and importing it would make a cycle.
    from mutualaid.decisions.models import Proposal

NAME_MAX_LENGTH = 100
PURPOSE_MAX_LENGTH = 2000
PAYMENT_PURPOSE_MAX_LENGTH = 300
PAYEE_NAME_MAX_LENGTH = 200
CONTRIBUTOR_NAME_MAX_LENGTH = 100
REFERENCE_MAX_LENGTH = 100
REASON_MAX_LENGTH = 200
# A contribution dated a little ahead is a clock difference, not a mistake.
CLOCK_SKEW = timedelta(minutes=5)
# The earliest day money can be dated: a date near the year 1 cannot even be converted to every
# time zone, and these books do not hold history that old.
EARLIEST_DAY = date(2000, 1, 1)
CURRENCY_CODE = re.compile(r"\A[A-Z]{3}\Z")
# Markup, control characters, and the bidirectional overrides that could make books read
# backwards.
MARKUP = re.compile(r"[<>\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")

LIVE_STATUSES = (
    Disbursement.Status.PROPOSED,
    Disbursement.Status.AWAITING_CONFIRMATION,
    Disbursement.Status.APPROVED,
)


def _conflict(message: str) -> ApplicationError:
    return ApplicationError(message, code="conflict", status=409)


def _text(value: str | None, *, max_length: int, too_long: str, missing: str | None = None) -> str:
    """The value stripped, refused when longer than `max_length`, holding markup or control
    characters, or, with `missing`, empty."""
    text = (value or "").strip()
    if len(text) > max_length:
        raise ApplicationError(too_long % {"count": max_length})
    if MARKUP.search(text):
        raise ApplicationError(_("Please leave out < and > and control characters."))
    if missing is not None and not text:
        raise ApplicationError(missing)
    return text


def _amount(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ApplicationError(_("Please give an amount of money above zero."))
    if value > ledger.AMOUNT_MAX_MINOR:
        raise ApplicationError(_("That amount is too large."))
    return value


def _currency(value: str) -> str:
    code = (value or "").strip().upper()
    if not CURRENCY_CODE.match(code):
        raise ApplicationError(_("Please give the currency as its three-letter code, like GBP."))
    return code


def _fund_name(group: Group, name: str, *, exclude: int | None = None) -> str:
    name = _text(
        name,
        max_length=NAME_MAX_LENGTH,
        too_long=_("Please keep the name to %(count)d characters."),
        missing=_("Please give the fund a name."),
    )
    taken = Fund.objects.filter(group=group, name__iexact=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise ApplicationError(_("This group already has a fund with that name."))
    return name


def _purpose(value: str) -> str:
    return _text(
        value,
        max_length=PURPOSE_MAX_LENGTH,
        too_long=_("Please keep the purpose to %(count)d characters."),
    )


# Funds


@transaction.atomic
def fund_create(
    *,
    group: Group,
    actor: User,
    name: str,
    purpose: str = "",
    currency: str | None = None,
    overdraft_limit_minor: int = 0,
) -> Fund:
    """A treasurer or steward opens a fund with its three accounts. Its holdings may go below
    zero only as far as `overdraft_limit_minor` (0: never)."""
    if not permissions.can_manage_fund(actor, group):
        raise PermissionDenied(_("Only the group's treasurers and stewards can open a fund."))
    name = _fund_name(group, name)
    purpose = _purpose(purpose)
    currency = _currency(currency or group.currency)
    if (
        isinstance(overdraft_limit_minor, bool)
        or not isinstance(overdraft_limit_minor, int)
        or not 0 <= overdraft_limit_minor <= ledger.AMOUNT_MAX_MINOR
    ):
        raise ApplicationError(_("Please give how far below zero it may go as zero or more."))
    try:
        with transaction.atomic():
            fund = Fund.objects.create(
                group=group,
                name=name,
                purpose=purpose,
                currency=currency,
                overdraft_limit_minor=overdraft_limit_minor,
                created_by=actor,
            )
    except IntegrityError as error:
        raise _conflict(_("This group already has a fund with that name.")) from error
    Account.objects.bulk_create(
        [
            Account(fund=fund, kind=Account.Kind.HOLDINGS, floor_minor=-overdraft_limit_minor),
            Account(fund=fund, kind=Account.Kind.CONTRIBUTIONS),
            Account(fund=fund, kind=Account.Kind.DISBURSEMENTS),
        ]
    )
    return fund


@transaction.atomic
def fund_update(
    *,
    fund: Fund,
    actor: User,
    name: str | None = None,
    purpose: str | None = None,
    currency: str | None = None,
) -> Fund:
    """A treasurer or steward renames a fund or changes its purpose. Its currency can change
    only while no money has moved."""
    if not permissions.can_manage_fund(actor, fund):
        raise PermissionDenied(_("Only the group's treasurers and stewards can change a fund."))
    fund = Fund.objects.select_for_update().get(pk=fund.pk)
    if name is not None:
        fund.name = _fund_name(fund.group, name, exclude=fund.pk)
    if purpose is not None:
        fund.purpose = _purpose(purpose)
    if currency is not None and _currency(currency) != fund.currency:
        if fund.transactions.exists() or fund.disbursements.exists():
            raise ApplicationError(
                _("The currency cannot change once money has moved in this fund.")
            )
        fund.currency = _currency(currency)
    try:
        with transaction.atomic():
            fund.save(update_fields=["name", "purpose", "currency"])
    except IntegrityError as error:
        raise _conflict(_("This group already has a fund with that name.")) from error
    return fund


# Contributions


@transaction.atomic
def contribution_record(
    *,
    fund: Fund,
    actor: User,
    amount_minor: int,
    method: str,
    contributor: User | None = None,
    contributor_name: str = "",
    reference: str = "",
    memo: str = "",
    received_at: datetime | None = None,
) -> Contribution:
    """A treasurer records money given to the fund: by a member, by someone named, or
    anonymously (no member and no name)."""
    if not permissions.can_record_contribution(actor, fund):
        raise PermissionDenied(_("Only the group's treasurers can record contributions."))
    amount_minor = _amount(amount_minor)
    if method not in Contribution.Method.values:
        raise ApplicationError(_("Please choose how the money came."))
    if contributor is not None and not is_member(contributor, fund.group):
        raise ApplicationError(_("A named contributor must be a member of the group."))
    contributor_name = (
        ""
        if contributor is not None
        else _text(
            contributor_name,
            max_length=CONTRIBUTOR_NAME_MAX_LENGTH,
            too_long=_("Please keep the name to %(count)d characters."),
        )
    )
    reference = _text(
        reference,
        max_length=REFERENCE_MAX_LENGTH,
        too_long=_("Please keep the reference to %(count)d characters."),
    )
    memo = _text(
        memo,
        max_length=ledger.MEMO_MAX_LENGTH,
        too_long=_("Please keep the note to %(count)d characters."),
    )
    now = timezone.now()
    if received_at is not None:
        if timezone.is_naive(received_at):
            raise ApplicationError(_("Please give the date with its time zone."))
        # Compared as a calendar day, before any conversion that could overflow.
        if received_at.date() < EARLIEST_DAY:
            raise ApplicationError(_("The date it came can be 1 January 2000 at the earliest."))
        if received_at > now + CLOCK_SKEW:
            raise ApplicationError(_("The date it came cannot be in the future."))
    posted = ledger.transaction_post(
        fund=fund,
        kind=Transaction.Kind.CONTRIBUTION,
        lines=[(Account.Kind.HOLDINGS, amount_minor), (Account.Kind.CONTRIBUTIONS, -amount_minor)],
        memo=memo,
        posted_by=actor,
        posted_at=received_at or now,
    )
    return Contribution.objects.create(
        fund=fund,
        transaction=posted,
        amount_minor=amount_minor,
        contributor=contributor,
        contributor_name=contributor_name,
        method=method,
        reference=reference,
        recorded_by=actor,
        recorded_at=now,
    )


# Disbursements


def _checked_payment(
    *,
    fund: Fund,
    amount_minor: int,
    purpose: str,
    payee_kind: str,
    request: Request | None,
    reimbursement: ReimbursementClaim | None,
    payee_name: str,
) -> dict[str, object]:
    """The fields of a new disbursement, after the rules every way of asking shares."""
    amount_minor = _amount(amount_minor)
    purpose = _text(
        purpose,
        max_length=PAYMENT_PURPOSE_MAX_LENGTH,
        too_long=_("Please keep what it is for to %(count)d characters."),
        missing=_("Please say what the money is for."),
    )
    group = fund.group
    fields: dict[str, object] = {
        "fund": fund,
        "amount_minor": amount_minor,
        "purpose": purpose,
        "payee_kind": payee_kind,
    }
    if payee_kind == Disbursement.PayeeKind.REQUEST:
        if request is None or reimbursement is not None:
            raise ApplicationError(_("Please choose the request this pays for."))
        if request.group_id != group.pk:
            raise ApplicationError(_("This request belongs to another group."))
        fields["request"] = request
    elif payee_kind == Disbursement.PayeeKind.REIMBURSEMENT:
        if reimbursement is None or request is not None:
            raise ApplicationError(_("Please choose the reimbursement claim this pays."))
        _check_claim_payable(fund=fund, claim=reimbursement, amount_minor=amount_minor)
        fields["reimbursement"] = reimbursement
    elif payee_kind == Disbursement.PayeeKind.PAYEE:
        if request is not None or reimbursement is not None:
            raise ApplicationError(_("A payment to a payee names no request or claim."))
        fields["payee_name"] = _text(
            payee_name,
            max_length=PAYEE_NAME_MAX_LENGTH,
            too_long=_("Please keep the payee's name to %(count)d characters."),
            missing=_("Please say who is paid."),
        )
    else:
        raise ApplicationError(_("Please choose who the money goes to."))
    return fields


def _check_claim_payable(*, fund: Fund, claim: ReimbursementClaim, amount_minor: int) -> None:
    group = fund.group
    if claim.status != ReimbursementClaim.Status.PENDING:
        raise ApplicationError(_("This claim has already been paid or turned down."))
    if claim.request.group_id != group.pk:
        raise ApplicationError(_("This claim belongs to another group."))
    if claim.currency != fund.currency:
        raise ApplicationError(_("This claim is in another currency than the fund."))
    if amount_minor > claim.amount_minor:
        raise ApplicationError(
            _("A reimbursement pays at most what was claimed: %(amount)s.")
            % {"amount": format_money(claim.amount_minor, claim.currency)}
        )
    if amount_minor > group.reimbursement_limit_minor:
        raise ApplicationError(
            _("The group pays back at most %(limit)s per claim.")
            % {"limit": format_money(group.reimbursement_limit_minor, fund.currency)}
        )


def _create_disbursement(fields: dict[str, object], **more: object) -> Disbursement:
    claim = fields.get("reimbursement")
    assert claim is None or isinstance(claim, ReimbursementClaim)
    if (
        claim is not None
        and Disbursement.objects.filter(reimbursement=claim, status__in=LIVE_STATUSES).exists()
    ):
        raise _conflict(_("A payment of this claim is already on its way."))
    try:
        with transaction.atomic():
            return Disbursement.objects.create(**fields, **more)
    except IntegrityError as error:
        if claim is not None:
            raise _conflict(_("A payment of this claim is already on its way.")) from error
        raise


@transaction.atomic
def disbursement_request(
    *,
    fund: Fund,
    actor: User,
    amount_minor: int,
    purpose: str,
    payee_kind: str,
    request: Request | None = None,
    reimbursement: ReimbursementClaim | None = None,
    payee_name: str = "",
    now: datetime | None = None,
) -> Disbursement:
    """A treasurer asks to pay out an amount within the group's spending limit; a second member
    confirms it before it is paid. A larger amount needs a spend proposal instead."""
    if not permissions.can_request_disbursement(actor, fund):
        raise PermissionDenied(_("Only the group's treasurers can ask to pay money out."))
    fields = _checked_payment(
        fund=fund,
        amount_minor=amount_minor,
        purpose=purpose,
        payee_kind=payee_kind,
        request=request,
        reimbursement=reimbursement,
        payee_name=payee_name,
    )
    limit = fund.group.spending_limit_minor
    if fields["amount_minor"] > limit:  # type: ignore[operator]
        raise ApplicationError(
            _(
                "This is more than the group's spending limit of %(limit)s. Please propose it "
                "to the group as a spending proposal instead."
            )
            % {"limit": format_money(limit, fund.currency)},
            code="needs_proposal",
        )
    return _create_disbursement(
        fields,
        status=Disbursement.Status.AWAITING_CONFIRMATION,
        requested_by=actor,
        created_at=now or timezone.now(),
    )


def disbursement_propose(
    *,
    fund: Fund,
    proposal: "Proposal",
    amount_minor: int,
    purpose: str,
    payee_kind: str,
    request: Request | None = None,
    reimbursement: ReimbursementClaim | None = None,
    payee_name: str = "",
) -> Disbursement:
    """The payment a spend proposal asks for, waiting for the group's decision. Called by the
    decisions app when a member proposes to spend; any amount may be proposed."""
    with transaction.atomic():
        if proposal.group_id != fund.group_id:
            raise ApplicationError(_("The fund must belong to the proposal's group."))
        fields = _checked_payment(
            fund=fund,
            amount_minor=amount_minor,
            purpose=purpose,
            payee_kind=payee_kind,
            request=request,
            reimbursement=reimbursement,
            payee_name=payee_name,
        )
        return _create_disbursement(
            fields,
            status=Disbursement.Status.PROPOSED,
            proposal=proposal,
            requested_by_id=proposal.proposed_by_id,
        )


def _memo(disbursement: Disbursement) -> str:
    """What the books say a payment was for: its purpose, and for a request only the word
    "neighbour" and the request's reference, never the requester's name."""
    if disbursement.request is not None:
        return _("%(purpose)s, for neighbour %(reference)s") % {
            "purpose": disbursement.purpose,
            "reference": disbursement.request.reference,
        }
    if disbursement.reimbursement is not None:
        return _("%(purpose)s, paid back for neighbour %(reference)s") % {
            "purpose": disbursement.purpose,
            "reference": disbursement.reimbursement.request.reference,
        }
    return disbursement.purpose


@transaction.atomic
def _pay(disbursement_id: int, *, actor: User | None, now: datetime | None = None) -> Disbursement:
    """Post an approved disbursement's payment, once. Locks the disbursement, then the claim it
    pays back, then the fund's accounts: the same order everywhere."""
    disbursement = (
        Disbursement.objects.select_for_update(of=("self",))
        .select_related("fund__group", "request", "reimbursement__request")
        .get(pk=disbursement_id)
    )
    if disbursement.status == Disbursement.Status.PAID:
        raise _conflict(_("This payment has already been made."))
    if disbursement.status != Disbursement.Status.APPROVED:
        raise _conflict(_("Only an approved payment can be paid."))
    claim = None
    if disbursement.reimbursement_id is not None:
        claim = ReimbursementClaim.objects.select_for_update().get(pk=disbursement.reimbursement_id)
        if claim.status != ReimbursementClaim.Status.PENDING:
            raise _conflict(_("This claim has already been paid or turned down."))
        if disbursement.amount_minor > disbursement.fund.group.reimbursement_limit_minor:
            raise ApplicationError(
                _("The group pays back at most %(limit)s per claim.")
                % {
                    "limit": format_money(
                        disbursement.fund.group.reimbursement_limit_minor,
                        disbursement.fund.currency,
                    )
                }
            )
        if not Receipt.objects.filter(claim_id=claim.pk).exists():
            raise ApplicationError(
                _("A reimbursement is paid once its receipt is attached."),
                code="receipt_missing",
            )
    posted = ledger.transaction_post(
        fund=disbursement.fund,
        kind=Transaction.Kind.DISBURSEMENT,
        lines=[
            (Account.Kind.HOLDINGS, -disbursement.amount_minor),
            (Account.Kind.DISBURSEMENTS, disbursement.amount_minor),
        ],
        memo=_memo(disbursement),
        posted_by=actor or disbursement.confirmed_by,
        posted_at=now,
    )
    now = now or posted.posted_at
    paid = Disbursement.objects.filter(
        pk=disbursement.pk, status=Disbursement.Status.APPROVED
    ).update(status=Disbursement.Status.PAID, transaction=posted, paid_at=now)
    if not paid:
        raise _conflict(_("This payment has already been made."))
    if claim is not None:
        ReimbursementClaim.objects.filter(
            pk=claim.pk, status=ReimbursementClaim.Status.PENDING
        ).update(status=ReimbursementClaim.Status.PAID, decided_at=now)
    disbursement.refresh_from_db()
    return disbursement


def _try_to_pay(
    disbursement_id: int, *, actor: User | None, now: datetime | None = None
) -> ApplicationError | None:
    """Pay in a savepoint: a payment that cannot be made yet leaves what came before intact.
    What stopped it, or None when it was paid."""
    try:
        _pay(disbursement_id, actor=actor, now=now)
    except ApplicationError as error:
        return error
    return None


def disbursement_confirm(
    *, disbursement: Disbursement, actor: User, now: datetime | None = None
) -> Disbursement:
    """A second member confirms a payment a treasurer asked for, and it is paid at once. When
    the fund cannot pay it yet it stays approved, and the ApplicationError says so."""
    if not permissions.can_confirm_disbursement(actor, disbursement):
        raise PermissionDenied(
            _(
                "A member other than the one who asked for this payment, and not the one it "
                "pays, must confirm it."
            )
        )
    with transaction.atomic():
        now = now or timezone.now()
        confirmed = (
            Disbursement.objects.filter(
                pk=disbursement.pk, status=Disbursement.Status.AWAITING_CONFIRMATION
            )
            .exclude(requested_by=actor)
            .update(status=Disbursement.Status.APPROVED, confirmed_by=actor, confirmed_at=now)
        )
        if not confirmed:
            raise _conflict(_("This payment has already been confirmed or cancelled."))
        problem = _try_to_pay(disbursement.pk, actor=actor, now=now)
    disbursement.refresh_from_db()
    if problem is None:
        return disbursement
    if problem.code == "not_enough_money":
        raise ApplicationError(
            _(
                "Confirmed, but there is not enough in this fund to pay it yet. A treasurer can "
                "pay it once money comes in."
            ),
            code="not_enough_money",
            status=409,
        )
    raise ApplicationError(
        _("Confirmed, but not paid yet: %(reason)s") % {"reason": problem.message},
        code=problem.code,
        status=problem.status,
    )


def disbursement_pay(*, disbursement: Disbursement, actor: User | None = None) -> Disbursement:
    """Pay an approved disbursement: a treasurer's retry once money or the receipt came in, or
    the effect of a passed proposal (no actor). Pays once, however many try at the same time."""
    if actor is not None and not permissions.can_pay_disbursement(actor, disbursement):
        raise PermissionDenied(_("Only the group's treasurers can make a payment."))
    return _pay(disbursement.pk, actor=actor)


@transaction.atomic
def disbursement_cancel(*, disbursement: Disbursement, actor: User) -> Disbursement:
    """A treasurer cancels a payment not yet made. One waiting for the group's decision ends
    with its proposal instead."""
    if not permissions.can_cancel_disbursement(actor, disbursement):
        raise PermissionDenied(_("Only the group's treasurers can cancel a payment."))
    current = Disbursement.objects.select_for_update().get(pk=disbursement.pk)
    if current.status == Disbursement.Status.PROPOSED:
        raise ApplicationError(
            _("The group is deciding on this payment; withdraw the proposal instead.")
        )
    cancelled = Disbursement.objects.filter(
        pk=disbursement.pk,
        status__in=[Disbursement.Status.AWAITING_CONFIRMATION, Disbursement.Status.APPROVED],
    ).update(status=Disbursement.Status.CANCELLED, cancelled_at=timezone.now())
    if not cancelled:
        raise _conflict(_("This payment has already been made or cancelled."))
    disbursement.refresh_from_db()
    return disbursement


def disbursement_for_passed_proposal(*, proposal: "Proposal") -> Disbursement:
    """A passed spend proposal approves its payment, which is made at once when the fund can;
    otherwise it waits, approved, for a treasurer to pay it."""
    with transaction.atomic():
        disbursement = (
            Disbursement.objects.select_for_update().filter(proposal_id=proposal.pk).first()
        )
        if disbursement is None:
            raise ApplicationError(_("This proposal has no payment to make."))
        approved = Disbursement.objects.filter(
            pk=disbursement.pk, status=Disbursement.Status.PROPOSED
        ).update(status=Disbursement.Status.APPROVED, confirmed_at=timezone.now())
        if approved:
            _try_to_pay(disbursement.pk, actor=None)
        disbursement.refresh_from_db()
        return disbursement


@transaction.atomic
def disbursement_for_failed_proposal(*, proposal: "Proposal") -> Disbursement | None:
    """A spend proposal that did not pass, or was withdrawn, cancels its payment."""
    disbursement = Disbursement.objects.select_for_update().filter(proposal_id=proposal.pk).first()
    if disbursement is None:
        return None
    Disbursement.objects.filter(pk=disbursement.pk, status=Disbursement.Status.PROPOSED).update(
        status=Disbursement.Status.CANCELLED, cancelled_at=timezone.now()
    )
    disbursement.refresh_from_db()
    return disbursement


# Corrections


@transaction.atomic
def transaction_reverse(
    *, transaction: Transaction, actor: User, reason: str, now: datetime | None = None
) -> Transaction:
    """A treasurer corrects a movement by posting its exact opposite. The original stays in the
    books (a reversed payment stays paid in its history); each movement is corrected once, and
    a correction is never itself corrected."""
    if not permissions.can_reverse(actor, transaction):
        raise PermissionDenied(_("Only the group's treasurers can correct the books."))
    reason = _text(
        reason,
        max_length=REASON_MAX_LENGTH,
        too_long=_("Please keep the reason to %(count)d characters."),
        missing=_("Please give the reason for the correction."),
    )
    if transaction.kind == Transaction.Kind.REVERSAL:
        raise ApplicationError(
            _("A correction cannot be corrected again; record a new movement instead.")
        )
    if Transaction.objects.filter(reverses=transaction).exists():
        raise _conflict(_("This has already been corrected."))
    lines = [
        (kind, -amount)
        for kind, amount in transaction.entries.values_list("account__kind", "amount_minor")
    ]
    return ledger.transaction_post(
        fund=transaction.fund,
        kind=Transaction.Kind.REVERSAL,
        lines=lines,
        memo=_("Correction of movement %(number)d: %(reason)s")
        % {"number": transaction.pk, "reason": reason},
        posted_by=actor,
        reverses=transaction,
        posted_at=now,
    )


# Reimbursements and receipts


@transaction.atomic
def reimbursement_reject(
    *, claim: ReimbursementClaim, actor: User, reason: str
) -> ReimbursementClaim:
    """A treasurer turns down a pending claim, with a reason; a payment of it not yet made is
    cancelled. Not while the group is deciding on paying it."""
    if not permissions.can_pay_reimbursement(actor, claim):
        raise PermissionDenied(_("Only the group's treasurers can turn down a claim."))
    reason = _text(
        reason,
        max_length=REASON_MAX_LENGTH,
        too_long=_("Please keep the reason to %(count)d characters."),
        missing=_("Please give the reason."),
    )
    # The payments first, then the claim: the order a payment locks them in.
    live = list(
        Disbursement.objects.select_for_update()
        .filter(reimbursement_id=claim.pk, status__in=LIVE_STATUSES)
        .order_by("pk")
    )
    if any(payment.status == Disbursement.Status.PROPOSED for payment in live):
        raise ApplicationError(_("The group is deciding on paying this claim; wait for it."))
    now = timezone.now()
    rejected = ReimbursementClaim.objects.filter(
        pk=claim.pk, status=ReimbursementClaim.Status.PENDING
    ).update(status=ReimbursementClaim.Status.REJECTED, decided_at=now, not_paid_reason=reason)
    if not rejected:
        raise _conflict(_("This claim has already been paid or turned down."))
    Disbursement.objects.filter(pk__in=[payment.pk for payment in live]).update(
        status=Disbursement.Status.CANCELLED, cancelled_at=now
    )
    claim.refresh_from_db()
    return claim


@transaction.atomic
def receipt_attach(*, claim: ReimbursementClaim, actor: User, upload: UploadedFile) -> Receipt:
    """The claimant (or a treasurer) attaches the receipt of a pending claim: a JPEG, PNG, WebP
    or PDF of at most 5 MB, by its content, stored encrypted. A new one replaces the earlier
    one until the claim is paid."""
    if not permissions.can_attach_receipt(actor, claim):
        raise PermissionDenied(
            _("Only the member who claims, or a treasurer, can attach the receipt.")
        )
    claim = ReimbursementClaim.objects.select_for_update().get(pk=claim.pk)
    if claim.status != ReimbursementClaim.Status.PENDING:
        raise ApplicationError(_("This claim has already been paid or turned down."))
    data, content_type = receipts.read_upload(upload)
    earlier = Receipt.objects.filter(claim=claim).first()
    receipt = earlier or Receipt(claim=claim)
    old_name = (receipt.file.name or "") if earlier else ""
    name = receipts.store(
        name=receipt.file.field.generate_filename(receipt, receipts.new_file_name()), data=data
    )
    transaction.on_commit(lambda: receipts.remove(old_name))
    receipt.file.name = name
    receipt.content_type = content_type
    receipt.size_bytes = len(data)
    receipt.uploaded_by = actor
    receipt.uploaded_at = timezone.now()
    try:
        with transaction.atomic():
            receipt.save()
    except Exception:
        receipts.remove(name)
        raise
    return receipt


def receipt_open(*, receipt: Receipt, viewer: User, where: str) -> tuple[bytes, str]:
    """The decrypted receipt and its type, for the claimant, the treasurers and dispatchers;
    each opening is recorded in the audit log."""
    if not permissions.can_view_receipt(viewer, receipt):
        raise PermissionDenied(_("Only the claimant, treasurers and dispatchers see receipts."))
    try:
        data = receipts.load(receipt.file.name or "")
    except (receipts.ReceiptUnreadable, FileNotFoundError) as error:
        raise ApplicationError(
            _("This receipt cannot be opened. Please ask for it to be uploaded again."),
            code="unreadable",
            status=410,
        ) from error
    channel = (
        AuditEvent.Channel.API
        if where.startswith("/api/")
        else AuditEvent.Channel.WEB
        if where.startswith("/")
        else AuditEvent.Channel.COMMAND
    )
    record_personal_data_access(
        actor=viewer,
        subject=receipt.claim.claimant,
        fields=[gettext_noop("receipt")],
        reason=gettext_noop("checking a reimbursement claim"),
        channel=channel,
        where=where[:300],
    )
    return data, receipt.content_type
