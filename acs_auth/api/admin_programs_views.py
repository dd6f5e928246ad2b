"""/api/admin/programs: the program catalogue (list, add, change, CSV import), admins only.

The routes join the /api/admin blueprint, so its one role check covers them.
"""

from __future__ import annotations

from flask import jsonify, request
from werkzeug.exceptions import UnsupportedMediaType

from acs_auth import messages
from acs_auth.api.admin_views import CSV_TYPES, TAGS, bp
from acs_auth.api.contract import Invalid, Response, validate
from acs_auth.api.guards import principal, upload
from acs_auth.api.problems import problem
from acs_auth.api.schemas.catalogue import (
    CatalogueImport,
    CatalogueProgram,
    CatalogueProgramList,
    ProgramCreate,
    ProgramImport,
    ProgramUpdate,
)
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
@validate(resp=Response(HTTP_200=CatalogueProgramList), tags=TAGS)
def list_catalogue():
    """The program catalogue.

    Every program, active or not, with its name, description and launch URL.
    """
    return jsonify(items=[program_json(p) for p in catalogue.all_programs()])


@bp.post("/programs")
@validate(resp=Response("HTTP_409", HTTP_201=CatalogueProgram), tags=TAGS)
def create_program(json: ProgramCreate):
    """Add a program.

    A new catalogue entry; an LO Root ID already in the catalogue answers 409.
    """
    fields = {
        "lo_root_id": json.lo_root_id,
        "name": json.name,
        "description": json.description,
        "launch_url": json.launch_url,
        "active": True if json.active is None else json.active,
    }
    return _save(fields, create=True)


@bp.get("/programs/<program_id>")
@validate(resp=Response("HTTP_404", HTTP_200=CatalogueProgram), tags=TAGS)
def get_catalogue_program(program_id: str):
    """One program.

    A catalogue entry by its LO Root ID.
    """
    program = catalogue.get(program_id)
    if program is None:
        return problem(404, detail=messages.PROGRAM_NOT_FOUND)
    return jsonify(program_json(program))


@bp.patch("/programs/<program_id>")
@validate(resp=Response("HTTP_404", HTTP_200=CatalogueProgram), tags=TAGS)
def update_program(program_id: str, json: ProgramUpdate):
    """Change a program.

    Its name, description, launch URL or active flag; the LO Root ID stays.
    """
    data = json.model_dump(exclude_unset=True)
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
@upload("text/csv")
@validate(resp=Response(HTTP_200=CatalogueImport), tags=TAGS)
def import_programs(query: ProgramImport):
    """Add or update programs from CSV.

    Columns lo_root_id, name, description, launch_url, active; bad rows answer 422 by line
    and nothing is applied. With dry_run=true, a report only.
    """
    if request.mimetype not in CSV_TYPES:
        raise UnsupportedMediaType(messages.API_CSV_REQUIRED)
    dry_run = query.dry_run
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
