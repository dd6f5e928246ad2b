"""Admin pages for the allowlist: entries and their status, invitations, upload → preview →
apply, import history and CSV export."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from acs_auth import messages
from acs_auth.admin.forms import (
    ActionForm,
    ApplyForm,
    ConfirmForm,
    EntryFilterForm,
    InviteForm,
    UploadForm,
    cursor_arg,
    filter_args,
)
from acs_auth.admin.views import bp
from acs_auth.extensions import limiter
from acs_auth.models import utcnow
from acs_auth.services.allowlist import entries, uploads
from acs_auth.services.allowlist import imports as allowlist
from acs_auth.services.allowlist.csvfile import CsvRejected

# Bulk invitations queue email: a human clicking never needs more than this.
INVITE_RATE = "20 per minute"


def _entry_or_404(entry_id: int) -> entries.EntryStatus:
    found = entries.get(entry_id)
    if found is None:
        abort(404)
    return found


@bp.get("/allowlist")
def list_entries():
    """Allowlist entries with their status; search, filter and bulk invitation."""
    form = EntryFilterForm(formdata=request.args)
    ok = form.validate()
    page = entries.search(
        form.q.data if ok else "",
        form.status.data if ok else "",
        after=cursor_arg("after"),
        before=cursor_arg("before"),
    )
    return render_template(
        "admin/allowlist.html",
        form=form,
        page=page,
        query=filter_args(form),
        invite_form=InviteForm(formdata=None),
        now=utcnow(),
    )


@bp.post("/allowlist/invite")
@limiter.limit(INVITE_RATE)
def invite_entries():
    """Queue registration links for the ticked entries, or for everyone not registered."""
    form = InviteForm()
    if form.validate_on_submit():
        ids = None if form.scope.data == "all" else form.entry_ids.data
        if ids == []:
            flash(messages.ADMIN_INVITE_NONE_SELECTED, "error")
        else:
            result = entries.invite(current_user, entry_ids=ids)
            flash(messages.ADMIN_INVITED.format(sent=result.sent, skipped=result.skipped))
            if result.remaining:
                flash(messages.ADMIN_INVITED_REMAINING.format(remaining=result.remaining))
    else:
        flash(messages.ADMIN_INVITE_NONE_SELECTED, "error")
    return redirect(url_for(".list_entries"))


@bp.route("/allowlist/<int:entry_id>/remove", methods=["GET", "POST"])
def remove_entry(entry_id: int):
    """Ask, then take the person off the allowlist (their account closes)."""
    found = _entry_or_404(entry_id)
    form = ConfirmForm()
    if found.entry.active and form.validate_on_submit():
        closed = entries.remove(found.entry, current_user)
        flash(messages.ADMIN_ENTRY_REMOVED.format(email=found.entry.email, closed=closed))
        return redirect(url_for(".list_entries"))
    code = 400 if form.errors else 200
    return render_template("admin/entry_remove.html", found=found, form=form), code


@bp.post("/allowlist/<int:entry_id>/restore")
def restore_entry(entry_id: int):
    """Put a removed person back on the allowlist (their account reopens)."""
    found = _entry_or_404(entry_id)
    if ActionForm().validate_on_submit() and not found.entry.active:
        opened = entries.restore(found.entry, current_user)
        flash(messages.ADMIN_ENTRY_RESTORED.format(email=found.entry.email, opened=opened))
    return redirect(url_for(".list_entries"))


@bp.get("/allowlist/export.csv")
def export_allowlist():
    """The allowlist as CSV; importing it again changes nothing."""
    text = entries.export_csv(current_user)
    name = f"allowlist-{utcnow():%Y%m%d-%H%M}.csv"
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/allowlist/upload", methods=["GET", "POST"])
def upload_allowlist():
    """Step 1: upload a CSV; it is checked, kept server-side, and previewed next."""
    form = UploadForm()
    if form.validate_on_submit():
        data = form.file.data.read(current_app.config["ALLOWLIST_MAX_BYTES"] + 1)
        try:
            token = uploads.stage(
                data,
                file_name=form.file.data.filename or "",
                mode=form.mode.data,
                actor=current_user,
            )
        except CsvRejected as exc:
            form.file.errors.append(str(exc))
        else:
            return redirect(url_for(".preview_upload", token=token))
    return render_template("admin/upload.html", form=form), 400 if form.errors else 200


def _render_preview(token: str, preview, form: ApplyForm, code: int = 200):
    form.digest.data = preview.digest
    return render_template(
        "admin/preview.html",
        token=token,
        preview=preview,
        form=form,
        action_form=ActionForm(formdata=None),
        limit=current_app.config["ALLOWLIST_MAX_REMOVAL_FRACTION"],
        uncatalogued_warning=messages.PROGRAMS_UNKNOWN_WARNING.format(
            count=len(preview.uncatalogued), ids=", ".join(preview.uncatalogued[:20])
        ),
    ), code


def _upload_gone():
    flash(messages.ADMIN_UPLOAD_EXPIRED, "error")
    return redirect(url_for(".upload_allowlist"))


@bp.get("/allowlist/uploads/<token>")
def preview_upload(token: str):
    """Step 2: what the upload would change; nothing is written yet."""
    upload = uploads.load(token, current_user)
    if upload is None:
        return _upload_gone()
    try:
        preview = uploads.preview(upload)
    except CsvRejected:
        return _upload_gone()
    return _render_preview(token, preview, ApplyForm(formdata=None))


@bp.post("/allowlist/uploads/<token>/apply")
def apply_upload(token: str):
    """Step 3: apply exactly what the preview showed, in one transaction."""
    form = ApplyForm()  # CSRF is checked app-wide; a missing or altered digest is "outdated"
    try:
        batch, preview = uploads.confirm(
            token,
            current_user,
            digest=form.digest.data or "",
            skip_invalid=bool(form.skip_invalid.data),
            confirm_mass_removal=bool(form.confirm_mass_removal.data),
        )
    except (uploads.UploadMissing, CsvRejected):
        return _upload_gone()
    except uploads.PreviewOutdated as exc:
        flash(messages.ADMIN_PREVIEW_OUTDATED, "error")
        return _render_preview(token, exc.preview, ApplyForm(formdata=None), 409)
    except allowlist.ImportBlocked as exc:
        _blocked_error(form, exc)
        return _render_preview(token, exc.preview, form, 400)
    _after_apply(batch, preview, invite=form.invite.data)
    return redirect(url_for(".list_imports"))


def _blocked_error(form: ApplyForm, exc: allowlist.ImportBlocked) -> None:
    if exc.reason == "errors":
        form.skip_invalid.errors = [messages.ADMIN_IMPORT_HAS_ERRORS]
        return
    preview = exc.preview
    form.confirm_mass_removal.errors = [
        messages.ADMIN_IMPORT_MASS_REMOVAL.format(
            count=len(preview.to_remove),
            total=preview.active_before,
            percent=f"{preview.removal_fraction:.0%}",
            limit=f"{current_app.config['ALLOWLIST_MAX_REMOVAL_FRACTION']:.0%}",
        )
    ]


def _after_apply(batch, preview, *, invite: bool) -> None:
    if not preview.has_changes:
        flash(messages.ADMIN_IMPORT_NOTHING)
    else:
        flash(
            messages.ADMIN_IMPORT_DONE.format(
                added=batch.added,
                changed=batch.changed,
                unchanged=batch.unchanged,
                removed=batch.removed,
            ),
            "success",
        )
    if invite and preview.to_add:
        result = entries.invite(current_user, keys=[r.key for r in preview.to_add])
        flash(messages.ADMIN_INVITED.format(sent=result.sent, skipped=result.skipped))
        if result.remaining:
            flash(messages.ADMIN_INVITED_REMAINING.format(remaining=result.remaining))


@bp.post("/allowlist/uploads/<token>/discard")
def discard_upload(token: str):
    """Forget a pending upload without applying it."""
    if ActionForm().validate_on_submit() and uploads.discard(token, current_user):
        flash(messages.ADMIN_UPLOAD_DISCARDED)
    return redirect(url_for(".upload_allowlist"))


@bp.get("/allowlist/imports")
def list_imports():
    """Import history: who, when, which file (name and SHA-256), what changed, which mode."""
    page = entries.history(before=cursor_arg("before"), after=cursor_arg("after"))
    return render_template("admin/imports.html", page=page)
