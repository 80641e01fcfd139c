"""Reads of the books that pages, the API and the public summary share.

What the open books show of each movement is decided once, in `movement_line`: a requester is
only "neighbour" and the request's reference; a contribution shows who gave it or "anonymous".
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from mutualaid.funds.models import Account, Disbursement, Entry, Fund, Transaction
from mutualaid.groups.models import Group


def _with_totals(funds: QuerySet[Fund]) -> QuerySet[Fund]:
    """Funds annotated with `balance_minor` (what they hold), `in_minor` (all money in, net of
    corrections) and `out_minor` (all money out, net of corrections)."""

    def total(kind: str) -> Coalesce:
        return Coalesce(Sum("accounts__balance_minor", filter=Q(accounts__kind=kind)), Value(0))

    return funds.annotate(
        balance_minor=total(Account.Kind.HOLDINGS),
        in_minor=-total(Account.Kind.CONTRIBUTIONS),
        out_minor=total(Account.Kind.DISBURSEMENTS),
    )


def fund_balances(*, group: Group) -> list[Fund]:
    """The group's funds by name, each with its balance and its in and out totals (one query)."""
    return list(_with_totals(Fund.objects.filter(group=group)).order_by("name", "pk"))


def movement_page(*, fund: Fund, transaction_id: int, per_page: int) -> int | None:
    """The page of the fund's books (newest first, `per_page` a page) that shows the movement,
    or None when the fund has no such movement."""
    movement = Transaction.objects.filter(fund=fund, pk=transaction_id).first()
    if movement is None:
        return None
    newer = Transaction.objects.filter(
        Q(posted_at__gt=movement.posted_at) | Q(posted_at=movement.posted_at, pk__gt=movement.pk),
        fund=fund,
    ).count()
    return newer // per_page + 1


def fund_movements(*, fund: Fund) -> QuerySet[Transaction]:
    """The fund's movements, newest first, with all `movement_line` needs loaded."""
    return (
        Transaction.objects.filter(fund=fund)
        .select_related(
            "fund",
            "posted_by",
            "contribution__contributor",
            "disbursement__request",
            "disbursement__reimbursement__claimant",
            "disbursement__reimbursement__request",
            "reverses",
            "reversed_by",
        )
        .prefetch_related(
            Prefetch("entries", queryset=Entry.objects.select_related("account").order_by("pk"))
        )
        .order_by("-posted_at", "-pk")
    )


def _one_to_one(transaction: Transaction, name: str) -> Any:
    """The contribution, disbursement or reversal on the other side of a one-to-one, or None."""
    try:
        return getattr(transaction, name)
    except ObjectDoesNotExist:
        return None


def _holdings_change(transaction: Transaction) -> int:
    return sum(
        entry.amount_minor
        for entry in transaction.entries.all()
        if entry.account.kind == Account.Kind.HOLDINGS
    )


def _who(transaction: Transaction) -> str:
    contribution = _one_to_one(transaction, "contribution")
    if contribution is not None:
        if contribution.contributor is not None:
            return contribution.contributor.public_name
        return contribution.contributor_name or _("anonymous")
    disbursement = _one_to_one(transaction, "disbursement")
    return "" if disbursement is None else payee_shown(disbursement)


def payee_shown(disbursement: Disbursement) -> str:
    """Who a payment goes to, as the open books show it: a requester only as "neighbour" and
    the request's reference, never by name."""
    if disbursement.request is not None:
        return _("neighbour %(reference)s") % {"reference": disbursement.request.reference}
    if disbursement.reimbursement is not None:
        return str(disbursement.reimbursement.claimant.public_name)
    return disbursement.payee_name


def _description(transaction: Transaction, who: str) -> str:
    """What and who in one phrase, as the books' list and the export show it."""
    if transaction.kind == Transaction.Kind.REVERSAL:
        return _("Correction of number %(number)d") % {"number": transaction.reverses_id}
    contribution = _one_to_one(transaction, "contribution")
    if contribution is not None:
        if contribution.is_anonymous:
            return _("Anonymous contribution")
        return _("Contribution from %(who)s") % {"who": who}
    disbursement = _one_to_one(transaction, "disbursement")
    if disbursement is not None:
        if disbursement.request is not None:
            return _("Paid for %(who)s") % {"who": who}
        if disbursement.reimbursement is not None:
            return _("Paid back to %(who)s (for neighbour %(reference)s)") % {
                "who": who,
                "reference": disbursement.reimbursement.request.reference,
            }
        return _("Paid to %(who)s") % {"who": who}
    return transaction.get_kind_display()


def movement_line(transaction: Transaction) -> dict[str, Any]:
    """One movement as the open books show it. `amount_minor` is what it changed the fund's
    balance by (money in positive, money out negative); `who` is the contributor ("anonymous"),
    the payee, the volunteer paid back, or "neighbour" and a request's reference, never a
    requester's name; `description` says what and who in one phrase."""
    reversed_by = _one_to_one(transaction, "reversed_by")
    who = _who(transaction)
    return {
        "id": transaction.pk,
        "posted_at": transaction.posted_at,
        "kind": transaction.kind,
        "kind_display": transaction.get_kind_display(),
        "amount_minor": _holdings_change(transaction),
        "currency": transaction.fund.currency,
        "who": who,
        "description": _description(transaction, who),
        "what": transaction.memo,
        "posted_by": transaction.posted_by.public_name if transaction.posted_by else "",
        "reverses_id": transaction.reverses_id,
        "reversed_by_id": reversed_by.pk if reversed_by is not None else None,
    }


def _month_start(day: date, months_back: int) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def monthly_totals(*, fund: Fund, months: int = 12) -> list[tuple[date, int, int]]:
    """(first day of the month, money in, money out) for the last `months` months including
    this one, oldest first, months without movements as zeros. Corrections count as the
    movement they make: undoing a contribution is money out."""
    today = timezone.localdate()
    first = _month_start(today, months - 1)
    since = datetime(first.year, first.month, 1, tzinfo=timezone.get_current_timezone())
    rows = (
        Entry.objects.filter(
            account__fund=fund,
            account__kind=Account.Kind.HOLDINGS,
            transaction__posted_at__gte=since,
        )
        .annotate(month=TruncMonth("transaction__posted_at"))
        .values("month")
        .annotate(
            money_in=Coalesce(Sum("amount_minor", filter=Q(amount_minor__gt=0)), Value(0)),
            money_out=Coalesce(Sum("amount_minor", filter=Q(amount_minor__lt=0)), Value(0)),
        )
        .order_by("month")
    )
    by_month = {
        timezone.localtime(row["month"]).date(): (row["money_in"], -row["money_out"])
        for row in rows
    }
    return [
        (month, *by_month.get(month, (0, 0)))
        for month in (_month_start(today, back) for back in range(months - 1, -1, -1))
    ]


@dataclass(frozen=True)
class FundTotals:
    name: str
    currency: str
    balance_minor: int
    in_minor: int
    out_minor: int


def public_summary(*, group: Group) -> list[FundTotals]:
    """Totals only, for the public summary a group may choose to publish: each fund's name,
    currency, balance, and all money in and out. No movement, no name of anyone."""
    return [
        FundTotals(
            name=fund.name,
            currency=fund.currency,
            balance_minor=fund.balance_minor,  # type: ignore[attr-defined]
            in_minor=fund.in_minor,  # type: ignore[attr-defined]
            out_minor=fund.out_minor,  # type: ignore[attr-defined]
        )
        for fund in fund_balances(group=group)
    ]
