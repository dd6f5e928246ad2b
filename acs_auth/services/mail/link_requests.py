"""Requests for emailed links, answered off the request path.

Registration step 1, forgotten password and first-time setup answer the same page whether or
not the details match; their time must not tell either. The request only stores what was typed
(one INSERT, the same statements for a match and a miss) and wakes the mail sender; the sender
(``delivery.send_pending``: the background thread, ``flask mail worker`` or ``send-pending``) then
runs the same services as before - lookup, token, outbox - with the requester's address, user
agent and request id in the audit rows, and deletes the request in that same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import g, has_request_context, request
from sqlalchemy import delete, select

from acs_auth.extensions import db
from acs_auth.models import LinkRequest
from acs_auth.services.accounts import recovery, registration

log = logging.getLogger(__name__)

RESET = "reset"
SETUP = "setup"
REGISTER = "register"


def _handlers() -> dict[str, Callable[[LinkRequest], None]]:
    return {
        RESET: lambda row: recovery.request_reset(row.email),
        SETUP: lambda row: recovery.request_setup(row.last_name or "", row.email),
        REGISTER: lambda row: registration.request_registration(row.last_name or "", row.email),
    }


def defer(kind: str, email: str, last_name: str | None = None) -> None:
    """Store a request for ``kind`` and commit; the mail sender answers it (one INSERT).

    Values are cut one character beyond what any match accepts, so a cut value still matches
    nothing.
    """
    row = LinkRequest(
        kind=kind,
        email=(email or "")[:255],
        last_name=None if last_name is None else last_name[:101],
    )
    if has_request_context():
        row.ip = request.remote_addr
        row.user_agent = (request.user_agent.string or "")[:255] or None
        row.request_id = g.get("request_id")
        g.mail_queued = True  # wakes the background sender after the response
    db.session.add(row)
    db.session.commit()


def _claim_next() -> LinkRequest | None:
    """The oldest waiting request, deleted in the current transaction (None when none wait).

    FOR UPDATE SKIP LOCKED keeps PostgreSQL senders apart; the conditional DELETE is the claim
    on SQLite. The handler's commit removes the request together with the mail it queued.
    """
    while True:
        row = db.session.scalar(
            select(LinkRequest).order_by(LinkRequest.id).limit(1).with_for_update(skip_locked=True)
        )
        if row is None:
            return None
        claimed = db.session.execute(
            delete(LinkRequest)
            .where(LinkRequest.id == row.id)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed == 1:
            return row
        db.session.rollback()  # another sender took it first


def process_pending(limit: int = 100) -> int:
    """Answer up to ``limit`` waiting requests; returns how many were answered."""
    handlers = _handlers()
    done = 0
    while done < limit:
        row = _claim_next()
        if row is None:
            break
        db.session.expunge(row)
        g.audit_origin = (row.ip, row.user_agent, row.request_id)
        try:
            handlers[row.kind](row)  # commits the claim with whatever it queued
        except Exception:  # one bad request must not block the others or the outbox
            db.session.rollback()
            log.exception("link request %s (%s) failed; dropped", row.id, row.kind)
            _drop(row.id)
        finally:
            g.pop("audit_origin", None)
        done += 1
    return done


def _drop(request_id: int) -> None:
    db.session.execute(delete(LinkRequest).where(LinkRequest.id == request_id))
    db.session.commit()
