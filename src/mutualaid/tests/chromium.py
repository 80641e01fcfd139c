"""Debian's Chromium driven by Playwright, for the tests marked `browser`: how it is started,
and where pictures of pages go (test-results/, kept by CI when a test fails)."""

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.db import connections

CHROMIUM = "/usr/bin/chromium"
# Headless in a container: no sandbox, no GPU, and nothing that phones home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path("test-results")


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium, closed afterwards. Skips the test where Chromium is not installed,
    and fails it on CI, which installs it."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs Debian's chromium.")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls here are safe.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            close_database_connections()
            browser.close()


def close_database_connections() -> None:
    """While Playwright's loop runs, Django keeps the test's database connections per context
    rather than per thread; close the ones opened, or the test database could not be dropped
    on PostgreSQL."""
    connections.close_all()


def screenshot(page: Any, name: str) -> Path:
    """A picture of the whole page, as test-results/<name>.png."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name.replace(' ', '-').replace('/', '-')}.png"
    page.screenshot(path=path, full_page=True)
    return path


def found_in_mail_to(address: str, pattern: str, timeout: float = 10) -> re.Match[str]:
    """The first match of `pattern` in the newest email to `address`, waiting for the task
    that delivers mail to send it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in reversed(mail.outbox):
            if address in message.to:
                found = re.search(pattern, message.body)
                assert found, message.body
                return found
        time.sleep(0.1)
    raise AssertionError(f"No email reached {address}; outbox: {[m.to for m in mail.outbox]}")
