"""The mail outbox: queued with the change, delivered off the request path, never lost."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from test_registration import post_form, text

from acs_auth.extensions import db
from acs_auth.models import OutboxMessage, User, utcnow
from acs_auth.services.accounts import recovery
from acs_auth.services.mail import delivery, letters
from acs_auth.services.mail import outbox as mail
from tests.support.db import read_db
from tests.support.web import csrf_from


def outbox_rows(app) -> list[dict]:
    def rows():
        found = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [
            {
                "to": r.to,
                "kind": r.kind,
                "attempts": r.attempts,
                "last_error": r.last_error,
                "next_attempt_at": r.next_attempt_at,
                "sent_at": r.sent_at,
                "failed_at": r.failed_at,
            }
            for r in found
        ]

    return read_db(app, rows)


def make_due(app) -> None:
    """Move every waiting message's next attempt into the past, as if the back-off had passed."""

    def run():
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None))
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()

    read_db(app, run)


def send(app) -> tuple[int, int]:
    return read_db(app, delivery.send_pending)


def first_row(app) -> dict:
    """The first outbox row, or {} while there is none yet."""
    rows = outbox_rows(app)
    return rows[0] if rows else {}


def wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_smtp_outage_changes_no_answer_and_loses_nothing(app, client, smtp, make_user):
    make_user(email="ada@example.org")
    make_user(email="bob@example.org")
    running = post_form(client, "/forgot-password", {"email": "ada@example.org"})
    assert send(app) == (1, 0)
    assert len(smtp.messages) == 1

    smtp.stop()
    down = post_form(app.test_client(), "/forgot-password", {"email": "bob@example.org"})

    assert (down.status_code, text(down)) == (running.status_code, text(running))
    before = utcnow()
    assert send(app) == (0, 1)
    queued = outbox_rows(app)[-1]
    assert queued["to"] == "bob@example.org" and queued["sent_at"] is None
    assert queued["attempts"] == 1
    assert queued["last_error"]
    assert queued["next_attempt_at"] > before + timedelta(seconds=20)  # backing off
    assert send(app) == (0, 0)  # not due yet: no hammering of a server that is down

    smtp.start()
    assert send(app) == (0, 0)  # still backing off
    make_due(app)
    assert send(app) == (1, 0)
    assert send(app) == (0, 0)
    make_due(app)
    assert send(app) == (0, 0)

    to_bob = [m for m in smtp.messages if m["To"] == "bob@example.org"]
    assert len(to_bob) == 1
    assert "/reset-password/" in to_bob[0].get_body(preferencelist=("plain",)).get_content()
    delivered = outbox_rows(app)[-1]
    assert delivered["sent_at"] is not None and delivered["last_error"] is None
    assert delivered["attempts"] == 2


def test_a_message_is_given_up_after_the_maximum_attempts(app, smtp, make_user):
    app.config["MAIL_MAX_ATTEMPTS"] = 2
    make_user()
    read_db(app, lambda: (queue_reset(app, "ada@example.org"), db.session.commit()))
    smtp.stop()

    assert send(app) == (0, 1)
    make_due(app)
    assert send(app) == (0, 1)

    row = outbox_rows(app)[0]
    assert row["failed_at"] is not None and row["attempts"] == 2
    assert read_db(app, mail.pending_count) == 0
    smtp.start()
    make_due(app)
    assert send(app) == (0, 0)


def queue_reset(app, email: str) -> None:
    user = db.session.scalar(select(User).where(User.email_key == email))
    with app.test_request_context():
        letters.send_reset_link(user)


def test_the_console_transport_writes_an_eml_file_and_prints_the_link(
    app, client, make_user, capsys
):
    assert not app.config.get("MAIL_SERVER")
    make_user()
    post_form(client, "/forgot-password", {"email": "ada@example.org"})

    assert send(app) == (1, 0)

    files = list((__import__("pathlib").Path(app.instance_path) / "outbox").glob("*.eml"))
    assert len(files) == 1 and files[0].name.endswith("-password_reset.eml")
    saved = files[0].read_text()
    assert "To: ada@example.org" in saved
    printed = capsys.readouterr().out
    assert "EMAIL to ada@example.org" in printed
    assert "http://portal.test/reset-password/" in printed
    assert outbox_rows(app)[0]["sent_at"] is not None


def test_console_transport_is_refused_in_production(app, make_user):
    app.config["ENV_NAME"] = "production"
    make_user()
    read_db(app, lambda: (queue_reset(app, "ada@example.org"), db.session.commit()))

    assert send(app) == (0, 1)
    assert "MAIL_SERVER" in outbox_rows(app)[0]["last_error"]


