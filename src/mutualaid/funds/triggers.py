"""The database triggers that keep posted ledger rows unchanged, and what lives with them.

The triggers themselves are created by migration 0002_ledger_immutable. Here: the names that
must exist (checked by `mutualaid manage ledger_check`, since SQLite silently drops a table's
triggers when a later migration rebuilds it), and the one workaround tests need on SQLite,
whose flush between transactional tests is `DELETE FROM`, which the triggers refuse.
"""

from collections.abc import Callable
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

LEDGER_TABLES = ("funds_entry", "funds_transaction")
EXPECTED_TRIGGERS = {
    "sqlite": {
        "funds_entry_no_update",
        "funds_entry_no_delete",
        "funds_transaction_no_delete",
        "funds_transaction_no_change",
    },
    "postgresql": {
        "funds_entry_no_change",
        "funds_transaction_no_delete",
        "funds_transaction_no_change",
    },
}


def installed_triggers(connection: BaseDatabaseWrapper) -> set[str]:
    """The names of the triggers on the ledger tables in this database."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (%s, %s)",
                LEDGER_TABLES,
            )
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
                "AND tgrelid::regclass::text IN (%s, %s)",
                LEDGER_TABLES,
            )
        else:
            return set()
        return {row[0] for row in cursor.fetchall()}


def missing_triggers(connection: BaseDatabaseWrapper) -> set[str]:
    return EXPECTED_TRIGGERS.get(connection.vendor, set()) - installed_triggers(connection)


def sqlite_flush_keeping_triggers(sql_flush: Callable[..., list[str]]) -> Callable[..., list[str]]:
    """Wrap SQLite's `DatabaseOperations.sql_flush` so a flush drops the database's triggers,
    deletes, and creates the triggers again, all in the flush's one transaction.

    Only tests flush a database (after each transactional test); PostgreSQL's flush is TRUNCATE,
    which fires no row triggers, so it needs nothing.
    """

    def flush(
        self: Any,
        style: Any,
        tables: Any,
        *,
        reset_sequences: bool = False,
        allow_cascade: bool = False,
    ) -> list[str]:
        statements = sql_flush(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        if not statements:
            return statements
        with self.connection.cursor() as cursor:
            # Every trigger, not only those of `tables`: allow_cascade may have added tables.
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            triggers = cursor.fetchall()
        drops = [f'DROP TRIGGER "{name}";' for name, _sql in triggers]
        creates = [f"{sql};" for _name, sql in triggers]
        return [*drops, *statements, *creates]

    flush.keeps_triggers = True  # type: ignore[attr-defined]
    return flush


def install_sqlite_flush_workaround() -> None:
    """Make SQLite's flush keep the ledger triggers; calling it again changes nothing."""
    # Through the backend's base module: importing operations first is a circular import.
    from django.db.backends.sqlite3.base import DatabaseWrapper

    operations = DatabaseWrapper.ops_class
    if not getattr(operations.sql_flush, "keeps_triggers", False):
        operations.sql_flush = sqlite_flush_keeping_triggers(operations.sql_flush)  # type: ignore[method-assign]
