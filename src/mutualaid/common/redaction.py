"""Logs never keep the secrets some addresses carry: a requester's status link holds the key
to their request (/help/<reference>/<secret>/, or ?secret= in the API), and a proposal's link
lets its volunteer answer without logging in (/dispatch/proposals/<token>/)."""

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

SECRET_IN_PATH = re.compile(r"(/help/[^/?#\s]+/|/dispatch/proposals/)[^/?#\s]+")
SECRET_IN_QUERY = re.compile(r"((?:^|[?&])secret=)[^&#\s]*")
HIDDEN = "[hidden]"


def redact(text: str) -> str:
    return SECRET_IN_QUERY.sub(rf"\g<1>{HIDDEN}", SECRET_IN_PATH.sub(rf"\g<1>{HIDDEN}", text))


class RedactSecrets(logging.Filter):
    """For Django's loggers, which name the path of a refused or failed request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


class AccessLogger(Logger):
    """gunicorn's logger, with every value a log format can name redacted (the request line,
    path, query, referrer, headers and environment)."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()
        }
