"""The email outbox: queue in the caller's transaction, deliver later through Flask-Mail.

A message is written to ``email_outbox`` in the same transaction as the change that causes it,
so a rolled-back change sends nothing and a committed one cannot lose its email. Delivery runs
off the request path (a background thread after the response, or `flask mail worker`); a failed
send stays queued and is retried with exponential back-off, so an SMTP outage loses nothing.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

from flask import Flask, current_app, g, has_request_context, render_template
from flask_mail import Message
from sqlalchemy import select, update

from acs_auth.extensions import db, mail
from acs_auth.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)

SUBJECTS = {
    "registration_link": "Finish your registration",
    "already_registered": "You already have an account",
    "password_setup": "Set up your password",
    "password_reset": "Reset your password",
    "password_changed": "Your password was changed",
}
# A claimed message is invisible to other senders for this long; a sender that dies mid-send
# releases it when the lease runs out.
LEASE = timedelta(minutes=5)


def queue(kind: str, to: str, **context) -> OutboxMessage:
    """Render the ``kind`` templates for ``to`` and add the message to the current transaction."""
    app_name = current_app.config["APP_NAME"]
    context.setdefault("app_name", app_name)
    context.setdefault("app_url", current_app.config["APP_URL"])
    subject = f"{app_name}: {SUBJECTS[kind]}"
    row = OutboxMessage(
        to=to,
        subject=subject,
        kind=kind,
        text=render_template(f"email/{kind}.txt", **context),
        html=render_template(f"email/{kind}.html", **context),
    )
    db.session.add(row)
    if has_request_context():
        g.mail_queued = True
    return row


def backoff(attempts: int) -> timedelta:
    """Delay before the next try: 30 s doubling per attempt, at most one hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def _claim(limit: int) -> list[OutboxMessage]:
    """Lease up to ``limit`` due messages; FOR UPDATE SKIP LOCKED keeps PostgreSQL senders apart."""
    now = utcnow()
    rows = db.session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.failed_at.is_(None),
            OutboxMessage.next_attempt_at <= now,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claimed = []
    for row in rows:
        # The conditional UPDATE is the claim on SQLite, where FOR UPDATE does not exist.
        result = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id, OutboxMessage.next_attempt_at == row.next_attempt_at)
            .values(next_attempt_at=now + LEASE, attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            claimed.append(row.id)
    db.session.commit()
    if not claimed:
        return []
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(claimed))).all()


def _deliver(row: OutboxMessage) -> None:
    if current_app.config.get("MAIL_SERVER"):
        msg = Message(subject=row.subject, recipients=[row.to], body=row.text, html=row.html)
        mail.send(msg)
    else:
        _deliver_to_console(row)


def _deliver_to_console(row: OutboxMessage) -> None:
    """Development transport: print the message and keep a copy as an .eml file."""
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    msg["To"] = row.to
    msg["Subject"] = row.subject
    msg.set_content(row.text)
    if row.html:
        msg.add_alternative(row.html, subtype="html")
    folder = Path(current_app.instance_path) / "outbox"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{row.id:06d}-{row.kind}.eml").write_bytes(bytes(msg))
    banner = "-" * 72
    print(
        f"\n{banner}\nEMAIL to {row.to}: {row.subject}\n{banner}\n{row.text}\n{banner}", flush=True
    )


def send_pending(limit: int = 100) -> tuple[int, int]:
    """Send what is due; returns (sent, failed this round). Safe to run in many processes."""
    sent = failed = 0
    for row in _claim(limit):
        try:
            _deliver(row)
        except Exception as exc:  # any transport error: keep the message and retry later
            failed += 1
            _record_failure(row, exc)
        else:
            sent += 1
            row.sent_at = utcnow()
            row.last_error = None
            db.session.commit()
    return sent, failed


def _record_failure(row: OutboxMessage, exc: Exception) -> None:
    log.warning("mail %s to %s failed (attempt %s): %s", row.id, row.to, row.attempts, exc)
    row.last_error = f"{type(exc).__name__}: {exc}"[:1000]
    if row.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        row.failed_at = utcnow()
    else:
        row.next_attempt_at = utcnow() + backoff(row.attempts)
    db.session.commit()


def pending_count() -> int:
    """How many messages are still waiting to be sent."""
    from sqlalchemy import func

    return db.session.scalar(
        select(func.count()).where(
            OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None)
        )
    )


class BackgroundSender:
    """One daemon thread per process that drains the outbox whenever a request queued mail."""

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def kick(self, app: Flask) -> None:
        self._wake.set()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, args=(app,), daemon=True, name="acs-mail"
                )
                self._thread.start()

    def _run(self, app: Flask) -> None:
        while self._wake.is_set():
            self._wake.clear()
            with app.app_context():
                try:
                    send_pending()
                except Exception:  # the database may be down; the worker or next kick retries
                    log.exception("background mail delivery failed")
                finally:
                    db.session.remove()


background = BackgroundSender()


def init_app(app: Flask) -> None:
    """After a request that queued mail, wake the background sender (when configured)."""

    @app.after_request
    def _dispatch(response):
        if g.get("mail_queued") and app.config["MAIL_DELIVERY"] == "background":
            response.call_on_close(lambda: background.kick(app))
        return response
