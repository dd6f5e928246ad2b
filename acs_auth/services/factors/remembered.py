"""Remembered browsers: "remember this browser" lets one browser skip the second sign-in step.

A person who passed the second step may tick "remember this browser" (``MFA_REMEMBER_DAYS``,
0 turns it off). That adds a row (listed and revocable on /account) and sets a signed,
HttpOnly, SameSite=Lax cookie (Secure with a ``__Host-`` name in production) naming the row,
the account and a digest of the account's factor stamp. The cookie counts only while all of
them still agree: the same account is signing in, the row is neither revoked nor expired, and
the stamp is unchanged, so a password change or reset, or any change to the factors, voids
every remembered browser of the account at once. It only ever stands in for the second step
of a browser sign-in: the password is always asked, and the API never reads it.

May import models, the factor state (``factor_stamp``) and the audit service; nothing above.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import Response, current_app, has_request_context, request
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import select, update

from acs_auth import key_rotation
from acs_auth.extensions import db
from acs_auth.models import RememberedBrowser, User, utcnow
from acs_auth.services import audit, factors
from acs_auth.services.signin import sessions

SALT = "acs-auth.remembered-browser"
# A cookie value far longer than any this module writes is refused before decoding.
MAX_COOKIE_LENGTH = 512


def days() -> int:
    """How long a browser is remembered; 0 means the feature is off."""
    return max(int(current_app.config.get("MFA_REMEMBER_DAYS") or 0), 0)


def enabled() -> bool:
    """Whether the second-step page offers "remember this browser"."""
    return days() > 0


def cookie_name() -> str:
    return current_app.config["MFA_REMEMBER_COOKIE_NAME"]


def _serializer() -> URLSafeTimedSerializer:
    # Signs with SECRET_KEY and verifies with its fallbacks too, like the emailed links.
    return URLSafeTimedSerializer(key_rotation.signing_keys(), salt=SALT)


def _stamp_digest(user: User) -> str:
    """A digest of ``factor_stamp(user)``: stored and put in the cookie instead of the stamp."""
    return hashlib.sha256(factors.factor_stamp(user).encode()).hexdigest()


def remember(user: User) -> str:
    """Remember the current browser for ``user`` (one commit); returns the cookie value.

    Called by the second step once it succeeded and the person ticked the box; the view sets
    the cookie with ``set_cookie``. A row this browser already held for the account is
    replaced, so one browser is listed once.
    """
    now = utcnow()
    if has_request_context():
        earlier = recognised(user, request.cookies.get(cookie_name()))
        if earlier is not None:
            earlier.revoked_at = now
    agent = request.user_agent.string if has_request_context() else None
    row = RememberedBrowser(
        public_id=secrets.token_urlsafe(24),
        user_id=user.id,
        label=sessions.describe_device(agent)[:100],
        ip=request.remote_addr if has_request_context() else None,
        stamp=_stamp_digest(user),
        created_at=now,
        expires_at=now + timedelta(days=days()),
    )
    db.session.add(row)
    audit.record("mfa.browser_remembered", actor=user, target=user, device=row.label)
    value = _serializer().dumps({"u": user.id, "b": row.public_id, "s": row.stamp})
    db.session.commit()
    return value


def set_cookie(response: Response, value: str) -> Response:
    """Put the remembered-browser cookie on ``response`` for MFA_REMEMBER_DAYS."""
    cfg = current_app.config
    response.set_cookie(
        cookie_name(),
        value,
        max_age=days() * 86400,
        path="/",
        secure=bool(cfg["SESSION_COOKIE_SECURE"]),
        httponly=True,
        samesite="Lax",
    )
    return response


def _payload(value: str | None) -> dict | None:
    if not value or len(value) > MAX_COOKIE_LENGTH or not enabled():
        return None
    try:
        payload = _serializer().loads(value, max_age=days() * 86400)
    except BadData:
        return None
    if not isinstance(payload, dict) or not all(
        isinstance(payload.get(k), t) for k, t in (("u", int), ("b", str), ("s", str))
    ):
        return None
    return payload


def recognised(user: User, value: str | None) -> RememberedBrowser | None:
    """The live remembered browser that cookie ``value`` names for ``user``; else None.

    Refused: a bad signature, another account's cookie, a revoked or expired row, and any
    change of the factor stamp since the browser was remembered (password or factors).
    """
    payload = _payload(value)
    if payload is None or payload["u"] != user.id:
        return None
    row = db.session.scalar(
        select(RememberedBrowser).where(
            RememberedBrowser.public_id == payload["b"][:64],
            RememberedBrowser.user_id == user.id,
            RememberedBrowser.revoked_at.is_(None),
            RememberedBrowser.expires_at > utcnow(),
        )
    )
    current = _stamp_digest(user)
    if row is None or not (
        hmac.compare_digest(row.stamp, current) and hmac.compare_digest(payload["s"], current)
    ):
        return None
    return row


def skips_second_step(user: User) -> bool:
    """Whether this browser request carries a remembered-browser cookie valid for ``user``.

    Records the use on the row and in the audit log (no commit: the sign-in commits it).
    """
    if not has_request_context() or request.path.startswith("/api/"):
        return False  # the API never reads cookies
    row = recognised(user, request.cookies.get(cookie_name()))
    if row is None:
        return False
    row.last_used_at = utcnow()
    audit.record("mfa.remembered_browser_used", actor=user, target=user, device=row.label)
    return True


def list_live(user: User) -> list[RememberedBrowser]:
    """The browsers that still skip the second step for ``user``, newest first."""
    rows = db.session.scalars(
        select(RememberedBrowser)
        .where(
            RememberedBrowser.user_id == user.id,
            RememberedBrowser.revoked_at.is_(None),
            RememberedBrowser.expires_at > utcnow(),
        )
        .order_by(RememberedBrowser.created_at.desc(), RememberedBrowser.id.desc())
    ).all()
    current = _stamp_digest(user) if rows else ""
    return [row for row in rows if hmac.compare_digest(row.stamp, current)]


def revoke(user: User, public_id: str) -> bool:
    """Forget one of ``user``'s remembered browsers (one commit); another's answers False."""
    row = db.session.scalar(
        select(RememberedBrowser).where(
            RememberedBrowser.user_id == user.id,
            RememberedBrowser.public_id == (public_id or "")[:64],
            RememberedBrowser.revoked_at.is_(None),
        )
    )
    if row is None:
        return False
    row.revoked_at = utcnow()
    audit.record("mfa.remembered_browser_revoked", actor=user, target=user, device=row.label)
    db.session.commit()
    return True


def revoke_all(user: User) -> int:
    """Forget every remembered browser of ``user``; returns how many (no commit).

    Called by "sign out everywhere", a completed password reset and an admin's factor reset.
    """
    result = db.session.execute(
        update(RememberedBrowser)
        .where(RememberedBrowser.user_id == user.id, RememberedBrowser.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
