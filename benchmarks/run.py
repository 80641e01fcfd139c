"""Performance measurements of Mutual Aid on a large made-up network, recorded in
docs/benchmarks.md.

    .venv/bin/python benchmarks/run.py [--quick] [--runs N]
        [--database-url postgres://postgres@127.0.0.1:5432/mutualaid_bench]
        [--output docs/benchmarks.md | --output -] [--keep-data]

It makes a throwaway data folder and database (SQLite in that folder, or the PostgreSQL
database named in --database-url, which it creates and drops: its name must contain "bench"),
migrates, loads 2,000 groups and 20,000 members, then measures:

1. over HTTP, the production web server (gunicorn with mutualaid.wsgi:application, as
   `mutualaid serve` runs it) on a free loopback port: latency and requests per second, one
   client after another and four at once, against a static file as the baseline;
2. in this process, through Django's test client: the time and the SQL queries of each page,
   against a page that shows no data as the baseline;
3. the cost of encrypting personal data and of finding a member by email address.

Every measurement is repeated (5 runs, 2 with --quick) and the median of the runs reported.
The results replace this database's section of the output file; the rest of it is kept.
"""

import argparse
import os
import platform
import shlex
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "docs" / "benchmarks.md"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 runs and fewer requests")
    parser.add_argument("--runs", type=int, help="runs of each measurement (default 5, quick 2)")
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL database to create, use and drop, e.g. "
        "postgres://postgres@127.0.0.1:5432/mutualaid_bench (default: SQLite)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument(
        "--output",
        default=str(DEFAULT_OUTPUT),
        help="the Markdown file to record the results in, or - to only print them",
    )
    parser.add_argument("--keep-data", action="store_true", help="keep the data folder")
    args = parser.parse_args(argv)
    args.runs = args.runs or (2 if args.quick else 5)
    if args.runs < 1 or args.runs > 50:
        parser.error("--runs must be between 1 and 50")
    if args.workers < 1 or args.workers > 16:
        parser.error("--workers must be between 1 and 16")
    return args


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# --- The PostgreSQL database, made and dropped around the run. -------------------------------


def _postgres_admin(url: str):
    import psycopg

    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    if parts.scheme not in {"postgres", "postgresql"} or not name:
        raise SystemExit("--database-url must be postgres://user@host:port/name")
    if "bench" not in name:
        raise SystemExit(f"Refusing to drop {name!r}: the database's name must contain 'bench'.")
    connection = psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password) if parts.password else None,
        dbname="postgres",
        autocommit=True,
    )
    return connection, name


def postgres_recreate(url: str, *, create: bool) -> None:
    from psycopg import sql

    connection, name = _postgres_admin(url)
    with connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if create:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# --- Facts about this machine and run. -------------------------------------------------------


def _proc_value(path: str, key: str) -> str | None:
    """The value of the first `key: value` line of a /proc file, or None where there is no such
    file or line (a system other than Linux)."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        name, _colon, value = line.partition(":")
        if name.strip() == key:
            return value.strip()
    return None


def _cpu_model() -> str:
    return _proc_value("/proc/cpuinfo", "model name") or platform.processor() or "unknown"


def _memory() -> str:
    total = _proc_value("/proc/meminfo", "MemTotal")  # "32768000 kB"
    if total is None:
        return "RAM unknown"
    return f"{int(total.split()[0]) / 1024 / 1024:.0f} GiB RAM"


def _database_version() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} (WAL, a file in the data folder)"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    return f"PostgreSQL {version} on 127.0.0.1"


def _load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


# --- The report. ------------------------------------------------------------------------------


def _against_baseline(
    results: list[Any], seconds: Callable[[Any], list[float]]
) -> list[tuple[Any, float, str]]:
    """Each result with the median of its `seconds`, and that against the first result's."""
    from stats import median, ratio

    baseline = median(seconds(results[0]))
    return [
        (result, median(seconds(result)), ratio(median(seconds(result)), baseline))
        for result in results
    ]


def _subsection(title: str, *blocks: str) -> list[str]:
    """A `###` section of the report: its title, then each block (a paragraph, a table)."""
    lines = ["", f"### {title}"]
    for block in blocks:
        lines += ["", block]
    return lines


