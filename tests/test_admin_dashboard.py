"""Admin console: the dashboard's figures and chart, and the audit log with its filters."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import (
    AllowlistEntry,
    AuditEvent,
    AuthSession,
    OutboxMessage,
    User,
    utcnow,
)
from acs_auth.services.monitoring import dashboard


def figures(body: str) -> dict[str, str]:
    found = re.findall(r"<header>([^<]+)</header><p class=\"figure\">([^<]+)</p>", body)
    return {html.unescape(label): value for label, value in found}


def add(app, *rows) -> None:
    with app.app_context():
        db.session.add_all(rows)
        db.session.commit()


def event(name: str, ago: timedelta, **kw) -> AuditEvent:
    return AuditEvent(event=name, at=utcnow() - ago, details={}, **kw)


def test_dashboard_figures(app, client, admin, make_user, make_entry):
    make_user(email="pending@example.org", password=None)
    locked = make_user(email="locked@example.org")
    make_user(email="gone@example.org", active=False)
    make_user(email="ada@example.org")
    with app.app_context():
        db.session.get(User, locked).locked_until = utcnow() + timedelta(minutes=9)
        db.session.commit()
    make_entry(email="ada@example.org")
    make_entry(email="pending@example.org")
    make_entry(email="nobody@example.org")
    make_entry(email="removed@example.org", active=False)
    now = utcnow()

    def session(**kw):
        return AuthSession(
            public_id=f"s{len(kw)}{kw.get('revoked_at')}{kw.get('expires_at')}",
            user_id=admin,
            kind="browser",
            expires_at=kw.pop("expires_at", now + timedelta(hours=1)),
            **kw,
        )

    add(
        app,
        session(revoked_at=now),
        session(expires_at=now - timedelta(minutes=1)),
        OutboxMessage(to="a@example.org", subject="s", text="t"),
        OutboxMessage(to="b@example.org", subject="s", text="t"),
        OutboxMessage(to="c@example.org", subject="s", text="t", failed_at=now),
        OutboxMessage(to="d@example.org", subject="s", text="t", sent_at=now),
        event("login.failed", timedelta(hours=1)),
        event("login.failed", timedelta(hours=23)),
        event("login.failed", timedelta(hours=25)),
    )
    body = client.get("/admin/").get_data(as_text=True)
    assert figures(body) == {
        "Active": "2",  # root and ada
        "Password not set yet": "1",
        "Locked": "1",
        "Inactive": "1",
        "Total": "5",
        "Allowlist entries": "3",
        "Registered": "2 (67%)",
        "Active sessions": "1",  # the admin's own, opened by login_as
        "Mail queued": "2",
        "Mail failed": "1",
        "Failed sign-ins (24 h)": "2",
        # Second factors of active accounts (tests/test_mfa_admin.py covers them).
        "Authenticator app": "0",
        "Recovery codes": "0",
        "Passkeys": "0",
        "With none": "4",
        "Required but missing": "0",
    }


def test_the_sign_in_chart_is_server_side_svg(app, client, admin):
    add(
        app,
        *[event("login.succeeded", timedelta(days=2)) for _ in range(3)],
        event("login.failed", timedelta(days=2)),
        event("login.succeeded", timedelta(0)),
        event("login.succeeded", timedelta(days=45)),  # outside the 30 days
        event("logout", timedelta(days=1)),
    )
    response = client.get("/admin/")
    body = response.get_data(as_text=True)
    assert "<script" not in body and "style=" not in body
    assert '<svg width="100%" viewBox="0 0 720 220" role="img"' in body
    day = (utcnow() - timedelta(days=2)).date().isoformat()
    today = utcnow().date().isoformat()
    assert f"<title>{day}: 3 succeeded</title>" in body
    assert f"<title>{day}: 1 failed</title>" in body
    assert f"<title>{today}: 1 succeeded</title>" in body
    assert body.count("<rect x=") == 60  # 30 days, two bars each
    assert (
        f'<tr><td data-label="Day">{day}</td><td data-label="Successful">3</td>'
        '<td data-label="Failed">1</td></tr>'
    ) in body
    assert "Content-Security-Policy" in response.headers


def test_series_and_chart_geometry(app):
    with app.app_context():
        db.session.add_all([event("login.succeeded", timedelta(days=1)) for _ in range(9)])
        db.session.commit()
        series = dashboard.signins_per_day(30)
        chart = dashboard.chart(series)
    assert len(series) == 30 and series[-1].day == utcnow().date()
    assert series[-2].succeeded == 9 and sum(d.failed for d in series) == 0
    assert chart.maximum == 20  # quarters of 1, 2 or 5 x 10^n: the first round axis above 9
    assert [value for _y, value in chart.ticks] == [0, 5, 10, 15, 20]
    tallest = max(chart.bars, key=lambda b: b.height)
    assert tallest.value == 9 and tallest.height == pytest.approx(186 * 9 / 20)


def test_audit_log_filters(app, client, admin, make_user):
    ada = make_user(email="ada@example.org")
    add(  # in the order they happened, as the application records them
        app,
        event("login.failed", timedelta(days=3), target_id=ada, target_label="ada@example.org"),
        event("login.succeeded", timedelta(days=1), actor_id=ada, actor_label="ada@example.org"),
        event("login.failed", timedelta(hours=2), target_label="ghost@example.org"),
        event(
            "user.updated",
            timedelta(hours=1),
            actor_id=admin,
            actor_label="root@example.org",
            target_id=ada,
            target_label="ada@example.org",
        ),
    )

    def listed(**query):
        body = client.get("/admin/audit", query_string=query).get_data(as_text=True)
        return re.findall(r'<td data-label="Event">([a-z_.]+)</td>\s*<td ', body)

    assert listed() == ["user.updated", "login.failed", "login.succeeded", "login.failed"]

    assert listed(actor="ROOT@example.org") == ["user.updated"]
    assert listed(target="ada@example.org") == ["user.updated", "login.failed"]
    assert listed(target="ghost@example.org") == ["login.failed"]
    assert listed(event="login.failed") == ["login.failed", "login.failed"]
    assert listed(event="login.") == ["login.failed", "login.succeeded", "login.failed"]
    two_days_ago = (utcnow() - timedelta(days=2)).date().isoformat()
    assert listed(date_to=two_days_ago) == ["login.failed"]
    # The day the update happened (an hour ago is yesterday between 00:00 and 01:00 UTC).
    update_day = (utcnow() - timedelta(hours=1)).date().isoformat()
    assert listed(date_from=update_day, event="user.updated") == ["user.updated"]


def test_audit_log_pages(app, client, admin):
    add(app, *[event(f"test.e{i:03d}", timedelta(minutes=200 - i)) for i in range(120)])
    body = client.get("/admin/audit?event=test.").get_data(as_text=True)
    first = re.findall(r'<td data-label="Event">(test\.e\d+)</td>', body)
    assert first[0] == "test.e119" and len(first) == 50
    older = html.unescape(re.search(r'href="([^"]+)" rel="next">Older', body).group(1))
    body = client.get(older).get_data(as_text=True)
    second = re.findall(r'<td data-label="Event">(test\.e\d+)</td>', body)
    assert second[0] == "test.e069" and len(second) == 50
    newer = html.unescape(re.search(r'href="([^"]+)" rel="prev">', body).group(1))
    assert (
        re.findall(r'<td data-label="Event">(test\.e\d+)</td>', client.get(newer).get_data(True))
        == first
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"date_from": "2024-13-45"}, messages.ADMIN_DATE_INVALID),
        ({"date_from": "2025-02-02", "date_to": "2025-02-01"}, messages.ADMIN_DATE_RANGE),
        ({"event": "x" * 60}, messages.FIELD_TOO_LONG),
        ({"actor": "a\x00b@example.org"}, messages.FIELD_INVALID_CHARACTERS),
        ({"target": "t" * 300}, messages.FIELD_TOO_LONG),
        ({"before": "nan"}, None),
        ({"after": "1" * 40}, None),
    ],
)
def test_audit_log_bad_filters_are_form_errors(client, admin, query, message):
    response = client.get("/admin/audit", query_string=query)
    assert response.status_code == 200
    if message:
        assert message in response.get_data(as_text=True)


def test_registered_share_without_entries_is_zero(app):
    with app.app_context():
        stats = dashboard.dashboard()
    assert stats.registered_share == 0 and stats.users_total == 0
    assert AllowlistEntry.__tablename__ == "allowlist_entries"
