"""Applying an allowlist file to the database in one transaction (basic merge/replace)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from acs_auth.extensions import db
from acs_auth.models import AllowlistEntry, AllowlistImport, User, utcnow
from acs_auth.services import allowlist_csv, audit


@dataclass
class ImportResult:
    """What an import did (or, for a dry run, would do)."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    errors: list[tuple[int, str]] | None = None
    applied: bool = False


def import_file(
    data: bytes,
    *,
    file_name: str = "",
    mode: str = "merge",
    actor: User | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
) -> ImportResult:
    """Parse ``data`` and apply it in one transaction; nothing is applied when rows are bad."""
    parsed = allowlist_csv.parse(data, current_app.config["ALLOWLIST_MAX_ROWS"])
    result = ImportResult(errors=parsed.errors)
    existing = {e.email_key: e for e in db.session.scalars(select(AllowlistEntry))}
    batch = AllowlistImport(
        actor_id=actor.id if actor else None,
        actor_label=actor.email if actor else "cli",
        file_name=file_name,
        sha256=hashlib.sha256(data).hexdigest(),
        mode=mode,
    )
    for key, row in parsed.rows.items():
        entry = existing.get(key)
        if entry is None:
            result.added += 1
            db.session.add(
                AllowlistEntry(
                    email=row.email,
                    email_key=key,
                    last_name=row.last_name,
                    first_name=row.first_name,
                    lo_root_ids=row.lo_root_ids,
                    import_batch_id=None,
                )
            )
        elif (entry.last_name, entry.first_name, entry.lo_root_ids, entry.active) == (
            row.last_name,
            row.first_name,
            row.lo_root_ids,
            True,
        ):
            result.unchanged += 1
        else:
            result.changed += 1
            entry.last_name, entry.first_name = row.last_name, row.first_name
            entry.lo_root_ids, entry.active, entry.imported_at = row.lo_root_ids, True, utcnow()
    if mode == "replace":
        for key, entry in existing.items():
            if key not in parsed.rows and entry.active:
                entry.active = False
                result.removed += 1
    if dry_run or (parsed.errors and not skip_invalid):
        db.session.rollback()
        return result
    batch.added, batch.changed, batch.unchanged = result.added, result.changed, result.unchanged
    batch.removed, batch.skipped = result.removed, len(parsed.errors)
    db.session.add(batch)
    audit.record(
        "allowlist.imported",
        actor=actor,
        file_name=file_name,
        mode=mode,
        added=result.added,
        changed=result.changed,
        removed=result.removed,
    )
    db.session.commit()
    result.applied = True
    return result
