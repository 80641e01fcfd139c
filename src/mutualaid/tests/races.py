"""Real parallel clients for the race tests: each callable runs in its own thread with its own
database connection, all released at once."""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

# Each race runs on both databases, each with its own variant: on PostgreSQL the writers truly
# overlap; on SQLite the IMMEDIATE transactions queue them, and the outcome must be the same.
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Needs PostgreSQL (run with DATABASE_URL=postgres://...): on SQLite the IMMEDIATE "
    "transactions serialise writers, so they cannot truly overlap there.",
)
on_sqlite = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="The SQLite run of the race; PostgreSQL has its own."
)


def run_at_once(work: list[Callable[[], Any]]) -> list[Any]:
    """Run each callable of `work` in its own thread, all released at once by a barrier; return
    what each returned, or the exception it raised, in order."""
    barrier = threading.Barrier(len(work))
    results: list[Any] = [None] * len(work)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work[index]()
        except Exception as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results
