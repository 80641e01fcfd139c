import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import authenticate

from mutualaid import cli
from mutualaid.people.models import ApiToken, User
from mutualaid.people.services import api_token_authenticate, member_erase
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "a long and unusual passphrase"


def test_createuser_makes_a_member_with_a_verified_primary_address(capsys):
    # when
    code = cli.main(
        [
            "createuser",
            "--email",
            " Organiser@Example.org ",
            "--password",
            STRONG_PASSWORD,
            "--name",
            "Sunny Fox",
        ]
    )

    # then
    assert code == 0
    member = User.objects.get(email="organiser@example.org")
    assert member.display_name == "Sunny Fox"
    assert authenticate(email="organiser@example.org", password=STRONG_PASSWORD) == member
    address = EmailAddress.objects.get(user=member)
    assert (address.email, address.verified, address.primary) == (
        "organiser@example.org",
        True,
        True,
    )
    assert capsys.readouterr().out == (
        f"Created member #{member.pk} (Sunny Fox); they log in with the password given.\n"
    )


def test_createuser_without_password_leaves_login_by_code_only(capsys):
    # when
    code = cli.main(["createuser", "--email", "coder@example.org"])

    # then
    assert code == 0
    member = User.objects.get(email="coder@example.org")
    assert member.has_usable_password() is False
    assert member.display_name == "Member"
    assert "with a code sent by email" in capsys.readouterr().out


def test_createuser_refuses_a_taken_email_and_creates_nothing(capsys):
    # given
    UserFactory(email="taken@example.org")

    # when
    code = cli.main(["createuser", "--email", "TAKEN@example.org", "--password", STRONG_PASSWORD])

    # then
    assert code == 1
    assert capsys.readouterr().err == (
        "Error: A member with the email address “taken@example.org” already exists.\n"
    )
    assert User.objects.count() == 1
    assert EmailAddress.objects.count() == 1


def test_createuser_refuses_an_address_only_allauth_knows(capsys):
    # given: a second, unverified address of another member
    other = UserFactory()
    EmailAddress.objects.create(user=other, email="second@example.org", verified=False)

    # when
    code = cli.main(["createuser", "--email", "second@example.org"])

    # then
    assert code == 1
    assert "already exists" in capsys.readouterr().err
    assert User.objects.count() == 1


@pytest.mark.parametrize("email", ["not-an-email", "", "a@b", "<script>@example.org"])
def test_createuser_refuses_an_invalid_email(capsys, email):
    # when
    code = cli.main(["createuser", "--email", email, "--password", STRONG_PASSWORD])

    # then
    assert code == 1
    assert capsys.readouterr().err == f"Error: “{email}” is not a valid email address.\n"
    assert User.objects.count() == 0


def test_createuser_refuses_a_weak_password(capsys):
    # when
    code = cli.main(["createuser", "--email", "weak@example.org", "--password", "123"])

    # then
    assert code == 1
    assert capsys.readouterr().err.startswith("Error: The password is too weak: ")
    assert User.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Please choose a display name. A pseudonym is fine."),
        ("   ", "Please choose a display name. A pseudonym is fine."),
        ("x" * 61, "Your display name can be at most 60 characters long."),
        ("<b>Boss</b>", "Please use plain text: the characters < and > are not allowed."),
    ],
)
def test_createuser_refuses_a_bad_display_name(capsys, name, message):
    # when
    code = cli.main(["createuser", "--email", "name@example.org", "--name", name])

    # then
    assert code == 1
    assert capsys.readouterr().err == f"Error: {message}\n"
    assert User.objects.count() == 0


def test_token_prints_a_working_token_once(capsys):
    # given
    member = UserFactory(email="api@example.org")

    # when
    code = cli.main(["token", "--email", "API@example.org", "--name", "Spreadsheet sync"])

    # then
    assert code == 0
    raw = capsys.readouterr().out.strip()
    assert api_token_authenticate(raw_token=raw) == member
    token = ApiToken.objects.get(user=member)
    assert token.name == "Spreadsheet sync"
    assert raw not in (token.digest, token.prefix)


