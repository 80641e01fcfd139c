"""Fixtures for the whole-site tests that drive a real Chromium (see chromium.py)."""

from collections.abc import Generator, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from mutualaid.people.models import User
from mutualaid.tests.chromium import chromium, close_database_connections, screenshot

CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator:
    """Notes whether the test itself failed, so open_page can take pictures when it did."""
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def open_page(request: pytest.FixtureRequest, browser: Any, live_server: Any) -> Iterator[Any]:
    """open_page(user, **context options) -> a page in a fresh browser context, in British
    English unless `locale` says otherwise, logged in as `user` (None for a visitor) through the
    session cookie of a forced login. When the test fails, each page is saved as a picture."""
    pages: list[Any] = []

    def opener(user: User | None = None, **options: Any) -> Any:
        options.setdefault("locale", "en-GB")
        context = browser.new_context(**options)
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
            )
        page = context.new_page()
        page.set_default_timeout(10_000)
        pages.append(page)
        return page

    try:
        yield opener
    finally:
        close_database_connections()
        for number, page in enumerate(pages, start=1):
            if request.node.stash.get(CALL_FAILED, False):
                screenshot(page, f"{request.node.name}-{number}")
            page.context.close()
