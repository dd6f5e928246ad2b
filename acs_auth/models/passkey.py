"""Passkeys (WebAuthn credentials) and the single-use challenges of their ceremonies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from acs_auth.extensions import db
from acs_auth.models.base import UTCDateTime, utcnow
from acs_auth.models.user import User


class Passkey(db.Model):
    """A public-key credential a person registered; the private key never leaves the device."""

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The credential id as base64url (at most 1023 bytes, so 1364 characters): the key of
    # every assertion, unique across accounts so one credential never names two people.
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    # The WebAuthn user handle the authenticator stores beside the key (random, not the email).
    user_handle: Mapped[str] = mapped_column(String(128))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # COSE_Key, as the authenticator sent
    sign_count: Mapped[int] = mapped_column(default=0)
    transports: Mapped[list[str]] = mapped_column(JSON, default=list)
    device_type: Mapped[str] = mapped_column(String(20))  # single_device | multi_device
    backed_up: Mapped[bool] = mapped_column(default=False)
    aaguid: Mapped[str | None] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    @property
    def amr(self) -> str:
        """RFC 8176: ``swk`` for a key that can leave its device (synced), else ``hwk``."""
        return "swk" if self.device_type == "multi_device" else "hwk"


class PasskeyChallenge(db.Model):
    """A challenge handed to a browser; consumed (deleted) by the one response that uses it.

    Only its SHA-256 is stored; the browser session holds the challenge itself, so a response
    is accepted only from the session that asked, only once, and only until ``expires_at``.
    """

    __tablename__ = "passkey_challenges"

    challenge_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))  # register | second-factor | sign-in
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
