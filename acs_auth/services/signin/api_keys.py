"""API keys: credentials of the account, shown once and stored only as SHA-256.

A key outlives the moment it was minted in, so minting one asks for the account's current
password (a stolen access token alone cannot plant a back door), every key expires
(``API_KEY_DEFAULT_EXPIRE_DAYS``, at most ``API_KEY_MAX_EXPIRE_DAYS``), and the owner is emailed.
A password reset and an administrator's "sign out everywhere" revoke every key of the account;
a password change offers to. Only the ``admin`` scope reaches /api/admin, and only an
administrator may mint it (the role is still checked on every request).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from flask import current_app, has_request_context, request
from sqlalchemy import func, or_, select, update

from acs_auth.extensions import db
from acs_auth.models import ApiKey, AuthSession, Role, User, utcnow
from acs_auth.services import audit
from acs_auth.services.accounts import passwords
from acs_auth.services.mail import outbox
from acs_auth.services.signin import sessions

# The sign-in's own atomic failure counter, so a wrong password here locks like a failed sign-in.
from acs_auth.services.signin.authentication import count_failure

# "acsk_" makes a leaked key recognisable to secret scanners; 32 random bytes = 256 bits.
PREFIX = "acsk_"
SECRET_BYTES = 32
KEY_PATTERN = re.compile(r"^acsk_[A-Za-z0-9_-]{43}$")
# How much of the key is kept in clear for lists: the marker plus 7 random characters.
SHOWN_PREFIX_LENGTH = len(PREFIX) + 7
# The longest name a key may be given.
KEY_NAME_MAX = 100
# read: GET only; full: what the account may do, bar credentials; admin: full plus /api/admin.
SCOPES = ("read", "full", "admin")
MAX_ACTIVE_KEYS = 50


class TooManyKeys(RuntimeError):
    """The user already has MAX_ACTIVE_KEYS live keys."""


class PasswordWrong(RuntimeError):
    """The current password given to mint a key is wrong (or the account is locked)."""


class RoleRefused(RuntimeError):
    """A guest asked for a key: guests may sign in and use programs, never mint keys."""


class ScopeRefused(RuntimeError):
    """A person who is not an administrator asked for the admin scope."""


class ExpiryTooLong(ValueError):
    """More days were asked for than API_KEY_MAX_EXPIRE_DAYS; ``days`` is that maximum."""

    def __init__(self, days: int) -> None:
        super().__init__(days)
        self.days = days


def digest(raw: str) -> str:
    """The SHA-256 (hex) under which a key is stored and looked up."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def well_formed(raw) -> bool:
    """True for a string shaped like a key; empty, short or odd values never reach the database."""
    return isinstance(raw, str) and KEY_PATTERN.fullmatch(raw) is not None


def scope_of(scopes) -> str:
    """The one scope a key's stored scopes amount to (the widest wins; unknown ones read)."""
    scopes = scopes or ()
    return next((scope for scope in ("admin", "full") if scope in scopes), "read")


def _live_filter(now: datetime):
    return (
        ApiKey.revoked_at.is_(None),
        or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
    )


def expiry(days: int | None) -> datetime:
    """When a key minted now expires: the default, or ``days`` if not above the maximum."""
    cfg = current_app.config
    longest = cfg["API_KEY_MAX_EXPIRE_DAYS"]
    if days is not None and days > longest:
        raise ExpiryTooLong(longest)
    return utcnow() + timedelta(days=days or min(cfg["API_KEY_DEFAULT_EXPIRE_DAYS"], longest))


