"""Accounts, their programs and their password history."""

from __future__ import annotations

import enum
import re
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from acs_auth.extensions import db
from acs_auth.models.base import UTCDateTime, utcnow
from acs_auth.services.text.identifiers import program_list
from acs_auth.services.text.names import name_key

# PostgreSQL only uses a b-tree index for LIKE 'prefix%' under the C collation, or with the
# *_pattern_ops operator class; the allowlist's prefix searches rely on it.
PATTERN_OPS = "varchar_pattern_ops"
KEY_LENGTH = 100
# The admin search's trigram indexes, (name, column); see migration 0003.
TRGM_OPS = "gin_trgm_ops"
SEARCH_INDEXES = (
    ("ix_users_email_key_prefix", "email_key"),
    ("ix_users_last_name_key", "last_name_key"),
    ("ix_users_first_name_key", "first_name_key"),
    ("ix_users_username_key_search", "username_key"),
)


_ASCII_SEPARATORS = re.compile(r"[\s\-]+")


def search_key(value: str | None) -> str | None:
    """A name folded for case- and accent-insensitive prefix search; None for an empty name.

    Equal to services.text.names.name_key; plain ASCII names skip its Unicode normalisation (a
    100k-row import spends most of its key time there), as the test suite checks.
    """
    if value and value.isascii():
        folded = _ASCII_SEPARATORS.sub(" ", value.lower().replace("`", "'")).strip()
    else:
        folded = name_key(value)
    return folded[:KEY_LENGTH] or None


class Role(enum.StrEnum):
    """What an account may do; read from the database on every request."""

    ADMIN = "admin"
    USER = "user"
    DEVELOPER = "developer"
    GUEST = "guest"
    SERVICE_ACCOUNT = "service_account"


class Source(enum.StrEnum):
    """How an account came to exist."""

    CSV = "csv"
    ADMIN = "admin"
    API = "api"


class User(UserMixin, db.Model):
    """A person (or service) who can sign in. ``password_hash`` NULL means setup is pending."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    # Lower-cased email: the unique, indexed key for case-insensitive lookups.
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    username: Mapped[str | None] = mapped_column(String(64))
    username_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    password_hash: Mapped[str | None] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(20), default=Role.USER.value, index=True)
    is_active_flag: Mapped[bool] = mapped_column("is_active", default=True, index=True)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_ip: Mapped[str | None] = mapped_column(String(45))
    visit_count: Mapped[int] = mapped_column(default=0)
    failed_login_count: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(10), default=Source.ADMIN.value)
    # Search keys kept in step with the names by the validator below; never shown.
    first_name_key: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    last_name_key: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    # Why is_active is false: "allowlist" (removed from the list: re-adding reactivates) or
    # "admin" (an administrator's decision, which an import never overrides).
    inactive_reason: Mapped[str | None] = mapped_column(String(20))

    programs: Mapped[list[UserProgram]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="UserProgram.lo_root_id"
    )

    __table_args__ = (
        Index("ix_users_last_name", "last_name"),
        Index("ix_users_created_at", "created_at"),
        # The admin search ("contains", any part): pg_trgm GIN indexes on PostgreSQL
        # (migration 0003); elsewhere they are plain indexes, as before.
        *[
            Index(name, column, postgresql_using="gin", postgresql_ops={column: TRGM_OPS})
            for name, column in SEARCH_INDEXES
        ],
    )

    @validates("first_name", "last_name")
    def _keep_search_keys(self, field: str, value: str | None) -> str | None:
        setattr(self, f"{field}_key", search_key(value))
        return value

    # Set by the session loader: the auth session this request is authenticated through.
    auth_session = None

    @property
    def is_active(self) -> bool:  # Flask-Login reads this
        return bool(self.is_active_flag)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value

    @property
    def is_service_account(self) -> bool:
        """A machine identity: API keys from an administrator, never a password or a browser."""
        return self.role == Role.SERVICE_ACCOUNT.value

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    @property
    def program_ids(self) -> list[str]:
        """The account's LO Root IDs (services.text.identifiers.program_list: unique, sorted)."""
        return program_list(p.lo_root_id for p in self.programs)

    @property
    def display_name(self) -> str:
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name or self.email

    def is_locked(self, now: datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or utcnow())

    def get_id(self) -> str:
        """Flask-Login's id is the auth session's public id, never the user's row id."""
        if self.auth_session is None:
            raise RuntimeError("User has no auth session; sign in through services.signin.sessions")
        return self.auth_session.public_id

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email_key}>"


class UserProgram(db.Model):
    """An LO Root ID (program) that a user may use."""

    __tablename__ = "user_programs"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    lo_root_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    user: Mapped[User] = relationship(back_populates="programs")


class PasswordHistory(db.Model):
    """Earlier password hashes, so the last few cannot be reused."""

    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
