"""The outbox as an administrator sees it: messages still waiting or failed, and "retry now".

Only the envelope is read (recipient, kind, attempts, last error, next attempt): the bodies
hold password links and are never loaded for this page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import g, has_request_context
from sqlalchemy import select

from acs_auth.extensions import db
from acs_auth.models import OutboxMessage, User, utcnow
from acs_auth.services import audit

LIMIT = 200


@dataclass(frozen=True)
class Waiting:
    """One unsent message, without its subject or body."""

    id: int
    to: str
    kind: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    failed_at: datetime | None

    @property
    def failed(self) -> bool:
        return self.failed_at is not None


def waiting(limit: int = LIMIT) -> list[Waiting]:
    """Unsent messages, queued and failed, oldest first (at most ``limit``)."""
    columns = [getattr(OutboxMessage, name) for name in Waiting.__dataclass_fields__]
    rows = db.session.execute(
        select(*columns)
        .where(OutboxMessage.sent_at.is_(None))
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    return [Waiting(*row) for row in rows]


def retry(message_id: int, actor: User) -> bool:
    """Make an unsent message due now, a failed one included; False when none (one commit).

    The attempt count is kept, so a message that failed for good gets one more try before it
    is marked failed again.
    """
    row = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None))
    )
    if row is None:
        return False
    was_failed = row.failed_at is not None
    row.failed_at = None
    row.next_attempt_at = utcnow()
    audit.record(
        "mail.retried",
        actor=actor,
        target_label=row.to,
        kind=row.kind,
        attempts=row.attempts,
        was_failed=was_failed,
    )
    db.session.commit()
    if has_request_context():
        g.mail_queued = True  # wakes the background sender after the response
    return True
