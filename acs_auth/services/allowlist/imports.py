"""Allowlist imports: parse → preview → apply in one transaction with bulk statements.

``build_preview`` compares a parsed file with the entries in the database and lists what
would be added, what would change (old and new value of each field), how many entries are
unchanged, what a replace import would remove, and every bad row. ``apply`` writes exactly
that preview in one transaction, with multi-row INSERT/UPDATE statements rather than one ORM
object per row, then runs the account lifecycle (services.allowlist.lifecycle) for the people
it touched. ``import_file`` chains the three for the CLI, the seed and the API.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from acs_auth.extensions import db
from acs_auth.models import AllowlistEntry, AllowlistImport, User, utcnow
from acs_auth.models.user import search_key
from acs_auth.services import audit
from acs_auth.services.allowlist import bulk, lifecycle
from acs_auth.services.allowlist.csvfile import CsvRejected, Parsed, Row, parse
from acs_auth.services.programs import catalogue

MODES = ("merge", "replace")

__all__ = [
    "CsvRejected",
    "ImportBlocked",
    "ImportConflict",
    "ImportResult",
    "Preview",
    "import_file",
]


class ImportBlocked(RuntimeError):
    """The preview may not be applied as asked; ``reason`` is "errors" or "mass_removal"."""

    def __init__(self, reason: str, preview: Preview | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.preview = preview


class ImportConflict(RuntimeError):
    """A concurrent import added the same people first; nothing was applied."""


@dataclass
class Change:
    """An existing entry the file changes: ``fields`` holds (label, old, new) per field."""

    key: str
    row: Row
    fields: list[tuple[str, str, str]]
    ids_changed: bool
    restored: bool


@dataclass
class Removal:
    """An active entry that a replace import removes."""

    key: str
    email: str
    last_name: str


@dataclass
class Preview:
    """What applying a parsed file would do to the allowlist."""

    mode: str
    file_name: str
    sha256: str
    parsed: Parsed
    active_before: int = 0
    to_add: list[Row] = field(default_factory=list)
    to_change: list[Change] = field(default_factory=list)
    unchanged: int = 0
    to_remove: list[Removal] = field(default_factory=list)
    kept_invalid: int = 0
    # ALLOWLIST_MAX_REMOVAL_FRACTION when the preview was built.
    removal_limit: float = 0.10
    # LO Root IDs of the file that a non-empty program catalogue lacks (a warning only).
    uncatalogued: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[tuple[int, str]]:
        return self.parsed.errors

    @property
    def counts(self) -> dict[str, int]:
        """How many people the preview adds, changes, leaves unchanged and removes."""
        return {
            "added": len(self.to_add),
            "changed": len(self.to_change),
            "unchanged": self.unchanged,
            "removed": len(self.to_remove),
        }

    @property
    def has_changes(self) -> bool:
        return bool(self.to_add or self.to_change or self.to_remove)

    @property
    def removal_fraction(self) -> float:
        return len(self.to_remove) / self.active_before if self.active_before else 0.0

    def needs_removal_confirmation(self, limit: float | None = None) -> bool:
        """True when a replace import removes more than ALLOWLIST_MAX_REMOVAL_FRACTION."""
        limit = self.removal_limit if limit is None else limit
        return bool(self.to_remove) and self.removal_fraction > limit

    @cached_property
    def digest(self) -> str:
        """A fingerprint of the planned changes: a confirmation must match what was shown."""
        h = hashlib.sha256(f"{self.mode}|{self.sha256}|{len(self.errors)}|".encode())
        for row in self.to_add:
            h.update(f"+{row.key}\n".encode())
        for change in self.to_change:
            h.update(f"~{change.key}{change.fields!r}\n".encode())
        for removal in self.to_remove:
            h.update(f"-{removal.key}\n".encode())
        return h.hexdigest()


@dataclass
class ImportResult:
    """What an import did (or, when ``applied`` is false, would do)."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    applied: bool = False
    preview: Preview | None = None
    batch: AllowlistImport | None = None
    blocked: str | None = None


def parse_upload(data: bytes) -> Parsed:
    """Parse an upload under the configured size and row caps (CsvRejected otherwise)."""
    cfg = current_app.config
    return parse(data, cfg["ALLOWLIST_MAX_ROWS"], cfg["ALLOWLIST_MAX_BYTES"])


# An entry's comparable columns: (email, last name, first name, LO Root IDs, active). A plain
# tuple of strings, which the garbage collector stops tracking after its first look (a 100k
# allowlist would otherwise be rescanned at every collection while the preview is built).
_Existing = tuple[str, str, str | None, str, bool]