def test_token_without_a_name_is_named_for_the_command_line(capsys):
    # given
    member = UserFactory(email="script@example.org")

    # when
    code = cli.main(["token", "--email", "script@example.org"])

    # then
    assert code == 0
    assert ApiToken.objects.get(user=member).name == "Command line"


def _someone_else() -> None:
    UserFactory(email="known@example.org")


def _deactivated() -> None:
    UserFactory(email="sought@example.org", is_active=False)


def _erased() -> None:
    member_erase(member=UserFactory(email="sought@example.org"))


@pytest.mark.parametrize("given", [_someone_else, _deactivated, _erased])
def test_token_for_an_address_no_active_member_has_is_an_error(capsys, given):
    # given
    given()

    # when
    code = cli.main(["token", "--email", "sought@example.org"])

    # then
    assert code == 1
    assert capsys.readouterr().err == (
        "Error: No active member has the email address 'sought@example.org'.\n"
    )
    assert ApiToken.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_manage_passes_through_to_django_commands(capsys):
    # when: Django's own command runner closes connections afterwards, hence a real transaction
    code = cli.main(["manage", "createuser", "--email", "manage@example.org", "--name", "Red Kite"])

    # then
    assert code == 0
    assert User.objects.get(email="manage@example.org").display_name == "Red Kite"


@pytest.mark.django_db(transaction=True)
def test_manage_reports_a_command_error_with_exit_code_1(capsys):
    # given
    UserFactory(email="twice@example.org")

    # when
    code = cli.main(["manage", "createuser", "--email", "twice@example.org"])

    # then
    assert code == 1
    assert "already exists" in capsys.readouterr().err


def test_manage_reports_an_unknown_command(capsys):
    # when
    code = cli.main(["manage", "no_such_command"])

    # then
    assert code == 1
    assert "Unknown command: 'no_such_command'" in capsys.readouterr().err


def test_unknown_subcommand_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["frobnicate"])
    assert stop.value.code == 2


def test_workers_must_be_positive(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["serve", "--workers", "0"])
    assert stop.value.code == 2


class _Recorder:
    def __init__(self):
        self.calls = []

    def prepare(self):
        self.calls.append("prepare")

    def run_processes(self, commands, *, env=None, stop_timeout=cli.STOP_TIMEOUT_SECONDS):
        self.calls.append(("run", dict(commands), env))
        return 0


@pytest.fixture
def recorder(monkeypatch):
    recorder = _Recorder()
    monkeypatch.setattr(cli, "_prepare", recorder.prepare)
    monkeypatch.setattr(cli, "run_processes", recorder.run_processes)
    return recorder


def test_serve_prepares_then_runs_gunicorn_the_database_worker_and_the_scheduler(
    recorder, capsys, settings
):
    # when
    code = cli.main(["serve", "--host", "0.0.0.0", "--port", "8123", "--workers", "3"])

    # then
    assert code == 0
    assert recorder.calls[0] == "prepare"
    _, commands, env = recorder.calls[1]
    assert commands == {
        "web server": [
            sys.executable,
            "-m",
            "gunicorn",
            "mutualaid.wsgi:application",
            "--bind",
            "0.0.0.0:8123",
            "--workers",
            "3",
            "--graceful-timeout",
            "8",
            "--access-logfile",
            "-",
            "--logger-class",
            "mutualaid.common.redaction.AccessLogger",
            "--no-control-socket",
        ],
        "worker": [sys.executable, "-m", "django", "db_worker"],
        "scheduler": [sys.executable, "-m", "django", "run_schedule"],
    }
    assert env["DJANGO_SETTINGS_MODULE"] == "mutualaid.settings"
    assert env["MUTUALAID_DATA_DIR"] == str(settings.DATA_DIR)
    assert "Mutual Aid is starting at http://127.0.0.1:8123/" in capsys.readouterr().out


def test_serve_runs_the_rq_worker_when_redis_is_configured(recorder, settings):
    # given
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"

    # when
    cli.main(["serve"])

    # then
    _, commands, _ = recorder.calls[1]
    assert commands["worker"] == [
        sys.executable,
        "-m",
        "django",
        "rqworker",
        "default",
        "--job-class",
        "django_tasks_rq.Job",
    ]
    assert commands["web server"][5] == "127.0.0.1:8000"


