"""The program catalogue: programs by LO Root ID, their CSV import/export, and the ID checks.

Policy (see docs/oidc.md): an empty catalogue checks nothing, so a deployment that never set one
up behaves as before; once it holds a program, LO Root IDs an administrator types for a user
must be in it, and allowlist previews flag IDs that are not (a warning: still importable).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import func, select

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import Program, User
from acs_auth.services import audit
from acs_auth.services.allowlist.csvfile import (
    CsvRejected,
    _sniff_delimiter,
    decode,
    neutralise,
    unneutralise,
)
from acs_auth.services.text.characters import has_control_characters, has_nul
from acs_auth.services.text.identifiers import PROGRAM_ID_MAX, is_program_id

HEADER = ["lo_root_id", "name", "description", "launch_url", "active"]
MAX_NAME = 200
MAX_DESCRIPTION = 2000
MAX_URL = 2000
MAX_ROWS = 10_000
_TRUE = {"1", "true", "yes", "y", "active", ""}
_FALSE = {"0", "false", "no", "n", "inactive"}


class ProgramInvalid(ValueError):
    """A program's fields are not acceptable; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class ImportResult:
    """What a catalogue import did (or would do, for a dry run)."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def check_launch_url(value: str | None) -> str | None:
    """An absolute http(s) URL without credentials, or None for no launch URL."""
    value = (value or "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if (
        len(value) > MAX_URL
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username
        or any(ord(c) < 33 or c == "\\" for c in value)
    ):
        raise ProgramInvalid({"launch_url": messages.PROGRAM_URL_INVALID})
    return value


def clean(
    lo_root_id: str, name: str, description: str | None, launch_url: str | None, active: bool
) -> dict:
    """The checked fields of a program; raises ProgramInvalid."""
    errors: dict[str, str] = {}
    lo_root_id = (lo_root_id or "").strip()
    name = (name or "").strip()
    description = (description or "").strip()
    if not is_program_id(lo_root_id):
        errors["lo_root_id"] = messages.ADMIN_PROGRAMS_INVALID.format(
            value=lo_root_id[:PROGRAM_ID_MAX]
        )
    if not name or len(name) > MAX_NAME or has_control_characters(name):
        errors["name"] = messages.PROGRAM_NAME_INVALID
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = messages.FIELD_TOO_LONG
    elif has_nul(description):
        errors["description"] = messages.FIELD_INVALID_CHARACTERS
    try:
        launch_url = check_launch_url(launch_url)
    except ProgramInvalid as exc:
        errors.update(exc.errors)
    if errors:
        raise ProgramInvalid(errors)
    return {
        "lo_root_id": lo_root_id,
        "name": name,
        "description": description,
        "launch_url": launch_url,
        "active": bool(active),
    }


def all_programs(active_only: bool = False) -> list[Program]:
    """Every program, by LO Root ID."""
    stmt = select(Program).order_by(Program.lo_root_id)
    if active_only:
        stmt = stmt.where(Program.active.is_(True))
    return list(db.session.scalars(stmt))


def get(lo_root_id: str) -> Program | None:
    """The program with ``lo_root_id``, or None."""
    if not is_program_id(lo_root_id):
        return None
    return db.session.get(Program, lo_root_id)


def by_ids(ids: list[str]) -> dict[str, Program]:
    """The catalogue entries of ``ids`` (unknown ones are simply absent)."""
    if not ids:
        return {}
    rows = db.session.scalars(select(Program).where(Program.lo_root_id.in_(list(ids))))
    return {p.lo_root_id: p for p in rows}


def is_empty() -> bool:
    """True while no program has been catalogued (then no ID is checked against it)."""
    return not db.session.scalar(select(func.count()).select_from(Program))


def unknown_ids(ids) -> list[str]:
    """The IDs of ``ids`` that are not in a non-empty catalogue, sorted ([] when it is empty)."""
    wanted = sorted(set(ids))
    if not wanted or is_empty():
        return []
    known = set(by_ids(wanted))
    return [i for i in wanted if i not in known]


def save(fields: dict, *, actor: User | None, create: bool) -> Program:
    """Add (``create``) or update one program from checked ``fields``; one commit."""
    program = db.session.get(Program, fields["lo_root_id"])
    if create and program is not None:
        raise ProgramInvalid({"lo_root_id": messages.PROGRAM_EXISTS})
    if not create and program is None:
        raise ProgramInvalid({"lo_root_id": messages.PROGRAM_NOT_FOUND})
    if program is None:
        program = Program(lo_root_id=fields["lo_root_id"])
        db.session.add(program)
    changes = _apply(program, fields)
    event = "program.created" if create else "program.updated"
    if create or changes:
        audit.record(event, actor=actor, program=program.lo_root_id, changes=changes)
    db.session.commit()
    return program


def set_active(program: Program, active: bool, *, actor: User | None) -> None:
    """Activate or deactivate a program (it stays in the catalogue); one commit."""
    if program.active != active:
        program.active = active
        event = "program.activated" if active else "program.deactivated"
        audit.record(event, actor=actor, program=program.lo_root_id)
        db.session.commit()


def _apply(program: Program, fields: dict) -> dict[str, list]:
    changes = {}
    for name in ("name", "description", "launch_url", "active"):
        if getattr(program, name, None) != fields[name]:
            changes[name] = [getattr(program, name, None), fields[name]]
            setattr(program, name, fields[name])
    return changes


def _flag(value: str) -> bool | None:
    value = value.strip().lower()
    return True if value in _TRUE else False if value in _FALSE else None


def parse_csv(data: bytes) -> tuple[list[dict], list[tuple[int, str]]]:
    """Programs from CSV bytes (header row required); errors carry their line numbers."""
    text, _ = decode(data)
    reader = csv.reader(io.StringIO(text), delimiter=_sniff_delimiter(text))
    header = [h.strip().lower().replace(" ", "_").replace("-", "_") for h in next(reader, [])]
    if "lo_root_id" not in header or "name" not in header:
        raise CsvRejected(messages.PROGRAM_CSV_HEADER)
    rows, errors = [], []
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(rows) + len(errors) >= MAX_ROWS:
            raise CsvRejected(messages.PROGRAM_CSV_TOO_MANY.format(limit=MAX_ROWS))
        cells = {
            h: unneutralise(record[i]) if i < len(record) else "" for i, h in enumerate(header)
        }
        active = _flag(cells.get("active", ""))
        try:
            if active is None:
                raise ProgramInvalid({"active": messages.PROGRAM_ACTIVE_INVALID})
            rows.append(
                clean(
                    cells["lo_root_id"],
                    cells["name"],
                    cells.get("description"),
                    cells.get("launch_url"),
                    active,
                )
            )
        except ProgramInvalid as exc:
            errors.append((line, "; ".join(exc.errors.values())))
    return rows, errors


def import_csv(data: bytes, *, actor: User | None, dry_run: bool = False) -> ImportResult:
    """Add or update the programs of a CSV in one transaction; nothing when any row is bad."""
    rows, errors = parse_csv(data)
    result = ImportResult(errors=errors)
    existing = by_ids([r["lo_root_id"] for r in rows])
    for fields in rows:
        program = existing.get(fields["lo_root_id"])
        if program is None:
            program = Program(lo_root_id=fields["lo_root_id"])
            existing[program.lo_root_id] = program
            db.session.add(program)
            _apply(program, fields)
            result.added.append(program.lo_root_id)
        elif _apply(program, fields):
            result.changed.append(program.lo_root_id)
        else:
            result.unchanged += 1
    if dry_run or errors:
        db.session.rollback()
        return result
    audit.record(
        "program.imported", actor=actor, added=len(result.added), changed=len(result.changed)
    )
    db.session.commit()
    return result


def export_csv() -> str:
    """The catalogue as CSV, formula-like cells neutralised; it re-imports unchanged."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for p in all_programs():
        writer.writerow(
            [
                neutralise(p.lo_root_id),
                neutralise(p.name),
                neutralise(p.description),
                neutralise(p.launch_url),
                "true" if p.active else "false",
            ]
        )
    return out.getvalue()
