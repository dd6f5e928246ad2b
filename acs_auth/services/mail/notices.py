"""Notices that keep people from a silent dead end: locked, inactive, details not recognised.

Each one is an email through the outbox, queued in the caller's transaction like every other
message, and none of them changes what the page answers: the person learns what happened from
their mailbox, where only the owner of the address reads it.

- A lock: one email per lock (the failure that locks the account sends it), with the time the
  lock ends and a password-reset link (a completed reset clears the lock).
- A deactivated account signed in to with the right password: one email per
  ``NOTICE_INACTIVE_HOURS`` saying the account is inactive and whom to contact.
- A sign-in from a browser or device new to the account (services/signin/activity.py says what new
  means): an email with the device, the IP address and the time.
- Registration step 1 that matches nothing: an email to the typed address saying the details
  were not recognised and whom to contact; at most ``NOTICE_NO_MATCH_PER_ADDRESS`` per address
  and ``NOTICE_NO_MATCH_PER_IP`` per requesting address, counted in the rate-limit storage
  (Redis in production), so the form cannot be used to flood a mailbox.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from flask import Flask, current_app, g, has_app_context, has_request_context, request
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import select

from acs_auth.extensions import db
from acs_auth.models import AuditEvent, AuthSession, User, utcnow
from acs_auth.services import audit
from acs_auth.services.mail import letters, outbox
from acs_auth.services.signin.sessions import describe_device
from acs_auth.services.text.addresses import InvalidEmail, email_key, validate_address

log = logging.getLogger(__name__)

_LIMITER_KEY = "acs_auth.notice_limiter"
INACTIVE_NOTICE_EVENT = "account.inactive_notice_sent"


def admin_contact() -> str | None:
    """Whom people are told to contact (ADMIN_CONTACT), or None for a generic wording."""
    value = (current_app.config.get("ADMIN_CONTACT") or "").strip()
    return value or None


def requester_ip() -> str | None:
    """The address of the person who asked, also when the request is answered later."""
    origin = g.get("audit_origin") if has_app_context() else None
    if origin:
        return origin[0]
    return request.remote_addr if has_request_context() else None


def account_locked(user: User, until: datetime) -> None:
    """Tell the owner their account is locked until ``until``, with a reset link (no commit).

    Only an active account with a password gets it: a deactivated one is closed by an
    administrator (no reset link works for it), and one without a password cannot be locked by
    a right guess anyway.
    """
    if not user.is_active or user.password_hash is None:
        return
    outbox.queue(
        "account_locked",
        user.email,
        user=user,
        until=until,
        link=letters.reset_link(user),
        hours=current_app.config["RESET_TOKEN_HOURS"],
        attempts=current_app.config["MAX_LOGIN_ATTEMPTS"],
    )
    audit.record("account.lock_notice_sent", target=user)


def account_inactive(user: User) -> None:
    """Tell a deactivated person who signed in with the right password whom to contact.

    At most once per NOTICE_INACTIVE_HOURS, counted from the audit log (no commit).
    """
    since = utcnow() - timedelta(hours=current_app.config["NOTICE_INACTIVE_HOURS"])
    recent = db.session.scalar(
        select(AuditEvent.id)
        .where(
            AuditEvent.event == INACTIVE_NOTICE_EVENT,
            AuditEvent.target_id == user.id,
            AuditEvent.at >= since,
        )
        .limit(1)
    )
    if recent is not None:
        return
    outbox.queue("account_inactive", user.email, user=user, contact=admin_contact())
    audit.record(INACTIVE_NOTICE_EVENT, target=user)


def _limiter(app: Flask) -> FixedWindowRateLimiter:
    """A limiter on the rate-limit storage, of its own (independent of RATELIMIT_ENABLED)."""
    found = app.extensions.get(_LIMITER_KEY)
    if found is None:
        storage = storage_from_string(
            app.config["RATELIMIT_STORAGE_URI"], **app.config["RATELIMIT_STORAGE_OPTIONS"]
        )
        found = app.extensions[_LIMITER_KEY] = FixedWindowRateLimiter(storage)
    return found


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _within_budget(address_key: str, ip: str | None) -> bool:
    """Spend one notice of the address's and the requester's budgets; False when either is spent.

    A storage outage sends nothing (fails closed): the page answers the same either way.
    """
    cfg = current_app.config
    budgets = [("address", _digest(address_key), cfg["NOTICE_NO_MATCH_PER_ADDRESS"])]
    budgets.append(("ip", _digest(ip or "unknown"), cfg["NOTICE_NO_MATCH_PER_IP"]))
    limiter = _limiter(current_app._get_current_object())
    try:
        for scope, key, setting in budgets:
            for item in parse_many(setting):
                if not limiter.test(item, "notice-no-match", scope, key):
                    return False
        for scope, key, setting in budgets:
            for item in parse_many(setting):
                limiter.hit(item, "notice-no-match", scope, key)
    except Exception:  # the storage is down: no notice, never a failed request
        log.warning("rate-limit storage unavailable; no-match notice not sent", exc_info=True)
        return False
    return True


def registration_not_recognised(typed_email: str) -> None:
    """Tell the typed address that registration did not recognise the details (no commit).

    The email goes to the address typed, as the page said it would ("if your details match,
    we have emailed you"); it says only what the page already implies - no match - and names
    no account, entry or last name. Malformed addresses and spent budgets get nothing.
    """
    try:
        address = validate_address(typed_email)
    except InvalidEmail:
        return
    if not _within_budget(email_key(address), requester_ip()):
        audit.record("registration.no_match_notice_limited")
        return
    outbox.queue("registration_not_recognised", address, contact=admin_contact())
    audit.record("registration.no_match_notice_sent")


def new_device(user: User, row: AuthSession) -> None:
    """Tell the owner a browser or device new to the account has signed in (no commit)."""
    outbox.queue(
        "new_sign_in",
        user.email,
        user=user,
        device=describe_device(row.user_agent),
        ip=row.ip or "unknown",
        when=row.created_at,
        api=row.kind == "api",
        account_url=letters.app_link("/account"),
        reset_url=letters.app_link("/forgot-password"),
    )
    audit.record("account.new_device_notice_sent", target=user)
