"""Second factors of an account: an authenticator app (TOTP) and one-time recovery codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from acs_auth.extensions import db
from acs_auth.models.base import UTCDateTime, utcnow


class TotpFactor(db.Model):
    """A person's authenticator app (RFC 6238); one per account.

    ``secret`` holds the base32 key encrypted with MFA_ENCRYPTION_KEYS (Fernet), never the key
    itself. ``confirmed_at`` NULL is an enrolment begun but not yet proven with a first code:
    it counts for nothing at sign-in. ``last_used_step`` is the time step of the last accepted
    code, so a code (or an earlier one) cannot be used twice.
    """

    __tablename__ = "totp_factors"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None


class RecoveryCode(db.Model):
    """One recovery code; only the SHA-256 of its normalised text is stored. Works once."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_recovery_codes_user_id_code_hash", "user_id", "code_hash"),)