def test_production_prints_mail_when_mail_backend_is_console(app, make_user, capsys):
    """MAIL_BACKEND=console is the operator's explicit choice (production refuses otherwise)."""
    app.config.update(ENV_NAME="production", MAIL_BACKEND="console")
    make_user()
    read_db(app, lambda: (queue_reset(app, "ada@example.org"), db.session.commit()))

    assert send(app) == (1, 0)
    assert "EMAIL to ada@example.org" in capsys.readouterr().out


class TestBackground:
    @pytest.fixture
    def app_overrides(self):
        return {"MAIL_DELIVERY": "background"}

    def test_a_request_that_queues_mail_is_delivered_by_the_background_thread(
        self, app, client, smtp, make_user
    ):
        make_user()
        response = post_form(client, "/forgot-password", {"email": "ada@example.org"})
        assert response.status_code == 200
        # Nothing was sent on the request path: not even the lookup ran (link_requests).
        assert outbox_rows(app) == [] and smtp.messages == []
        response.close()  # what the WSGI server does once the body has gone out
        assert wait_for(lambda: len(smtp.messages) == 1)
        assert smtp.messages[0]["To"] == "ada@example.org"
        assert wait_for(lambda: outbox_rows(app)[0]["sent_at"] is not None)

    def test_the_background_thread_retries_after_an_outage(self, app, client, smtp, make_user):
        make_user()
        smtp.stop()
        post_form(client, "/forgot-password", {"email": "ada@example.org"}).close()
        assert wait_for(lambda: first_row(app).get("attempts") == 1)
        assert wait_for(lambda: first_row(app).get("last_error") is not None)

        smtp.start()
        make_due(app)
        delivery.sender_for(app).kick()  # what the next request that queues mail would do

        assert wait_for(lambda: len(smtp.messages) == 1)
        assert wait_for(lambda: outbox_rows(app)[0]["sent_at"] is not None)
        time.sleep(0.2)
        assert len(smtp.messages) == 1


def test_a_rolled_back_change_queues_nothing(app, smtp, make_user):
    make_user()

    def queue_then_roll_back():
        queue_reset(app, "ada@example.org")
        db.session.rollback()

    read_db(app, queue_then_roll_back)

    assert outbox_rows(app) == []
    assert send(app) == (0, 0)
    assert smtp.messages == []


def test_a_request_that_fails_after_queueing_sends_nothing(
    app, client, smtp, make_user, monkeypatch, caplog
):
    make_user()

    def broken_audit(event, **kwargs):
        raise RuntimeError("the audit write failed")

    token_page = client.get("/forgot-password")
    response = client.post(
        "/forgot-password",
        data={"csrf_token": csrf_from(text(token_page)), "email": "ada@example.org"},
    )
    # The request is answered off the request path (link_requests): the failure happens in
    # the sender, after the reset link was queued, and rolls the queued link back.
    assert response.status_code == 200
    monkeypatch.setattr(recovery.audit, "record", broken_audit)

    assert send(app) == (0, 0)
    assert outbox_rows(app) == []
    assert smtp.messages == []
    assert "link request" in caplog.text and "failed" in caplog.text


def test_parallel_senders_deliver_each_message_exactly_once(app, smtp, make_user):
    make_user()

    def queue_many():
        for _ in range(12):
            queue_reset(app, "ada@example.org")
        db.session.commit()

    read_db(app, queue_many)
    barrier = threading.Barrier(4)
    errors = []

    def sender():
        barrier.wait()
        try:
            read_db(app, lambda: delivery.send_pending(limit=5))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    while send(app)[0]:
        pass

    assert errors == []
    assert len(smtp.messages) == 12
    assert len({m["Message-ID"] for m in smtp.messages}) == 12
    assert all(r["sent_at"] is not None and r["attempts"] == 1 for r in outbox_rows(app))


def test_messages_have_text_and_html_parts_and_the_configured_sender(app, outbox, make_user):
    make_user()
    read_db(app, lambda: (queue_reset(app, "ada@example.org"), db.session.commit()))

    msg = outbox.last_to("ada@example.org")

    assert msg["From"] == app.config["MAIL_DEFAULT_SENDER"]
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Subject"] == "ACS Portal: Reset your password"
    plain = msg.get_body(preferencelist=("plain",)).get_content()
    rich = msg.get_body(preferencelist=("html",)).get_content()
    assert "http://portal.test/reset-password/" in plain
    assert 'href="http://portal.test/reset-password/' in rich
