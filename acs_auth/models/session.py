"""Server-side sign-in sessions (browser and API) and API keys."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from acs_auth.extensions import db
from acs_auth.models.base import UTCDateTime, utcnow
from acs_auth.models.user import User


class SessionKind(enum.StrEnum):
    BROWSER = "browser"
    API = "api"


class AuthSession(db.Model):
    """One sign-in. Revoking the row ends the cookie, the remember-me cookie and its tokens."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    remember: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(String(40))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    # Refresh-token family: the SHA-256 of the one live refresh token, and a generation counter
    # that an update bumps atomically, so two concurrent refreshes cannot both rotate.
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64))
    refresh_generation: Mapped[int] = mapped_column(default=0)
    # The authentication methods of the sign-in (RFC 8176 values, space-separated, e.g.
    # "pwd" or "pwd otp"); access tokens and the provider's ID tokens carry them as ``amr``.
    amr: Mapped[str] = mapped_column(String(40), default="pwd", server_default="pwd")

    user: Mapped[User] = relationship()

    @property
    def methods(self) -> list[str]:
        """The ``amr`` claim of this sign-in: its methods as a list."""
        return (self.amr or "pwd").split()

    def is_live(self, now: datetime | None = None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or utcnow())


class SignInChallenge(db.Model):
    """A pending sign-in: the first factor was right, the second is still to come.

    Only the SHA-256 of its random handle is stored; the handle lives in the browser's session
    or in the API client's hands. ``used_at`` makes it single-use (a compare-and-set UPDATE).
    """

    __tablename__ = "signin_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    amr: Mapped[str] = mapped_column(String(40))
    remember: Mapped[bool] = mapped_column(default=False)
    next_url: Mapped[str | None] = mapped_column(String(2048))
    # A fingerprint of the account's email and password state when the first factor passed.
    account_state: Mapped[str] = mapped_column(String(64))
    # Live for SIGNIN_PENDING_MINUTES after this, read at each use (a changed setting applies).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiKey(db.Model):
    """A long-lived credential for scripts; only its SHA-256 is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
