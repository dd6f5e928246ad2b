"""The admin console: one guard for the whole blueprint, the dashboard and the audit log.

Users live in user_views.py and the allowlist in allowlist_views.py; both add their routes to
this ``bp``, so the guard below runs before every one of them, for every HTTP method.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from acs_auth import errors, messages
from acs_auth.admin.forms import AuditFilterForm, UploadForm, cursor_arg, filter_args
from acs_auth.models import utcnow
from acs_auth.services import paging
from acs_auth.services.accounts import user_admin
from acs_auth.services.allowlist.csvfile import human_size
from acs_auth.services.audit import export, log
from acs_auth.services.monitoring import dashboard as admin_stats

bp = Blueprint("admin", __name__, url_prefix="/admin")

UPLOAD_ENDPOINT = "admin.upload_allowlist"
# Room for the multipart envelope and the other fields around the file itself.
UPLOAD_OVERHEAD = 64 * 1024


def _is_admin() -> bool:
    return current_user.is_authenticated and current_user.is_admin


@bp.url_value_preprocessor
def _allow_large_upload(endpoint: str | None, values: dict | None) -> None:
    """Lift the request size cap to ALLOWLIST_MAX_BYTES for an admin's allowlist upload.

    URL value preprocessors run before every before_request hook, including CSRFProtect's,
    which reads the body: this is the last moment the cap can still be changed. Visitors and
    non-admins keep the application-wide MAX_CONTENT_LENGTH.
    """
    if endpoint == UPLOAD_ENDPOINT and request.method == "POST" and _is_admin():
        request.max_content_length = current_app.config["ALLOWLIST_MAX_BYTES"] + UPLOAD_OVERHEAD


@bp.before_request
def require_admin():
    """The one gate of the admin console: visitors sign in first, non-admins get 403."""
    if not current_user.is_authenticated:
        target = request.full_path.rstrip("?") if request.method == "GET" else url_for(".dashboard")
        return redirect(url_for("auth.login", next=target))
    if not current_user.is_admin:
        user_admin.record_denied(current_user, request.method, request.path)
        abort(403)
    return None


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge):
    """An oversized allowlist upload gets the upload form back with the limit spelled out."""
    if request.endpoint != UPLOAD_ENDPOINT or not _is_admin():
        return errors.render_error(exc)
    form = UploadForm(formdata=None)
    limit = human_size(current_app.config["ALLOWLIST_MAX_BYTES"])
    form.file.errors = [messages.CSV_TOO_LARGE.format(limit=limit)]
    return render_template("admin/upload.html", form=form), 413


@bp.get("/")
def dashboard():
    """Figures and the sign-ins chart."""
    series = admin_stats.signins_per_day(30)
    return render_template(
        "admin/dashboard.html",
        stats=admin_stats.dashboard(),
        series=series,
        chart=admin_stats.chart(series),
    )


@bp.get("/audit")
def audit_events():
    """The audit log with its filters, newest first."""
    form = AuditFilterForm(formdata=request.args)
    page = paging.Page()
    if form.validate():
        page = log.search(form.filters(), before=cursor_arg("before"), after=cursor_arg("after"))
    return render_template(
        "admin/audit.html",
        form=form,
        page=page,
        query=filter_args(form),
        describe=export.describe,
    )


# format in the URL: (writer, media type)
EXPORTS = {
    "csv": (export.csv_lines, "text/csv"),
    "jsonl": (export.json_lines, "application/jsonl"),
}


@bp.get("/audit/export.<fmt>")
def export_audit(fmt: str):
    """The audit log with the page's filters applied, as CSV or JSON lines (streamed)."""
    if fmt not in EXPORTS:
        abort(404)
    form = AuditFilterForm(formdata=request.args)
    if not form.validate():
        return audit_events()
    filters = form.filters()
    export.record_export(current_user, filters, fmt)
    writer, mimetype = EXPORTS[fmt]
    name = f"audit-{utcnow():%Y%m%d-%H%M}.{fmt}"
    return Response(
        stream_with_context(writer(filters)),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
