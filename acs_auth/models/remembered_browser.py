"""Browsers a person asked to remember, so that they skip the second sign-in step for a while."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from acs_auth.extensions import db
from acs_auth.models.base import UTCDateTime, utcnow
from acs_auth.models.user import User


class RememberedBrowser(db.Model):
    """One "remember this browser" choice; its signed cookie names ``public_id``.

    ``stamp`` is a digest of the account's factor stamp when the browser was remembered: a
    changed password or a changed set of factors makes it differ, and the row stops counting.
    """

    __tablename__ = "remembered_browsers"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(100))
    ip: Mapped[str | None] = mapped_column(String(45))
    stamp: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
