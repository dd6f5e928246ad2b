"""A person's recent account activity, read from the audit log, and new-device detection.

/account lists the latest sign-ins (each one a new session, browser or API), password changes
and resets, email changes and locks, each with the device (a short "Firefox on Linux" label
from sessions.describe_device) and the IP address.

A sign-in comes from a *new device* when no earlier session or successful sign-in of the
account had the same device label (browser + operating system) from the same network (the
IPv4 /24 or IPv6 /48 of the address). The very first sign-in of an account is never new: there
is nothing to compare it with (registration and first-time setup open the first session).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, union

from acs_auth.extensions import db
from acs_auth.models import AuditEvent, AuthSession, User
from acs_auth.services.signin.sessions import describe_device

# Event → what the person sees. Only events about the person's own account are listed.
LABELS = {
    "login.succeeded": "Signed in",
    "registration.completed": "Registered and signed in",
    "password.changed": "Password changed",
    "password.reset_completed": "Password reset by emailed link",
    "password.setup_completed": "Password set up",
    "account.email_changed": "Email address changed",
    "account.locked": "Locked after wrong passwords",
    "account.unlocked": "Unlocked",
    "session.revoked": "Signed out a device",
    "api_key.created": "API key created",
    "api_key.revoked": "API key revoked",
}
# How far back new-device detection looks (rows, newest first).
HISTORY_ROWS = 500


@dataclass(frozen=True)
class Activity:
    """One line of the activity list."""

    at: datetime
    what: str
    device: str
    ip: str | None


def recent(user: User, limit: int = 20) -> list[Activity]:
    """The latest ``limit`` events about ``user``'s own account, newest first."""
    rows = db.session.execute(
        select(
            AuditEvent.at,
            AuditEvent.event,
            AuditEvent.user_agent,
            AuditEvent.ip,
            AuditEvent.details,
        )
        .where(AuditEvent.target_id == user.id, AuditEvent.event.in_(LABELS))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).all()
    found = []
    for at, event, agent, ip, details in rows:
        what = LABELS[event]
        if event == "login.succeeded" and (details or {}).get("kind") == "api":
            what = "Signed in (API)"
        found.append(Activity(at=at, what=what, device=describe_device(agent), ip=ip))
    return found


def network(ip: str | None) -> str | None:
    """The network an address belongs to: its IPv4 /24 or IPv6 /48; None when unknown."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def is_new_device(user: User, user_agent: str | None, ip: str | None) -> bool:
    """True when (device label, network) matches none of the account's earlier sign-ins.

    False for the first sign-in ever (no earlier session or sign-in to compare with). Call it
    before the new session is added. One round trip: the account's latest sessions and
    successful sign-ins (sessions are deleted some time after they end, audit events stay),
    each distinct (user agent, address) once.
    """
    sessions_seen = (
        select(AuthSession.user_agent, AuthSession.ip)
        .where(AuthSession.user_id == user.id)
        .order_by(AuthSession.id.desc())
        .limit(HISTORY_ROWS)
        .subquery()
    )
    signins_seen = (
        select(AuditEvent.user_agent, AuditEvent.ip)
        .where(
            AuditEvent.target_id == user.id,
            AuditEvent.event.in_(("login.succeeded", "registration.completed")),
        )
        .order_by(AuditEvent.id.desc())
        .limit(HISTORY_ROWS)
        .subquery()
    )
    pairs = union(select(sessions_seen), select(signins_seen))  # UNION: each pair once
    seen = {(describe_device(agent), network(addr)) for agent, addr in db.session.execute(pairs)}
    if not seen:
        return False
    return (describe_device(user_agent), network(ip)) not in seen
