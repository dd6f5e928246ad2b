"""How a queued email leaves the building: SMTP through Flask-Mail, or the console.

The outbox (mail.outbox) decides what is due and records the outcome; a Transport only
delivers one message at a time over one connection per round. MAIL_BACKEND chooses the
console (development, and production only when set explicitly: acs_auth.checks); otherwise
MAIL_SERVER's SMTP server is used. Imports models and the mail extension, nothing of services.
"""

from __future__ import annotations

import contextlib
import smtplib
from email.message import EmailMessage
from pathlib import Path

from flask import current_app
from flask_mail import Connection, Message

from acs_auth import messages
from acs_auth.checks import mail_backend
from acs_auth.models import OutboxMessage


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


class Transport:
    """Sends a batch of messages over one SMTP connection, opened on first use.

    After a failure the connection is dropped, so the next message starts on a fresh one.
    """

    def __init__(self) -> None:
        self.connection: _SmtpConnection | None = None

    def send(self, row: OutboxMessage) -> None:
        """Deliver one message (console or SMTP); any exception means it was not sent."""
        if mail_backend(current_app.config) == "console":
            deliver_to_console(row)
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
        """Drop the connection after a failure; the next message opens a fresh one."""
        if self.connection is not None and self.connection.host is not None:
            with contextlib.suppress(OSError):
                self.connection.host.close()
        self.connection = None

    def close(self) -> None:
        """Say goodbye to the server at the end of a round."""
        if self.connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.connection.host.quit()
        self.connection = None


def deliver_to_console(row: OutboxMessage) -> None:
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
