"""SECRET_KEY rotation: the new key signs, the keys in SECRET_KEY_FALLBACKS still verify.

Everything signed with SECRET_KEY accepts the fallbacks until an operator drops them:
- the session cookie (Flask 3.1 reads ``SECRET_KEY_FALLBACKS`` itself),
- CSRF tokens (``WTF_CSRF_SECRET_KEY`` becomes the key list; itsdangerous signs with the last
  key and verifies with every one),
- emailed links and the password-state fingerprint they carry (acs_auth.services.accounts.tokens),
- the remember-me cookie (``RotatingLoginManager``): one signed with a fallback signs the
  browser in and is written again with the current key, for the rest of its server-side life.
The runbook is in docs/operations.md ("Rotating secrets").
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Flask, current_app, session
from flask_login import LoginManager
from flask_login.utils import decode_cookie, encode_cookie

from acs_auth.checks import MIN_SECRET_BYTES, UnsafeConfiguration, _weak

_SEPARATORS = re.compile(r"[\s,]+")


def parse_fallbacks(value) -> list[str]:
    """SECRET_KEY_FALLBACKS as a list: the environment gives "old1,old2" (comma or space)."""
    if not value:
        return []
    if isinstance(value, str):
        return [key for key in _SEPARATORS.split(value.strip()) if key]
    return [str(key) for key in value if key]


def init_app(app: Flask) -> None:
    """Normalise the fallbacks, hand them to CSRF, and refuse weak ones in production."""
    cfg = app.config
    cfg["SECRET_KEY_FALLBACKS"] = parse_fallbacks(cfg.get("SECRET_KEY_FALLBACKS"))
    if not cfg.get("WTF_CSRF_SECRET_KEY"):
        cfg["WTF_CSRF_SECRET_KEY"] = signing_keys(app)
    if cfg["ENV_NAME"] == "production":
        _refuse_weak_fallbacks(cfg)


def _refuse_weak_fallbacks(cfg) -> None:
    for key in cfg["SECRET_KEY_FALLBACKS"]:
        if _weak(key) or key == cfg.get("JWT_SECRET_KEY"):
            raise UnsafeConfiguration(
                "Refusing to start: every SECRET_KEY_FALLBACKS key must be at least "
                f"{MIN_SECRET_BYTES} random bytes and differ from JWT_SECRET_KEY"
            )


def signing_keys(app: Flask | None = None) -> list[str]:
    """Fallbacks first, the current SECRET_KEY last (the order itsdangerous expects)."""
    cfg = (app or current_app).config
    return [*parse_fallbacks(cfg.get("SECRET_KEY_FALLBACKS")), cfg["SECRET_KEY"]]


class RotatingLoginManager(LoginManager):
    """Flask-Login whose remember-me cookie verifies with SECRET_KEY or any fallback.

    Flask-Login 0.6.3 (pinned) checks the cookie's HMAC with SECRET_KEY only; this overrides
    its one loading method to try each key, newest first.
    """

    def _load_user_from_remember_cookie(self, cookie):
        keys = signing_keys()
        for key in reversed(keys):
            payload = decode_cookie(cookie, key=key)
            if payload is None:
                continue
            user = super()._load_user_from_remember_cookie(encode_cookie(payload, key=keys[-1]))
            if user is not None and key != keys[-1]:
                _rewrite_remember_cookie(user)
            return user
        return None


def _rewrite_remember_cookie(user) -> None:
    """Write the cookie again with the current key, for what is left of its server session."""
    row = getattr(user, "auth_session", None)
    if row is None or row.expires_at is None:
        return
    remaining = int((row.expires_at - datetime.now(UTC)).total_seconds())
    if remaining > 0:
        session["_remember"] = "set"
        session["_remember_seconds"] = remaining
