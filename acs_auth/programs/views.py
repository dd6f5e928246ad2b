"""Program selection: the LO Root IDs a person may use, and the page that opens one."""

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required

from acs_auth import messages
from acs_auth.services import programs

bp = Blueprint("programs", __name__)


@bp.before_request
@login_required
def _require_login():
    """Every page of this blueprint needs a signed-in user."""


@bp.get("/programs")
def index():
    """List the caller's programs; with exactly one, go straight to it."""
    ids = programs.programs_for(current_user)
    if len(ids) == 1:
        return redirect(url_for("programs.show", program_id=ids[0]))
    return render_template("programs/index.html", programs=ids, empty=messages.NO_PROGRAMS)


@bp.get("/programs/<path:program_id>")
def show(program_id: str):
    """One program's page, with the link to its chatbot; 403 when not authorized."""
    if not programs.may_use(current_user, program_id):
        abort(403, messages.PROGRAM_FORBIDDEN)
    return render_template(
        "programs/show.html", program_id=program_id, chatbot_url=programs.chatbot_url(program_id)
    )
