"""The allowlist as the admin sees it: entries with their status, invitations, CSV export."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select

from acs_auth.extensions import db
from acs_auth.models import AllowlistEntry, AllowlistImport, User, utcnow
from acs_auth.models.user import search_key
from acs_auth.services import audit, paging
from acs_auth.services.accounts import registration
from acs_auth.services.accounts.user_admin import clean_query, prefix_match
from acs_auth.services.allowlist import lifecycle
from acs_auth.services.allowlist.csvfile import HEADER, write_row
from acs_auth.services.mail import letters
from acs_auth.services.text.addresses import email_key

# An entry invited less than this long ago is not invited again by a bulk action, so repeated
# clicks cannot flood a mailbox; a registration link stays valid for 24 hours anyway.
INVITE_THROTTLE = timedelta(minutes=15)
# One bulk action queues at most this many emails (ALLOWLIST_INVITE_BATCH overrides it).
INVITE_BATCH = 500

STATUS_LABELS = {
    "not_registered": "Not registered",
    "invited": "Link sent",
    "link_expired": "Link expired",
    "pending_setup": "Password not set",
    "registered": "Registered",
    "locked": "Locked",
    "inactive": "Account inactive",
    "removed": "Removed from the list",
}
# Filter choices: "not_registered" covers everyone without an account, invited or not.
FILTERS = (
    "not_registered",
    "invited",
    "pending_setup",
    "registered",
    "locked",
    "inactive",
    "removed",
)


@dataclass
class EntryStatus:
    """An allowlist entry, its account (if any) and its status."""

    entry: AllowlistEntry
    user_id: int | None
    status: str
    link_expires_at: datetime | None

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass
class InviteResult:
    """What a bulk invitation did."""

    sent: int = 0
    skipped: int = 0
    remaining: int = 0


def _link_hours() -> timedelta:
    return timedelta(hours=current_app.config["REGISTRATION_TOKEN_HOURS"])


def _status(entry: AllowlistEntry, user_id, has_password, active, locked_until, now):
    expires = entry.invited_at + _link_hours() if entry.invited_at else None
    if not entry.active:
        return "removed", None
    if user_id is None:
        if expires is None:
            return "not_registered", None
        return ("invited", expires) if expires > now else ("link_expired", None)
    if not active:
        return "inactive", None
    if locked_until is not None and locked_until > now:
        return "locked", None
    return ("registered", None) if has_password else ("pending_setup", expires)


def _status_condition(status: str, now: datetime):
    entry, user = AllowlistEntry, User
    unlocked = or_(user.locked_until.is_(None), user.locked_until <= now)
    live = and_(entry.active.is_(True), user.is_active_flag.is_(True))
    return {
        "removed": entry.active.is_(False),
        "not_registered": and_(entry.active.is_(True), user.id.is_(None)),
        "invited": and_(
            entry.active.is_(True), user.id.is_(None), entry.invited_at > now - _link_hours()
        ),
        "inactive": and_(entry.active.is_(True), user.is_active_flag.is_(False)),
        "locked": and_(live, user.locked_until > now),
        "registered": and_(live, unlocked, user.password_hash.is_not(None)),
        "pending_setup": and_(live, unlocked, user.password_hash.is_(None)),
    }.get(status)


def _base_query():
    return select(
        AllowlistEntry,
        User.id,
        User.password_hash.is_not(None),
        User.is_active_flag,
        User.locked_until,
    ).outerjoin(User, User.email_key == AllowlistEntry.email_key)


def search(
    q: str = "",
    status: str = "",
    *,
    after: int | None = None,
    before: int | None = None,
    limit: int = 50,
) -> paging.Page:
    """One page of entries matching an email or last-name prefix and a status."""
    now = utcnow()
    stmt = _base_query()
    term = clean_query(q).strip()
    if term:
        folded = search_key(term) or ""
        conditions = [prefix_match(AllowlistEntry.email_key, email_key(term))]
        if folded and "@" not in term:
            conditions.append(prefix_match(AllowlistEntry.last_name_key, folded))
        stmt = stmt.where(or_(*conditions))
    condition = _status_condition(status, now)
    if condition is not None:
        stmt = stmt.where(condition)
    page = paging.by_key(
        stmt,
        AllowlistEntry.email_key,
        AllowlistEntry.id,
        after=after,
        before=before,
        limit=limit,
        scalars=False,
        ident=lambda row: row[0].id,
    )
    page.items = [EntryStatus(row[0], row[1], *_status(*row, now)) for row in page.items]
    return page


def get(entry_id: int) -> EntryStatus | None:
    """One entry with its status, or None."""
    row = db.session.execute(_base_query().where(AllowlistEntry.id == entry_id)).first()
    if row is None:
        return None
    return EntryStatus(row[0], row[1], *_status(*row, utcnow()))


def _invitable(now: datetime):
    """Entries that may be (re)invited now: on the list, no usable password, not just invited."""
    return (
        select(AllowlistEntry)
        .outerjoin(User, User.email_key == AllowlistEntry.email_key)
        .where(
            AllowlistEntry.active.is_(True),
            or_(
                User.id.is_(None),
                and_(User.password_hash.is_(None), User.is_active_flag.is_(True)),
            ),
            or_(
                AllowlistEntry.invited_at.is_(None),
                AllowlistEntry.invited_at < now - INVITE_THROTTLE,
            ),
        )
    )


def invite(
    actor: User | None,
    *,
    entry_ids: list[int] | None = None,
    keys: list[str] | None = None,
    limit: int | None = None,
) -> InviteResult:
    """Queue registration (or setup) links through the outbox, throttled (one commit).

    Targets the given entries, the given email keys, or (neither given) everyone not yet
    registered. People with a password and people invited in the last INVITE_THROTTLE are
    skipped; at most ``limit`` (default ALLOWLIST_INVITE_BATCH) emails are queued.
    """
    limit = limit or current_app.config.get("ALLOWLIST_INVITE_BATCH", INVITE_BATCH)
    now = utcnow()
    stmt = _invitable(now)
    if entry_ids is not None:
        stmt = stmt.where(AllowlistEntry.id.in_(entry_ids[:limit]))
    if keys is not None:
        stmt = stmt.where(AllowlistEntry.email_key.in_(keys[:limit]))
    entries = list(db.session.scalars(stmt.order_by(AllowlistEntry.email_key).limit(limit)))
    for entry in entries:
        letters.send_registration_link(entry, registration.account_for(entry), actor=actor)
        entry.invited_at = now
    chosen = entry_ids if entry_ids is not None else keys
    result = InviteResult(sent=len(entries))
    if chosen is not None:
        considered = min(len(chosen), limit)
        result.skipped = considered - len(entries)
        result.remaining = len(chosen) - considered
    else:
        db.session.flush()
        result.remaining = db.session.scalar(
            select(func.count()).select_from(_invitable(now).subquery())
        )
    audit.record("allowlist.invited", actor=actor, sent=result.sent, skipped=result.skipped)
    db.session.commit()
    return result


def export_csv(actor: User | None) -> str:
    """The active entries as CSV (UTF-8 with BOM for Excel), formula cells neutralised."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    rows = db.session.execute(
        select(
            AllowlistEntry.last_name,
            AllowlistEntry.first_name,
            AllowlistEntry.email,
            AllowlistEntry.lo_root_ids,
        )
        .where(AllowlistEntry.active.is_(True))
        .order_by(AllowlistEntry.email_key)
    )
    count = 0
    for last, first, email, ids in rows:
        write_row(writer, last, first, email, ids)
        count += 1
    audit.record("allowlist.exported", actor=actor, entries=count)
    db.session.commit()
    return out.getvalue()


def remove(entry: AllowlistEntry, actor: User) -> int:
    """Take a person off the allowlist; their account closes (one commit)."""
    return lifecycle.remove_entry(entry, actor)


def restore(entry: AllowlistEntry, actor: User) -> int:
    """Put a removed person back on the allowlist; their account reopens (one commit)."""
    return lifecycle.restore_entry(entry, actor)


def history(limit: int = 50, before: int | None = None, after: int | None = None) -> paging.Page:
    """One page of imports, newest first; ``before`` pages to older ones, ``after`` to newer."""
    return paging.newest_first(
        select(AllowlistImport), AllowlistImport.id, before=before, after=after, limit=limit
    )


def active_count() -> int:
    """How many entries are on the allowlist now."""
    return db.session.scalar(
        select(func.count()).select_from(AllowlistEntry).where(AllowlistEntry.active.is_(True))
    )
