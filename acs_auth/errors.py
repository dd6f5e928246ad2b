"""Error pages for the browser, RFC 9457 problem JSON under /api; never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from acs_auth import messages
from acs_auth.extensions import db

log = logging.getLogger(__name__)

PAGE_MESSAGES = {
    400: messages.BAD_REQUEST,
    403: messages.FORBIDDEN,
    404: messages.NOT_FOUND,
    413: messages.TOO_LARGE,
    429: messages.RATE_LIMITED,
    500: messages.SERVER_ERROR,
    503: messages.UNAVAILABLE,
}


def _is_api() -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


def render_error(exc: HTTPException):
    """One response for any HTTP error: problem JSON for the API, a friendly page otherwise."""
    if _is_api():
        from acs_auth.api.problems import from_http_exception

        return from_http_exception(exc)
    code = exc.code or 500
    message = PAGE_MESSAGES.get(code, exc.description if code < 500 else messages.SERVER_ERROR)
    response = render_template("errors/error.html", code=code, title=exc.name, message=message)
    headers = {}
    if code == 429 and getattr(exc, "retry_after", None):
        headers["Retry-After"] = str(exc.retry_after)
    return response, code, headers


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
        return render_template(
            "errors/error.html", code=400, title="Bad Request", message=messages.CSRF_FAILED
        ), 400

    @app.errorhandler(OperationalError)
    def _database_down(exc: OperationalError):
        # A lost database connection is an outage, not a bug: answer 503 and let the pool's
        # pre-ping reconnect once the server is back.
        log.error("database unavailable: %s", exc.orig if hasattr(exc, "orig") else exc)
        db.session.rollback()
        return render_error(ServiceUnavailable())

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return render_error(InternalServerError())
