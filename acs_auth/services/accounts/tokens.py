"""Emailed tokens: itsdangerous, one salt per purpose, bound to the account's password state.

Binding a fingerprint of the current password hash means a token dies as soon as it is used
(the hash changes) and whenever the password changes for any other reason; binding the email
key means a link mailed to an old address dies when an administrator changes the address; a
reset token can never be replayed as a setup or registration token because the salts differ.
A registration token names an allowlist entry and dies once an account exists for it.
"""

from __future__ import annotations

import enum

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer

from acs_auth import key_rotation
from acs_auth.models import AllowlistEntry, User
from acs_auth.services.accounts.passwords import fingerprint

# Far longer than any token this module issues (about 120 characters); anything longer is
# refused before any decoding work is done.
MAX_TOKEN_LENGTH = 512


class Purpose(enum.StrEnum):
    """What an emailed link may be used for; each purpose signs with its own salt."""

    REGISTER = "register"
    RESET = "reset"
    SETUP = "setup"


_HOURS_SETTING = {
    Purpose.REGISTER: "REGISTRATION_TOKEN_HOURS",
    Purpose.RESET: "RESET_TOKEN_HOURS",
    Purpose.SETUP: "SETUP_TOKEN_HOURS",
}


def _serializer(purpose: Purpose) -> URLSafeTimedSerializer:
    # Signs with SECRET_KEY, verifies with it and every SECRET_KEY_FALLBACKS key (rotation).
    return URLSafeTimedSerializer(key_rotation.signing_keys(), salt=f"acs-auth.{purpose}")


def max_age(purpose: Purpose) -> int:
    """How long a token for ``purpose`` lives, in seconds."""
    return int(float(current_app.config[_HOURS_SETTING[purpose]]) * 3600)


def _state(user: User, key: str | None = None) -> str:
    """What a user token is bound to: the address it was mailed to and the password state."""
    return fingerprint(f"{user.email_key}\n{user.password_hash or '<none>'}", key)


def for_user(purpose: Purpose, user: User) -> str:
    """A reset or setup token for ``user``, valid until used or until the password changes."""
    if purpose is Purpose.REGISTER:
        raise ValueError("registration tokens are issued for allowlist entries")
    return _serializer(purpose).dumps({"u": user.id, "f": _state(user)})


def for_entry(entry: AllowlistEntry) -> str:
    """A registration token for an allowlist entry; it dies once an account exists for it."""
    return _serializer(Purpose.REGISTER).dumps({"e": entry.email_key})


def load(purpose: Purpose, token: str) -> dict | None:
    """The payload of a well-signed, unexpired ``token`` for ``purpose``, or None."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age(purpose))
    except BadData:  # bad signature, expired, or a payload that does not decode
        return None
    return payload if isinstance(payload, dict) else None


def matches_user(payload: dict, user: User | None) -> bool:
    """True when a user token's payload still matches ``user``'s address and password state."""
    return (
        user is not None
        and payload.get("u") == user.id
        and isinstance(payload.get("f"), str)
        and any(payload["f"] == _state(user, key) for key in key_rotation.signing_keys())
    )
