"""Reading the audit log: filters by actor, target, event and dates; newest first, by pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from acs_auth.extensions import db
from acs_auth.models import AuditEvent, User
from acs_auth.services import paging
from acs_auth.services.accounts.user_admin import clean_query
from acs_auth.services.audit import typed_label
from acs_auth.services.text.addresses import email_key

PAGE_SIZE = 50


@dataclass
class AuditFilters:
    """The filters of the audit page; empty values filter nothing."""

    actor: str = ""
    target: str = ""
    event: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _person(id_column, label_column, value: str):
    """Match an account by email: through its id when it exists, else the recorded label."""
    key = email_key(clean_query(value))
    user_id = db.session.scalar(select(User.id).where(User.email_key == key))
    if user_id is not None:
        return id_column == user_id
    # A typed string that was no account is kept masked with a keyed tag (audit.typed_label);
    # searching for the same string finds it. Older rows kept the string itself.
    return func.lower(label_column).in_([key, typed_label(value).lower()])


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def filtered(filters: AuditFilters):
    """The events matching ``filters``, unordered (the page and the exports order them)."""
    stmt = select(AuditEvent)
    if filters.actor:
        stmt = stmt.where(_person(AuditEvent.actor_id, AuditEvent.actor_label, filters.actor))
    if filters.target:
        stmt = stmt.where(_person(AuditEvent.target_id, AuditEvent.target_label, filters.target))
    if filters.event:
        event = clean_query(filters.event, 50).strip().lower()
        if event.endswith((".", "*")):
            prefix = event.rstrip("*")
            escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(AuditEvent.event.like(escaped + "%", escape="\\"))
        else:
            stmt = stmt.where(AuditEvent.event == event)
    if filters.date_from:
        stmt = stmt.where(AuditEvent.at >= _midnight(filters.date_from))
    if filters.date_to:
        stmt = stmt.where(AuditEvent.at < _midnight(filters.date_to) + timedelta(days=1))
    return stmt


def search(
    filters: AuditFilters,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int = PAGE_SIZE,
) -> paging.Page:
    """One page of events, newest first; ``before`` pages to older events, ``after`` to newer."""
    return paging.newest_first(
        filtered(filters), AuditEvent.id, before=before, after=after, limit=limit
    )


def events_of(user_id: int, limit: int = 20) -> list[AuditEvent]:
    """The latest events where the account is the actor or the target."""
    stmt = (
        select(AuditEvent)
        .where((AuditEvent.target_id == user_id) | (AuditEvent.actor_id == user_id))
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))
