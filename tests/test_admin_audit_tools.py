"""The audit log reads as `field: old → new`, exports with its filters, and is pruned on request."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from acs_auth.extensions import db
from acs_auth.models import AuditEvent, utcnow
from tests.support.db import read_db
from tests.support.web import csrf_from


def add_event(app, event: str, days_ago: float = 0, **fields) -> None:
    def add():
        db.session.add(AuditEvent(event=event, at=utcnow() - timedelta(days=days_ago), **fields))
        db.session.commit()

    read_db(app, add)


def event_names(app) -> list[str]:
    return read_db(app, lambda: sorted(db.session.scalars(select(AuditEvent.event)).all()))


def test_details_read_as_field_old_to_new(app, client, admin, make_user):
    ada = make_user()
    page = f"/admin/users/{ada}"
    token = csrf_from(client.get(page).get_data(as_text=True))
    data = {"csrf_token": token, "role": "guest", "programs": "PROG-1; PROG-9", "active": "y"}
    assert client.post(page, data=data).status_code == 302
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "role: user → guest" in html
    assert "programs: PROG-1 → PROG-1, PROG-9" in html
    assert "overflow-auto" not in html  # no scroll region around the table


def test_csv_export_applies_the_filters_and_neutralises_formulas(app, client, admin):
    add_event(app, "login.failed", target_label='=HYPERLINK("http://evil")', ip="192.0.2.1")
    add_event(app, "login.succeeded", target_label="ada@example.org")
    response = client.get("/admin/audit/export.csv", query_string={"event": "login.failed"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["event"] for row in rows] == ["login.failed"]
    assert rows[0]["target"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["ip"] == "192.0.2.1"
    assert "audit.exported" in event_names(app)  # an export is itself on the record


def test_json_lines_export_keeps_details_and_filters(app, client, admin):
    add_event(app, "user.updated", details={"changes": {"role": ["user", "admin"]}})
    add_event(app, "logout", days_ago=3)
    day = (utcnow() - timedelta(days=1)).date().isoformat()
    response = client.get("/admin/audit/export.jsonl", query_string={"date_from": day})
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    # The export is recorded before it is written, so it lists itself first.
    assert [line["event"] for line in lines] == ["audit.exported", "user.updated"]
    assert lines[1]["details"] == {"changes": {"role": ["user", "admin"]}}
    assert client.get("/admin/audit/export.xml").status_code == 404


def test_a_non_admin_cannot_export(app, client, make_user, login_as):
    login_as(make_user())
    assert client.get("/admin/audit/export.csv").status_code == 403
    assert client.get("/admin/audit/export.jsonl").status_code == 403


def test_cleanup_keeps_the_audit_log_by_default(app, runner):
    add_event(app, "login.failed", days_ago=4000)
    result = runner.invoke(args=["cleanup"])
    assert result.exit_code == 0, result.output
    assert "login.failed" in event_names(app)


@pytest.mark.parametrize("app_overrides", [{"AUDIT_RETENTION_DAYS": 90}])
def test_cleanup_prunes_audit_events_past_the_retention(app, runner):
    add_event(app, "login.failed", days_ago=91)
    add_event(app, "login.succeeded", days_ago=89)
    result = runner.invoke(args=["cleanup"])
    assert result.exit_code == 0, result.output
    assert "Removed 1 audit events older than 90 days" in result.output
    assert event_names(app) == ["login.succeeded", "maintenance.cleanup"]
