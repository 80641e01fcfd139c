"""The production web server as a child process, and a bounded HTTP client to measure it.

Only the loopback address is ever used. Every loop has a fixed number of requests, and each
request a timeout.
"""

import http.client
import itertools
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter

from inprocess import Target
from stats import median, p95

from mutualaid.cli import die_with_parent, web_command

HOST = "127.0.0.1"
REQUEST_TIMEOUT = 30.0
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
# What a browser sends; the site compresses pages and WhiteNoise serves pre-compressed files.
BROWSER_HEADERS = {"Accept-Encoding": "gzip", "User-Agent": "mutualaid-benchmark"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(*, env: dict[str, str], workers: int, log_path: Path) -> Iterator[int]:
    """Run gunicorn exactly as `mutualaid serve` does; yield its port; always stop it."""
    port = free_port()
    command = web_command(host=HOST, port=port, workers=workers)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group, so it can be stopped as a whole and a terminal's Ctrl-C
            # reaches only the benchmark; a SIGTERM should the benchmark itself be killed.
            preexec_fn=die_with_parent,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"The server stopped at start; see {log_path}")
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"The server did not start; see {log_path}") from None
                time.sleep(0.2)
        yield port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # gunicorn's graceful stop, workers included
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                # Its own process group: the master and its workers only.
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def send(
    port: int, method: str, path: str, headers: dict[str, str], body: str = ""
) -> tuple[float, int, bytes]:
    """One request on a new connection (gunicorn's sync workers close each one): seconds,
    status and body. A body is sent as JSON."""
    headers = {**BROWSER_HEADERS, **headers}
    if body:
        headers["Content-Type"] = "application/json"
    started = perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request(method, path, body=body.encode() or None, headers=headers)
        response = connection.getresponse()
        content = response.read()
    finally:
        connection.close()
    return perf_counter() - started, response.status, content


def fetch(port: int, target: Target) -> tuple[float, int]:
    """One request of `target`: seconds, bytes."""
    elapsed, status, content = send(port, target.method, target.path, target.headers, target.body)
    if status != target.status:
        raise RuntimeError(f"{target.path} answered {status}")
    return elapsed, len(content)


@dataclass
class HttpResult:
    target: Target
    size: int = 0
    # One value per run.
    seq_median: list[float] = field(default_factory=list)
    seq_p95: list[float] = field(default_factory=list)
    seq_rps: list[float] = field(default_factory=list)
    conc_median: list[float] = field(default_factory=list)
    conc_p95: list[float] = field(default_factory=list)
    conc_rps: list[float] = field(default_factory=list)


def _sequential(port: int, target: Target, count: int) -> tuple[list[float], float]:
    started = perf_counter()
    latencies = [fetch(port, target)[0] for _ in range(count)]
    return latencies, perf_counter() - started


def _concurrent(
    port: int, target: Target, clients: int, per_client: int
) -> tuple[list[float], float]:
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client() -> None:
        barrier.wait()
        mine = []
        try:
            for _ in range(per_client):
                mine.append(fetch(port, target)[0])
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = perf_counter()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT * per_client)
    elapsed = perf_counter() - started
    if errors:
        raise errors[0]
    if len(latencies) != clients * per_client:
        raise RuntimeError(f"{target.path}: a client did not finish in time")
    return latencies, elapsed


def measure(
    port: int,
    targets: Sequence[Target],
    *,
    runs: int,
    sequential: int,
    clients: int,
    per_client: int,
) -> list[HttpResult]:
    """Each run measures every target in turn (so a slow moment hits them all alike): first
    `sequential` requests one after another, then `clients` threads doing `per_client` each."""
    results = []
    for target in targets:
        for _ in range(2 * clients):  # warm up every worker: connections, templates
            _elapsed, size = fetch(port, target)
        results.append(HttpResult(target, size=size))
    for _ in range(runs):
        for result in results:
            latencies, elapsed = _sequential(port, result.target, sequential)
            result.seq_median.append(median(latencies))
            result.seq_p95.append(p95(latencies))
            result.seq_rps.append(len(latencies) / elapsed)
            latencies, elapsed = _concurrent(port, result.target, clients, per_client)
            result.conc_median.append(median(latencies))
            result.conc_p95.append(p95(latencies))
            result.conc_rps.append(len(latencies) / elapsed)
    return results


# --- Claiming requests: each a different one, and several members racing for the same. ------


@dataclass
class ClaimCase:
    name: str
    attempts: int = 0  # over all runs
    won: int = 0  # answered 200
    refused: int = 0  # answered 409: someone else has it
    # One value per run.
    median: list[float] = field(default_factory=list)
    p95: list[float] = field(default_factory=list)
    rps: list[float] = field(default_factory=list)


