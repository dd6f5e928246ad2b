"""Admin pages for the program catalogue: list, add, edit, (de)activate, CSV import/export."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from acs_auth import messages
from acs_auth.admin.forms import ActionForm
from acs_auth.admin.program_forms import ProgramForm, ProgramImportForm
from acs_auth.admin.views import bp
from acs_auth.models import utcnow
from acs_auth.oidc import clients
from acs_auth.services.allowlist.csvfile import CsvRejected
from acs_auth.services.programs import catalogue


def _program_or_404(program_id: str):
    program = catalogue.get(program_id)
    if program is None:
        abort(404)
    return program


def _save(form: ProgramForm, create: bool) -> bool:
    """Hand the form to the catalogue; its refusals become field errors."""
    try:
        fields = catalogue.clean(
            form.lo_root_id.data,
            form.name.data,
            form.description.data,
            form.launch_url.data,
            form.active.data,
        )
        catalogue.save(fields, actor=current_user, create=create)
    except catalogue.ProgramInvalid as exc:
        for name, text in exc.errors.items():
            getattr(form, name, form.lo_root_id).errors.append(text)
        return False
    flash(messages.PROGRAM_SAVED.format(lo_root_id=fields["lo_root_id"]), "success")
    return True


@bp.get("/programs")
def list_programs():
    """The catalogue, with the import form."""
    served_by: dict[str, list[str]] = {}
    for client in clients.all_clients():
        for lo_root_id in client.programs:
            served_by.setdefault(lo_root_id, []).append(client.name)
    return render_template(
        "admin/programs.html",
        programs=catalogue.all_programs(),
        served_by=served_by,
        action_form=ActionForm(),
        import_form=ProgramImportForm(),
    )


@bp.route("/programs/new", methods=["GET", "POST"])
def create_program():
    """Add a program."""
    form = ProgramForm()
    if form.validate_on_submit() and _save(form, create=True):
        return redirect(url_for(".list_programs"))
    return render_template("admin/program.html", form=form, program=None), (
        400 if form.errors else 200
    )


@bp.route("/programs/<program_id>/edit", methods=["GET", "POST"])
def edit_program(program_id: str):
    """Change a program (its LO Root ID stays)."""
    program = _program_or_404(program_id)
    form = ProgramForm(obj=program)
    form.lo_root_id.data = program.lo_root_id
    if form.validate_on_submit() and _save(form, create=False):
        return redirect(url_for(".list_programs"))
    return render_template("admin/program.html", form=form, program=program), (
        400 if form.errors else 200
    )


def _set_active(program_id: str, active: bool):
    program = _program_or_404(program_id)
    if ActionForm().validate_on_submit():
        catalogue.set_active(program, active, actor=current_user)
        text = messages.PROGRAM_ACTIVATED if active else messages.PROGRAM_DEACTIVATED
        flash(text.format(lo_root_id=program.lo_root_id), "success")
    return redirect(url_for(".list_programs"))


@bp.post("/programs/<program_id>/activate")
def activate_program(program_id: str):
    """Offer a program again."""
    return _set_active(program_id, True)


@bp.post("/programs/<program_id>/deactivate")
def deactivate_program(program_id: str):
    """Stop offering a program; it stays in the catalogue."""
    return _set_active(program_id, False)


@bp.post("/programs/import")
def import_programs():
    """Add or update programs from a CSV; nothing is applied when a row is invalid."""
    form = ProgramImportForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errs in form.errors.values() for e in errs), "error")
        return redirect(url_for(".list_programs"))
    try:
        result = catalogue.import_csv(form.file.data.read(), actor=current_user)
    except CsvRejected as exc:
        flash(str(exc), "error")
        return redirect(url_for(".list_programs"))
    if result.errors:
        lines = "; ".join(f"line {n}: {p}" for n, p in result.errors[:10])
        flash(
            messages.PROGRAM_IMPORT_ERRORS.format(count=len(result.errors)) + " " + lines, "error"
        )
    else:
        flash(
            messages.PROGRAM_IMPORTED.format(
                added=len(result.added), changed=len(result.changed), unchanged=result.unchanged
            ),
            "success",
        )
    return redirect(url_for(".list_programs"))


@bp.get("/programs.csv")
def export_programs():
    """The catalogue as CSV; importing it again changes nothing."""
    name = f"programs-{utcnow():%Y%m%d-%H%M}.csv"
    return Response(
        catalogue.export_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
