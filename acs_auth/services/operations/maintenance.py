"""Operator tasks run from the command line: the first administrators, mail delivery, cleanup."""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from acs_auth.extensions import db
from acs_auth.models import OutboxMessage, Role, Source, User, utcnow
from acs_auth.services import audit
from acs_auth.services.accounts import passwords
from acs_auth.services.accounts.accounts import add_new_user
from acs_auth.services.audit import export
from acs_auth.services.mail import delivery
from acs_auth.services.signin import pending, sessions
from acs_auth.services.text.addresses import EMAIL_MAX, email_key, validate_address

log = logging.getLogger(__name__)

MAIL_BATCH = 100
MAX_BACKOFF_SECONDS = 300.0
GENERATED_PASSWORD_LENGTH = 24  # ~143 bits from the URL-safe alphabet


def find_account(email: str) -> User | None:
    """The account whose email is ``email`` (compared case-insensitively), if any."""
    key = email_key(email or "")
    if not key or len(key) > EMAIL_MAX:
        return None
    return db.session.scalar(select(User).where(User.email_key == key))


def account_exists(email: str) -> bool:
    """True when an account uses ``email``."""
    return find_account(email) is not None


def generate_password(email: str | None = None) -> str:
    """A random password that meets the configured policy; shown once, never stored in clear."""
    length = max(GENERATED_PASSWORD_LENGTH, current_app.config["PASSWORD_MIN_LENGTH"])
    context = passwords.PolicyContext(email=email)
    for _ in range(20):
        candidate = secrets.token_urlsafe(length)[:length]
        try:
            passwords.check_policy(candidate, context)
        except passwords.PasswordRejected:
            continue  # e.g. no digit drawn while PASSWORD_REQUIRE_CHARACTER_CLASSES is on
        return candidate
    raise RuntimeError("the password policy cannot be met by a generated password")


def create_admin(
    email: str, password: str, *, first_name: str | None = None, last_name: str | None = None
) -> User:
    """Create an administrator with ``password`` after the policy check (one commit).

    Raises InvalidEmail, PasswordRejected, or AccountExists for an email already in use.
    """
    address = validate_address(email)
    passwords.check_policy(
        password,
        passwords.PolicyContext(email=address, first_name=first_name, last_name=last_name),
    )
    now = utcnow()
    user = User(
        email=address,
        email_key=email_key(address),
        role=Role.ADMIN.value,
        first_name=first_name,
        last_name=last_name,
        source=Source.ADMIN.value,
        password_hash=passwords.hash_password(password),
        password_changed_at=now,
    )
    add_new_user(user)
    audit.record("user.created", target=user, role=user.role, via="cli")
    db.session.commit()
    return user


@dataclass
class MailRound:
    """What one delivery round did."""

    sent: int = 0
    failed: int = 0


def send_all_pending(stop: threading.Event | None = None) -> MailRound:
    """Send every message that is due, batch after batch, until a batch comes back short."""
    total = MailRound()
    while stop is None or not stop.is_set():
        sent, failed = delivery.send_pending(MAIL_BATCH)
        total.sent += sent
        total.failed += failed
        if sent + failed < MAIL_BATCH:
            break
    return total


def run_mail_worker(stop: threading.Event, interval: float, once: bool = False) -> bool:
    """Deliver the outbox every ``interval`` seconds until ``stop`` is set.

    A database or SMTP outage is logged and retried with exponential back-off (at most
    MAX_BACKOFF_SECONDS); failed messages stay queued in the outbox. With ``once``, one round
    runs and the result says whether it reached the database.
    """
    outages = 0
    while not stop.is_set():
        try:
            done = send_all_pending(stop)
        except Exception as exc:  # the database is unreachable: nothing was lost, try later
            outages += 1
            log.warning("mail worker: delivery round failed (%s); retrying", exc)
            _discard_session()
        else:
            outages = 0
            if done.sent or done.failed:
                log.info("mail worker: %s sent, %s failed", done.sent, done.failed)
        if once:
            return outages == 0
        stop.wait(min(interval * 2**outages, max(interval, MAX_BACKOFF_SECONDS)))
    return True


def _discard_session() -> None:
    try:
        db.session.rollback()
    except Exception:  # the connection is already gone; removing the session is enough
        log.debug("rollback after an outage failed", exc_info=True)
    db.session.remove()


@dataclass
class CleanupResult:
    """How many rows a cleanup removed."""

    sessions: int
    mail: int
    audit: int = 0


def cleanup(days: int) -> CleanupResult:
    """Delete sessions that ended and mail that was sent more than ``days`` ago (one commit).

    Unsent and permanently failed mail is kept, so nothing waiting for delivery is lost and an
    operator can still read why a message failed. Audit events older than AUDIT_RETENTION_DAYS
    go too; that setting's default, 0, keeps the audit log forever.
    """
    cutoff = utcnow() - timedelta(days=days)
    removed_sessions = sessions.purge_expired(cutoff)
    # Pending sign-ins are useless once expired: they go at once, whatever ``days`` says.
    pending.purge_expired(utcnow() - pending.lifetime())
    removed_mail = db.session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.sent_at.is_not(None), OutboxMessage.sent_at < cutoff)
        .execution_options(synchronize_session=False)
    ).rowcount
    removed_audit = export.prune(current_app.config["AUDIT_RETENTION_DAYS"])
    audit.record(
        "maintenance.cleanup",
        days=days,
        sessions=removed_sessions,
        mail=removed_mail,
        audit_events=removed_audit,
    )
    db.session.commit()
    return CleanupResult(sessions=removed_sessions, mail=removed_mail, audit=removed_audit)
