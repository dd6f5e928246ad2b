"""The authorization list imported from CSV, and the history of its imports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, validates

from acs_auth.extensions import db
from acs_auth.models.base import UTCDateTime, utcnow
from acs_auth.models.user import KEY_LENGTH, PATTERN_OPS, search_key
from acs_auth.services.text.identifiers import split_joined_programs


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
    # Folded last name for the admin's prefix search, kept in step by the validator below.
    last_name_key: Mapped[str | None] = mapped_column(String(KEY_LENGTH))

    __table_args__ = (
        Index(
            "ix_allowlist_entries_email_key_prefix",
            "email_key",
            postgresql_ops={"email_key": PATTERN_OPS},
        ),
        Index(
            "ix_allowlist_entries_last_name_key",
            "last_name_key",
            postgresql_ops={"last_name_key": PATTERN_OPS},
        ),
    )

    @validates("last_name")
    def _keep_search_key(self, field: str, value: str) -> str:
        self.last_name_key = search_key(value)
        return value

    @property
    def program_ids(self) -> list[str]:
        """The entry's LO Root IDs (services.text.identifiers.program_list: unique, sorted)."""
        return split_joined_programs(self.lo_root_ids)


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


class AllowlistUpload(db.Model):
    """An uploaded file waiting for its admin to confirm the preview.

    The bytes live in the database, not in a worker's memory or on one host's disk, so the
    confirmation may reach any worker behind the load balancer.
    """

    __tablename__ = "allowlist_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    file_name: Mapped[str] = mapped_column(String(255), default="")
    sha256: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(10), default="merge")
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
