"""JSON for the admin API's figures and allowlist imports (counts, errors, dry-run preview)."""

from __future__ import annotations

import dataclasses

from flask import current_app, jsonify

from acs_auth import messages
from acs_auth.api.problems import problem
from acs_auth.services.allowlist.imports import ImportResult, Preview

# A preview can list every row of a 200,000-line file; the API shows at most this many items
# per list and says when it cut one short (the counts are always complete).
MAX_ITEMS = 1000


def stats_json(dashboard, days) -> dict:
    """The dashboard figures plus sign-ins per UTC day."""
    figures = dataclasses.asdict(dashboard)
    figures["users_total"] = dashboard.users_total
    figures["registered_share"] = round(dashboard.registered_share, 4)
    figures["signins_per_day"] = [
        {"day": d.day.isoformat(), "succeeded": d.succeeded, "failed": d.failed} for d in days
    ]
    return figures


def _row(row) -> dict:
    return {
        "email": row.email,
        "last_name": row.last_name,
        "first_name": row.first_name,
        "lo_root_ids": sorted(row.ids),
        "lines": list(row.lines),
    }


def _change(change) -> dict:
    return {
        "email": change.row.email,
        "restored": change.restored,
        "fields": [{"field": f, "old": old, "new": new} for f, old, new in change.fields],
    }


def preview_json(preview: Preview) -> dict:
    """What applying the file would do, list by list."""
    lists = {
        "to_add": [_row(r) for r in preview.to_add[:MAX_ITEMS]],
        "to_change": [_change(c) for c in preview.to_change[:MAX_ITEMS]],
        "to_remove": [
            {"email": r.email, "last_name": r.last_name} for r in preview.to_remove[:MAX_ITEMS]
        ],
    }
    return {
        "mode": preview.mode,
        "sha256": preview.sha256,
        "active_before": preview.active_before,
        "removal_fraction": round(preview.removal_fraction, 4),
        "needs_removal_confirmation": preview.needs_removal_confirmation(),
        **lists,
        "truncated": any(
            len(full) > MAX_ITEMS for full in (preview.to_add, preview.to_change, preview.to_remove)
        ),
        "uncatalogued": preview.uncatalogued[:MAX_ITEMS],
    }


def line_errors(errors) -> list[dict]:
    """``[(line, message), …]`` as ``[{"line": n, "message": "…"}, …]``."""
    return [{"line": line, "message": str(text)} for line, text in list(errors)[:MAX_ITEMS]]


def import_response(result: ImportResult, *, dry_run: bool):
    """200 with what was (or would be) done; 422 for bad rows, 409 for an unconfirmed removal."""
    errors = line_errors(result.errors)
    if result.blocked == "errors":
        lines = [f"line {e['line']}: {e['message']}" for e in errors]
        return problem(
            422, detail=messages.API_ALLOWLIST_INVALID, errors={"file": lines}, lines=errors
        )
    if result.blocked == "mass_removal":
        preview = result.preview
        limit = current_app.config["ALLOWLIST_MAX_REMOVAL_FRACTION"]
        detail = messages.API_ALLOWLIST_MASS_REMOVAL.format(
            count=len(preview.to_remove), total=preview.active_before, limit=limit
        )
        return problem(409, detail=detail)
    body = {
        "dry_run": dry_run,
        "applied": result.applied,
        "added": result.added,
        "changed": result.changed,
        "unchanged": result.unchanged,
        "removed": result.removed,
        "errors": errors,
    }
    if dry_run and result.preview is not None:
        body["preview"] = preview_json(result.preview)
    return jsonify(body)