def test_schedule_runs_only_the_scheduler(monkeypatch):
    # given
    managed = []
    monkeypatch.setattr(cli, "_manage", lambda argv: managed.append(list(argv)) or 0)

    # when
    code = cli.main(["schedule"])

    # then
    assert code == 0
    assert managed == [["run_schedule"]]


def test_serve_runs_the_scheduler_beside_the_rq_worker_too(recorder, settings):
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"

    cli.main(["serve"])

    _, commands, _ = recorder.calls[1]
    assert list(commands) == ["web server", "worker", "scheduler"]
    assert commands["scheduler"] == [sys.executable, "-m", "django", "run_schedule"]


def test_serve_binds_ipv6_addresses_in_brackets(recorder, capsys):
    cli.main(["serve", "--host", "::1", "--port", "9000"])

    _, commands, _ = recorder.calls[1]
    assert commands["web server"][5] == "[::1]:9000"
    assert "http://[::1]:9000/" in capsys.readouterr().out


def test_demo_loads_the_data_prints_the_login_and_serves(recorder, capsys):
    # when
    code = cli.main(["demo", "--port", "8001"])

    # then
    assert code == 0
    assert [call if call == "prepare" else call[0] for call in recorder.calls] == [
        "prepare",
        "run",
    ]
    assert User.objects.count() == 60
    out = capsys.readouterr().out
    assert "Log in at http://127.0.0.1:8001/accounts/login/ with" in out
    assert "email:    demo@mutualaid.example" in out
    assert "password: mutual-aid-demo" in out


# The process supervisor, with small Python programs standing in for gunicorn and the worker.

SLEEPER = "import time; time.sleep(30)"


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def _signal_self_after(seconds: float, signum: int) -> threading.Timer:
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signum))
    timer.start()
    return timer


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_run_processes_forwards_the_signal_and_exits_0(tmp_path: Path, signum):
    # given: children that note which signal reached them
    note = (
        "import signal, sys, time\n"
        "def stop(n, f):\n"
        "    open(sys.argv[1], 'w').write(str(n)); sys.exit(0)\n"
        "signal.signal(signal.SIGINT, stop); signal.signal(signal.SIGTERM, stop)\n"
        "open(sys.argv[1] + '.ready', 'w').close()\n"
        "time.sleep(30)\n"
    )
    outputs = [tmp_path / "web", tmp_path / "worker"]
    commands = {path.name: [*_python(note), str(path)] for path in outputs}
    watcher = threading.Thread(
        target=lambda: (
            _wait_for(*(Path(f"{path}.ready") for path in outputs)),
            os.kill(os.getpid(), signum),
        )
    )

    # when
    watcher.start()
    started = time.monotonic()
    code = cli.run_processes(commands)
    watcher.join()

    # then
    assert code == 0
    assert [path.read_text() for path in outputs] == [str(int(signum))] * 2
    assert time.monotonic() - started < 10


def _wait_for(*paths: Path, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not all(path.exists() for path in paths):
        if time.monotonic() > deadline:
            raise AssertionError(f"not ready: {paths}")
        time.sleep(0.05)


def test_run_processes_kills_a_child_that_ignores_the_signal():
    # given
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(30)"
    timer = _signal_self_after(0.5, signal.SIGTERM)

    # when
    started = time.monotonic()
    code = cli.run_processes({"stubborn": _python(stubborn)}, stop_timeout=0.5)
    timer.join()

    # then
    assert code == 0
    assert time.monotonic() - started < 5


def test_run_processes_stops_everything_when_one_child_fails(capsys):
    # when
    started = time.monotonic()
    code = cli.run_processes(
        {"web server": _python("import sys; sys.exit(3)"), "worker": _python(SLEEPER)}
    )

    # then: the sleeper was stopped long before its 30 seconds
    assert code == 3
    assert time.monotonic() - started < 5
    assert "the web server stopped (exit code 3); stopping the rest." in capsys.readouterr().err


def test_run_processes_restores_the_signal_handlers():
    # given
    before = signal.getsignal(signal.SIGTERM)

    # when
    cli.run_processes({"quick": _python("pass")})

    # then
    assert signal.getsignal(signal.SIGTERM) is before


# The real thing: `mutualaid serve` in a fresh data folder, as an operator starts it.


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _children(pid: int) -> list[int]:
    """Direct children of a process, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _scheduled_jobs(database: Path) -> set[str]:
    """The periodic jobs a scheduler has queued, read from the site's SQLite file."""
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)) as db:
            return {job for (job,) in db.execute("SELECT job FROM common_scheduledrun")}
    except sqlite3.OperationalError:  # the table is not there yet
        return set()


