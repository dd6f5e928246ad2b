"""RFC 9457 problem details for every error under /api."""

from __future__ import annotations

from flask import jsonify
from werkzeug.exceptions import HTTPException


def problem(status: int, title: str, detail: str | None = None, **extra):
    """A problem+json response with ``status``."""
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def from_http_exception(exc: HTTPException):
    """Turn any HTTPException into a problem response, keeping Retry-After and Allow."""
    code = exc.code or 500
    detail = exc.description if code < 500 else None
    response = problem(code, exc.name, detail)
    if code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response
