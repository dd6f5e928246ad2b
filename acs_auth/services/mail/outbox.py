"""The email outbox: queue in the caller's transaction, claim what is due, back off on failure.

A message is written to ``email_outbox`` in the same transaction as the change that causes it,
so a rolled-back change sends nothing and a committed one cannot lose its email. Delivery runs
off the request path (mail.delivery: a background thread after the response, or `flask mail
worker`) through mail.transports; a failed send stays queued and is retried with exponential
back-off, so an SMTP outage loses nothing. This module imports no other mail module.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app, g, has_request_context, render_template
from sqlalchemy import func, select, update

from acs_auth import messages
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


def claim_due(limit: int) -> list[OutboxMessage]:
    """Lease up to ``limit`` due messages (one commit): this sender's until the lease ends."""
    claimed = lease_due(OutboxMessage, limit)
    if not claimed:
        return []
    return list(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(claimed)).order_by(OutboxMessage.id)
        )
    )


def record_sent(row: OutboxMessage) -> None:
    """Mark a leased message delivered (one commit)."""
    row.sent_at = utcnow()
    row.last_error = None
    db.session.commit()


def record_failure(row: OutboxMessage, exc: Exception) -> None:
    """Keep a message that failed: retry after the back-off, or give up after MAIL_MAX_ATTEMPTS."""
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
    seconds = seconds_to_next_attempt() or 0.0
    return messages.CLI_MAIL_NOTHING_DUE.format(pending=pending, seconds=seconds, error=error)


def seconds_to_next_attempt() -> float | None:
    """Seconds until the earliest waiting message is due (0 when due now); None when none wait."""
    due = db.session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None)
        )
    )
    if due is None:
        return None
    return max((due - utcnow()).total_seconds(), 0.0)
