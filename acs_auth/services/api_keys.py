"""API keys: long-lived credentials for scripts, shown once and stored only as SHA-256."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

from sqlalchemy import func, or_, select, update

from acs_auth.extensions import db
from acs_auth.models import ApiKey, User, utcnow
from acs_auth.services import audit

# "acsk_" makes a leaked key recognisable to secret scanners; 32 random bytes = 256 bits.
PREFIX = "acsk_"
SECRET_BYTES = 32
KEY_PATTERN = re.compile(r"^acsk_[A-Za-z0-9_-]{43}$")
# How much of the key is kept in clear for lists: the marker plus 7 random characters.
SHOWN_PREFIX_LENGTH = len(PREFIX) + 7
SCOPES = ("read", "full")
MAX_ACTIVE_KEYS = 50


class TooManyKeys(RuntimeError):
    """The user already has MAX_ACTIVE_KEYS live keys."""


def digest(raw: str) -> str:
    """The SHA-256 (hex) under which a key is stored and looked up."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def well_formed(raw) -> bool:
    """True for a string shaped like a key; empty, short or odd values never reach the database."""
    return isinstance(raw, str) and KEY_PATTERN.fullmatch(raw) is not None


def _live_filter(now: datetime):
    return (
        ApiKey.revoked_at.is_(None),
        or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
    )


def create(
    user: User, *, name: str, scope: str, expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """Mint a key; returns the row and the secret, which is never stored (one commit)."""
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
    audit.record("api_key.created", actor=user, target=user, prefix=row.prefix, scope=scope)
    db.session.commit()
    return row, raw


def list_for(user: User) -> list[ApiKey]:
    """The user's keys that have not been revoked (expired ones included), newest first."""
    return db.session.scalars(
        select(ApiKey)
        .where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
        .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    ).all()


def revoke(user: User, public_id: str) -> bool:
    """Revoke one of the user's own keys at once; False when it is not theirs (one commit)."""
    row = db.session.scalar(
        select(ApiKey).where(
            ApiKey.user_id == user.id,
            ApiKey.public_id == public_id,
            ApiKey.revoked_at.is_(None),
        )
    )
    if row is None:
        return False
    row.revoked_at = utcnow()
    audit.record("api_key.revoked", actor=user, target=user, prefix=row.prefix)
    db.session.commit()
    return True


def revoke_all(user: User) -> int:
    """Revoke every key of ``user`` (deactivation); returns how many (no commit)."""
    stmt = (
        update(ApiKey)
        .where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(stmt).rowcount
