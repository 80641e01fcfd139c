"""The one writer of the books, and the check that replays them.

`transaction_post` is the only code that creates entries: it refuses lines that do not sum to
zero, locks the fund's accounts in primary-key order, writes the transaction and its entries,
and moves each account's balance by a conditional `UPDATE ... SET balance_minor = balance_minor
+ x` in the same database transaction. The holdings account's floor is a check constraint, so an
overspend is refused by the database even when two payments race; it comes back as
"There is not enough in this fund." and leaves the caller's transaction usable.

`ledger_replay` recomputes every account from its entries and every transaction's sum, and
lists what disagrees; `mutualaid manage ledger_check` prints it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from mutualaid.common.errors import ApplicationError
from mutualaid.funds.models import Account, Contribution, Disbursement, Entry, Fund, Transaction
from mutualaid.people.models import User

MEMO_MAX_LENGTH = 300
# Far beyond any mutual aid fund, and far inside a 64-bit column even when summed.
AMOUNT_MAX_MINOR = 10**12


def not_enough_money() -> ApplicationError:
    return ApplicationError(
        _("There is not enough in this fund."), code="not_enough_money", status=409
    )


@dataclass(frozen=True)
class LedgerProblem:
    """One disagreement found by the replay, in words an operator can act on."""

    fund_id: int
    kind: str  # "balance", "unbalanced", "below_floor", "other_fund", "record"
    message: str
    account_id: int | None = None
    transaction_id: int | None = None


def _check_lines(lines: Sequence[tuple[str, int]]) -> None:
    if len(lines) < 2:
        raise ApplicationError(_("A movement of money needs at least two sides."))
    kinds = [kind for kind, _amount in lines]
    if len(set(kinds)) != len(kinds) or not set(kinds) <= set(Account.Kind.values):
        raise ApplicationError(_("Each side of a movement must name a different account."))
    for _kind, amount in lines:
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise ApplicationError(_("Amounts are whole numbers of cents."))
        if amount == 0 or abs(amount) > AMOUNT_MAX_MINOR:
            raise ApplicationError(_("Each side of a movement needs an amount, and not too large."))
    if sum(amount for _kind, amount in lines) != 0:
        raise ApplicationError(_("The sides of a movement must balance to zero."))


@transaction.atomic
def transaction_post(
    *,
    fund: Fund,
    kind: str,
    lines: Sequence[tuple[str, int]],
    memo: str,
    posted_by: User | None,
    reverses: Transaction | None = None,
    posted_at: datetime | None = None,
) -> Transaction:
    """Post one balanced transaction to `fund`'s accounts. Lines are (account kind, amount),
    debits positive; they must be non-zero and sum to zero. Raises ApplicationError when they
    do not, when the holdings would go below the fund's floor, or when `reverses` was already
    reversed."""
    _check_lines(lines)
    if kind not in Transaction.Kind.values:
        raise ApplicationError(_("Unknown kind of movement."))
    memo = (memo or "").strip()[:MEMO_MAX_LENGTH]
    # Every writer locks the same rows in the same order, so two payments never deadlock.
    accounts = {
        account.kind: account
        for account in Account.objects.select_for_update().filter(fund=fund).order_by("pk")
    }
    if set(accounts) != set(Account.Kind.values):
        raise ApplicationError(_("This fund's accounts are missing."))
    try:
        with transaction.atomic():
            posted = Transaction.objects.create(
                fund=fund,
                kind=kind,
                memo=memo,
                posted_by=posted_by,
                reverses=reverses,
                posted_at=posted_at or timezone.now(),
            )
    except IntegrityError as error:
        if reverses is not None:
            raise ApplicationError(
                _("This has already been corrected."), code="conflict", status=409
            ) from error
        raise
    Entry.objects.bulk_create(
        Entry(transaction=posted, account=accounts[account_kind], amount_minor=amount)
        for account_kind, amount in lines
    )
    for account_kind, amount in sorted(lines, key=lambda line: accounts[line[0]].pk):
        try:
            # A savepoint, so the refused update leaves the caller's transaction usable.
            with transaction.atomic():
                Account.objects.filter(pk=accounts[account_kind].pk).update(
                    balance_minor=F("balance_minor") + amount
                )
        except IntegrityError as error:
            raise not_enough_money() from error
    return posted


def _transaction_problems(fund: Fund | None) -> list[LedgerProblem]:
    transactions = Transaction.objects.all() if fund is None else fund.transactions.all()
    rows = (
        transactions.annotate(
            total=Coalesce(Sum("entries__amount_minor"), Value(0)),
            lines=Count("entries"),
            foreign=Count("entries", filter=~Q(entries__account__fund=F("fund"))),
        )
        .filter(~Q(total=0) | Q(lines__lt=2) | Q(foreign__gt=0))
        .values_list("pk", "fund_id", "total", "lines", "foreign")
        .order_by("pk")
    )
    problems = []
    for pk, fund_id, total, lines, foreign in rows:
        if foreign:
            problems.append(
                LedgerProblem(
                    fund_id=fund_id,
                    kind="other_fund",
                    message=f"transaction {pk} has {foreign} entries on another fund's accounts",
                    transaction_id=pk,
                )
            )
        if total != 0 or lines < 2:
            problems.append(
                LedgerProblem(
                    fund_id=fund_id,
                    kind="unbalanced",
                    message=f"transaction {pk} has {lines} entries summing to {total}",
                    transaction_id=pk,
                )
            )
    return problems


def _account_problems(fund: Fund | None) -> list[LedgerProblem]:
    accounts = Account.objects.all() if fund is None else fund.accounts.all()
    replayed = (
        Entry.objects.filter(account=OuterRef("pk"))
        .order_by()
        .values("account")
        .annotate(total=Sum("amount_minor"))
        .values("total")
    )
    rows = (
        accounts.annotate(replayed=Coalesce(Subquery(replayed), Value(0)))
        .filter(
            ~Q(balance_minor=F("replayed"))
            | Q(floor_minor__isnull=False, replayed__lt=F("floor_minor"))
        )
        .values_list("pk", "fund_id", "kind", "balance_minor", "replayed", "floor_minor")
        .order_by("pk")
    )
    problems = []
    for pk, fund_id, kind, balance, replayed_total, floor in rows:
        if balance != replayed_total:
            problems.append(
                LedgerProblem(
                    fund_id=fund_id,
                    kind="balance",
                    message=(
                        f"account {pk} ({kind}) shows {balance} but its entries sum to "
                        f"{replayed_total}"
                    ),
                    account_id=pk,
                )
            )
        if floor is not None and replayed_total < floor:
            problems.append(
                LedgerProblem(
                    fund_id=fund_id,
                    kind="below_floor",
                    message=f"account {pk} ({kind}) is at {replayed_total}, below {floor}",
                    account_id=pk,
                )
            )
    return problems


def _record_problems(fund: Fund | None) -> list[LedgerProblem]:
    """Contributions and paid disbursements keep their amount beside their transaction; each
    must agree with what its transaction moved into or out of the money held."""
    held = (
        Entry.objects.filter(
            transaction=OuterRef("transaction"), account__kind=Account.Kind.HOLDINGS
        )
        .order_by()
        .values("transaction")
        .annotate(total=Sum("amount_minor"))
        .values("total")
    )
    problems = []
    records: list[tuple[str, type[Contribution] | type[Disbursement], int]] = [
        ("contribution", Contribution, 1),
        ("disbursement", Disbursement, -1),
    ]
    for name, model, sign in records:
        rows = model.objects.filter(transaction__isnull=False)
        if fund is not None:
            rows = rows.filter(fund=fund)
        wrong = (
            rows.annotate(moved=Coalesce(Subquery(held), Value(0)))
            .exclude(moved=sign * F("amount_minor"))
            .values_list("pk", "fund_id", "transaction_id", "amount_minor", "moved")
            .order_by("pk")
        )
        for pk, fund_id, transaction_id, amount, moved in wrong:
            problems.append(
                LedgerProblem(
                    fund_id=fund_id,
                    kind="record",
                    message=(
                        f"{name} {pk} is for {amount} but its transaction {transaction_id} "
                        f"moved {sign * moved} into or out of the money held"
                    ),
                    transaction_id=transaction_id,
                )
            )
        problems.extend(
            LedgerProblem(
                fund_id=fund_id,
                kind="record",
                message=f"{name} {pk} belongs to another fund than its transaction {tx}",
                transaction_id=tx,
            )
            for pk, fund_id, tx in rows.exclude(transaction__fund=F("fund"))
            .values_list("pk", "fund_id", "transaction_id")
            .order_by("pk")
        )
    return problems


def ledger_replay(*, fund: Fund | None = None) -> list[LedgerProblem]:
    """Recompute every account of `fund` (or of every fund) from its entries and every
    transaction's sum, and check each contribution and payment against its transaction; the
    problems found, none when the books are right."""
    return _transaction_problems(fund) + _account_problems(fund) + _record_problems(fund)


def replayed_holdings(*, fund: Fund) -> int:
    """The fund's balance as the sum of its holdings entries, not from the summary."""
    total = Entry.objects.filter(account__fund=fund, account__kind=Account.Kind.HOLDINGS).aggregate(
        total=Sum("amount_minor")
    )["total"]
    return total or 0
