"""Posted ledger entries and transactions can be neither changed nor deleted, even by hand.

Triggers per database: an entry refuses every UPDATE and DELETE; a transaction refuses DELETE
and any UPDATE except its poster becoming NULL (a member's account deleted). A mistake is
corrected by a reversing transaction instead.

SQLite drops a table's triggers when a migration rebuilds the table, so a later migration that
alters funds_entry or funds_transaction must create these triggers again; `mutualaid manage
ledger_check` reports any that are missing. PostgreSQL's flush (TRUNCATE) fires no row
triggers; SQLite's (DELETE FROM) does, which the test configuration works around with
mutualaid.funds.triggers.sqlite_flush_keeping_triggers.
"""

from django.db import migrations

SQLITE_REFUSE = "SELECT RAISE(ABORT, 'funds: %s');"

SQLITE_CREATE = [
    "CREATE TRIGGER funds_entry_no_update BEFORE UPDATE ON funds_entry "
    "BEGIN " + SQLITE_REFUSE % "posted entries are never changed" + " END",
    "CREATE TRIGGER funds_entry_no_delete BEFORE DELETE ON funds_entry "
    "BEGIN " + SQLITE_REFUSE % "posted entries are never deleted" + " END",
    "CREATE TRIGGER funds_transaction_no_delete BEFORE DELETE ON funds_transaction "
    "BEGIN " + SQLITE_REFUSE % "posted transactions are never deleted" + " END",
    "CREATE TRIGGER funds_transaction_no_change BEFORE UPDATE ON funds_transaction "
    "WHEN NEW.id IS NOT OLD.id OR NEW.fund_id IS NOT OLD.fund_id OR NEW.kind IS NOT OLD.kind "
    "OR NEW.memo IS NOT OLD.memo OR NEW.posted_at IS NOT OLD.posted_at "
    "OR NEW.reverses_id IS NOT OLD.reverses_id "
    "OR (NEW.posted_by_id IS NOT OLD.posted_by_id AND NEW.posted_by_id IS NOT NULL) "
    "BEGIN " + SQLITE_REFUSE % "posted transactions are never changed" + " END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS funds_entry_no_update",
    "DROP TRIGGER IF EXISTS funds_entry_no_delete",
    "DROP TRIGGER IF EXISTS funds_transaction_no_delete",
    "DROP TRIGGER IF EXISTS funds_transaction_no_change",
]

POSTGRESQL_CREATE = [
    """
    CREATE FUNCTION funds_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'funds: posted % rows are never %', TG_TABLE_NAME, lower(TG_OP)
            USING ERRCODE = 'integrity_constraint_violation';
    END
    $$
    """,
    """
    CREATE FUNCTION funds_transaction_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.id IS DISTINCT FROM OLD.id
            OR NEW.fund_id IS DISTINCT FROM OLD.fund_id
            OR NEW.kind IS DISTINCT FROM OLD.kind
            OR NEW.memo IS DISTINCT FROM OLD.memo
            OR NEW.posted_at IS DISTINCT FROM OLD.posted_at
            OR NEW.reverses_id IS DISTINCT FROM OLD.reverses_id
            OR (NEW.posted_by_id IS DISTINCT FROM OLD.posted_by_id
                AND NEW.posted_by_id IS NOT NULL)
        THEN
            RAISE EXCEPTION 'funds: posted transactions are never changed'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    "CREATE TRIGGER funds_entry_no_change BEFORE UPDATE OR DELETE ON funds_entry "
    "FOR EACH ROW EXECUTE FUNCTION funds_refuse_change()",
    "CREATE TRIGGER funds_transaction_no_delete BEFORE DELETE ON funds_transaction "
    "FOR EACH ROW EXECUTE FUNCTION funds_refuse_change()",
    "CREATE TRIGGER funds_transaction_no_change BEFORE UPDATE ON funds_transaction "
    "FOR EACH ROW EXECUTE FUNCTION funds_transaction_refuse_change()",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS funds_entry_no_change ON funds_entry",
    "DROP TRIGGER IF EXISTS funds_transaction_no_delete ON funds_transaction",
    "DROP TRIGGER IF EXISTS funds_transaction_no_change ON funds_transaction",
    "DROP FUNCTION IF EXISTS funds_refuse_change()",
    "DROP FUNCTION IF EXISTS funds_transaction_refuse_change()",
]

STATEMENTS = {
    "sqlite": (SQLITE_CREATE, SQLITE_DROP),
    "postgresql": (POSTGRESQL_CREATE, POSTGRESQL_DROP),
}


def _run(schema_editor, which: int) -> None:
    statements = STATEMENTS.get(schema_editor.connection.vendor)
    if statements is None:
        return
    for sql in statements[which]:
        schema_editor.execute(sql, params=None)


def create_triggers(apps, schema_editor) -> None:
    _run(schema_editor, 0)


def drop_triggers(apps, schema_editor) -> None:
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [("funds", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers, elidable=False)]
