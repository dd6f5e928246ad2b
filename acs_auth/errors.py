"""Error pages for the browser, RFC 9457 problem JSON under /api; never a stack trace."""

from __future__ import annotations

import logging
import time
from html import escape

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from limits.errors import StorageError
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from acs_auth import kept_forms, messages
from acs_auth.api.problems import from_http_exception
from acs_auth.extensions import db, limiter
from acs_auth.logs import redact

log = logging.getLogger(__name__)

PAGE_MESSAGES = {
    400: messages.BAD_REQUEST,
    403: messages.FORBIDDEN,
    404: messages.NOT_FOUND,
    405: messages.METHOD_NOT_ALLOWED,
    413: messages.TOO_LARGE,
    429: messages.RATE_LIMITED,
    500: messages.SERVER_ERROR,
    503: messages.UNAVAILABLE,
}
# Response headers an error must keep: what methods are allowed, and when to come back.
KEPT_HEADERS = ("Allow", "Retry-After")


def _is_api() -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


def _message(exc: HTTPException, code: int) -> str:
    """A view may abort with its own message (abort(403, messages.X)); otherwise the default.

    A rate limit keeps the fixed message: its description would reveal the configured limits.
    """
    if code < 500 and code != 429 and exc.description and exc.description != type(exc).description:
        return exc.description
    return PAGE_MESSAGES.get(code, exc.description if code < 500 else messages.SERVER_ERROR)


def _retry_after(exc: HTTPException) -> str | None:
    """Seconds until a rate limit lets the client in again (Flask-Limiter refines it later)."""
    seconds = getattr(exc, "retry_after", None)
    limit = getattr(getattr(exc, "limit", None), "limit", None)
    if seconds is None and limit is not None:
        seconds = limit.get_expiry()
    # Flask-Limiter's header names the later of this and its own window's reset; so does the page.
    current = limiter.current_limit if limiter.enabled else None
    if current is not None:
        seconds = max(seconds or 0, current.reset_at - time.time())
    return str(int(seconds)) if seconds else None


def _headers(exc: HTTPException, code: int) -> dict:
    kept = {k: v for k, v in exc.get_headers() if k in KEPT_HEADERS}
    if code == 429 and "Retry-After" not in kept:
        retry = _retry_after(exc)
        if retry:
            kept["Retry-After"] = retry
    return kept


def _page(code: int, title: str, message: str, back: str | None = None):
    """The error page; ``back`` links to the form whose typed values were kept."""
    try:
        return render_template(
            "errors/error.html",
            code=code,
            title=title,
            message=message,
            back=back,
            back_label=messages.KEPT_FORM_BACK,
        )
    except Exception:
        # The page itself failed (the database is down and the layout asks who is signed in):
        # answer with a bare page rather than a second, unhandled error.
        log.exception("error page %s could not be rendered", code)
        db.session.rollback()
        return f"<!doctype html><title>{code}</title><h1>{code}</h1><p>{escape(message)}</p>"


def render_error(exc: HTTPException):
    """One response for any HTTP error: problem JSON for the API, a friendly page otherwise."""
    if _is_api():
        return from_http_exception(exc)
    code = exc.code or 500
    headers, message, back = _headers(exc, code), _message(exc, code), None
    if code == 429:
        if str(headers.get("Retry-After", "")).isdigit():  # seconds, not an HTTP date
            wait = kept_forms.wait_phrase(int(headers["Retry-After"]))
            message = messages.RATE_LIMITED_WAIT.format(wait=wait)
        back = kept_forms.keep_typed()
    return _page(code, exc.name, message, back), code, headers


def init_app(app: Flask) -> None:
    """Register the handlers for HTTP errors, CSRF failures, database outages and the rest."""

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return render_error(exc)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        exc.description = messages.CSRF_FAILED
        if _is_api():
            return render_error(exc)
        return _page(400, "Bad Request", messages.CSRF_FAILED, kept_forms.keep_typed()), 400

    @app.errorhandler(OperationalError)
    def _database_down(exc: OperationalError):
        # A lost database connection is an outage, not a bug: answer 503 and let the pool's
        # pre-ping reconnect once the server is back.
        log.error("database unavailable: %s", exc.orig if hasattr(exc, "orig") else exc)
        db.session.rollback()
        return render_error(ServiceUnavailable())

    @app.errorhandler(StorageError)
    @app.errorhandler(RedisError)
    def _limits_down(exc: Exception):
        # The rate-limit store is unreachable: fail closed. Answering without counting would
        # hand an attacker unlimited guesses exactly when the limiter is blind.
        log.error("rate-limit storage unavailable: %s", exc)
        db.session.rollback()
        return render_error(ServiceUnavailable())

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, redact(request.full_path))
        db.session.rollback()
        return render_error(InternalServerError())
