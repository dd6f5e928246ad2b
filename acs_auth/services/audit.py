"""The audit trail. ``record`` only adds its row: it commits or rolls back with the action."""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context, request

from acs_auth.extensions import db
from acs_auth.models import AuditEvent, User

# Keys that must never reach the audit log, whatever a caller passes.
_SECRET_KEYS = {
    "password",
    "new_password",
    "current_password",
    "token",
    "refresh_token",
    "access_token",
    "api_key",
    "secret",
    "key",
}


def _label(user: User | None) -> str | None:
    return user.email if user is not None else None


def record(
    event: str,
    *,
    actor: User | None = None,
    target: User | None = None,
    target_label: str | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit event for ``event`` to the current transaction and return it."""
    clean = {k: v for k, v in details.items() if k not in _SECRET_KEYS}
    row = AuditEvent(
        event=event,
        actor_id=actor.id if actor is not None else None,
        actor_label=_label(actor),
        target_id=target.id if target is not None else None,
        target_label=target_label or _label(target),
        details=clean,
    )
    if has_request_context():
        row.ip = request.remote_addr
        row.user_agent = (request.user_agent.string or "")[:255] or None
        row.request_id = g.get("request_id")
    db.session.add(row)
    return row
