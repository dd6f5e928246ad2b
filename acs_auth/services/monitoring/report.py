"""The admin security view: attack signals per hour and day, sources, unusual and dormant accounts.

Everything is read from the audit log and the users table; only the dormant-account export
writes (its audit row). "Unusual" is
judged per account against its own last 30 days: many failed sign-ins or reset requests in the
last 24 hours, or a successful sign-in from an IP range (/24 for IPv4, /48 for IPv6) or a
device (user agent) that account had not used before. A country lookup would need a database
this offline service does not have; ranges and devices stand in for it.
"""

from __future__ import annotations

import csv
import io
import ipaddress
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select

from acs_auth.extensions import db
from acs_auth.models import AuditEvent, User, utcnow
from acs_auth.services import audit
from acs_auth.services.allowlist.csvfile import neutralise

# Series of the charts: the audit events each one counts.
SERIES = {
    "failed": ("login.failed",),
    "lockouts": ("account.locked",),
    "resets": ("password.reset_link_sent", "password.reset_requested"),
    "rate_limited": ("ratelimit.exceeded",),
}
RECENT = timedelta(hours=24)
BASELINE = timedelta(days=30)
MANY_RESETS = 3
TOP_SOURCES = 10
UNUSUAL_LIMIT = 50


@dataclass
class Bucket:
    """Counts of each series in one hour or one day (UTC), starting at ``start``."""

    start: datetime
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SERIES, 0))


def _bucket_expr(column, unit: str):
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date_trunc(unit, func.timezone("UTC", column))
    pattern = "%Y-%m-%d %H:00:00" if unit == "hour" else "%Y-%m-%d 00:00:00"
    return func.strftime(pattern, column)


def _as_start(value) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def series(unit: str, count: int) -> list[Bucket]:
    """The last ``count`` hours or days ("hour" / "day"), oldest first, every series counted."""
    step = timedelta(hours=1) if unit == "hour" else timedelta(days=1)
    now = utcnow()
    current = now.replace(minute=0, second=0, microsecond=0)
    if unit == "day":
        current = current.replace(hour=0)
    first = current - step * (count - 1)
    buckets = {first + step * n: Bucket(first + step * n) for n in range(count)}
    kind_of = {event: kind for kind, events in SERIES.items() for event in events}
    start = _bucket_expr(AuditEvent.at, unit)
    rows = db.session.execute(
        select(start, AuditEvent.event, func.count())
        .where(AuditEvent.event.in_(kind_of), AuditEvent.at >= first)
        .group_by(start, AuditEvent.event)
    )
    for value, event, number in rows:
        bucket = buckets.get(_as_start(value))
        if bucket is not None:
            bucket.counts[kind_of[event]] += number
    return list(buckets.values())


@dataclass
class Source:
    """An address that failed to sign in, with how often and against how many accounts."""

    ip: str
    network: str
    failures: int
    accounts: int


