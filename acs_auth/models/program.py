"""The program catalogue: what each LO Root ID is called and where it opens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from acs_auth.extensions import db
from acs_auth.models.base import UTCDateTime, utcnow


class Program(db.Model):
    """One program (LO Root ID) with its display name, description and launch URL."""

    __tablename__ = "programs"

    lo_root_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Where "Open" leads: the program's back end (an OpenID Connect client of acs_auth).
    launch_url: Mapped[str | None] = mapped_column(String(2000))
    active: Mapped[bool] = mapped_column(default=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<Program {self.lo_root_id}>"
