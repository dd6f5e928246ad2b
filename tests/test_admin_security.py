"""The admin security view: signals per hour and day, sources, unusual and dormant accounts,
the dormant export, rate-limit refusals in the audit log, and the optional alert email."""

from __future__ import annotations

import csv
import html
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import AuditEvent, Role, User, utcnow
from acs_auth.services.monitoring import alerts as security_alerts
from tests.support.config import STRONG_PASSWORD
from tests.support.db import read_db


def api_login(app, email: str, password: str, ip: str = "203.0.113.7", agent: str = "curl/8"):
    return app.test_client().post(
        "/api/auth/login",
        json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": ip},
        headers={"User-Agent": agent},
    )


def page(client, query: str = "") -> str:
    response = client.get("/admin/security" + query)
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def audit_count(app, event: str) -> int:
    query = select(func.count()).select_from(AuditEvent).where(AuditEvent.event == event)
    return read_db(app, lambda: db.session.scalar(query))


def add_event(app, event: str, user_id: int, ip: str, agent: str, days_ago: float) -> None:
    def add():
        user = db.session.get(User, user_id)
        db.session.add(
            AuditEvent(
                event=event,
                target_id=user_id,
                target_label=user.email,
                ip=ip,
                user_agent=agent,
                at=utcnow() - timedelta(days=days_ago),
                details={},
            )
        )
        db.session.commit()

    read_db(app, add)


def test_only_admins_reach_the_view_and_the_export(client, make_user, login_as):
    assert client.get("/admin/security").status_code == 302  # to the sign-in page
    login_as(make_user())
    assert client.get("/admin/security").status_code == 403
    assert client.get("/admin/security/dormant.csv").status_code == 403


def source_row(ip: str, network: str, failures: int, accounts: int) -> str:
    """A row of the top-sources table, as it is rendered (labelled cells stack on a phone)."""
    cells = {"Address": ip, "Range": network, "Failures": failures, "Accounts tried": accounts}
    return "".join(f'<td data-label="{label}">{value}</td>' for label, value in cells.items())


@pytest.mark.parametrize("app_overrides", [{"MAX_LOGIN_ATTEMPTS": 3}], indirect=True)
def test_signals_sources_and_unusual_accounts(app, client, admin, make_user, outbox):
    make_user()
    for _ in range(4):
        api_login(app, "ada@example.org", "wrong password, sorry")
    api_login(app, "nobody@example.org", "wrong password", ip="198.51.100.9")
    client.post("/api/auth/request-password-reset", json={"email": "ada@example.org"})
    outbox.deliver()  # the sender handles the request (and audits it) off the request path
    body = page(client)

    # Both charts: 5 failures, 1 lockout, 1 reset request, nothing rate limited.
    assert body.count("<title>Failed sign-ins: 5</title>") == 2
    assert body.count("<title>Lockouts: 1</title>") == 2
    assert body.count("<title>Reset requests: 1</title>") == 2
    assert body.count("<title>Rate-limited: 0</title>") == 2
    assert "<script" not in body
    # Sources: address, range, failures, accounts tried; the busiest first.
    first = body.index(source_row("203.0.113.7", "203.0.113.0/24", 4, 1))
    assert first < body.index(source_row("198.51.100.9", "198.51.100.0/24", 1, 1))
    assert "4 failed sign-ins" in body  # ada's account stands out


def test_new_ranges_and_devices_stand_out_against_the_accounts_own_history(
    app, client, admin, make_user
):
    usual = make_user()
    moved = make_user(email="grace@example.org", last_name="Hopper")
    for user_id in (usual, moved):
        add_event(app, "login.succeeded", user_id, "198.51.100.5", "Firefox/140", days_ago=10)
    api_login(app, "ada@example.org", STRONG_PASSWORD, ip="198.51.100.77", agent="Firefox/140")
    api_login(app, "grace@example.org", STRONG_PASSWORD, ip="192.0.2.9", agent="Unknown/1")
    body = page(client)

    section = body[body.index('id="unusual-heading"') : body.index('id="dormant-heading"')]
    assert "grace@example.org" in section
    assert "new IP range 192.0.2.0/24; new device" in section
    assert "ada@example.org" not in section  # same /24, same device