def ip_range(ip: str | None) -> str:
    """The /24 (IPv4) or /48 (IPv6) an address belongs to; the text itself when unparsable."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return ip or "unknown"
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def top_sources(limit: int = TOP_SOURCES) -> list[Source]:
    """The addresses with the most failed sign-ins in the last 24 hours."""
    accounts = func.count(func.distinct(func.coalesce(AuditEvent.target_label, "")))
    rows = db.session.execute(
        select(AuditEvent.ip, func.count(), accounts)
        .where(AuditEvent.event == "login.failed", AuditEvent.at >= utcnow() - RECENT)
        .group_by(AuditEvent.ip)
        .order_by(func.count().desc(), AuditEvent.ip)
        .limit(limit)
    )
    return [Source(ip or "unknown", ip_range(ip), n, a) for ip, n, a in rows]


@dataclass
class Unusual:
    """An account and the reasons it stands out (each a short phrase)."""

    user_id: int
    email: str
    reasons: list[str] = field(default_factory=list)


def unusual_accounts() -> list[Unusual]:
    """Accounts with many failures or resets, or a sign-in from a new range or device (24 h)."""
    found: dict[int, list[str]] = defaultdict(list)
    since = utcnow() - RECENT
    many_failures = current_app.config["MAX_LOGIN_ATTEMPTS"]
    for event, threshold, phrase in (
        ("login.failed", many_failures, "{n} failed sign-ins"),
        ("password.reset_link_sent", MANY_RESETS, "{n} reset links"),
    ):
        rows = db.session.execute(
            select(AuditEvent.target_id, func.count())
            .where(AuditEvent.event == event, AuditEvent.at >= since, AuditEvent.target_id > 0)
            .group_by(AuditEvent.target_id)
            .having(func.count() >= threshold)
        )
        for user_id, n in rows:
            found[user_id].append(phrase.format(n=n))
    for user_id, reasons in _new_places(since).items():
        found[user_id].extend(reasons)
    emails = dict(db.session.execute(select(User.id, User.email).where(User.id.in_(found))).all())
    result = [Unusual(uid, emails[uid], reasons) for uid, reasons in found.items() if uid in emails]
    return sorted(result, key=lambda u: (-len(u.reasons), u.email))[:UNUSUAL_LIMIT]


def _new_places(since: datetime) -> dict[int, list[str]]:
    """Recent successful sign-ins from a range or user agent the account had not used before."""
    signed_in = and_(AuditEvent.event == "login.succeeded", AuditEvent.target_id > 0)
    recent_ids = select(AuditEvent.target_id).where(signed_in, AuditEvent.at >= since)
    rows = db.session.execute(
        select(AuditEvent.target_id, AuditEvent.at, AuditEvent.ip, AuditEvent.user_agent)
        .where(signed_in, AuditEvent.at >= since - BASELINE, AuditEvent.target_id.in_(recent_ids))
        .order_by(AuditEvent.at)
    )
    known: dict[int, tuple[set, set]] = defaultdict(lambda: (set(), set()))
    reasons: dict[int, list[str]] = defaultdict(list)
    for user_id, at, ip, agent in rows:
        ranges, agents = known[user_id]
        network, device = ip_range(ip), agent or "unknown"
        if _as_aware(at) >= since and (ranges or agents):
            if network not in ranges:
                reasons[user_id].append(f"new IP range {network}")
            if device not in agents:
                reasons[user_id].append("new device")
        ranges.add(network)
        agents.add(device)
    return {uid: sorted(set(r)) for uid, r in reasons.items()}


def _as_aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _dormant_condition(days: int):
    cutoff = utcnow() - timedelta(days=days)
    return and_(
        User.is_active_flag.is_(True),
        or_(
            User.last_login_at < cutoff,
            and_(User.last_login_at.is_(None), User.created_at < cutoff),
        ),
    )


def dormant_count(days: int) -> int:
    """How many active accounts have not signed in for ``days`` days (or ever, when older)."""
    query = select(func.count()).select_from(User).where(_dormant_condition(days))
    return db.session.scalar(query) or 0


def dormant_accounts(days: int, limit: int | None = None) -> list[User]:
    """Those accounts, longest silent first (never signed in first of all)."""
    query = (
        select(User)
        .where(_dormant_condition(days))
        .order_by(User.last_login_at.is_not(None), User.last_login_at, User.created_at, User.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


DORMANT_HEADER = ("email", "first_name", "last_name", "role", "created_at", "last_login_at")


def export_dormant(days: int, actor: User) -> str:
    """The dormant accounts as CSV (UTF-8 with BOM for Excel), formula cells neutralised."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(DORMANT_HEADER)
    accounts = dormant_accounts(days)
    for user in accounts:
        last = user.last_login_at.isoformat(timespec="seconds") if user.last_login_at else ""
        cells = (user.email, user.first_name, user.last_name, user.role)
        created = user.created_at.isoformat(timespec="seconds")
        writer.writerow([*(neutralise(c) for c in cells), created, last])
    audit.record("security.dormant_exported", actor=actor, days=days, accounts=len(accounts))
    db.session.commit()
    return out.getvalue()