def build_section(
    *,
    args: argparse.Namespace,
    started: datetime,
    kind: str,
    facts: dict[str, str],
    http_results: list,
    page_results: list,
    crypto_results: list,
    lookup_results: list,
    plan: str,
    http_plan: str,
    members: int,
) -> str:
    from stats import median, ms, table

    title = "SQLite" if kind == "sqlite" else "PostgreSQL"
    command = " ".join([".venv/bin/python", "benchmarks/run.py", *map(shlex.quote, sys.argv[1:])])
    lines = [
        f"## {title}",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC with `{command}` ({args.runs} runs"
        f"{', quick' if args.quick else ''}; every figure is the median of the runs).",
        "",
    ]
    lines += [f"- {key}: {value}" for key, value in facts.items()]

    http_rows = [
        [
            r.target.name,
            f"{r.size:,}",
            ms(seconds),
            ms(median(r.seq_p95)),
            f"{median(r.seq_rps):,.0f}",
            ms(median(r.conc_median)),
            ms(median(r.conc_p95)),
            f"{median(r.conc_rps):,.0f}",
            against,
        ]
        for r, seconds, against in _against_baseline(http_results, lambda r: r.seq_median)
    ]
    lines += _subsection(
        "Over HTTP: the production server",
        http_plan,
        table(
            [
                "Request",
                "Bytes",
                "Median ms",
                "p95 ms",
                "Req/s",
                "Median ms, 4 clients",
                "p95 ms, 4 clients",
                "Req/s, 4 clients",
                "vs baseline",
            ],
            http_rows,
            "lrrrrrrrr",
        ),
    )

    page_rows = [
        [r.target.name, "/".join(str(q) for q in sorted(r.queries)), ms(seconds), against]
        for r, seconds, against in _against_baseline(page_results, lambda r: r.seconds)
    ]
    lines += _subsection(
        "In-process: Django's test client, no network",
        "Time from request to response inside one process (persistent database connection, no "
        "compression), and the SQL queries one request makes (several figures would mean the "
        "count changed between runs).",
        table(["Page", "SQL queries", "Median ms", "vs baseline"], page_rows, "lrrr"),
    )

    crypto_rows = [
        [r.name, ms(seconds), f"{seconds / r.count * 1e6:.1f}", against]
        for r, seconds, against in _against_baseline(crypto_results, lambda r: r.seconds)
    ]
    lines += _subsection(
        "Encrypting personal data",
        table(["Operation", "Total ms", "µs per value", "vs baseline"], crypto_rows, "lrrr"),
    )

    lookup_rows = [
        [r.name, ms(seconds), against]
        for r, seconds, against in _against_baseline(lookup_results, lambda r: r.seconds)
    ]
    lines += _subsection(
        f"Finding one member among {members:,}",
        "Each lookup loads the whole member row, so every line includes decrypting its email, "
        "phone and address; the median of single lookups of different members.",
        table(["Lookup", "ms per lookup", "vs baseline"], lookup_rows, "lrr"),
        "The query plan of the email lookup:",
        f"```\n{plan.strip()}\n```",
    )
    return "\n".join(lines) + "\n"


HEADER = """# Benchmarks

Figures from `benchmarks/run.py`; see the README for the command.
"""


def write_report(path: Path, kind: str, section: str) -> None:
    """Replace this database's section of the file (or add it), keeping everything else."""
    start, end = f"<!-- results: {kind} -->", f"<!-- end results: {kind} -->"
    block = f"{start}\n{section}{end}"
    text = path.read_text() if path.exists() else HEADER
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# --- The run. ---------------------------------------------------------------------------------


def run(args: argparse.Namespace, data_dir: Path) -> str:
    import django
    from django.core.management import call_command

    started = datetime.now(UTC)
    load_before = _load_average()
    django.setup()

    import dataset
    import http_load
    import inprocess
    from django.conf import settings
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.db import connection
    from django.test import Client
    from inprocess import Target

    from mutualaid.people.models import User
    from mutualaid.people.services import api_token_create

    kind = "sqlite" if connection.vendor == "sqlite" else "postgresql"
    say(f"Data folder {data_dir}; database: {_database_version()}")
    t0 = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    migrate_seconds = time.perf_counter() - t0
    say(f"Migrated and collected static files in {migrate_seconds:.1f} s; loading the dataset")
    data = dataset.load()
    say(f"Loaded {data.describe()} in {data.seconds:.1f} s")

    founder = User.objects.get(pk=data.founder_id)
    _token, raw_token = api_token_create(user=founder, name="benchmark")
    session_client = Client(HTTP_HOST="127.0.0.1")
    session_client.force_login(founder)
    cookie = {
        "Cookie": f"{settings.SESSION_COOKIE_NAME}="
        f"{session_client.cookies[settings.SESSION_COOKIE_NAME].value}"
    }
    bearer = {"Authorization": f"Bearer {raw_token}"}
    groups = data.founder_groups
    sizes = {k: data.member_counts[slug] for k, slug in groups.items()}
    area = groups["area"]

    def group_page(kind: str, who: str, headers: dict[str, str] | None = None) -> Target:
        name = f"Group page as {who} ({kind}, {sizes[kind]:,} members)"
        return Target(name, f"/groups/{groups[kind]}/", headers or {})

    home = [Target("Home page `/`", "/"), Target("Home page search `/?q=ward`", "/?q=ward")]
    api = [
        Target("API `/api/groups?limit=50`", "/api/groups?limit=50"),
        Target("API `/api/groups/{slug}`", f"/api/groups/{area}"),
        Target(
            "API `/api/groups/{slug}/members?limit=50` (token)",
            f"/api/groups/{area}/members?limit=50",
            bearer,
        ),
    ]
    http_targets = [
        Target("Baseline: static file (site.css)", staticfiles_storage.url("mutualaid/site.css")),
        *home,
        group_page("area", "a visitor"),
        group_page("area", "its steward", cookie),
        *api,
    ]
    page_targets = [
        Target("Baseline: privacy notice (a template, no data)", "/privacy/"),
        *home,
        Target("Home page search, page 5", "/?q=ward&page=5"),
        *[group_page(kind, "a visitor") for kind in groups],
        *[group_page(kind, "its steward", cookie) for kind in groups],
        Target(
            f"All members page ({sizes['area']:,} members, 100 a page)",
            f"/groups/{area}/members/",
            cookie,
        ),
        *api,
        Target(
            "API `/api/groups/{slug}/members?limit=50&offset=400` (token)",
            f"/api/groups/{area}/members?limit=50&offset=400",
            bearer,
        ),
    ]
    quick = args.quick
    say("In-process: pages and SQL queries")
    page_results = inprocess.pages(page_targets, runs=args.runs, repeats=3 if quick else 5)
    say("In-process: encryption")
    crypto_results = inprocess.crypto_costs(data.emails, runs=args.runs)
    say("In-process: lookups by email")
    lookup_results, plan = inprocess.lookups(
        data.emails, runs=args.runs, samples=50 if quick else 200
    )
    connection.close()

    sequential, clients, per_client = (10, 4, 5) if quick else (20, 4, 10)
    http_plan = (
        f"gunicorn, {args.workers} sync workers, on 127.0.0.1, the client in another process on "
        f"the same machine (Python's http.client, a new connection per request, "
        f"`Accept-Encoding: gzip` as a browser sends). Per run and request: {sequential} "
        f"requests one after another (median, p95, requests per second), then {clients} "
        f"clients at once making {per_client} each. 'vs baseline' compares the median latency "
        "one after another with the static file's."
    )
    say(f"HTTP: starting gunicorn with {args.workers} workers")
    env = {**os.environ}
    with http_load.server(
        env=env, workers=args.workers, log_path=data_dir / "gunicorn.log"
    ) as port:
        say(f"HTTP: measuring on 127.0.0.1:{port}")
        http_results = http_load.measure(
            port,
            http_targets,
            runs=args.runs,
            sequential=sequential,
            clients=clients,
            per_client=per_client,
        )
    say("HTTP: server stopped")

    facts = {
        "Machine": f"{os.cpu_count()} CPUs ({_cpu_model()}), {_memory()}, "
        f"load average before the run {load_before}",
        "Software": f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"gunicorn {_version('gunicorn')}, {platform.system()} {platform.release()}",
        "Database": _database_version(),
        "Dataset": data.describe(),
        "Setting up": f"migrate and collectstatic {migrate_seconds:.1f} s, loading the dataset "
        f"in bulk {data.seconds:.1f} s",
    }
    section = build_section(
        args=args,
        started=started,
        kind=kind,
        facts=facts,
        http_results=http_results,
        page_results=page_results,
        crypto_results=crypto_results,
        lookup_results=lookup_results,
        plan=plan,
        http_plan=http_plan,
        members=data.members,
    )
    if args.output != "-":
        write_report(Path(args.output), kind, section)
        say(f"Recorded in {args.output}")
    return section


def _version(distribution: str) -> str:
    from importlib.metadata import version

    return version(distribution)


def _stop_on_sigterm(signum: int, frame: object) -> None:
    # Unwind like Ctrl-C, so the server is stopped and the throwaway data removed.
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    data_dir = Path(tempfile.mkdtemp(prefix="mutualaid-bench-"))
    os.environ["MUTUALAID_DATA_DIR"] = str(data_dir / "data")
    os.environ["DJANGO_SETTINGS_MODULE"] = "mutualaid.settings"
    os.environ["LOG_LEVEL"] = "WARNING"
    for name in ("REDIS_URL", "DEBUG", "SECRET_KEY", "MUTUALAID_FIELD_KEYS", "DATABASE_URL"):
        os.environ.pop(name, None)
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    try:
        if args.database_url:
            postgres_recreate(args.database_url, create=True)
        section = run(args, data_dir)
        print(section)
        return 0
    except KeyboardInterrupt:
        say("Interrupted; the server is stopped and nothing was recorded.")
        return 130
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        if args.database_url:
            postgres_recreate(args.database_url, create=False)
        if args.keep_data:
            say(f"Kept the data folder {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
