"""Keeps secret link tokens out of logs.

A consult's link (``/manage/<token>``, ``/book/<token>``...) opens it to whoever holds it, so
request logs (Werkzeug's, gunicorn's) and the app's own error logs show ``[token]`` instead.
"""

from __future__ import annotations

import logging
import re

# A path segment after one of the link prefixes, long enough to be a token (not "hold").
_TOKEN_IN_PATH = re.compile(r"(/(?:manage|book|intake|calendar)/)[A-Za-z0-9_-]{20,}")
LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "clinic", "flask.app")


def redact(text: str) -> str:
    return _TOKEN_IN_PATH.sub(r"\1[token]", text)


class RedactLinkTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def install(app_logger: logging.Logger) -> None:
    """Add the filter to the request and error loggers (once each)."""
    for logger in {app_logger, *(logging.getLogger(name) for name in LOGGERS)}:
        if not any(isinstance(f, RedactLinkTokens) for f in logger.filters):
            logger.addFilter(RedactLinkTokens())
