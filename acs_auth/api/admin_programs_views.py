"""/api/admin/programs: the program catalogue (list, add, change, CSV import), admins only.

The routes join the /api/admin blueprint, so its one role check covers them.
"""

from __future__ import annotations

from flask import jsonify, request
from werkzeug.exceptions import UnsupportedMediaType

from acs_auth import messages
from acs_auth.api import schemas
from acs_auth.api.admin_views import CSV_TYPES, bp
from acs_auth.api.guards import principal, upload
from acs_auth.api.problems import problem
from acs_auth.api.validation import Invalid, json_body, query_args
from acs_auth.models import Program
from acs_auth.services.allowlist.csvfile import CsvRejected
from acs_auth.services.programs import catalogue


def program_json(p: Program) -> dict:
    """One catalogue entry as the admin API answers it."""
    return {
        "lo_root_id": p.lo_root_id,
        "name": p.name,
        "description": p.description,
        "launch_url": p.launch_url,
        "active": p.active,
        "created_at": p.created_at.isoformat(),
        "updated_at": p.updated_at.isoformat(),
    }


def _save(fields: dict, create: bool):
    try:
        checked = catalogue.clean(**fields)
        program = catalogue.save(checked, actor=principal().user, create=create)
    except catalogue.ProgramInvalid as exc:
        if not create and messages.PROGRAM_NOT_FOUND in exc.errors.values():
            return problem(404, detail=messages.PROGRAM_NOT_FOUND)
        if create and messages.PROGRAM_EXISTS in exc.errors.values():
            return problem(409, detail=messages.PROGRAM_EXISTS)
        raise Invalid({k: [v] for k, v in exc.errors.items()}) from None
    return jsonify(program_json(program)), 201 if create else 200


@bp.get("/programs")
def list_catalogue():
    """Every program of the catalogue, active or not."""
    return jsonify(items=[program_json(p) for p in catalogue.all_programs()])


@bp.post("/programs")
def create_program():
    """Add a program to the catalogue."""
    data = json_body(schemas.PROGRAM_CREATE)
    fields = {
        "lo_root_id": data["lo_root_id"],
        "name": data["name"],
        "description": data.get("description"),
        "launch_url": data.get("launch_url"),
        "active": data.get("active", True),
    }
    return _save(fields, create=True)


@bp.get("/programs/<program_id>")
def get_catalogue_program(program_id: str):
    """One catalogue entry."""
    program = catalogue.get(program_id)
    if program is None:
        return problem(404, detail=messages.PROGRAM_NOT_FOUND)
    return jsonify(program_json(program))


@bp.patch("/programs/<program_id>")
def update_program(program_id: str):
    """Change a program's name, description, launch URL or active flag."""
    data = json_body(schemas.PROGRAM_UPDATE)
    program = catalogue.get(program_id)
    if program is None:
        return problem(404, detail=messages.PROGRAM_NOT_FOUND)
    fields = {
        "lo_root_id": program.lo_root_id,
        "name": data.get("name", program.name),
        "description": data.get("description", program.description),
        "launch_url": data.get("launch_url", program.launch_url),
        "active": data.get("active", program.active),
    }
    return _save(fields, create=False)


@bp.post("/programs/import")
@upload
def import_programs():
    """Add or update programs from a CSV (lo_root_id, name, description, launch_url, active)."""
    args = query_args(schemas.PROGRAM_IMPORT)
    if request.mimetype not in CSV_TYPES:
        raise UnsupportedMediaType(messages.API_CSV_REQUIRED)
    dry_run = args.get("dry_run", False)
    try:
        result = catalogue.import_csv(
            request.get_data(cache=False), actor=principal().user, dry_run=dry_run
        )
    except CsvRejected as exc:
        return problem(422, detail=str(exc), errors={"file": [str(exc)]})
    if result.errors:
        lines = [f"line {line}: {text}" for line, text in result.errors[:100]]
        detail = messages.PROGRAM_IMPORT_ERRORS.format(count=len(result.errors))
        return problem(422, detail=detail, errors={"file": lines})
    body = {
        "added": result.added,
        "changed": result.changed,
        "unchanged": result.unchanged,
        "dry_run": dry_run,
    }
    return jsonify(body)