def _add(
    user: User, *, name: str, scope: str, expires_at: datetime, actor: User | None = None
) -> tuple[ApiKey, str]:
    """Add a key, its audit row and its notice email to the transaction (no commit).

    ``actor`` is the administrator who made it for ``user`` (a service account); by default
    the owner.
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    now = utcnow()
    active = db.session.scalar(
        select(func.count()).where(ApiKey.user_id == user.id, *_live_filter(now))
    )
    if active >= MAX_ACTIVE_KEYS:
        raise TooManyKeys()
    raw = PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    row = ApiKey(
        public_id=secrets.token_urlsafe(12),
        user_id=user.id,
        name=name,
        prefix=raw[:SHOWN_PREFIX_LENGTH],
        key_hash=digest(raw),
        scopes=[scope],
        created_at=now,
        expires_at=expires_at,
    )
    db.session.add(row)
    audit.record(
        "api_key.created", actor=actor or user, target=user, prefix=row.prefix, scope=scope
    )
    queue_created_notice(user, row)
    return row, raw


def create(
    user: User,
    *,
    name: str,
    scope: str,
    expires_at: datetime | None = None,
    actor: User | None = None,
) -> tuple[ApiKey, str]:
    """Mint a key without a password check (CLI, admins for service accounts, tests) (one commit).

    The default expiry applies unless ``expires_at`` is given.
    """
    row, raw = _add(
        user, name=name, scope=scope, expires_at=expires_at or expiry(None), actor=actor
    )
    db.session.commit()
    return row, raw


def _refuse(user: User, session: AuthSession | None, reason: str) -> PasswordWrong:
    """Record a refused mint; a wrong password counts toward the account's lockout (commits)."""
    locked = reason == "password" and count_failure(user).just_locked
    audit.record("api_key.create_failed", actor=user, target=user, reason=reason)
    if locked:
        audit.record("account.locked", target=user)
        # The guesser holds a live session: once the account locks, that session ends too.
        if session is not None:
            sessions.revoke(session, "locked")
    db.session.commit()
    return PasswordWrong()


def mint(
    user: User,
    *,
    password: str,
    name: str,
    scope: str = "read",
    days: int | None = None,
    session: AuthSession | None = None,
) -> tuple[ApiKey, str]:
    """Mint a key for the signed-in ``user`` after re-checking their password (one commit).

    Raises RoleRefused (a guest), PasswordWrong (also while the account is locked, whatever
    the password), ScopeRefused, ExpiryTooLong or TooManyKeys. ``session`` is the caller's
    own, ended when wrong passwords lock the account.
    """
    password_ok = passwords.verify_password(user.password_hash, password or "")
    if user.role == Role.GUEST.value:
        audit.record("api_key.create_failed", actor=user, target=user, reason="guest")
        db.session.commit()
        raise RoleRefused()
    if user.is_locked():
        raise _refuse(user, session, "locked")
    if not password_ok:
        raise _refuse(user, session, "password")
    if scope == "admin" and user.role != Role.ADMIN.value:
        raise ScopeRefused()
    row, raw = _add(user, name=name, scope=scope, expires_at=expiry(days))
    db.session.commit()
    return row, raw


def queue_created_notice(user: User, row: ApiKey) -> None:
    """Tell the owner a key was made: name, prefix, scope, expiry and IP, never the secret."""
    outbox.queue(
        "api_key_created",
        user.email,
        user=user,
        key=row,
        ip=request.remote_addr if has_request_context() else None,
        when=row.created_at,
    )


def list_for(user: User) -> list[ApiKey]:
    """The user's keys that have not been revoked (expired ones included), newest first."""
    return db.session.scalars(
        select(ApiKey)
        .where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
        .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    ).all()


def revoke(user: User, public_id: str, actor: User | None = None) -> ApiKey | None:
    """Revoke one of ``user``'s keys at once; None when it is not theirs (one commit).

    ``actor`` is the administrator doing it for them; by default the owner.
    """
    row = db.session.scalar(
        select(ApiKey).where(
            ApiKey.user_id == user.id,
            ApiKey.public_id == public_id,
            ApiKey.revoked_at.is_(None),
        )
    )
    if row is None:
        return None
    row.revoked_at = utcnow()
    audit.record("api_key.revoked", actor=actor or user, target=user, prefix=row.prefix)
    db.session.commit()
    return row


def revoke_all(user: User) -> int:
    """Revoke every key of ``user`` (reset, sign out everywhere); returns how many (no commit)."""
    stmt = (
        update(ApiKey)
        .where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(stmt).rowcount
