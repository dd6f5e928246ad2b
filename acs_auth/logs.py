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
from urllib.parse import unquote_plus

from flask import Flask, g, has_request_context
from flask.logging import default_handler

from acs_auth.security import NO_REFERRER_PREFIXES, URL_CREDENTIALS
from config import ConfigurationError

LOGGER = "acs_auth"
REDACTED = "[redacted]"
# Parameter names whose values never reach a log line, compared after percent-decoding,
# lower-casing and "-" -> "_" (so "access%5Ftoken", "%70assword" and "X-API-Key" all match):
# the names the API refuses in a URL, plus any name containing one of these words.
_CREDENTIAL_NAMES = URL_CREDENTIALS | {"x_api_key", "authorization", "auth", "pass", "pwd"}
_CREDENTIAL_WORDS = (
    "password",
    "passwd",
    "token",
    "secret",
    "api_key",
    "apikey",
    "jwt",
    "authoriz",
)
# Values that are credentials wherever they appear: API keys and JWTs (three base64url
# segments, the first a JSON header starting with '{"', i.e. "eyJ").
_B64 = "[A-Za-z0-9_-]*"
_SECRET_VALUE = re.compile(rf"acsk_[A-Za-z0-9_-]{{4,}}|eyJ{_B64}\.{_B64}\.{_B64}")
_PATH = re.compile(r"(?:/[^/?#\s\"]*)+")
_PAIR = re.compile(r"(^|[?&;])([^=&;?#\s\"]+)=([^&;#\s\"]*)")
_PIECE = re.compile(r"[^/?&;=#\s\"',]+")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s rid=%(request_id)s %(message)s"


def _decoded(text: str) -> str:
    """``text`` percent-decoded twice ("%2570" -> "%70" -> "p"), as a server may decode it."""
    if "%" not in text and "+" not in text:
        return text
    return unquote_plus(unquote_plus(text))


def _is_credential_name(name: str) -> bool:
    key = _decoded(name).strip().lower().replace("-", "_")
    return key in _CREDENTIAL_NAMES or any(word in key for word in _CREDENTIAL_WORDS)


def _redact_path(match: re.Match) -> str:
    # The emailed-link pages carry a token as the segment after their prefix; the prefix is
    # compared decoded, since "/reset%2Dpassword/<token>" reaches the same page.
    raw = match.group(0).split("/")
    decoded = [_decoded(segment) for segment in raw]
    depth = max(prefix.count("/") for prefix in NO_REFERRER_PREFIXES)
    for i in range(1, len(raw)):
        before = "/".join(decoded[max(i - depth, 0) : i]) + "/"  # enough to hold any prefix
        if raw[i] and any(before.endswith(prefix) for prefix in NO_REFERRER_PREFIXES):
            raw[i] = REDACTED
    return "/".join(raw)


def _redact_pair(match: re.Match) -> str:
    lead, name, _ = match.groups()
    return f"{lead}{name}={REDACTED}" if _is_credential_name(name) else match.group(0)


def _redact_piece(match: re.Match) -> str:
    piece = match.group(0)
    return REDACTED if _SECRET_VALUE.search(_decoded(piece)) else piece


def redact(value: str) -> str:
    """``value`` (a path, query, request line or referrer) without tokens, keys or passwords.

    Removes the token of an emailed-link path, the value of any credential-named parameter
    (however its name is percent-encoded) and any piece that decodes to an API key or a JWT.
    """
    value = _PATH.sub(_redact_path, value)
    value = _PAIR.sub(_redact_pair, value)
    return _PIECE.sub(_redact_piece, value)


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
