"""Emailed tokens: itsdangerous, one salt per purpose, bound to the account's password state.

Binding the fingerprint of the current password hash means a token dies as soon as it is used
(the hash changes), whenever the password changes for any other reason, and a reset token can
never be replayed as a setup or registration token because the salts differ.
"""

from __future__ import annotations

import enum

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from acs_auth.models import AllowlistEntry, User
from acs_auth.services.passwords import fingerprint


class Purpose(enum.StrEnum):
    REGISTER = "register"
    RESET = "reset"
    SETUP = "setup"


_HOURS_SETTING = {
    Purpose.REGISTER: "REGISTRATION_TOKEN_HOURS",
    Purpose.RESET: "RESET_TOKEN_HOURS",
    Purpose.SETUP: "SETUP_TOKEN_HOURS",
}


def _serializer(purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"acs-auth.{purpose}")


def max_age(purpose: Purpose) -> int:
    """How long a token for ``purpose`` lives, in seconds."""
    return int(current_app.config[_HOURS_SETTING[purpose]]) * 3600


def for_user(purpose: Purpose, user: User) -> str:
    """A reset or setup token for ``user``, valid until used or until the password changes."""
    return _serializer(purpose).dumps({"u": user.id, "f": fingerprint(user.password_hash)})


def for_entry(entry: AllowlistEntry) -> str:
    """A registration token for an allowlist entry; it dies once an account exists for it."""
    return _serializer(Purpose.REGISTER).dumps({"e": entry.email_key})


def load(purpose: Purpose, token: str) -> dict | None:
    """The payload of a well-signed, unexpired ``token`` for ``purpose``, or None."""
    if not token or len(token) > 1024:
        return None
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age(purpose))
    except BadSignature:  # also covers SignatureExpired
        return None
    return payload if isinstance(payload, dict) else None


def matches_user(payload: dict, user: User | None) -> bool:
    """True when a user token's payload still matches ``user``'s current password state."""
    return (
        user is not None
        and payload.get("u") == user.id
        and payload.get("f") == fingerprint(user.password_hash)
    )
