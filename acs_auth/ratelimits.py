"""Rate-limit keys and the shared limits applied to sign-in, registration and reset endpoints."""

from __future__ import annotations

from flask import current_app, request

from acs_auth.services.emails import email_key


def client_ip() -> str:
    """The client address; ProxyFix has already applied the configured trusted hops."""
    return request.remote_addr or "unknown"


def identifier_key() -> str:
    """Key a limit by the account identifier sent (email or username), case-insensitively.

    Falls back to the client address when the request names no identifier, so the limit
    still applies to the request.
    """
    value = request.form.get("email") or request.form.get("login")
    if value is None and request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            value = body.get("email") or body.get("login") or body.get("username")
    if isinstance(value, str) and value.strip():
        return "id:" + email_key(value)[:320]
    return "ip:" + client_ip()


def per_ip_limit() -> str:
    """The per-address limit string, read per request so tests and deployments can change it."""
    return current_app.config["RATELIMIT_PER_IP"]


def per_identifier_limit() -> str:
    """The per-identifier limit string."""
    return current_app.config["RATELIMIT_PER_IDENTIFIER"]


def _not_post() -> bool:
    """Exempt everything but POST: showing a form costs nothing, submitting it is limited."""
    return request.method != "POST"


def sensitive(view):
    """Apply the per-IP and per-identifier limits to POSTs of a sign-in style endpoint.

    Both limits share named scopes ("auth-ip", "auth-id"), so the browser pages and the JSON
    API count against the same budget.
    """
    from acs_auth.extensions import limiter

    view = limiter.shared_limit(
        per_identifier_limit, scope="auth-id", key_func=identifier_key, exempt_when=_not_post
    )(view)
    return limiter.shared_limit(per_ip_limit, scope="auth-ip", exempt_when=_not_post)(view)
