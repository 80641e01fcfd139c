"""Status-link secrets never reach a log: not gunicorn's access log, not Django's."""

import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from mutualaid.common.redaction import AccessLogger, RedactSecrets, redact

SECRET = "MqcAhDzR9LaitaoeMPxQpxC08F3byUXE"


@pytest.mark.parametrize(
    ("logged", "kept"),
    [
        (f"/help/TCC-7RP/{SECRET}/", "/help/TCC-7RP/[hidden]/"),
        (f"/help/TCC-7RP/{SECRET}/cancel/", "/help/TCC-7RP/[hidden]/cancel/"),
        (
            f"POST /help/TCC-7RP/{SECRET}/messages/ HTTP/1.1",
            "POST /help/TCC-7RP/[hidden]/messages/ HTTP/1.1",
        ),
        (
            f"/api/requests/status/TCC-7RP?secret={SECRET}&x=1",
            "/api/requests/status/TCC-7RP?secret=[hidden]&x=1",
        ),
        (f"secret={SECRET}", "secret=[hidden]"),
        (
            "POST /dispatch/proposals/WzEsMiwzXQ:1vJ:abc/accept/ HTTP/1.1",
            "POST /dispatch/proposals/[hidden]/accept/ HTTP/1.1",
        ),
        ("/dispatch/groups/levenshulme/match-all/", "/dispatch/groups/levenshulme/match-all/"),
        ("/groups/levenshulme/ask/", "/groups/levenshulme/ask/"),
        ("/help/", "/help/"),
    ],
)
def test_redact_hides_the_secret_and_keeps_the_rest(logged, kept):
    assert redact(logged) == kept


def test_djangos_log_of_a_refused_status_page_carries_no_secret():
    # given: what django.request logs for a 404
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "%s: %s",
        ("Not Found", f"/help/A/{SECRET}/"),
        None,
    )

    # when
    RedactSecrets().filter(record)

    # then
    assert record.getMessage() == "Not Found: /help/A/[hidden]/"


def test_every_log_line_goes_through_the_filter(settings):
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["redact_secrets"]


def test_the_access_log_shows_the_request_without_the_secret():
    # given
    logger = AccessLogger(Config())
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/help/TCC-7RP/{SECRET}/",
        "PATH_INFO": f"/help/TCC-7RP/{SECRET}/",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"http://127.0.0.1:8000/help/TCC-7RP/{SECRET}/",
    }
    response = SimpleNamespace(status="200 OK", sent=100, headers=[])

    # when
    atoms = logger.atoms(response, SimpleNamespace(headers=[]), environ, timedelta(seconds=0))

    # then
    assert atoms["r"] == "GET /help/TCC-7RP/[hidden]/ HTTP/1.1"
    assert atoms["U"] == "/help/TCC-7RP/[hidden]/"
    assert atoms["f"] == "http://127.0.0.1:8000/help/TCC-7RP/[hidden]/"
    assert SECRET not in repr(atoms)
