"""The scale-out configuration (REDIS_URL set) works against a real Redis: cache, queue, worker."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from django.core.cache import caches

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


def test_redis_cache_stores_and_expires_values(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_TEST_URL,
            "KEY_PREFIX": "mutualaid-test",
        }
    }
    cache = caches["default"]
    cache.set("greeting", {"text": "hello"}, timeout=30)

    assert cache.get("greeting") == {"text": "hello"}
    assert redis.Redis.from_url(REDIS_TEST_URL).ttl("mutualaid-test:1:greeting") > 0
    cache.delete("greeting")


def _django(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (fixed arguments)
        [sys.executable, "-m", "django", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.django_db
def test_mail_queued_in_redis_is_delivered_by_the_rq_worker(tmp_path: Path):
    connection = redis.Redis.from_url(REDIS_TEST_URL)
    connection.flushdb()
    outbox = tmp_path / "outbox"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mutualaid.settings",
        "MUTUALAID_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'scale.sqlite3'}",
        "REDIS_URL": REDIS_TEST_URL,
        "EMAIL_URL": f"file:///{outbox}",  # four slashes: an absolute path
    }
    assert _django(["migrate", "-v0"], env).returncode == 0

    queued = _django(
        [
            "shell",
            "-c",
            "from django.core.mail import send_mail; "
            "send_mail('Your code', 'Code 424242', None, ['someone@example.org'])",
        ],
        env,
    )
    assert queued.returncode == 0, queued.stderr
    assert not outbox.exists() or not any(outbox.iterdir())
    assert connection.llen("rq:queue:default") == 1

    worked = _django(["rqworker", "default", "--burst", "--job-class", "django_tasks_rq.Job"], env)

    assert worked.returncode == 0, worked.stderr
    (delivered,) = outbox.iterdir()
    text = delivered.read_text()
    assert "Code 424242" in text
    assert "To: someone@example.org" in text
    connection.flushdb()
