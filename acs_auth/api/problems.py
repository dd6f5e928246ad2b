"""RFC 9457 problem details for every error under /api, each with a ``type`` naming its kind.

The type is ``<APP_URL>/api/problems/<kind>``; the URI opens a page that explains the kind and
what a client should do (acs_auth.api.reference), so a client can tell "refresh now"
(token-expired) from "sign in again" (token-revoked) without parsing headers or prose.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app, jsonify
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


@dataclass(frozen=True)
class Kind:
    """One kind of error: its status, title, and what a client should do about it."""

    slug: str
    status: int
    title: str
    explanation: str


KINDS = {
    kind.slug: kind
    for kind in (
        Kind(
            "bad-request",
            400,
            "Bad request",
            "The body is not valid JSON, or a credential "
            "was put in the URL (credentials are only read from headers). Fix the request.",
        ),
        Kind(
            "authentication-required",
            401,
            "Authentication required",
            "No credential was "
            "sent. Send `Authorization: Bearer <access token>` or `X-API-Key: <key>`.",
        ),
        Kind(
            "sign-in-failed",
            401,
            "Sign-in failed",
            "The email or username and password do "
            "not open an account. Every kind of failure (unknown account, wrong password, "
            "locked, deactivated, not yet set up) answers this same problem.",
        ),
        Kind(
            "token-expired",
            401,
            "Token expired",
            "The access token is past its lifetime. "
            "Refresh now: `POST /api/auth/refresh` with the refresh token, then repeat the "
            "request with the new access token.",
        ),
        Kind(
            "token-revoked",
            401,
            "Token revoked",
            "The session behind the token has ended "
            "(sign-out, a password change or reset, deactivation, an administrator's sign-out "
            "everywhere, or a rotated refresh token presented again). Sign in again; "
            "refreshing will not help.",
        ),
        Kind(
            "session-expired",
            401,
            "Session expired",
            "The refresh token is past its "
            "lifetime: the session reached its absolute end. Sign in again.",
        ),
        Kind(
            "invalid-token",
            401,
            "Invalid token",
            "The token or API key is malformed, "
            "forged, of the wrong type, or unknown (an API key that is revoked or expired "
            "answers this too). Sign in again, or use a valid key.",
        ),
        Kind(
            "mfa-required",
            401,
            "Second factor required",
            "The password was right and the "
            "account needs a second factor. The answer carries a short-lived, single-use "
            "`challenge`; send it with a code to `POST /api/auth/login/mfa` to receive the "
            "token pair. `methods` lists the codes accepted there (`totp`, `recovery_codes`); "
            "it is empty when the account's second factor is a passkey, which only a browser "
            "can use: such a person uses an API key.",
        ),
        Kind(
            "mfa-code-invalid",
            401,
            "Code not accepted",
            "The code of `POST /api/auth/login/mfa` is "
            "wrong, or was already used (each authenticator code works once, each recovery code "
            "once ever). The challenge stays usable until it expires: send the next code. Wrong "
            "codes count toward the account's lockout like wrong passwords.",
        ),
        Kind(
            "mfa-challenge-invalid",
            401,
            "Challenge not usable",
            "The challenge of `POST /api/auth/login/mfa` "
            "is unknown, used, expired (it lives 5 minutes), or its account changed its password "
            "or was locked meanwhile. Sign in again with the password.",
        ),
        Kind(
            "forbidden",
            403,
            "Forbidden",
            "The credential is valid but may not do this: the "
            "role, a read-only or non-admin key, a key where only an access token is "
            "accepted, or a program the account is not authorized for.",
        ),
        Kind(
            "mfa-enrolment-required",
            403,
            "Second factor enrolment required",
            "The account's role must have a second "
            "factor (MFA_REQUIRED_ROLES) and has none yet, so /api/admin is closed to it. Sign "
            "in to the portal in a browser, set one up on the account page, then call again.",
        ),
        Kind("not-found", 404, "Not found", "No such resource, or it belongs to someone else."),
        Kind(
            "method-not-allowed",
            405,
            "Method not allowed",
            "The path exists but not with "
            "this method; the Allow header lists the methods it takes.",
        ),
        Kind(
            "conflict",
            409,
            "Conflict",
            "The request conflicts with the current state (an "
            "address or username already taken, too many keys, an unconfirmed mass removal).",
        ),
        Kind(
            "too-large",
            413,
            "Request too large",
            "The body is larger than the limit (64 KiB for JSON; MAX_CONTENT_LENGTH for uploads).",
        ),
        Kind(
            "unsupported-media-type",
            415,
            "Unsupported media type",
            "Send the body as application/json (or text/csv / multipart for the uploads).",
        ),
        Kind(
            "validation-error",
            422,
            "Validation error",
            "Fields are missing, unknown, of the "
            "wrong type or invalid. `errors` maps each field to its messages; an unknown "
            "field's message names the fields the request accepts.",
        ),
        Kind(
            "rate-limited",
            429,
            "Too many requests",
            "A rate limit or the account's request "
            "budget is spent. Wait the number of seconds in Retry-After, then try again.",
        ),
        Kind(
            "server-error",
            500,
            "Server error",
            "An unexpected error on our side; the body never names internals. Try again later.",
        ),
        Kind(
            "unavailable",
            503,
            "Service unavailable",
            "The database or another dependency is unreachable for a moment. Try again shortly.",
        ),
    )
}
BY_STATUS = {}
for _kind in reversed(KINDS.values()):
    BY_STATUS[_kind.status] = _kind.slug


# What a refused credential means for the client (api_auth.Unauthenticated.kind,
# jwt_tokens.InvalidToken.kind): with an access token or key, and with a refresh token.
CREDENTIAL_KINDS = {
    "missing": "authentication-required",
    "expired": "token-expired",
    "ended": "token-revoked",
    "invalid": "invalid-token",
}
REFRESH_KINDS = {**CREDENTIAL_KINDS, "expired": "session-expired"}


def type_uri(slug: str) -> str:
    """The URI of a problem kind: a page under this portal's APP_URL."""
    return f"{current_app.config['APP_URL'].rstrip('/')}/api/problems/{slug}"


def problem(
    status: int, title: str | None = None, detail: str | None = None, *, kind=None, **extra
):
    """A problem+json response with ``status``; ``kind`` defaults to the status's usual one."""
    slug = kind or BY_STATUS.get(status)
    known = KINDS.get(slug)
    body = {
        "type": type_uri(slug) if known else "about:blank",
        "title": title or (known.title if known else HTTP_STATUS_CODES.get(status, "Error")),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_MIMETYPE
    return response


def unauthorized(
    detail: str = messages.API_AUTH_REQUIRED,
    token_given: bool = False,
    kind: str = "authentication-required",
):
    """401 with the WWW-Authenticate challenge of RFC 6750."""
    response = problem(401, detail=detail, kind=kind)
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
