"""Counters derived from audit events: the one place where auth events become metrics.

Every authentication decision already writes an audit row (acs_auth.services.audit), so the
services need no metric calls of their own. A session listener notes the audit rows of each
flush and counts them only after the transaction commits: an action that rolls back leaves no
trace in the counters either, just as it leaves none in the audit log.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from acs_auth.metrics import instruments as m
from acs_auth.models import AuditEvent

_PENDING = "acs_metrics_pending"
# Audit reasons of "login.failed" -> the outcome label.
FAILURE_OUTCOMES = {
    "password": "bad_password",
    "unknown": "unknown_account",
    "locked": "locked",
    "inactive": "inactive",
}
# The first blueprint of an endpoint -> the sign-in channel label ("provider": OIDC sign-ins).
CHANNELS = {"api": "api", "oidc": "provider", "provider": "provider"}
# Endpoints whose 429 answer is a refused sign-in attempt.
SIGN_IN_ENDPOINTS = frozenset({"auth.login", "api.auth.login"})


def channel() -> str:
    """browser, api or provider, from the endpoint of the current request."""
    if not has_request_context() or not request.endpoint:
        return "browser"
    return CHANNELS.get(request.endpoint.split(".", 1)[0], "browser")


def _sign_in_failed(details: dict, via: str) -> None:
    outcome = FAILURE_OUTCOMES.get(str(details.get("reason")), "bad_password")
    m.SIGN_INS.labels(outcome, via).inc()


def _link(purpose: str, stage: str) -> Callable[[dict, str], None]:
    return lambda _details, _via: m.PASSWORD_LINKS.labels(purpose, stage).inc()


def _registration(stage: str) -> Callable[[dict, str], None]:
    return lambda _details, _via: m.REGISTRATIONS.labels(stage).inc()


COUNTERS: dict[str, Callable[[dict, str], None]] = {
    "login.succeeded": lambda _d, via: m.SIGN_INS.labels("success", via).inc(),
    "login.failed": _sign_in_failed,
    "account.locked": lambda _d, _via: m.LOCKOUTS.inc(),
    "password.reset_link_sent": _link("reset", "requested"),
    "password.setup_link_sent": _link("setup", "requested"),
    "password.reset_requested": _link("reset", "unmatched"),
    "password.setup_requested": _link("setup", "unmatched"),
    "password.reset_completed": _link("reset", "completed"),
    "password.setup_completed": _link("setup", "completed"),
    "registration.link_sent": _registration("started"),
    "registration.started": _registration("started"),
    "registration.no_match": _registration("unmatched"),
    "registration.completed": _registration("completed"),
    "token.refresh_reused": lambda _d, _via: m.REFRESH_REUSE.inc(),
    "allowlist.imported": lambda d, _via: m.ALLOWLIST_IMPORTS.labels(str(d.get("mode"))).inc(),
}


def count(name: str, details: dict[str, Any], via: str) -> None:
    """Increment the counters that audit event ``name`` stands for (most stand for none)."""
    counter = COUNTERS.get(name)
    if counter is not None:
        counter(details or {}, via)


def count_rate_limited_sign_in(endpoint: str | None, status: int) -> None:
    """A 429 on a sign-in endpoint is a sign-in refused before any password check."""
    if status == 429 and endpoint in SIGN_IN_ENDPOINTS:
        m.SIGN_INS.labels("rate_limited", channel()).inc()


def _noted(session: Session, _context) -> None:
    # At flush time the request (and so the channel) is still at hand; counting waits for commit.
    rows = [obj for obj in session.new if isinstance(obj, AuditEvent)]
    if rows:
        via = channel()
        pending = session.info.setdefault(_PENDING, [])
        pending.extend((row.event, dict(row.details or {}), via) for row in rows)


def _committed(session: Session) -> None:
    for name, details, via in session.info.pop(_PENDING, ()):
        count(name, details, via)
        if has_request_context():
            committed_in_request()[name] += 1


def committed_in_request() -> Counter:
    """The audit events committed so far by the current request, by name."""
    if "acs_committed_events" not in g:
        g.acs_committed_events = Counter()
    return g.acs_committed_events


def _rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)


def listen() -> None:
    """Install the session listeners once per process (every app shares them)."""
    if not event.contains(Session, "after_flush", _noted):
        event.listen(Session, "after_flush", _noted)
        event.listen(Session, "after_commit", _committed)
        event.listen(Session, "after_rollback", _rolled_back)
