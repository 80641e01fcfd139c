"""Test-wide settings: tasks run at once, mail goes to the outbox, static files need no build."""

from collections.abc import Iterator
from typing import Any

import pytest


def pytest_configure(config: Any) -> None:
    from django.conf import settings

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.WHITENOISE_AUTOREFRESH = True

    # SQLite's flush after a transactional test is DELETE FROM, which the ledger's triggers
    # refuse; this lets the flush drop and re-create them in its one transaction.
    from mutualaid.funds.triggers import install_sqlite_flush_workaround

    install_sqlite_flush_workaround()


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _no_volunteer_index_kept() -> Iterator[None]:
    """Each process keeps volunteer indexes between requests; a test starts and ends with
    none, so one test's members never show in another's."""
    from mutualaid.dispatch import volunteers

    volunteers.forget_all()
    yield
    volunteers.forget_all()


@pytest.fixture(autouse=True)
def _default_language_after_each_test() -> Iterator[None]:
    """A request in another language leaves it active in the thread; the next test starts in
    the default language whatever this one did."""
    from django.conf import settings
    from django.utils import translation

    yield
    translation.activate(settings.LANGUAGE_CODE)
