"""`flask mail send-pending` and `flask mail worker`: delivery, outages and graceful stops."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from test_health import subprocess_env

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import OutboxMessage, utcnow
from acs_auth.services.accounts import accounts
from acs_auth.services.mail import delivery as mail_service
from acs_auth.services.operations import maintenance
from tests.support.config import free_port
from tests.support.db import read_db

ROOT = Path(__file__).resolve().parent.parent


def queue_setup_mail(app, *emails: str) -> None:
    with app.app_context():
        for email in emails:
            accounts.create_user(email)
        db.session.remove()


def outbox_rows(app) -> list[OutboxMessage]:
    return read_db(
        app, lambda: db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    )


def make_due(app) -> None:
    with app.app_context():
        db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
        db.session.commit()


def test_send_pending_delivers_to_smtp_and_prints_counts(app, runner, smtp):
    queue_setup_mail(app, "ada@example.org", "grace@example.org")
    result = runner.invoke(args=["mail", "send-pending"])
    assert result.exit_code == 0, result.output
    assert messages.CLI_MAIL_COUNTS.format(sent=2, failed=0, pending=0) in result.output
    assert sorted(m["To"] for m in smtp.messages) == ["ada@example.org", "grace@example.org"]
    assert all(row.sent_at is not None for row in outbox_rows(app))


def test_send_pending_with_nothing_queued(app, runner, smtp):
    result = runner.invoke(args=["mail", "send-pending"])
    assert result.exit_code == 0
    assert messages.CLI_MAIL_COUNTS.format(sent=0, failed=0, pending=0) in result.output


def test_send_pending_keeps_mail_through_an_smtp_outage(app, runner, smtp):
    queue_setup_mail(app, "ada@example.org")
    smtp.stop()
    result = runner.invoke(args=["mail", "send-pending"])
    assert result.exit_code == 0, result.output
    assert messages.CLI_MAIL_COUNTS.format(sent=0, failed=1, pending=1) in result.output
    (row,) = outbox_rows(app)
    assert row.sent_at is None and row.last_error
    smtp.start()
    make_due(app)
    result = runner.invoke(args=["mail", "send-pending"])
    assert messages.CLI_MAIL_COUNTS.format(sent=1, failed=0, pending=0) in result.output
    assert [m["To"] for m in smtp.messages] == ["ada@example.org"]


def test_send_pending_says_the_outbox_is_empty(app, runner, smtp):
    result = runner.invoke(args=["mail", "send-pending"])
    assert messages.CLI_MAIL_NOTHING_QUEUED in result.output


def test_send_pending_says_no_mail_server_is_configured(app, runner):
    """Production with MAIL_BACKEND=smtp but no server (refused at start-up): the CLI says so."""
    app.config.update(ENV_NAME="production", MAIL_BACKEND="smtp")
    queue_setup_mail(app, "ada@example.org")
    result = runner.invoke(args=["mail", "send-pending"])
    assert result.exit_code == 0, result.output
    assert messages.CLI_MAIL_COUNTS.format(sent=0, failed=1, pending=1) in result.output
    assert "no mail server configured (MAIL_SERVER)" in result.output
    assert messages.CLI_MAIL_LAST_ERROR.format(
        error=f"RuntimeError: {messages.MAIL_NO_SERVER}"
    ) in (result.output)


def test_send_pending_names_the_console_when_there_is_no_mail_server(app, runner, capsys):
    queue_setup_mail(app, "ada@example.org")
    result = runner.invoke(args=["mail", "send-pending"])
    assert messages.CLI_MAIL_COUNTS.format(sent=1, failed=0, pending=0) in result.output
    assert messages.CLI_MAIL_TO_CONSOLE in result.output


def test_send_pending_says_why_waiting_mail_was_not_sent(app, runner, smtp):
    queue_setup_mail(app, "ada@example.org")
    smtp.stop()
    first = runner.invoke(args=["mail", "send-pending"])
    assert "Not sent: " in first.output and "refused" in first.output.lower()
    smtp.start()
    second = runner.invoke(args=["mail", "send-pending"])  # the retry is not due yet
    assert messages.CLI_MAIL_COUNTS.format(sent=0, failed=0, pending=1) in second.output
    assert "Nothing sent: 1 message(s) are not due yet" in second.output
    assert "Last error: ConnectionRefusedError" in second.output
    assert smtp.messages == []


def test_send_pending_drains_more_than_one_batch(app, runner, smtp, monkeypatch):
    monkeypatch.setattr(maintenance, "MAIL_BATCH", 2)
    queue_setup_mail(app, *(f"person{i}@example.org" for i in range(5)))
    result = runner.invoke(args=["mail", "send-pending"])
    assert messages.CLI_MAIL_COUNTS.format(sent=5, failed=0, pending=0) in result.output
    assert len(smtp.messages) == 5


def test_worker_once_delivers_and_exits(app, runner, smtp):
    queue_setup_mail(app, "ada@example.org")
    result = runner.invoke(args=["mail", "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert messages.CLI_WORKER_STOPPED in result.output
    assert [m["To"] for m in smtp.messages] == ["ada@example.org"]


def test_worker_once_reports_a_database_outage_without_a_traceback(make_app):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://u@127.0.0.1:{free_port()}/x")
    result = app.test_cli_runner().invoke(args=["mail", "worker", "--once"])
    assert result.exit_code == 1
    assert messages.CLI_WORKER_OUTAGE in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("interval", ["0", "-1", "soon", "99999"])
def test_worker_rejects_a_bad_interval(runner, interval):
    assert runner.invoke(args=["mail", "worker", "--interval", interval]).exit_code == 2


def test_worker_survives_a_database_outage_and_backs_off(app, smtp, monkeypatch, caplog):
    """The first round fails as if the database were gone; the next one delivers."""
    queue_setup_mail(app, "ada@example.org")
    real = mail_service.send_pending
    calls, waits = [], []
    stop = threading.Event()

    def flaky(limit):
        calls.append(limit)
        if len(calls) == 1:
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))
        result = real(limit)
        stop.set()
        return result

    monkeypatch.setattr(mail_service, "send_pending", flaky)
    original_wait = stop.wait
    monkeypatch.setattr(stop, "wait", lambda t: waits.append(t) or original_wait(0))
    with app.app_context(), caplog.at_level(logging.WARNING):
        assert maintenance.run_mail_worker(stop, interval=1.0) is True
    assert [m["To"] for m in smtp.messages] == ["ada@example.org"]
    assert waits[0] == 2.0  # backed off: twice the interval after one failed round
    assert "retrying" in caplog.text


def test_worker_back_off_is_capped(app, monkeypatch):
    stop = threading.Event()
    waits = []

    def always_down(limit):
        raise OperationalError("SELECT 1", {}, Exception("down"))

    def fake_wait(seconds):
        waits.append(seconds)
        if len(waits) == 12:
            stop.set()

    monkeypatch.setattr(mail_service, "send_pending", always_down)
    monkeypatch.setattr(stop, "wait", fake_wait)
    with app.app_context():
        maintenance.run_mail_worker(stop, interval=5.0)
    assert waits[:3] == [10.0, 20.0, 40.0]
    assert max(waits) == maintenance.MAX_BACKOFF_SECONDS


@pytest.mark.slow
def test_worker_stops_gracefully_on_sigterm(tmp_path):
    env = subprocess_env(ACS_CONFIG="development", DATABASE_URL=f"sqlite:///{tmp_path}/worker.db")
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run(
        [*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120
    )
    worker = subprocess.Popen(
        [*flask, "mail", "worker", "--interval", "30"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        started = worker.stderr.readline()
        assert "Mail worker started" in started
        time.sleep(0.5)  # inside its 30 s wait
        began = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, err
    assert time.monotonic() - began < 10  # does not sit out the interval
    assert messages.CLI_WORKER_STOPPED in err
