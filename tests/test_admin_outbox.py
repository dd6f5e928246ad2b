"""The admin outbox page: queued and failed mail without bodies, and an audited "retry now"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from acs_auth.extensions import db
from acs_auth.models import AuditEvent, OutboxMessage, utcnow
from tests.support.db import read_db
from tests.support.web import csrf_from

SECRET = "/reset-password/SECRET-TOKEN-123"


def add_message(app, to: str, **fields) -> int:
    def add():
        row = OutboxMessage(
            to=to,
            subject="ACS Portal: Reset your password",
            kind="password_reset",
            text=f"Open {SECRET}",
            html=f"<a href='{SECRET}'>reset</a>",
            **fields,
        )
        db.session.add(row)
        db.session.commit()
        return row.id

    return read_db(app, add)


def test_the_outbox_lists_waiting_and_failed_mail_without_bodies(app, client, admin):
    add_message(app, "queued@example.org", attempts=2, last_error="SMTPServerDisconnected: gone")
    add_message(app, "failed@example.org", attempts=12, failed_at=utcnow(), last_error="refused")
    add_message(app, "sent@example.org", attempts=1, sent_at=utcnow())
    response = client.get("/admin/outbox")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "queued@example.org" in html and "failed@example.org" in html
    assert "sent@example.org" not in html
    assert "SMTPServerDisconnected: gone" in html and "Failed" in html
    assert "SECRET-TOKEN" not in html and "Reset your password" not in html


@pytest.mark.parametrize("app_overrides", [{"MAIL_DELIVERY": "worker"}])
def test_retry_now_makes_a_failed_message_due_and_is_audited(app, client, admin, outbox):
    later = utcnow() + timedelta(hours=1)
    failed = add_message(app, "ada@example.org", attempts=12, failed_at=utcnow())
    waiting = add_message(app, "bob@example.org", attempts=1, next_attempt_at=later)
    assert client.post(f"/admin/outbox/{failed}/retry").status_code == 400  # no CSRF token
    token = csrf_from(client.get("/admin/outbox").get_data(as_text=True))
    response = client.post(f"/admin/outbox/{failed}/retry", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/outbox"
    assert outbox.to("ada@example.org")  # due now: the next delivery round sends it
    assert not outbox.to("bob@example.org")  # the other one still waits for its time
    (event,) = read_db(
        app,
        lambda: db.session.scalars(
            select(AuditEvent).where(AuditEvent.event == "mail.retried")
        ).all(),
    )
    assert (event.actor_label, event.target_label) == ("root@example.org", "ada@example.org")
    assert event.details["was_failed"] is True
    assert client.post("/admin/outbox/9999/retry", data={"csrf_token": token}).status_code == 404
    assert waiting


def test_a_non_admin_gets_no_outbox(app, client, make_user, login_as):
    login_as(make_user())
    assert client.get("/admin/outbox").status_code == 403
