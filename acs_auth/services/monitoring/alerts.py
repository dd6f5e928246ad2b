"""Security signals written as they happen: rate-limit refusals and the failed-sign-in alert.

Both count in the rate-limit storage (Redis in production, shared by every worker), whose
atomic increments make "at most once" hold across processes:
- a refused (429) request leaves one ``ratelimit.exceeded`` audit row per address, endpoint
  and minute, so an attacker hammering a limit cannot flood the audit log;
- with ``SECURITY_ALERT_THRESHOLD`` set, the failed sign-ins of each fixed window of
  ``SECURITY_ALERT_WINDOW_MINUTES`` are counted, and the request whose failure reaches the
  threshold queues one alert email to every active administrator, through the outbox.
A storage or database error here is logged and never changes the response.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, current_app, request
from limits.storage import Storage, storage_from_string
from sqlalchemy import select

from acs_auth.extensions import db
from acs_auth.metrics import events
from acs_auth.models import Role, User, utcnow
from acs_auth.services import audit
from acs_auth.services.mail import outbox

log = logging.getLogger(__name__)
STORAGE = "acs_auth.security_storage"
clock = time.time  # replaced by tests that need to stand at a window's edge


def init_app(app: Flask) -> None:
    """Watch every response for refusals and failed sign-ins."""
    app.after_request(_after_request)


def _storage() -> Storage:
    app = current_app._get_current_object()
    if STORAGE not in app.extensions:
        options = dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
        app.extensions[STORAGE] = storage_from_string(
            app.config["RATELIMIT_STORAGE_URI"], **options
        )
    return app.extensions[STORAGE]


def _after_request(response):
    try:
        if response.status_code == 429:
            note_rate_limited(request.endpoint or "unmatched")
        failures = events.committed_in_request().get("login.failed", 0)
        if failures:
            note_failed_sign_ins(failures)
    except Exception:
        log.warning("security signal not recorded", exc_info=True)
        db.session.rollback()
    return response


def note_rate_limited(endpoint: str) -> None:
    """Audit a refusal, once per client address, endpoint and minute."""
    minute = int(clock() // 60)
    key = f"acs-ratelimited:{request.remote_addr}:{endpoint}:{minute}"
    if _storage().incr(key, 120) == 1:
        audit.record("ratelimit.exceeded", endpoint=endpoint, method=request.method)
        db.session.commit()


def note_failed_sign_ins(count: int) -> None:
    """Count failures in the current window; the one that reaches the threshold sends the alert."""
    threshold = int(current_app.config["SECURITY_ALERT_THRESHOLD"] or 0)
    if threshold <= 0:
        return
    window = max(int(current_app.config["SECURITY_ALERT_WINDOW_MINUTES"]), 1) * 60
    bucket = int(clock() // window)
    total = _storage().incr(f"acs-failed-sign-ins:{window}:{bucket}", window * 2, amount=count)
    if total - count < threshold <= total:
        send_alert(total, window // 60)


def send_alert(failures: int, minutes: int) -> None:
    """Queue the alert email to every active administrator and audit it (one commit)."""
    admins = db.session.scalars(
        select(User).where(User.role == Role.ADMIN.value, User.is_active_flag.is_(True))
    ).all()
    for admin in admins:
        outbox.queue(
            "security_alert",
            admin.email,
            user=admin,
            failures=failures,
            minutes=minutes,
            when=utcnow(),
            link=current_app.config["APP_URL"].rstrip("/") + "/admin/security",
        )
    audit.record("security.alert_sent", failures=failures, minutes=minutes, admins=len(admins))
    db.session.commit()
