"""Models of /api/admin: figures, users, their sessions and keys, the allowlist upload."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import ConfigDict, Field

from acs_auth.api.schemas.account import STAMP, USER, KeyName, RoleName, User
from acs_auth.api.schemas.fields import (
    Answer,
    Body,
    Cursor,
    Email,
    Flag,
    Name,
    ProgramId,
    Query,
    examples,
    text,
)
from acs_auth.services.text.addresses import EMAIL_MAX

ADMIN_USER = {
    **USER,
    "is_active": True,
    "has_password": True,
    "locked": False,
    "locked_until": None,
    "source": "csv",
    "visit_count": 12,
    "password_changed_at": STAMP,
    "updated_at": STAMP,
}
STATS = {
    "users_active": 40,
    "users_pending": 3,
    "users_locked": 1,
    "users_inactive": 2,
    "entries": 50,
    "entries_registered": 43,
    "sessions_active": 17,
    "mail_queued": 0,
    "mail_failed": 0,
    "failed_signins_24h": 4,
    "users_total": 46,
    "registered_share": 0.86,
    "signins_per_day": [{"day": "2026-12-05", "succeeded": 31, "failed": 4}],
}
Programs = list[ProgramId]
SearchText = text(EMAIL_MAX, required=False)
FileName = text(255, required=False)


class AdminUser(User):
    """An account as an administrator sees it: the account plus its state."""

    model_config = examples(ADMIN_USER)

    is_active: bool
    has_password: bool
    locked: bool
    locked_until: datetime | None
    source: str
    visit_count: int
    password_changed_at: datetime | None
    updated_at: datetime


class UserPage(Answer):
    """A page of users, by email, with the cursors of its neighbours."""

    model_config = examples({"items": [ADMIN_USER], "next_after": None, "prev_before": None})

    items: list[AdminUser]
    next_after: int | None = Field(description="Cursor of the next page.")
    prev_before: int | None = Field(description="Cursor of the previous page.")


class UserSearch(Query):
    """Filters of the users list, as on the console."""

    q: SearchText = Field("", description="Any part of the email, username or names.")
    role: RoleName = None
    password: Literal["set", "pending"] = None
    locked: Flag = False
    inactive: Flag = False
    after: Cursor = Field(None, description="next_after of the previous page.")
    before: Cursor = Field(None, description="prev_before of the next page.")
    limit: int = Field(50, ge=1, le=100, description="Page size, 50 by default.")


class AdminUserCreate(Body):
    """An account without a password; its setup email is queued."""

    model_config = examples({"email": "grace.hopper@example.org", "programs": ["PROG-1"]})

    email: Email
    role: RoleName = "user"
    first_name: Name | None = None
    last_name: Name | None = None
    programs: Programs = Field([], max_length=1000)


class AdminUserUpdate(Body):
    """Role, activity or programs; deactivation ends the account's credentials."""

    model_config = examples({"role": "developer", "programs": ["PROG-1", "PROG-2"]})

    role: RoleName = None
    is_active: bool = None
    programs: Programs = Field(None, max_length=1000)


class ServiceApiKeyCreate(Body):
    """A key an administrator makes for a service account (which has no password to mint one).

    The account's address is emailed the usual notice.
    """

    model_config = examples({"name": "chatbot back end", "scope": "full"})

    name: KeyName
    scope: Literal["read", "full"] = Field("read", description="Defaults to read.")
    expires_in_days: int | None = Field(
        None,
        ge=1,
        le=3650,
        description="Absent or null: API_KEY_DEFAULT_EXPIRE_DAYS (90). More than "
        "API_KEY_MAX_EXPIRE_DAYS (365) answers 422.",
    )


class ResetSent(Answer):
    """Which link was queued: reset, or setup for an account without a password."""

    model_config = examples({"sent": "reset"})

    sent: Literal["reset", "setup"]


class DayCount(Answer):
    """Sign-ins of one UTC day."""

    day: date
    succeeded: int
    failed: int


class Stats(Answer):
    """The admin dashboard's figures (the same as the console's; new figures are integers)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [STATS]})
    __pydantic_extra__: dict[str, int]

    users_active: int
    users_pending: int
    users_locked: int
    users_inactive: int
    entries: int
    entries_registered: int
    sessions_active: int
    mail_queued: int
    mail_failed: int
    failed_signins_24h: int
    users_total: int
    registered_share: float
    signins_per_day: list[DayCount]


class AllowlistUpload(Query):
    """Options of an allowlist import."""

    mode: Literal["merge", "replace"] = Field("merge", description="Defaults to merge.")
    dry_run: Flag = Field(False, description="true: answer the preview, change nothing.")
    skip_invalid: Flag = Field(False, description="true: apply the good rows despite bad ones.")
    file_name: FileName = Field("", description="Recorded in the import history.")
    confirm_mass_removal: Flag = Field(
        False, description="true: apply a replace that removes more than the allowed share."
    )


class LineError(Answer):
    """A bad row of the file."""

    line: int
    message: str


class Row(Answer):
    """A person the file would add."""

    email: str
    last_name: str
    first_name: str | None
    lo_root_ids: list[str]
    lines: list[int]


class FieldChange(Answer):
    """One field of an entry, before and after."""

    field: str
    old: str | None
    new: str | None


class Change(Answer):
    """An entry the file would change (or bring back)."""

    email: str
    restored: bool
    fields: list[FieldChange]


class Removal(Answer):
    """An entry a replace would remove."""

    email: str
    last_name: str


class ImportPreview(Answer):
    """What applying the file would do, list by list (each cut at 1000 items)."""

    mode: Literal["merge", "replace"]
    sha256: str
    active_before: int
    removal_fraction: float
    needs_removal_confirmation: bool
    to_add: list[Row]
    to_change: list[Change]
    to_remove: list[Removal]
    truncated: bool
    uncatalogued: list[str] = Field(
        description="LO Root IDs not in the program catalogue (a warning)."
    )


class ImportResult(Answer):
    """Counts of what the import did (or, for a dry run, would do) and the bad rows by line.

    A dry run adds the preview.
    """

    model_config = examples(
        {
            "dry_run": False,
            "applied": True,
            "added": 2,
            "changed": 1,
            "unchanged": 40,
            "removed": 0,
            "errors": [],
        }
    )

    dry_run: bool
    applied: bool
    added: int
    changed: int
    unchanged: int
    removed: int
    errors: list[LineError]
    preview: ImportPreview = None
