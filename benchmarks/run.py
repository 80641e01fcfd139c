"""Performance measurements of Mutual Aid on a large made-up network, recorded in
docs/benchmarks.md.

    .venv/bin/python benchmarks/run.py [--quick] [--runs N]
        [--database-url postgres://postgres@127.0.0.1:5432/mutualaid_bench]
        [--output docs/benchmarks.md | --output -] [--keep-data]

It makes a throwaway data folder and database (SQLite in that folder, or the PostgreSQL
database named in --database-url, which it creates and drops: its name must contain "bench"),
migrates, loads 2,000 groups, 20,000 members and 69,000 requests for help, then measures:

1. over HTTP, the production web server (gunicorn with mutualaid.wsgi:application, as
   `mutualaid serve` runs it) on a free loopback port: latency and requests per second, one
   client after another and four at once, against a static file as the baseline; and claiming
   requests through the API, each claim a different request and four members racing for the
   same ones, checking that exactly one claim of each request won;
2. in this process, through Django's test client: the time and the SQL queries of each page,
   against a page that shows no data as the baseline;
3. the cost of encrypting personal data and of finding a member by email address.

Anonymous requests for help are limited per address (NEEDS_ANONYMOUS_REQUEST_RATE); the run
sets that rate to 100000/h, for its server and itself, so every measured request is taken.

Every measurement is repeated (5 runs, 2 with --quick) and the median of the runs reported.
The results replace this database's section of the output file; the rest of it is kept.
"""

