"""Per-account and per-key API request budgets, announced in X-RateLimit-* headers.

Every authenticated /api request spends one request of its account's budget and, when it comes
with an API key, one of that key's budget (API_RATE_LIMIT_USER, or API_RATE_LIMIT_ADMIN for
administrators). The limits decorate each API view, so Flask-Limiter checks them when the
view is called: after the api blueprint has authenticated the caller, whose account and key
are the keys. Public endpoints (sign-in, the OpenAPI document) keep their own budgets only.
Flask-Limiter's headers (RATELIMIT_HEADERS_ENABLED) then report the budget of the request.
"""

from __future__ import annotations

from flask import Flask, g

from acs_auth.extensions import limiter
from acs_auth.services.signin.api_quota import ACCOUNT_SCOPE, KEY_SCOPE, key_subject, limit_for


def _principal():
    return g.get("api_principal")


def _caller_limit() -> str:
    principal = _principal()
    return limit_for(principal is not None and principal.caller.is_admin)


def _account() -> str:
    principal = _principal()
    return f"account:{principal.caller.id}" if principal else "anonymous"


def _key() -> str:
    principal = _principal()
    return key_subject(principal.key_id) if principal and principal.via_key else "none"


def _anonymous() -> bool:
    return _principal() is None


def _not_a_key() -> bool:
    principal = _principal()
    return principal is None or not principal.via_key


def init_app(app: Flask) -> None:
    """Put both budgets on every /api view (run after the api blueprint is registered)."""
    account_budget = limiter.shared_limit(
        _caller_limit, scope=ACCOUNT_SCOPE, key_func=_account, exempt_when=_anonymous
    )
    key_budget = limiter.shared_limit(
        _caller_limit, scope=KEY_SCOPE, key_func=_key, exempt_when=_not_a_key
    )
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith("api."):
            app.view_functions[endpoint] = key_budget(account_budget(view))
