"""The audit log made readable, exported (CSV, JSON lines) and pruned by its retention setting.

``describe`` turns an event's details into ``field: old → new`` lines for people; the exports
carry the same filters as the audit page, newest first, and CSV cells that a spreadsheet would
run as formulas are neutralised exactly like the allowlist export's.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import delete

from acs_auth.extensions import db
from acs_auth.models import AuditEvent, User, utcnow
from acs_auth.services import audit
from acs_auth.services.allowlist.csvfile import neutralise
from acs_auth.services.audit.log import AuditFilters, filtered

CSV_COLUMNS = ("id", "at", "event", "actor", "target", "ip", "user_agent", "request_id", "details")
# Rows read from the database per round trip while an export streams.
BATCH = 1000


def _text(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value) if value else "none"
    return str(value)


def describe(details: dict | None) -> list[str]:
    """An event's details as lines a person reads: ``field: old → new`` for each change."""
    lines = []
    for key, value in (details or {}).items():
        if key == "changes" and isinstance(value, dict):
            for field, change in value.items():
                if isinstance(change, list | tuple) and len(change) == 2:
                    lines.append(f"{field}: {_text(change[0])} → {_text(change[1])}")
                else:
                    lines.append(f"{field}: {_text(change)}")
        else:
            lines.append(f"{key.replace('_', ' ')}: {_text(value)}")
    return lines


def _events(filters: AuditFilters) -> Iterator[AuditEvent]:
    stmt = filtered(filters).order_by(AuditEvent.id.desc()).execution_options(yield_per=BATCH)
    yield from db.session.scalars(stmt)


def _record(row: AuditEvent) -> dict:
    return {
        "id": row.id,
        "at": row.at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "event": row.event,
        "actor": row.actor_label,
        "target": row.target_label,
        "ip": row.ip,
        "user_agent": row.user_agent,
        "request_id": row.request_id,
    }


def record_export(actor: User, filters: AuditFilters, fmt: str) -> None:
    """Audit that ``actor`` exported the log, with the filters used (one commit)."""
    used = {k: str(v) for k, v in vars(filters).items() if v}
    audit.record("audit.exported", actor=actor, format=fmt, filters=used)
    db.session.commit()


def csv_lines(filters: AuditFilters) -> Iterator[str]:
    """The filtered log as CSV, one line at a time; details as readable text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    for row in _events(filters):
        cells = [*_record(row).values(), "; ".join(describe(row.details))]
        writer.writerow([neutralise("" if cell is None else str(cell)) for cell in cells])
        yield flush()


def json_lines(filters: AuditFilters) -> Iterator[str]:
    """The filtered log as JSON lines, one event per line, details as recorded."""
    for row in _events(filters):
        yield json.dumps({**_record(row), "details": row.details or {}}, ensure_ascii=False) + "\n"


def prune(days: int) -> int:
    """Delete events older than ``days`` days; 0 keeps everything. Returns how many (no commit)."""
    if days <= 0:
        return 0
    cutoff = utcnow() - timedelta(days=days)
    stmt = delete(AuditEvent).where(AuditEvent.at < cutoff)
    return db.session.execute(stmt.execution_options(synchronize_session=False)).rowcount
