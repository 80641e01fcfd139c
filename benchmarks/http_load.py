"""The production web server as a child process, and a bounded HTTP client to measure it.

Only the loopback address is ever used. Every loop has a fixed number of requests, and each
request a timeout.
"""

import http.client
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


def fetch(port: int, target: Target) -> tuple[float, int]:
    """One GET on a new connection (gunicorn's sync workers close each one): seconds, bytes."""
    started = perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request("GET", target.path, headers={**BROWSER_HEADERS, **target.headers})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    elapsed = perf_counter() - started
    if response.status != 200:
        raise RuntimeError(f"{target.path} answered {response.status}")
    return elapsed, len(body)


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