def _existing() -> dict[str, _Existing]:
    """Every entry's comparable columns by email key, read as plain tuples (fast at 100k)."""
    table = AllowlistEntry.__table__
    stmt = select(
        table.c.email_key,
        table.c.email,
        table.c.last_name,
        table.c.first_name,
        table.c.lo_root_ids,
        table.c.active,
    )
    rows = db.session.connection().execute(stmt)
    return {key: (e, last, first, ids, bool(a)) for key, e, last, first, ids, a in rows}


def _field_changes(old: _Existing, row: Row, has_first_name: bool) -> list[tuple[str, str, str]]:
    email, last_name, first_name, lo_root_ids, active = old
    changes = []
    if email != row.email:
        changes.append(("Email", email, row.email))
    if last_name != row.last_name:
        changes.append(("Last name", last_name, row.last_name))
    if has_first_name and (first_name or None) != row.first_name:
        changes.append(("First name", first_name or "", row.first_name or ""))
    if lo_root_ids != row.lo_root_ids:
        changes.append(("LO Root IDs", lo_root_ids, row.lo_root_ids))
    if not active:
        changes.append(("Status", "removed", "on the allowlist"))
    return changes


def build_preview(parsed: Parsed, *, mode: str = "merge", file_name: str = "", sha256: str = ""):
    """Compare ``parsed`` with the database and return the Preview (reads only)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    preview = Preview(mode=mode, file_name=file_name, sha256=sha256, parsed=parsed)
    preview.removal_limit = current_app.config["ALLOWLIST_MAX_REMOVAL_FRACTION"]
    _compare(preview, parsed, mode)
    # Split each distinct stored form once: 100k people share a few hundred combinations.
    stored = {r.lo_root_ids for r in parsed.rows.values()}
    preview.uncatalogued = catalogue.unknown_ids({i for text in stored for i in text.split(";")})
    return preview


def _compare(preview: Preview, parsed: Parsed, mode: str) -> Preview:
    existing = _existing()
    preview.active_before = sum(1 for *_columns, active in existing.values() if active)
    for key, row in parsed.rows.items():
        old = existing.get(key)
        if old is None:
            preview.to_add.append(row)
            continue
        fields = _field_changes(old, row, parsed.has_first_name)
        if fields:
            *_columns, old_ids, active = old
            ids_changed = old_ids != row.lo_root_ids
            preview.to_change.append(Change(key, row, fields, ids_changed, not active))
        else:
            preview.unchanged += 1
    if mode == "replace":
        for key, (email, last_name, _first, _ids, active) in existing.items():
            if not active or key in parsed.rows:
                continue
            if key in parsed.bad_keys:
                preview.kept_invalid += 1  # their row is bad, not missing: keep them
            else:
                preview.to_remove.append(Removal(key, email, last_name))
    preview.to_add.sort(key=lambda r: r.key)
    preview.to_change.sort(key=lambda c: c.key)
    preview.to_remove.sort(key=lambda r: r.key)
    return preview


def check_allowed(preview: Preview, *, skip_invalid: bool, confirm_mass_removal: bool) -> None:
    """Raise ImportBlocked when bad rows or a mass removal were not explicitly accepted."""
    if preview.errors and not skip_invalid:
        raise ImportBlocked("errors", preview)
    if preview.needs_removal_confirmation() and not confirm_mass_removal:
        raise ImportBlocked("mass_removal", preview)


def _insert_entries(rows: list[Row], batch_id: int, now, progress) -> None:
    columns = ("email", "email_key", "last_name", "last_name_key", "first_name", "lo_root_ids")
    values = [
        (r.email, r.key, r.last_name, search_key(r.last_name), r.first_name, r.lo_root_ids)
        for r in rows
    ]
    constants = {"active": True, "import_batch_id": batch_id, "imported_at": now}
    bulk.insert_rows(AllowlistEntry.__table__, columns, values, constants, progress)


def _update_entries(changes: list[Change], keep_first: bool, batch_id: int, now, progress):
    columns = ["email", "last_name", "last_name_key", "lo_root_ids"]
    if not keep_first:
        columns.append("first_name")
    values = []
    for c in changes:
        row = c.row
        value = (c.key, row.email, row.last_name, search_key(row.last_name), row.lo_root_ids)
        values.append(value if keep_first else (*value, row.first_name))
    constants = {"active": True, "import_batch_id": batch_id, "imported_at": now}
    bulk.update_rows(AllowlistEntry.__table__, "email_key", columns, values, constants, progress)


def _remove_entries(removals: list[Removal], batch_id: int, now, progress) -> None:
    bulk.update_where_in(
        AllowlistEntry.__table__,
        "email_key",
        [r.key for r in removals],
        {"active": False, "import_batch_id": batch_id, "imported_at": now},
        progress,
    )


def apply(
    preview: Preview,
    *,
    actor: User | None = None,
    skip_invalid: bool = False,
    confirm_mass_removal: bool = False,
    progress: Callable[[int], None] | None = None,
) -> AllowlistImport:
    """Write ``preview`` and its account lifecycle in one transaction (one commit).

    Raises ImportBlocked when bad rows or a mass removal were not accepted; a database error
    rolls everything back, so the allowlist is either fully updated or exactly as it was.
    """
    check_allowed(preview, skip_invalid=skip_invalid, confirm_mass_removal=confirm_mass_removal)
    progress = progress or (lambda _n: None)
    now = utcnow()
    batch = AllowlistImport(
        actor_id=actor.id if actor else None,
        actor_label=actor.email if actor else "cli",
        file_name=(preview.file_name or "")[:255],
        sha256=preview.sha256,
        mode=preview.mode,
        **preview.counts,
        skipped=len(preview.errors),
        created_at=now,
    )
    db.session.add(batch)
    try:
        db.session.flush()
        _write_entries(preview, batch.id, now, progress)
        outcome = _lifecycle(preview, batch.id, actor)
        _audit_import(batch, actor, outcome)
        db.session.commit()
    except IntegrityError:
        # Two imports adding the same person at once: the unique email key stops the second,
        # which is rolled back whole.
        db.session.rollback()
        raise ImportConflict() from None
    except Exception:
        db.session.rollback()
        raise
    return batch


def _write_entries(preview: Preview, batch_id: int, now, progress) -> None:
    _insert_entries(preview.to_add, batch_id, now, progress)
    keep_first = not preview.parsed.has_first_name
    _update_entries(preview.to_change, keep_first, batch_id, now, progress)
    _remove_entries(preview.to_remove, batch_id, now, progress)


def _lifecycle(preview: Preview, batch_id: int, actor: User | None) -> lifecycle.Outcome:
    # The stored form: only the people who have an account get their IDs split.
    programs = {r.key: r.lo_root_ids for r in preview.to_add}
    for change in preview.to_change:
        if change.ids_changed or change.restored:
            programs[change.key] = change.row.lo_root_ids
    return lifecycle.after_import(
        batch_id,
        removed={r.key for r in preview.to_remove},
        restored={r.key for r in preview.to_add} | {c.key for c in preview.to_change},
        programs=programs,
        actor=actor,
    )


def _audit_import(batch: AllowlistImport, actor: User | None, outcome) -> None:
    audit.record(
        "allowlist.imported",
        actor=actor,
        file_name=batch.file_name,
        sha256=batch.sha256,
        mode=batch.mode,
        added=batch.added,
        changed=batch.changed,
        unchanged=batch.unchanged,
        removed=batch.removed,
        skipped=batch.skipped,
        deactivated=outcome.deactivated,
        reactivated=outcome.reactivated,
    )


def rebuild_preview(stale: Preview) -> Preview:
    """The preview of the same parsed file against the allowlist as it is now (no re-parse)."""
    return build_preview(
        stale.parsed, mode=stale.mode, file_name=stale.file_name, sha256=stale.sha256
    )


def preview_bytes(data: bytes, *, file_name: str = "", mode: str = "merge") -> Preview:
    """Parse ``data`` under the caps and build its preview (CsvRejected for a bad file)."""
    parsed = parse_upload(data)
    sha = hashlib.sha256(data).hexdigest()
    return build_preview(parsed, mode=mode, file_name=file_name, sha256=sha)


def import_file(
    data: bytes,
    *,
    file_name: str = "",
    mode: str = "merge",
    actor: User | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    confirm_mass_removal: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Parse, preview and (unless ``dry_run`` or blocked) apply ``data`` in one transaction.

    Raises CsvRejected for a file that cannot be read at all. Bad rows block the import unless
    ``skip_invalid``; a replace removing more than ALLOWLIST_MAX_REMOVAL_FRACTION of the
    entries is blocked unless ``confirm_mass_removal``; a concurrent import adding the same
    people rolls this one back (``result.blocked`` is "errors", "mass_removal" or "conflict").
    """
    preview = preview_bytes(data, file_name=file_name, mode=mode)
    result = ImportResult(**preview.counts, errors=preview.errors, preview=preview)
    if dry_run:
        return result
    try:
        result.batch = apply(
            preview,
            actor=actor,
            skip_invalid=skip_invalid,
            confirm_mass_removal=confirm_mass_removal,
            progress=progress,
        )
    except ImportBlocked as exc:
        result.blocked = exc.reason
        return result
    except ImportConflict:
        result.blocked = "conflict"
        return result
    result.applied = True
    return result
