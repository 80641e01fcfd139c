"""The `mutualaid` command: run the site, its worker and the operator's commands.

mutualaid demo                    migrate, load demo data, then serve
mutualaid serve [--host --port --workers]
                                  migrate, collect static files, run the web server, the
                                  background worker and the scheduler until Ctrl-C or SIGTERM
mutualaid worker                  only the background worker
mutualaid schedule                only the scheduler of periodic jobs
mutualaid createuser --email E [--password P] [--name N]
mutualaid token --email E [--name N]
mutualaid manage <command> ...    any Django management command
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from types import FrameType

SETTINGS_MODULE = "mutualaid.settings"
STOP_TIMEOUT_SECONDS = 10.0
POLL_SECONDS = 0.2


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def _child_environment() -> dict[str, str]:
    """The environment for child processes: the same settings and the same data folder, even
    when the folder was found relative to the current directory."""
    from django.conf import settings

    return {**os.environ, "MUTUALAID_DATA_DIR": str(settings.DATA_DIR)}


def worker_arguments() -> list[str]:
    """The background worker's management command: RQ's when Redis carries the queue (the
    tasks backend is then django_tasks_rq), the database-backed one otherwise."""
    from django.conf import settings

    if settings.REDIS_URL:
        # django_tasks_rq's job class runs the queued Django task, not a plain RQ function.
        return ["rqworker", "default", "--job-class", "django_tasks_rq.Job"]
    return ["db_worker"]


def worker_command() -> list[str]:
    return [sys.executable, "-m", "django", *worker_arguments()]


def schedule_command() -> list[str]:
    return [sys.executable, "-m", "django", "run_schedule"]


def web_command(*, host: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "mutualaid.wsgi:application",
        "--bind",
        f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "--workers",
        str(workers),
        "--graceful-timeout",
        str(int(STOP_TIMEOUT_SECONDS) - 2),
        "--access-logfile",
        "-",
        "--logger-class",
        "mutualaid.common.redaction.AccessLogger",
        # One control socket per user would clash between two sites on one machine.
        "--no-control-socket",
    ]


def die_with_parent() -> None:
    """Runs in each child before it starts: its own process group, so a terminal's Ctrl-C
    reaches only the parent (which forwards it once), and a SIGTERM if the parent dies."""
    os.setpgid(0, 0)
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


def run_processes(
    commands: Mapping[str, Sequence[str]],
    *,
    env: dict[str, str] | None = None,
    stop_timeout: float = STOP_TIMEOUT_SECONDS,
) -> int:
    """Run `commands` (by name) as children until SIGINT or SIGTERM, or until one of them exits.

    A signal is forwarded to every child; children still running after `stop_timeout` seconds
    are killed. Returns 0 after a signal, otherwise the exit code of the child that stopped
    first (1 if it stopped cleanly, since the service is gone).
    """
    received: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    named: dict[str, subprocess.Popen[bytes]] = {}
    exit_code = 0
    try:
        for name, command in commands.items():
            named[name] = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
                list(command), env=env, preexec_fn=die_with_parent
            )
        children = list(named.values())
        while not received:
            stopped = [(name, child) for name, child in named.items() if child.poll() is not None]
            if stopped:
                name, child = stopped[0]
                print(
                    f"mutualaid: the {name} stopped (exit code {child.returncode}); "
                    "stopping the rest.",
                    file=sys.stderr,
                    flush=True,
                )
                exit_code = child.returncode if child.returncode > 0 else 1
                break
            time.sleep(POLL_SECONDS)
        forwarded = received[0] if received else signal.SIGTERM
        for child in children:
            if child.poll() is None:
                child.send_signal(forwarded)
        deadline = time.monotonic() + stop_timeout
        for child in children:
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    finally:
        for child in named.values():
            if child.poll() is None:
                child.kill()
                child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return exit_code


def _prepare() -> None:
    """What every start needs: the database schema and the static files WhiteNoise serves."""
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1)
    call_command("collectstatic", interactive=False, verbosity=0)


def _local_url(args: argparse.Namespace) -> str:
    """Where a browser on this machine reaches the server."""
    host = "127.0.0.1" if args.host in {"0.0.0.0", "::", ""} else args.host  # noqa: S104
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{args.port}"


def _serve(args: argparse.Namespace) -> int:
    from django.conf import settings

    print(f"Mutual Aid is starting at {_local_url(args)}/", flush=True)
    print(f"Data folder: {settings.DATA_DIR}", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    return run_processes(
        {
            "web server": web_command(host=args.host, port=args.port, workers=args.workers),
            "worker": worker_command(),
            "scheduler": schedule_command(),
        },
        env=_child_environment(),
    )


def cmd_serve(args: argparse.Namespace) -> int:
    _setup_django()
    _prepare()
    return _serve(args)


def cmd_demo(args: argparse.Namespace) -> int:
    _setup_django()
    from mutualaid.demo import load_demo, login_instructions

    _prepare()
    load_demo(stdout=sys.stdout)
    print(login_instructions(site_url=_local_url(args)), flush=True)
    return _serve(args)


def cmd_worker(_args: argparse.Namespace) -> int:
    _setup_django()
    return _manage(worker_arguments())


def cmd_schedule(_args: argparse.Namespace) -> int:
    _setup_django()
    return _manage(["run_schedule"])


def _manage(argv: Sequence[str]) -> int:
    """A Django management command, as `django-admin` would run it."""
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["mutualaid manage", *argv])
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    return 0


def _call(command: str, **options: object) -> int:
    """A management command with the options given; one left out (None) takes the command's
    own default."""
    from django.core.management import call_command
    from django.core.management.base import CommandError

    try:
        call_command(command, **{key: value for key, value in options.items() if value is not None})
    except CommandError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    return 0


def cmd_createuser(args: argparse.Namespace) -> int:
    _setup_django()
    return _call("createuser", email=args.email, password=args.password, name=args.name)


def cmd_token(args: argparse.Namespace) -> int:
    _setup_django()
    return _call("token", email=args.email, name=args.name)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mutualaid",
        description="Run Mutual Aid: the web site, its background worker and operator commands.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def server_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--host", default="127.0.0.1", help="address to listen on")
        sub.add_argument("--port", type=int, default=8000, help="port to listen on")
        sub.add_argument(
            "--workers", type=_positive_int, default=2, help="web server processes (default 2)"
        )

    demo = commands.add_parser("demo", help="load demo data (Manchester), then serve")
    server_options(demo)
    demo.set_defaults(handler=cmd_demo)

    serve = commands.add_parser(
        "serve", help="run the web server, the background worker and the scheduler"
    )
    server_options(serve)
    serve.set_defaults(handler=cmd_serve)

    worker = commands.add_parser("worker", help="run only the background worker")
    worker.set_defaults(handler=cmd_worker)

    schedule = commands.add_parser(
        "schedule", help="run only the scheduler, which queues the periodic jobs when due"
    )
    schedule.set_defaults(handler=cmd_schedule)

    createuser = commands.add_parser("createuser", help="create a member with a verified email")
    createuser.add_argument("--email", required=True)
    createuser.add_argument("--password", help="leave out to log in only by emailed code")
    createuser.add_argument("--name", help="display name (a pseudonym is fine; default Member)")
    createuser.set_defaults(handler=cmd_createuser)

    token = commands.add_parser("token", help="print a new personal API token for a member")
    token.add_argument("--email", required=True)
    token.add_argument("--name", help="what the token is for (default Command line)")
    token.set_defaults(handler=cmd_token)

    # Parsed by Django itself (see main), listed here for --help.
    commands.add_parser("manage", help="run a Django management command, e.g. migrate")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["manage"]:
        _setup_django()
        return _manage(arguments[1:])
    args = _parser().parse_args(arguments)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