# A Redis database of its own, so no other test's worker takes this test's jobs.
REDIS_TEST_URL = os.environ.get("REDIS_SERVE_TEST_URL", "redis://127.0.0.1:6379/14")


def _redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.django_db(False)
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process tree from /proc")
@pytest.mark.parametrize("queue", ["database", "redis"])
def test_serve_runs_web_server_and_worker_and_stops_them_on_ctrl_c(tmp_path, queue):
    # given: a fresh data folder on SQLite, whatever database the test run itself uses, with
    # the task queue in the database or in Redis
    if queue == "redis" and not _redis_reachable():
        if os.environ.get("CI"):
            pytest.fail("Redis is not reachable on 127.0.0.1:6379")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["MUTUALAID_DATA_DIR"] = str(tmp_path / "data")
    if queue == "redis":
        env["REDIS_URL"] = REDIS_TEST_URL
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "serve.log").open("w+")
    server = subprocess.Popen(
        [sys.executable, "-m", "mutualaid.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        # when: it has started
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _, _ = _get(f"{base}/static/mutualaid/site.css")
                break
            except OSError:
                assert server.poll() is None, (tmp_path / "serve.log").read_text()
                assert time.monotonic() < deadline, "the server did not start in 60 s"
                time.sleep(0.2)

        # then: static files come compressed from WhiteNoise, under their hashed names
        status, headers, _ = _get(
            f"{base}/static/mutualaid/site.css", **{"Accept-Encoding": "gzip"}
        )
        assert (status, headers.get("Content-Encoding")) == (200, "gzip")
        status, _, page = _get(base + "/")
        assert status == 200
        hashed = re.search(rb'href="(/static/mutualaid/site\.[0-9a-f]{12}\.css)"', page)
        assert hashed, page[:500]
        status, headers, _ = _get(base + hashed.group(1).decode(), **{"Accept-Encoding": "gzip"})
        assert status == 200
        assert "immutable" in headers["Cache-Control"]

        # and: the worker delivers queued mail (EMAIL_URL defaults to the console)
        sent = subprocess.run(
            [sys.executable, "-m", "mutualaid.cli", "manage", "sendtestemail", "ops@example.org"],
            env=env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert sent.returncode == 0, sent.stderr
        deadline = time.monotonic() + 20
        while "To: ops@example.org" not in (tmp_path / "serve.log").read_text():
            assert time.monotonic() < deadline, "the worker did not deliver the email"
            time.sleep(0.2)

        # and: the scheduler queued the periodic jobs, which the worker ran
        deadline = time.monotonic() + 20
        while not _scheduled_jobs(tmp_path / "data" / "mutualaid.sqlite3") >= {
            "requests_mark_unmet",
            "deliveries_retry_failed",
        }:
            assert time.monotonic() < deadline, "the scheduler queued no periodic job"
            time.sleep(0.2)

        children = _children(server.pid)
        grandchildren = [pid for child in children for pid in _children(child)]
        assert len(children) == 3  # gunicorn's arbiter, the task worker and the scheduler
        assert len(grandchildren) == 1  # one gunicorn worker

        # when: Ctrl-C
        server.send_signal(signal.SIGINT)

        # then: everything stops cleanly
        assert server.wait(timeout=20) == 0
        time.sleep(0.5)
        assert [pid for pid in children + grandchildren if _alive(pid)] == []
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()
