"""Real parallel clients for the race tests: each callable runs in its own thread with its own
database connection, all released at once."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


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