def test_dormant_accounts_and_their_export(app, client, admin, make_user):
    def age(email: str, last_login_days: float | None, created_days: float) -> None:
        def change():
            user = db.session.scalar(select(User).where(User.email == email))
            now = utcnow()
            user.last_login_at = (
                None if last_login_days is None else now - timedelta(days=last_login_days)
            )
            user.created_at = now - timedelta(days=created_days)
            db.session.commit()

        read_db(app, change)

    make_user(email="old@example.org", first_name="=HYPERLINK(1)")
    make_user(email="recent@example.org")
    make_user(email="never@example.org", password=None)
    make_user(email="new@example.org")
    make_user(email="gone@example.org", active=False)
    age("old@example.org", 120, 400)
    age("recent@example.org", 10, 400)
    age("never@example.org", None, 200)
    age("gone@example.org", 300, 400)
    age("root@example.org", 0, 400)

    body = page(client)
    listed = body[body.index('id="dormant-heading"') :]
    assert "2 active account(s) without a sign-in for 90 days" in listed
    assert listed.index("never@example.org") < listed.index("old@example.org")
    for absent in ("recent@", "new@", "gone@", "root@"):
        assert absent not in listed
    assert "recent@example.org" in page(client, "?days=5")

    export = client.get("/admin/security/dormant.csv?days=90")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert "attachment" in export.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["email", "first_name", "last_name", "role", "created_at", "last_login_at"]
    assert [r[0] for r in rows[1:]] == ["never@example.org", "old@example.org"]
    assert rows[2][1] == "'=HYPERLINK(1)"  # neutralised for spreadsheets
    assert audit_count(app, "security.dormant_exported") == 1


@pytest.mark.parametrize(
    "days, error",
    [
        ("0", messages.ADMIN_DORMANT_DAYS),
        ("-3", messages.ADMIN_DORMANT_DAYS),
        ("99999", messages.ADMIN_DORMANT_DAYS),
        ("abc", "Not a valid integer value."),
        ("1e9", "Not a valid integer value."),
    ],
)
def test_bad_dormant_days_are_a_form_error(client, admin, days, error):
    for url in ("/admin/security", "/admin/security/dormant.csv"):
        response = client.get(f"{url}?days={days}")
        assert response.status_code == 400
        assert response.mimetype == "text/html"
        assert error in html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize(
    "app_overrides",
    [{"RATELIMIT_ENABLED": True, "RATELIMIT_PER_IDENTIFIER": "1 per minute"}],
    indirect=True,
)
def test_rate_limit_refusals_leave_one_audit_row_per_address_and_minute(
    app, client, admin, make_user
):
    make_user()
    statuses = [api_login(app, "ada@example.org", "wrong").status_code for _ in range(5)]
    assert statuses.count(429) == 4
    assert audit_count(app, "ratelimit.exceeded") == 1
    api_login(app, "ada@example.org", "wrong", ip="192.0.2.50")
    assert audit_count(app, "ratelimit.exceeded") == 2
    assert page(client).count("<title>Rate-limited: 2</title>") == 2


ALERT = {"SECURITY_ALERT_THRESHOLD": 3, "SECURITY_ALERT_WINDOW_MINUTES": 15}


@pytest.mark.parametrize("app_overrides", [ALERT], indirect=True)
def test_the_alert_mail_goes_once_per_window(app, make_user, outbox, monkeypatch):
    make_user(email="root@example.org", role=Role.ADMIN.value)
    make_user(email="root2@example.org", role=Role.ADMIN.value)
    make_user(email="off@example.org", role=Role.ADMIN.value, active=False)
    monkeypatch.setattr(security_alerts, "clock", lambda: 900 * 1000 + 10)
    for n in range(2):
        api_login(app, f"nobody{n}@example.org", "wrong")
    assert outbox.to("root@example.org") == []
    for n in range(4):
        api_login(app, f"nobody{n}@example.org", "wrong")

    alert = outbox.last_to("root@example.org")
    assert len(outbox.to("root@example.org")) == 1 and len(outbox.to("root2@example.org")) == 1
    assert outbox.to("off@example.org") == []
    assert "Many failed sign-ins" in alert["Subject"]
    assert "3 sign-ins" in outbox.text(alert) and "/admin/security" in outbox.text(alert)
    assert "nobody" not in outbox.text(alert)

    monkeypatch.setattr(security_alerts, "clock", lambda: 900 * 1001 + 10)  # the next window
    for n in range(3):
        api_login(app, f"nobody{n}@example.org", "wrong")
    assert len(outbox.to("root@example.org")) == 2
    assert audit_count(app, "security.alert_sent") == 2


def test_no_alert_without_a_threshold(app, make_user, outbox):
    make_user(email="root@example.org", role=Role.ADMIN.value)
    for n in range(30):
        api_login(app, f"nobody{n}@example.org", "wrong")
    assert outbox.to("root@example.org") == []
