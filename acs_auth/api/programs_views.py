"""/api/programs: the programs the caller may use (administrators: all of them)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from acs_auth import messages
from acs_auth.api.contract import Response, validate
from acs_auth.api.guards import principal
from acs_auth.api.problems import problem
from acs_auth.api.schemas.catalogue import Program, Programs
from acs_auth.services.programs import access as programs
from acs_auth.services.programs import catalogue

bp = Blueprint("programs", __name__, url_prefix="/programs")
TAGS = ("programs",)


@bp.get("")
@validate(resp=Response(HTTP_200=Programs), tags=TAGS)
def list_programs():
    """The caller's programs.

    LO Root IDs, sorted, and the catalogue's fields for each (administrators: all programs).
    """
    items = programs.offered(principal().caller)
    return jsonify(programs=[i["lo_root_id"] for i in items], items=items)


@bp.get("/<program_id>")
@validate(resp=Response(HTTP_200=Program), tags=TAGS)
def get_program(program_id: str):
    """One program.

    A program the caller is authorized for, with its launch URL; 403 (forbidden) for any
    other.
    """
    if not programs.may_use(principal().caller, program_id):
        return problem(403, detail=messages.PROGRAM_FORBIDDEN)
    program = catalogue.get(program_id)
    return jsonify(
        id=program_id,
        authorized=True,
        url=(program.launch_url if program else None) or programs.chatbot_url(program_id),
        name=program.name if program else program_id,
        description=program.description if program else "",
    )
