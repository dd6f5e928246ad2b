"""The admin security view and its dormant-account export (routes on the admin ``bp``)."""

from __future__ import annotations

from flask import Response, current_app, render_template, request
from flask_login import current_user
from wtforms import Form, IntegerField
from wtforms.validators import NumberRange, Optional

from acs_auth import messages
from acs_auth.admin.views import bp
from acs_auth.models import utcnow
from acs_auth.services.monitoring import charts, report

DORMANT_SHOWN = 100


class DormantForm(Form):
    """``?days=N`` of the dormant-account list (a GET form: nothing to protect with CSRF)."""

    days = IntegerField(
        validators=[Optional(), NumberRange(1, 3650, message=messages.ADMIN_DORMANT_DAYS)]
    )


def _days(form: DormantForm) -> int:
    if form.validate() and form.days.data is not None:
        return form.days.data
    return current_app.config["SECURITY_DORMANT_DAYS"]


@bp.get("/security")
def security():
    """Attack signals per hour and day, top sources, unusual and dormant accounts."""
    form = DormantForm(request.args)
    days = _days(form)
    hourly = report.series("hour", 48)
    daily = report.series("day", 30)
    page = render_template(
        "admin/security.html",
        hourly=hourly,
        daily=daily,
        hourly_chart=charts.line_chart(hourly, "%H:00", 6),
        daily_chart=charts.line_chart(daily, "%d %b", 5),
        sources=report.top_sources(),
        unusual=report.unusual_accounts(),
        form=form,
        days=days,
        dormant=report.dormant_accounts(days, DORMANT_SHOWN),
        dormant_total=report.dormant_count(days),
    )
    return page, 400 if form.errors else 200


@bp.get("/security/dormant.csv")
def export_dormant():
    """Every dormant account as CSV (one click from the security view)."""
    form = DormantForm(request.args)
    if not form.validate():
        return security()
    days = _days(form)
    text = report.export_dormant(days, current_user)
    name = f"dormant-{days}d-{utcnow():%Y%m%d-%H%M}.csv"
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
