"""/api/programs: the LO Root IDs the caller may use (administrators: all of them)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from acs_auth import messages
from acs_auth.api.guards import principal
from acs_auth.api.problems import problem
from acs_auth.services import programs

bp = Blueprint("programs", __name__, url_prefix="/programs")


@bp.get("")
def list_programs():
    """The caller's programs, sorted."""
    return jsonify(programs=programs.programs_for(principal().caller))


@bp.get("/<program_id>")
def get_program(program_id: str):
    """One program the caller is authorized for; 403 for any other."""
    if not programs.may_use(principal().caller, program_id):
        return problem(403, detail=messages.PROGRAM_FORBIDDEN)
    return jsonify(id=program_id, authorized=True, url=programs.chatbot_url(program_id))
