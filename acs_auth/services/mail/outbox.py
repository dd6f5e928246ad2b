"""The email outbox: queue in the caller's transaction, deliver later through Flask-Mail.

A message is written to ``email_outbox`` in the same transaction as the change that causes it,
so a rolled-back change sends nothing and a committed one cannot lose its email. Delivery runs
off the request path (a background thread after the response, or `flask mail worker`); a failed
send stays queued and is retried with exponential back-off, so an SMTP outage loses nothing.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import threading
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

from flask import Flask, current_app, g, has_request_context, render_template
from flask_mail import Connection, Message
from sqlalchemy import func, select, update

from acs_auth import messages
from acs_auth.checks import mail_backend
from acs_auth.extensions import db
from acs_auth.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)

SUBJECTS = {
    "registration_link": "Finish your registration",
    "already_registered": "You already have an account",
    "password_setup": "Set up your password",
    "password_reset": "Reset your password",
    "password_changed": "Your password was changed",
    "api_key_created": "A new API key was created",
    "security_alert": "Many failed sign-ins",
    "account_locked": "Your account is locked for now",
    "account_inactive": "Your account is inactive",
    "registration_not_recognised": "We could not recognise your details",
    "email_change_confirm": "Confirm your new email address",
    "email_change_unavailable": "This email address cannot be used",
    "email_changed": "Your email address was changed",
    "new_sign_in": "New sign-in to your account",
}
# The setup email an administrator's new account receives (``welcome=True``).
WELCOME_SUBJECT = "Your account is ready: set up your password"
# A claimed message is invisible to other senders for this long; a sender that dies mid-send
# releases it when the lease runs out.
LEASE = timedelta(minutes=5)
# The background sender sleeps at most this long between looks at messages waiting for a retry.
RETRY_POLL = timedelta(minutes=1)
# app.extensions key: the functions each delivery round runs first (see add_producer).
_PRODUCERS = "acs_mail_producers"


def queue(kind: str, to: str, **context) -> OutboxMessage:
    """Render the ``kind`` templates for ``to`` and add the message to the current transaction.

    ``to`` must be an address read from the database, never one a visitor typed.
    """
    app_name = current_app.config["APP_NAME"]
    context.setdefault("app_name", app_name)
    context.setdefault("app_url", current_app.config["APP_URL"])
    title = WELCOME_SUBJECT if context.get("welcome") else SUBJECTS[kind]
    row = OutboxMessage(
        to=to,
        subject=f"{app_name}: {title}",
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


def lease_due(model, limit: int) -> list[int]:
    """Lease up to ``limit`` due rows of a retried queue; returns their ids (one commit).

    ``model`` is a queue table with ``sent_at``, ``failed_at``, ``next_attempt_at`` and
    ``attempts``: the mail outbox, or the OpenID Connect back-channel logouts. FOR UPDATE SKIP
    LOCKED keeps PostgreSQL senders apart; on SQLite, where FOR UPDATE does not exist, the
    conditional UPDATE is the claim: of two senders that saw the same row, only the first moves
    next_attempt_at past the lease.
    """
    now = utcnow()
    rows = db.session.execute(
        select(model.id, model.next_attempt_at)
        .where(model.sent_at.is_(None), model.failed_at.is_(None), model.next_attempt_at <= now)
        .order_by(model.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claimed = []
    for row_id, seen in rows:
        result = db.session.execute(
            update(model)
            .where(model.id == row_id, model.next_attempt_at == seen)
            .values(next_attempt_at=now + LEASE, attempts=model.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            claimed.append(row_id)
    db.session.commit()
    return claimed


def _claim(limit: int) -> list[OutboxMessage]:
    """Lease up to ``limit`` due messages."""
    claimed = lease_due(OutboxMessage, limit)
    if not claimed:
        return []
    return list(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(claimed)).order_by(OutboxMessage.id)
        )
    )


class _SmtpConnection(Connection):
    """Flask-Mail's connection with a socket timeout, and never silently suppressed.

    Flask-Mail suppresses sending when TESTING is on; the outbox already keeps tests and
    development away from real SMTP servers (no MAIL_SERVER means the console transport), so a
    configured server is always used.
    """

    def __enter__(self) -> _SmtpConnection:
        self.host = self.configure_host()
        self.num_emails = 0
        return self

    def configure_host(self) -> smtplib.SMTP:
        state = self.mail
        timeout = current_app.config["MAIL_TIMEOUT_SECONDS"]
        smtp_class = smtplib.SMTP_SSL if state.use_ssl else smtplib.SMTP
        host = smtp_class(state.server, state.port, timeout=timeout)
        try:
            if state.use_tls:
                host.starttls()
            if state.username and state.password:
                host.login(state.username, state.password)
        except BaseException:
            host.close()  # a refused STARTTLS or login must not leak the socket
            raise
        return host


class _Transport:
    """Sends a batch of messages over one SMTP connection, opened on first use.

    After a failure the connection is dropped, so the next message starts on a fresh one.
    """

    def __init__(self) -> None:
        self.connection: _SmtpConnection | None = None

    def send(self, row: OutboxMessage) -> None:
        if mail_backend(current_app.config) == "console":
            _deliver_to_console(row)
            return
        if not current_app.config.get("MAIL_SERVER"):
            # Production refuses to start like this; keep the message queued, never print it.
            raise RuntimeError(messages.MAIL_NO_SERVER)
        if self.connection is None:
            connection = _SmtpConnection(current_app.extensions["mail"])
            self.connection = connection.__enter__()  # closed by reset() or close()
        message = Message(
            subject=row.subject,
            recipients=[row.to],
            body=row.text,
            html=row.html,
            extra_headers={"Auto-Submitted": "auto-generated"},
        )
        self.connection.send(message)

    def reset(self) -> None:
        if self.connection is not None and self.connection.host is not None:
            with contextlib.suppress(OSError):
                self.connection.host.close()
        self.connection = None

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.connection.host.quit()
        self.connection = None


def _deliver_to_console(row: OutboxMessage) -> None:
    """Console transport: print the message and keep a copy as an .eml file.

    Links printed into a log hand every reset token to whoever reads it, so production uses
    this transport only when MAIL_BACKEND=console says so (acs_auth.checks).
    """
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
    for produce in current_app.extensions.get(_PRODUCERS, ()):
        produce(limit)  # e.g. requests for links become mail first (mail.link_requests)
    sent = failed = 0
    transport = _Transport()
    try:
        for row in _claim(limit):
            try:
                transport.send(row)
            except Exception as exc:  # any transport error: keep the message and retry later
                failed += 1
                transport.reset()
                _record_failure(row, exc)
            else:
                sent += 1
                row.sent_at = utcnow()
                row.last_error = None
                db.session.commit()
    finally:
        transport.close()
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
    return db.session.scalar(
        select(func.count()).where(
            OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None)
        )
    )


def last_error() -> str | None:
    """The error of the most recently failed attempt among the messages still waiting."""
    return db.session.scalar(
        select(OutboxMessage.last_error)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.failed_at.is_(None),
            OutboxMessage.last_error.is_not(None),
        )
        .order_by(OutboxMessage.next_attempt_at.desc(), OutboxMessage.id.desc())
        .limit(1)
    )


def why_nothing_was_sent(failed: int) -> str:
    """One line for an operator whose delivery round sent nothing: the reason, not a guess."""
    pending = pending_count()
    if not pending:
        return messages.CLI_MAIL_NOTHING_QUEUED
    error = last_error() or "none recorded"
    if failed:
        return messages.CLI_MAIL_LAST_ERROR.format(error=error)
    seconds = _seconds_to_next_attempt() or 0.0
    return messages.CLI_MAIL_NOTHING_DUE.format(pending=pending, seconds=seconds, error=error)


def _seconds_to_next_attempt() -> float | None:
    """Seconds until the earliest waiting message is due (0 when due now); None when none wait."""
    due = db.session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None)
        )
    )
    if due is None:
        return None
    return max((due - utcnow()).total_seconds(), 0.0)


class BackgroundSender:
    """One daemon thread per app and process that drains the outbox after requests queue mail.

    While messages wait for a retry it stays alive and wakes when the earliest is due (at most
    RETRY_POLL apart), so an SMTP outage heals without a separate worker.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def kick(self) -> None:
        """Make the sender look at the outbox now, starting its thread when none runs."""
        with self._lock:
            self._wake.set()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name="acs-mail")
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.clear()
            wait = self._drain()
            if wait is not None:
                self._wake.wait(min(wait, RETRY_POLL.total_seconds()))
                continue
            with self._lock:
                # Decided under the lock, so a kick that comes now either sees this thread
                # gone (and starts a new one) or has set the event that keeps it running.
                if not self._wake.is_set():
                    self._thread = None
                    return

    def _drain(self) -> float | None:
        """Send what is due; return seconds until the next retry, or None when nothing waits."""
        with self.app.app_context():
            try:
                send_pending()
                return _seconds_to_next_attempt()
            except Exception:  # the database may be down: look again later
                log.exception("background mail delivery failed")
                return RETRY_POLL.total_seconds()
            finally:
                db.session.remove()


def add_producer(app: Flask, produce: Callable[[int], object]) -> None:
    """Run ``produce(limit)`` before each delivery round of ``app``: work that turns into mail."""
    app.extensions.setdefault(_PRODUCERS, []).append(produce)


def sender_for(app: Flask) -> BackgroundSender:
    """The background sender of ``app`` (one per app, so test apps never share a thread)."""
    return app.extensions["acs_mail_sender"]


def init_app(app: Flask) -> None:
    """After a request that queued mail, wake the background sender (when configured)."""
    app.extensions["acs_mail_sender"] = BackgroundSender(app)

    @app.after_request
    def _dispatch(response):
        if g.get("mail_queued") and app.config["MAIL_DELIVERY"] == "background":
            response.call_on_close(sender_for(app).kick)
        return response
