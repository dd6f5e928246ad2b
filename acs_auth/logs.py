"""The application's log lines, each carrying the id of the request that wrote it.

``LOG_FORMAT=json`` (the production default) writes one JSON object per line, in the same shape
as gunicorn's access log of ``gunicorn.conf.py``; ``text`` is for a terminal. Either way the
``request_id`` is the one sent back in ``X-Request-ID`` and stored in the audit rows, so an
access line, the application's lines and the audit trail of one request can be joined.

A deployment that configures the ``acs_auth`` logger itself (``logging.config`` before the app
is created) keeps its own handlers.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

from flask import Flask, g, has_request_context
from flask.logging import default_handler

from acs_auth.security import NO_REFERRER_PREFIXES, URL_CREDENTIALS
from config import ConfigurationError

LOGGER = "acs_auth"
_TOKEN_PATH = re.compile("(" + "|".join(map(re.escape, NO_REFERRER_PREFIXES)) + r")[^/?\s\"]+")
_CREDENTIAL_QUERY = re.compile(
    r"((?:^|[?&])(?:" + "|".join(map(re.escape, sorted(URL_CREDENTIALS))) + r")=)[^&\s\"]*",
    re.IGNORECASE,
)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s rid=%(request_id)s %(message)s"


def redact(value: str) -> str:
    """``value`` (a path, query, request line or referrer) without emailed tokens or keys."""
    return _CREDENTIAL_QUERY.sub(r"\1[redacted]", _TOKEN_PATH.sub(r"\1[redacted]", value))


class RequestIdFilter(logging.Filter):
    """Add ``record.request_id`` (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id") if has_request_context() else None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request_id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


FORMATS = {"json": JsonFormatter, "text": lambda: logging.Formatter(TEXT_FORMAT)}


def init_app(app: Flask) -> None:
    """Give the ``acs_auth`` logger one stderr handler in the configured format (once)."""
    log_format = str(app.config["LOG_FORMAT"]).lower()
    if log_format not in FORMATS:
        raise ConfigurationError(f"LOG_FORMAT must be json or text, not {log_format!r}")
    level = logging.getLevelName(str(app.config["LOG_LEVEL"]).upper())
    if not isinstance(level, int):
        given = app.config["LOG_LEVEL"]
        raise ConfigurationError(f"LOG_LEVEL must be a logging level, not {given!r}")
    logger = logging.getLogger(LOGGER)
    logger.removeHandler(default_handler)  # Flask's, added when app.logger is first used
    if logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(FORMATS[log_format]())
    logger.addHandler(handler)
    logger.setLevel(level)