@dataclass
class ClaimResults:
    cases: list[ClaimCase]
    # Every request claimed: the members whose claim was answered 200 (one, if all is well).
    winners: dict[int, list[int]]
    # The requests raced for.
    raced: list[int]


def measure_claims(
    port: int,
    pool: Iterator[int],
    claimers: Sequence[tuple[int, str]],
    *,
    runs: int,
    sequential: int,
    clients: int,
    per_client: int,
    races: int,
) -> ClaimResults:
    """`POST /api/requests/{id}/claim` with members' tokens (`claimers`: member id, raw token),
    each run: `sequential` claims one after another and `clients` clients at once making
    `per_client` each, every claim by another member on another open request from `pool`;
    then `races` requests that `clients` members claim at the same moment (a barrier starts
    them together), where exactly one should win and the others get 409."""
    winners: dict[int, list[int]] = {}
    raced: list[int] = []
    lock = threading.Lock()
    turn = itertools.count()

    def claim(request_id: int, member: tuple[int, str]) -> tuple[float, int]:
        member_id, token = member
        elapsed, status, _content = send(
            port,
            "POST",
            f"/api/requests/{request_id}/claim",
            {"Authorization": f"Bearer {token}"},
        )
        if status not in (200, 409):
            raise RuntimeError(f"Claiming request {request_id} answered {status}")
        with lock:
            entry = winners.setdefault(request_id, [])
            if status == 200:
                entry.append(member_id)
        return elapsed, status

    def next_claimer() -> tuple[int, str]:
        return claimers[next(turn) % len(claimers)]

    def in_threads(work: Sequence[Sequence[tuple[int, tuple[int, str]]]], *, together: bool):
        """Each thread makes its list of claims; with `together`, all threads start each
        claim at the same moment. Returns the latencies and statuses, and the seconds."""
        outcomes: list[tuple[float, int]] = []
        errors: list[BaseException] = []
        barrier = threading.Barrier(len(work) + 1)
        step = threading.Barrier(len(work)) if together else None

        def client(claims: Sequence[tuple[int, tuple[int, str]]]) -> None:
            barrier.wait()
            mine = []
            try:
                for request_id, member in claims:
                    if step is not None:
                        step.wait(timeout=REQUEST_TIMEOUT)
                    mine.append(claim(request_id, member))
            except BaseException as error:  # reported by the main thread
                errors.append(error)
                if step is not None:
                    step.abort()
            with lock:
                outcomes.extend(mine)

        threads = [threading.Thread(target=client, args=(w,), daemon=True) for w in work]
        for thread in threads:
            thread.start()
        barrier.wait()
        started = perf_counter()
        for thread in threads:
            thread.join(timeout=REQUEST_TIMEOUT * max(len(w) for w in work))
        elapsed = perf_counter() - started
        if errors:
            raise errors[0]
        if len(outcomes) != sum(len(w) for w in work):
            raise RuntimeError("A claiming client did not finish in time")
        return outcomes, elapsed

    one = ClaimCase(f"One member after another ({sequential} a run), each a different request")
    many = ClaimCase(
        f"{clients} clients at once ({per_client} each a run), each claim a different request"
    )
    race = ClaimCase(
        f"{clients} members racing for the same request ({races} requests a run, "
        f"{clients * races} claims)"
    )

    def record(case: ClaimCase, outcomes: list[tuple[float, int]], elapsed: float) -> None:
        latencies = [latency for latency, _status in outcomes]
        case.attempts += len(outcomes)
        case.won += sum(status == 200 for _latency, status in outcomes)
        case.refused += sum(status == 409 for _latency, status in outcomes)
        case.median.append(median(latencies))
        case.p95.append(p95(latencies))
        case.rps.append(len(outcomes) / elapsed)

    for _ in range(2 * clients):  # warm up every worker
        claim(next(pool), next_claimer())
    for _ in range(runs):
        started = perf_counter()
        outcomes = [claim(next(pool), next_claimer()) for _ in range(sequential)]
        record(one, outcomes, perf_counter() - started)
        work = [[(next(pool), next_claimer()) for _ in range(per_client)] for _ in range(clients)]
        record(many, *in_threads(work, together=False))
        contested = [next(pool) for _ in range(races)]
        raced += contested
        rivals = [next_claimer() for _ in range(clients)]
        work = [[(request_id, rival) for request_id in contested] for rival in rivals]
        record(race, *in_threads(work, together=True))
    return ClaimResults([one, many, race], winners, raced)
