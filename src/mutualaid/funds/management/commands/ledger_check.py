"""Replay the books: recompute every account from its entries and check every transaction.

Prints, per fund, how many transactions and entries it has and its balance both as kept and as
replayed, then OK or the problems found. Exits with code 1 when anything disagrees, or when the
database lacks a trigger that keeps posted entries unchanged, so it can run from cron or CI.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.models import Count, Sum

from mutualaid.funds.ledger import LedgerProblem, ledger_replay
from mutualaid.funds.models import Account, Fund
from mutualaid.funds.triggers import missing_triggers
from mutualaid.groups.money import format_money


class Command(BaseCommand):
    help = (
        "Check the books of every fund (or of one): every transaction sums to zero and every "
        "account's balance equals the sum of its entries. Exits with 1 on any problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--fund", type=int, help="the id of one fund to check")

    def handle(self, *args: Any, fund: int | None = None, **options: Any) -> None:
        funds = Fund.objects.select_related("group").order_by("pk")
        if fund is not None:
            funds = funds.filter(pk=fund)
            if not funds.exists():
                raise CommandError(f"There is no fund {fund}.")
        problems = ledger_replay(fund=funds.get() if fund is not None else None)
        by_fund: dict[int, list[LedgerProblem]] = {}
        for problem in problems:
            by_fund.setdefault(problem.fund_id, []).append(problem)
        transaction_counts = dict(
            funds.annotate(transaction_count=Count("transactions")).values_list(
                "pk", "transaction_count"
            )
        )
        entry_counts = dict(
            Account.objects.filter(fund__in=funds)
            .values("fund")
            .annotate(entry_count=Count("entries"))
            .values_list("fund", "entry_count")
            .order_by()
        )
        replayed = dict(
            Account.objects.filter(fund__in=funds, kind=Account.Kind.HOLDINGS)
            .annotate(total=Sum("entries__amount_minor"))
            .values_list("fund", "total")
        )
        summary = dict(
            Account.objects.filter(fund__in=funds, kind=Account.Kind.HOLDINGS).values_list(
                "fund", "balance_minor"
            )
        )
        checked = 0
        for each in funds:
            checked += 1
            kept = summary.get(each.pk)
            balance = "missing" if kept is None else format_money(kept, each.currency)
            line = (
                f"Fund {each.pk} {each.name!r} ({each.group.slug}): "
                f"{transaction_counts.get(each.pk, 0)} transactions, "
                f"{entry_counts.get(each.pk, 0)} entries, balance {balance} kept, "
                f"{format_money(replayed.get(each.pk) or 0, each.currency)} replayed: "
            )
            found = by_fund.get(each.pk, [])
            if kept is None:
                found = [
                    *found,
                    LedgerProblem(fund_id=each.pk, kind="accounts", message="no holdings account"),
                ]
            if found:
                self.stdout.write(line + "PROBLEM")
                for problem in found:
                    self.stdout.write(f"  - {problem.message}")
            else:
                self.stdout.write(line + "OK")
            by_fund[each.pk] = found
        missing = sorted(missing_triggers(connection))
        if missing:
            self.stdout.write(
                "The database lacks the triggers that keep posted entries unchanged: "
                + ", ".join(missing)
            )
        total = sum(len(found) for found in by_fund.values())
        fund_word = "fund" if checked == 1 else "funds"
        problem_word = "problem" if total == 1 else "problems"
        self.stdout.write(f"{checked} {fund_word} checked, {total} {problem_word}.")
        if total or missing:
            raise CommandError("The books need attention.", returncode=1)
