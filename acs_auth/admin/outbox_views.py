"""Admin page for the email outbox: what waits or failed, and "retry now" (no bodies shown)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from acs_auth import messages
from acs_auth.admin.forms import ActionForm
from acs_auth.admin.views import bp
from acs_auth.models import utcnow
from acs_auth.services.mail import outbox_admin


@bp.get("/outbox")
def list_outbox():
    """Queued and failed messages: recipient, kind, attempts, last error, next attempt."""
    rows = outbox_admin.waiting()
    return render_template("admin/outbox.html", rows=rows, action_form=ActionForm(), now=utcnow())


@bp.post("/outbox/<int:message_id>/retry")
def retry_message(message_id: int):
    """Make one unsent message due now; the background sender picks it up."""
    if ActionForm().validate_on_submit():
        if not outbox_admin.retry(message_id, current_user):
            abort(404)
        flash(messages.ADMIN_MAIL_RETRIED, "success")
    return redirect(url_for(".list_outbox"))
