"""Auth sessions: one row per sign-in, browser or API, checked on every authenticated request."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from blinker import Namespace
from flask import current_app, has_request_context, request
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import contains_eager

from acs_auth.extensions import db
from acs_auth.models import AuthSession, SessionKind, User, utcnow

# Sent inside the transaction that ends sessions (user_ids and session_ids), so
# listeners such as the OpenID Connect provider's back-channel logout commit with it.
sessions_ended = Namespace().signal("sessions-ended")

# last_used_at is refreshed at most this often, so a busy session does not write on every request.
TOUCH_INTERVAL = timedelta(minutes=1)

# (pattern, name) pairs tried in order; the first match names the browser or the platform.
_BROWSERS = (
    (r"Edg/", "Edge"),
    (r"OPR/|Opera", "Opera"),
    (r"Firefox/", "Firefox"),
    (r"Chrome/|CriOS/", "Chrome"),
    (r"Safari/", "Safari"),
    (r"curl/", "curl"),
    (r"python-requests|python-httpx|aiohttp", "Python"),
)
_PLATFORMS = (
    (r"iPhone|iPad", "iOS"),
    (r"Android", "Android"),
    (r"Windows", "Windows"),
    (r"Mac OS X|Macintosh", "macOS"),
    (r"CrOS", "ChromeOS"),
    (r"Linux", "Linux"),
)


def lifetime(kind: str, remember: bool) -> timedelta:
    """The absolute lifetime of a new session; rotation and activity never extend it."""
    cfg = current_app.config
    if kind == SessionKind.API:
        days = cfg["REMEMBER_ME_DAYS"] if remember else cfg["REFRESH_TOKEN_EXPIRE_DAYS"]
        return timedelta(days=days)
    if remember:
        return timedelta(days=cfg["REMEMBER_ME_DAYS"])
    return timedelta(hours=cfg["BROWSER_SESSION_HOURS"])


def open_session(user: User, kind: str, remember: bool = False, amr: str = "pwd") -> AuthSession:
    """Add a new session for ``user`` to the current transaction and attach it to the user.

    Only the sign-in seam (services.signin.seam) calls this: a session is a sign-in.
    """
    now = utcnow()
    row = AuthSession(
        public_id=secrets.token_urlsafe(24),
        user=user,
        kind=str(kind),
        remember=remember,
        amr=amr,
        created_at=now,
        last_used_at=now,
        expires_at=now + lifetime(kind, remember),
    )
    if has_request_context():
        row.ip = request.remote_addr
        row.user_agent = (request.user_agent.string or "")[:255] or None
    db.session.add(row)
    return attach(user, row)


def attach(user: User, row: AuthSession) -> AuthSession:
    """Mark ``row`` as the session this request's ``user`` is signed in through.

    Flask-Login's id (User.get_id), logout and "sign out other devices" read it. It is a plain
    attribute of the loaded object, so a commit does not clear it; keep ``user`` referenced.
    """
    user.auth_session = row
    return row


def live_filter(now) -> tuple:
    """The conditions of a live session at ``now`` (a datetime or a bound parameter).

    Every reader of sessions (browser loader, API lookup, refresh, lists, figures) uses these,
    so "live" means one thing: not revoked and not past its absolute lifetime.
    """
    return (AuthSession.revoked_at.is_(None), AuthSession.expires_at > now)


def load_live(public_id: str | None, kind: str | None = None) -> AuthSession | None:
    """The live session with ``public_id`` and its active user, in one query; else None."""
    if not public_id or not isinstance(public_id, str) or len(public_id) > 64:
        return None
    stmt = (
        select(AuthSession)
        .join(AuthSession.user)
        .options(contains_eager(AuthSession.user))
        .where(
            AuthSession.public_id == public_id,
            *live_filter(utcnow()),
            User.is_active_flag.is_(True),
        )
    )
    if kind is not None:
        stmt = stmt.where(AuthSession.kind == str(kind))
    row = db.session.execute(stmt).unique().scalar_one_or_none()
    if row is not None:
        attach(row.user, row)
    return row


def touch(model, row_id: int, last_used_at: datetime | None) -> None:
    """Record use of a session (or an API key, ``model``) at most once per TOUCH_INTERVAL.

    Written on a connection of its own and committed at once, outside the request's
    transaction: the request's loaded objects stay as they are, and a request that fails
    later still counts as activity.
    """
    now = utcnow()
    if last_used_at is not None and now - last_used_at < TOUCH_INTERVAL:
        return
    with db.engine.begin() as conn:
        conn.execute(update(model).where(model.id == row_id).values(last_used_at=now))


def revoke(row: AuthSession, reason: str) -> None:
    """Mark one session revoked in the current transaction (no commit)."""
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        row.revoked_reason = reason
        sessions_ended.send(None, user_ids=[row.user_id], session_ids=[row.id], reason=reason)


def revoke_all(user: User, reason: str, keep: AuthSession | None = None) -> int:
    """Revoke every live session of ``user`` except ``keep``; returns how many (no commit)."""
    ids = select(AuthSession.id).where(
        AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None)
    )
    if keep is not None:
        ids = ids.where(AuthSession.id != keep.id)
    ended = list(db.session.scalars(ids))
    if not ended:
        return 0
    db.session.execute(
        update(AuthSession)
        .where(AuthSession.id.in_(ended))
        .values(revoked_at=utcnow(), revoked_reason=reason)
        .execution_options(synchronize_session=False)
    )
    sessions_ended.send(None, user_ids=[user.id], session_ids=ended, reason=reason)
    return len(ended)


def list_live(user: User) -> list[AuthSession]:
    """The user's live sessions, newest activity first."""
    return db.session.scalars(
        select(AuthSession)
        .where(AuthSession.user_id == user.id, *live_filter(utcnow()))
        .order_by(AuthSession.last_used_at.desc())
    ).all()


def find_own(user: User, public_id: str) -> AuthSession | None:
    """The user's own live session with ``public_id``; another user's answers None (a 404)."""
    return db.session.scalar(
        select(AuthSession).where(
            AuthSession.user_id == user.id,
            AuthSession.public_id == public_id,
            AuthSession.revoked_at.is_(None),
        )
    )


def describe_device(user_agent: str | None) -> str:
    """A short, human label for a User-Agent string, such as "Firefox on Linux"."""
    agent = user_agent or ""
    browser = next((name for pattern, name in _BROWSERS if re.search(pattern, agent)), None)
    platform = next((name for pattern, name in _PLATFORMS if re.search(pattern, agent)), None)
    if browser and platform:
        return f"{browser} on {platform}"
    return browser or platform or "Unknown device"


def purge_expired(before: datetime) -> int:
    """Delete sessions that expired or were revoked before ``before`` (no commit)."""
    stmt = delete(AuthSession).where(
        or_(AuthSession.expires_at < before, AuthSession.revoked_at < before)
    )
    return db.session.execute(stmt).rowcount
