"""Program selection: the programs a person may use, each with an "Open" button."""

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required

from acs_auth import messages
from acs_auth.services.programs import access as programs
from acs_auth.services.programs import catalogue

bp = Blueprint("programs", __name__)


@bp.before_request
@login_required
def _require_login():
    """Every page of this blueprint needs a signed-in user."""


@bp.get("/programs")
def index():
    """List the caller's programs; with exactly one, go straight to it (its launch URL)."""
    items = programs.offered(current_user)
    if len(items) == 1:
        only = items[0]
        known = catalogue.get(only["lo_root_id"])
        if known is not None and known.launch_url:
            return redirect(known.launch_url)
        return redirect(url_for("programs.show", program_id=only["lo_root_id"]))
    return render_template("programs/index.html", programs=items, empty=messages.NO_PROGRAMS)


@bp.get("/programs/<path:program_id>")
def show(program_id: str):
    """One program's page, with the link to its chatbot; 403 when not authorized."""
    if not programs.may_use(current_user, program_id):
        abort(403, messages.PROGRAM_FORBIDDEN)
    program = catalogue.get(program_id)
    return render_template(
        "programs/show.html",
        program_id=program_id,
        program=program,
        chatbot_url=(program.launch_url if program else None) or programs.chatbot_url(program_id),
        # With one program, /programs comes straight back here: no link to itself.
        list_link=len(programs.offered(current_user)) > 1,
    )
