"""The audit trail. ``record`` only adds its row: it commits or rolls back with the action.

This package holds the trail itself (here, so ``audit.record(...)`` reads as it always did),
reading it by pages (log, newest first through services.paging) and exporting and pruning it
(export). It may import models, extensions, the text services, paging, accounts.user_admin
(the search rules) and allowlist.csvfile (cells a spreadsheet would run); every other service
may import it.
"""

from __future__ import annotations

import hmac
import re
from typing import Any

from flask import current_app, g, has_request_context, request

from acs_auth.extensions import db
from acs_auth.models import Account, AuditEvent
from acs_auth.services.text.addresses import EMAIL_MAX, email_key

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


# A domain as an address has one: labels of letters, digits and hyphens, with a dot.
_DOMAIN = re.compile(r"(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z0-9-]{2,63}")


def typed_label(typed: str | None) -> str:
    """How a typed email or username that is no account is kept: masked, with a keyed tag.

    The string may be a mistyped address of someone else, or a password typed into the wrong
    box, so it is never stored verbatim. A valid-looking address keeps its first character and
    its domain (``a***@example.org``); anything else keeps nothing (``***``). The tag, an HMAC
    of the normalised string under SECRET_KEY, lets an admin see repeats of one string and find
    them by searching for it, without the log being reversible by whoever reads it.
    """
    text = (typed or "").strip()[:EMAIL_MAX]
    key = email_key(text)
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), key.encode(), "sha256")
    tag = "#" + digest.hexdigest()[:12]
    local, _, domain = text.rpartition("@")
    if local and _DOMAIN.fullmatch(domain):
        return f"{local[0].lower()}***@{domain.lower()} {tag}"
    return f"*** {tag}"


def _label(user: Account | None) -> str | None:
    return user.email if user is not None else None


def record(
    event: str,
    *,
    actor: Account | None = None,
    target: Account | None = None,
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
    origin = g.get("audit_origin")  # a request answered later (services/mail/link_requests.py)
    if origin is not None:
        row.ip, row.user_agent, row.request_id = origin
    elif has_request_context():
        row.ip = request.remote_addr
        row.user_agent = (request.user_agent.string or "")[:255] or None
        row.request_id = g.get("request_id")
    db.session.add(row)
    return row