import argparse
import json
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
ANONYMOUS_RATE = "100000/h"


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
    claim_results: Any,
    claim_plan: str,
    claims_checked: str,
) -> str:
    from stats import median, ms, ratio, table

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

    static = median(http_results[0].seq_median)
    claim_rows = [
        [
            case.name,
            f"{case.attempts:,}",
            f"{case.won:,}",
            f"{case.refused:,}",
            ms(median(case.median)),
            ms(median(case.p95)),
            f"{median(case.rps):,.0f}",
            ratio(median(case.median), static),
        ]
        for case in claim_results.cases
    ]
    lines += _subsection(
        "Claiming requests over HTTP",
        claim_plan,
        table(
            [
                "Claims",
                "Made",
                "Won (200)",
                "Someone else had it (409)",
                "Median ms",
                "p95 ms",
                "Claims/s",
                "vs baseline",
            ],
            claim_rows,
            "lrrrrrrr",
        ),
        claims_checked,
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
    quick = args.quick
    repeats = 3 if quick else 5
    sequential, clients, per_client = (10, 4, 5) if quick else (20, 4, 10)
    races = 10 if quick else 20
    # Every claim takes a request of the pool: the in-process ones, then those over HTTP.
    claims_in_process = 1 + args.runs * (1 + repeats)
    claims_over_http = 2 * clients + args.runs * (sequential + clients * per_client + races)
    data = dataset.load(claim_pool=claims_in_process + claims_over_http)
    say(f"Loaded {data.describe()} in {data.seconds:.1f} s")
    if connection.vendor == "postgresql":
        # A live database has statistics (autovacuum keeps them): plan with them.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    founder = User.objects.get(pk=data.founder_id)
    _token, raw_token = api_token_create(user=founder, name="benchmark")

    def session_cookie(member: User) -> dict[str, str]:
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(member)
        name = settings.SESSION_COOKIE_NAME
        return {"Cookie": f"{name}={client.cookies[name].value}"}

    cookie = session_cookie(founder)
    bearer = {"Authorization": f"Bearer {raw_token}"}
    groups = data.founder_groups
    sizes = {k: data.member_counts[slug] for k, slug in groups.items()}
    area = groups["area"]
    needs = data.needs
    dispatcher_cookie = session_cookie(User.objects.get(pk=needs.dispatcher_id))
    busy_cookie = session_cookie(User.objects.get(pk=needs.busy_member_id))
    claimers = [
        (member.pk, api_token_create(user=member, name="benchmark")[1])
        for member in User.objects.filter(pk__in=needs.claimer_ids).order_by("pk")
    ]
    pool = iter(needs.claim_pool)

    def group_page(kind: str, who: str, headers: dict[str, str] | None = None) -> Target:
        name = f"Group page as {who} ({kind}, {sizes[kind]:,} members)"
        return Target(name, f"/groups/{groups[kind]}/", headers or {})

    def open_requests(kind: str) -> Target:
        slug = groups[kind]
        name = f"Open requests as a member ({kind}, {data.open_counts[slug]:,} open)"
        return Target(name, f"/groups/{slug}/requests/", cookie)

    def report(kind: str) -> Target:
        slug = groups[kind]
        return Target(
            f"Weekly report ({kind}, 12 weeks)", f"/groups/{slug}/requests/report/", cookie
        )

    def api_open(kind: str) -> Target:
        slug = groups[kind]
        return Target(
            f"API `/api/groups/{{slug}}/requests?status=open` (token; {kind}, "
            f"{data.open_counts[slug]:,} open)",
            f"/api/groups/{slug}/requests?status=open",
            bearer,
        )

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
    dispatcher_page = Target(
        f"Request page as the dispatcher (area, open: contact shown and audited, "
        f"{sizes['area']:,} members to assign)",
        f"/requests/{needs.open_request_id}/",
        dispatcher_cookie,
    )
    ask = Target(
        "API `POST /api/groups/{slug}/requests` (anonymous)",
        f"/api/groups/{needs.post_area}/requests",
        method="POST",
        body=json.dumps(
            {
                "category": "shopping",
                "description": "Bread, milk and tea bags from the corner shop, please.",
                "name": "Joan",
                "phone": "+44 7700 900321",
                "contact_method": "phone",
                "area_name": "North",
            }
        ),
        status=201,
    )
    http_targets = [
        Target("Baseline: static file (site.css)", staticfiles_storage.url("mutualaid/site.css")),
        *home,
        group_page("area", "a visitor"),
        group_page("area", "its steward", cookie),
        *api,
        open_requests("area"),
        open_requests("ward"),
        dispatcher_page,
        report("area"),
        api_open("area"),
        ask,
    ]
    busy = needs.busy_area
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
        *[open_requests(kind) for kind in ("street", "ward", "area")],
        Target(
            f"Open requests as a member (busy area, {data.open_counts[busy]:,} open)",
            f"/groups/{busy}/requests/",
            busy_cookie,
        ),
        Target(
            "Open requests as a member (area, filtered: shopping today)",
            f"/groups/{area}/requests/?category=shopping&urgency=today",
            cookie,
        ),
        dispatcher_page,
        Target(
            "Request page as the dispatcher (area, held by a member: contact shown and audited)",
            f"/requests/{needs.claimed_request_id}/",
            dispatcher_cookie,
        ),
        Target(
            "Request page as the member holding it (contact shown and audited)",
            f"/requests/{needs.held_request_id}/",
            cookie,
        ),
        Target(
            "Request page as another member (no contact details)",
            f"/requests/{needs.claimed_request_id}/",
            cookie,
        ),
        *[report(kind) for kind in ("street", "ward", "area")],
        *[api_open(kind) for kind in ("street", "ward", "area")],
        Target(
            "API `/api/requests/{id}` as the member holding it (token; contact audited)",
            f"/api/requests/{needs.held_request_id}",
            bearer,
        ),
        ask,
    ]
    say("In-process: pages and SQL queries")
    page_results = inprocess.pages(page_targets, runs=args.runs, repeats=repeats)
    say("In-process: claims")
    page_results.append(
        inprocess.claims(
            "API `POST /api/requests/{id}/claim` (token; each a different request)",
            pool,
            [token for _member, token in claimers],
            runs=args.runs,
            repeats=repeats,
        )
    )
    say("In-process: encryption")
    crypto_results = inprocess.crypto_costs(data.emails, runs=args.runs)
    say("In-process: lookups by email")
    lookup_results, plan = inprocess.lookups(
        data.emails, runs=args.runs, samples=50 if quick else 200
    )
    connection.close()

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
        say("HTTP: claiming requests")
        claim_results = http_load.measure_claims(
            port,
            pool,
            claimers,
            runs=args.runs,
            sequential=sequential,
            clients=clients,
            per_client=per_client,
            races=races,
        )
    say("HTTP: server stopped")
    claims_checked = check_claims(claim_results)
    say(f"Claims: {claims_checked}")

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
        claim_results=claim_results,
        claim_plan=(
            f"`POST /api/requests/{{id}}/claim` on the same server, with the tokens of "
            f"{len(claimers)} members of one ward group, in turn. In the first two lines every "
            f"claim takes another open request; in the race, {clients} members claim each "
            "request at the same moment (a barrier releases them together; two sync workers "
            "serve two at once, the others queue). Figures per run as above; 'vs baseline' "
            "compares the median with the static file's."
        ),
        claims_checked=claims_checked,
    )
    if args.output != "-":
        write_report(Path(args.output), kind, section)
        say(f"Recorded in {args.output}")
    return section


def check_claims(results: Any) -> str:
    """Whether every request claimed over HTTP ended as its answers said: exactly one claim
    answered 200, and in the database one active claim, held by that member."""
    from collections import Counter

    from mutualaid.needs.models import Claim, Request

    claimed = list(results.winners)
    active = Counter(
        Claim.objects.filter(request_id__in=claimed, released_at__isnull=True).values_list(
            "request_id", flat=True
        )
    )
    holders = dict(Request.objects.filter(pk__in=claimed).values_list("pk", "claimed_by_id"))

    def won_once(request_id: int) -> bool:
        winners = results.winners[request_id]
        return len(winners) == 1 and active[request_id] == 1 and holders[request_id] == winners[0]

    raced = sum(won_once(request_id) for request_id in results.raced)
    every = sum(won_once(request_id) for request_id in claimed)
    return (
        f"Exactly one claim won for {raced:,} of the {len(results.raced):,} requests raced for, "
        f"and for {every:,} of all {len(claimed):,} requests claimed over HTTP: one answer 200 "
        "(the others 409), and afterwards one active claim in the database, held by the member "
        "who got the 200."
    )


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
    # Every measured anonymous request for help comes from 127.0.0.1: none may be refused.
    os.environ["NEEDS_ANONYMOUS_REQUEST_RATE"] = ANONYMOUS_RATE
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
