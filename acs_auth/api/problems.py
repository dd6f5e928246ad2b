"""RFC 9457 problem details for every error under /api."""

from __future__ import annotations

import time

from flask import jsonify
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from acs_auth import messages
from acs_auth.extensions import limiter

PROBLEM_MIMETYPE = "application/problem+json"
# Retry-After when the limiter cannot say when the window resets.
DEFAULT_RETRY_AFTER = 60
# Details shown instead of what Werkzeug or Flask-Limiter would say (which can name internals
# such as the limit string or the parser's error).
DETAILS = {
    404: messages.API_NOT_FOUND,
    405: messages.API_METHOD_NOT_ALLOWED,
    413: messages.TOO_LARGE,
    429: messages.RATE_LIMITED,
}


def problem(status: int, title: str | None = None, detail: str | None = None, **extra):
    """A problem+json response with ``status``; the title is the status phrase (about:blank)."""
    body = {
        "type": "about:blank",
        "title": title or HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_MIMETYPE
    return response


def unauthorized(detail: str = messages.API_AUTH_REQUIRED, token_given: bool = False):
    """401 with the WWW-Authenticate challenge of RFC 6750."""
    response = problem(401, detail=detail)
    challenge = 'Bearer realm="api"'
    if token_given:
        challenge += ', error="invalid_token"'
    response.headers["WWW-Authenticate"] = challenge
    return response


def validation_failed(errors: dict[str, list[str]]):
    """422 with the errors of each field."""
    return problem(422, detail=messages.API_VALIDATION_FAILED, errors=errors)


def _retry_after() -> int:
    try:
        current = limiter.current_limit
        if current is not None:
            return max(int(current.reset_at - time.time()), 1)
    except Exception:  # storage unreachable: fall back to a fixed pause
        return DEFAULT_RETRY_AFTER
    return DEFAULT_RETRY_AFTER


def from_http_exception(exc: HTTPException):
    """Turn any HTTPException into a problem response, keeping Retry-After and Allow."""
    code = exc.code or 500
    if code >= 500:  # never an exception text: it could name internals
        detail = messages.UNAVAILABLE if code == 503 else messages.SERVER_ERROR
    else:
        detail = DETAILS.get(code, exc.description)
    response = problem(code, detail=detail)
    if code == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    if code == 429:
        response.headers["Retry-After"] = str(_retry_after())
    if code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response
