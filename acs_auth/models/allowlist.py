"""The authorization list imported from CSV, and the history of its imports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from acs_auth.extensions import db
from acs_auth.models.base import UTCDateTime, utcnow


class AllowlistEntry(db.Model):
    """A person allowed to register, with the programs (LO Root IDs) they may use."""

    __tablename__ = "allowlist_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str | None] = mapped_column(String(100))
    # Sorted, ";"-joined LO Root IDs: one canonical form, so an unchanged row compares equal.
    lo_root_ids: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True, index=True)
    import_batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("allowlist_imports.id", ondelete="SET NULL"), index=True
    )
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def program_ids(self) -> list[str]:
        return [p for p in self.lo_root_ids.split(";") if p]


class AllowlistImport(db.Model):
    """One applied upload: who, when, which file, what it changed."""

    __tablename__ = "allowlist_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    file_name: Mapped[str] = mapped_column(String(255), default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")
    mode: Mapped[str] = mapped_column(String(10), default="merge")
    added: Mapped[int] = mapped_column(default=0)
    changed: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    removed: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
