"""Rate-limit budgets, each keyed by the thing it protects.

Every limited endpoint spends two budgets when it is POSTed: one for its *subject* (the account
signing in, the address a link is mailed to, the account whose password is set, the API session
being refreshed) and a coarse one per client address. Each group of endpoints counts in scopes
of its own, so registration and reset requests never use up an account's sign-in budget, and a
NAT full of API clients refreshing their tokens never starves sign-in. The browser page and the
API endpoint of one action share its scopes.

Each endpoint names the one field its subject is read from (``form_field("email")``,
``json_field("refresh_token")``, the link in the path...): a field the endpoint does not define
is never read, so adding a made-up ``email`` to a request cannot move it to a fresh budget.
Subjects are stored hashed, never as typed. README.md, "Rate limits", lists the budgets.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, g, request, session
from flask_login import current_user
from sqlalchemy import select

from acs_auth.extensions import client_ip, db, limiter
from acs_auth.models import User
from acs_auth.services.accounts import tokens
from acs_auth.services.signin import authentication, jwt_tokens
from acs_auth.services.text.addresses import EMAIL_MAX, email_key

Reader = Callable[[], object]
Subject = Callable[[], str | None]


@dataclass(frozen=True)
class Budget:
    """A group of endpoints: its scope name and the settings holding its two limits."""

    name: str
    subject_setting: str
    ip_setting: str


SIGN_IN = Budget("sign-in", "RATELIMIT_PER_IDENTIFIER", "RATELIMIT_PER_IP")
LINK_REQUEST = Budget("link-request", "RATELIMIT_PER_IDENTIFIER", "RATELIMIT_PER_IP")
PASSWORD = Budget("password", "RATELIMIT_PASSWORD_PER_ACCOUNT", "RATELIMIT_PER_IP")
REFRESH = Budget("refresh", "RATELIMIT_REFRESH_PER_SESSION", "RATELIMIT_REFRESH_PER_IP")


def _digest(value: str) -> str:
    """A short, fixed-length stand-in for a typed value (any string, even a lone surrogate)."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


# --- where an endpoint's subject is read from ---------------------------------------------------


def form_field(name: str) -> Reader:
    """The form field ``name`` of a browser page."""
    return lambda: request.form.get(name)


def json_field(*names: str) -> Reader:
    """The first of ``names`` present in an API request's JSON object."""

    def read() -> object:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            for name in names:
                if name in body:
                    return body[name]
        return None

    return read


def path_value(name: str) -> Reader:
    """A value from the URL path, such as the token of an emailed link."""
    return lambda: (request.view_args or {}).get(name)


# --- subjects -----------------------------------------------------------------------------------


def account_named_by(read: Reader) -> Subject:
    """Sign-in: the account an email or username names, so both share its one budget.

    An identifier that names no account is keyed by its normalized self, so its spellings
    still share one budget.
    """

    def subject() -> str | None:
        value = read()
        if not isinstance(value, str) or not value.strip():
            return None
        account = authentication.account_id_for(value)
        return f"account:{account}" if account is not None else "name:" + _digest(email_key(value))

    return subject


def address_in(read: Reader) -> Subject:
    """Link requests: the normalized address the email would go to."""

    def subject() -> str | None:
        value = read()
        if not isinstance(value, str) or not value.strip():
            return None
        return "address:" + _digest(email_key(value))

    return subject


def reset_address_in(read: Reader) -> Subject:
    """Reset requests: the address the email would go to, also when a username names it.

    A username (never containing "@") counts against its account's address, so asking by
    username and by email, or on other link-request pages, spends one budget per mailbox.
    """

    def subject() -> str | None:
        value = read()
        if not isinstance(value, str) or not value.strip():
            return None
        key = email_key(value)
        if "@" not in key and len(key) <= EMAIL_MAX and key.isprintable():
            stored = db.session.scalar(select(User.email_key).where(User.username_key == key))
            key = stored or key
        return "address:" + _digest(key)

    return subject


def link_subject(purpose: tokens.Purpose, read: Reader) -> Subject:
    """Emailed-link pages: whom the link is for (the account, or the allowlist entry).

    Only a well-signed link names its subject: a forged one cannot spend someone else's budget.
    Anything else is keyed by itself; the per-address budget bounds how many of those come.
    """

    def subject() -> str | None:
        token = read()
        if not isinstance(token, str) or not token:
            return None
        payload = tokens.load(purpose, token) or {}
        if isinstance(payload.get("e"), str):
            return "entry:" + _digest(payload["e"])
        if type(payload.get("u")) is int:
            return f"account:{payload['u']}"
        return "link:" + _digest(token)

    return subject


def registration_in_session(state_key: str) -> Subject:
    """Registration step 2 without email: the allowlist entry named in the signed session."""

    def subject() -> str | None:
        state = session.get(state_key)
        key = state.get("key") if isinstance(state, dict) else None
        return "entry:" + _digest(key) if isinstance(key, str) else None

    return subject


def signed_in_account() -> str | None:
    """Change-password: the signed-in account (the API's caller, or the browser's user)."""
    principal = g.get("api_principal")
    if principal is not None:
        return f"account:{principal.caller.id}"
    if request.blueprint and request.blueprint.startswith("api"):
        return None  # the API never takes its caller from a cookie
    return f"account:{current_user.id}" if current_user.is_authenticated else None


def refresh_session(read: Reader) -> Subject:
    """Refresh: the API session of a well-signed refresh token, else the token itself."""

    def subject() -> str | None:
        token = read()
        if not isinstance(token, str) or not token:
            return None
        try:
            return "session:" + jwt_tokens.decode(token, jwt_tokens.REFRESH)["sid"]
        except jwt_tokens.InvalidToken:
            return "token:" + _digest(token)

    return subject


# --- applying a budget --------------------------------------------------------------------------


def _once_per_request(subject: Subject) -> Callable[[], str]:
    """The limiter's key function: ``subject`` worked out once per request, never empty.

    A request without a usable subject (a missing or non-text field) is keyed by its address
    inside the subject scope; it is refused by validation before any work is done.
    """

    def key() -> str:
        keys = g.setdefault("_ratelimit_subjects", {})
        if subject not in keys:
            keys[subject] = subject() or "ip:" + client_ip()
        return keys[subject]

    return key


def _setting(name: str) -> Callable[[], str]:
    """A limit read per request, so tests and deployments can change it."""
    return lambda: current_app.config[name]


def _not_post() -> bool:
    """Exempt everything but POST: showing a form costs nothing, submitting it is limited."""
    return request.method != "POST"


def limited(budget: Budget, subject: Subject):
    """Spend ``budget`` on every POST: once for ``subject``, once for the client address."""

    def decorate(view):
        view = limiter.shared_limit(
            _setting(budget.subject_setting),
            scope=budget.name,
            key_func=_once_per_request(subject),
            exempt_when=_not_post,
        )(view)
        view = limiter.shared_limit(
            _setting(budget.ip_setting),
            scope=budget.name + "-ip",
            key_func=client_ip,
            exempt_when=_not_post,
        )(view)
        view.rate_limited = True  # the API's document lists 429 for it
        return view

    return decorate


# The old name, for endpoints that check the signed-in person's password (minting a key...):
# the account's password budget. New endpoints name their budget and subject with limited().
sensitive = limited(PASSWORD, signed_in_account)
