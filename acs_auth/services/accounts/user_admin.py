"""Account administration: search, filter, paginate, edit, unlock, sign out, resend, delete.

Searches match any part of one column the database computes from the lower-cased email and
username and the folded names (``users.search_text``; one trigram index on PostgreSQL), pages
show a count capped at COUNT_CAP, and pages are cut with keyset pagination on the
unique email_key, so a page costs about the same at 100k accounts as at 100. Filters are a
fixed set of states; no query ever filters or sorts on a secret column's value (password
hash, tokens).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, literal_column, or_, select, text, update

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import (
    AllowlistImport,
    AllowlistUpload,
    ApiKey,
    AuditEvent,
    AuthSession,
    PasswordHistory,
    Role,
    Source,
    User,
    UserProgram,
    utcnow,
)
from acs_auth.models.user import search_key
from acs_auth.services import audit
from acs_auth.services.accounts import accounts, recovery
from acs_auth.services.allowlist import lifecycle
from acs_auth.services.signin import sessions
from acs_auth.services.text.characters import without_control_characters

PAGE_SIZE = 50
PASSWORD_STATES = ("set", "pending")


def clean_query(q: str | None, limit: int = 254) -> str:
    """A search box value made safe to send: control characters removed, length capped."""
    # Control characters never occur in a stored key; PostgreSQL refuses NUL in a parameter.
    return without_control_characters(q or "")[:limit]


class ActionRefused(ValueError):
    """An admin action that would break an invariant; ``str(exc)`` is the reason to show."""


@dataclass
class UserFilters:
    """The search box and filters of the users page."""

    q: str = ""
    role: str = ""
    password: str = ""
    locked: bool = False
    inactive: bool = False


@dataclass
class Page:
    """One page of a keyset-paginated list; the cursors are row ids."""

    items: list[Any] = field(default_factory=list)
    next_after: int | None = None
    prev_before: int | None = None


def _next_prefix(prefix: str) -> str | None:
    """The smallest string greater than every string starting with ``prefix``."""
    for cut in range(len(prefix) - 1, -1, -1):
        code = ord(prefix[cut]) + 1
        if 0xD800 <= code <= 0xDFFF:
            code = 0xE000  # surrogates cannot be stored; the next storable code point
        if code <= 0x10FFFF:
            return prefix[:cut] + chr(code)
    return None


def prefix_match(column, prefix: str):
    """``column`` starts with ``prefix`` (already lower-cased), using the column's index.

    PostgreSQL indexes LIKE 'p%' through the varchar_pattern_ops indexes of migration 0002;
    SQLite uses a plain index for a range, and its keys compare byte-wise (code-point order).
    """
    if db.session.get_bind().dialect.name == "postgresql":
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return column.like(escaped + "%", escape="\\")
    upper = _next_prefix(prefix)
    return and_(column >= prefix, column < upper) if upper else column >= prefix


def inline_limit(count: int):
    """A LIMIT written into the statement, so that PostgreSQL plans for the real number.

    psycopg prepares a statement after five runs, and PostgreSQL's generic plan for an
    unknown ``LIMIT $1`` walked the whole email index for a rare search (400 ms at 100k
    accounts) where the plan for LIMIT 51 reads the trigram index (2 to 20 ms).
    """
    return bindparam(None, int(count), literal_execute=True)


def keyset_page(
    stmt, key_col, id_col, *, after: int | None, before: int | None, limit: int, scalars=True
):
    """Cut one page of ``stmt`` ordered by the unique ``key_col``; cursors are ``id_col`` values.

    Returns (rows, has_more_in_that_direction); rows are always in ascending order.
    """

    def key_of(row_id: int):
        return select(key_col).where(id_col == row_id).scalar_subquery()

    if before is not None:
        stmt = stmt.where(key_col < key_of(before)).order_by(key_col.desc())
    else:
        if after is not None:
            stmt = stmt.where(key_col > key_of(after))
        stmt = stmt.order_by(key_col)
    result = db.session.execute(stmt.limit(inline_limit(limit + 1)))
    rows = list(result.scalars()) if scalars else list(result.all())
    more = len(rows) > limit
    rows = rows[:limit]
    if before is not None:
        rows.reverse()
    return rows, more


def page_of(rows: list, more: bool, *, after, before, ident) -> Page:
    """Wrap keyset rows in a Page with its previous/next cursors."""
    page = Page(items=rows)
    if not rows:
        return page
    if before is None:  # paging forward (or the first page)
        page.next_after = ident(rows[-1]) if more else None
        page.prev_before = ident(rows[0]) if after is not None else None
    else:  # paging backward: the page we came from is always next
        page.next_after = ident(rows[-1])
        page.prev_before = ident(rows[0]) if more else None
    return page


# Without a search, a filter matching at least this many accounts is "dense": see _planned.
DENSE = 1000
# The list counts its matches up to this many and then says "1,000+": an exact count of the
# whole list or a common search reads every match, and nobody pages through a thousand.
COUNT_CAP = 1000


def _column(attribute, indexed: bool):
    """The column itself, or (SQLite) "+column", which keeps the planner off its index."""
    column = attribute.property.columns[0]
    if indexed:
        return attribute
    return literal_column(f"+{column.table.name}.{column.name}", column.type)


def like_pattern(text: str) -> str:
    """A LIKE pattern for "contains ``text``", its wildcards escaped with a backslash."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return "%" + escaped + "%"


def contains(column, text: str):
    """``column`` contains ``text`` (already lower-cased); LIKE wildcards are plain characters.

    The pattern is written into the statement (a literal, quoted by SQLAlchemy) rather than
    sent as a parameter: psycopg prepares a statement run five times, and PostgreSQL's generic
    plan for "LIKE $1" cannot know that the pattern is selective, so it walked the whole email
    index (165 ms at 100k accounts) where the trigram index answers in 2 ms.
    """
    pattern = bindparam(None, like_pattern(text), type_=column.type, literal_execute=True)
    return column.like(pattern, escape="\\")


def search_texts(q: str) -> list[str]:
    """What ``q`` is looked for as, in the search column: lower-cased, and name-folded.

    The column holds the lower-cased email and username and the folded names (models.user
    SEARCH_TEXT), so "Müller" is looked for as "müller" (an address may hold it) and as
    "muller" (a name does). The two are usually the same string.
    """
    term = clean_query(q).strip()
    if not term:
        return []
    return sorted({term.lower(), search_key(term) or term.lower()})


def _filtered(filters: UserFilters, indexed: bool = True, search: bool = True):
    stmt = select(User)
    now = utcnow()
    texts = search_texts(filters.q) if search else []
    if texts:
        # One column, one trigram index on PostgreSQL (migration 0008_people).
        stmt = stmt.where(or_(*[contains(User.search_text, text) for text in texts]))
    if filters.role in {r.value for r in Role}:
        stmt = stmt.where(_column(User.role, indexed) == filters.role)
    # "Has a password or not" is a state shown on every row; the hash itself is never compared.
    if filters.password == "pending":
        stmt = stmt.where(User.password_hash.is_(None))
    elif filters.password == "set":
        stmt = stmt.where(User.password_hash.is_not(None))
    if filters.locked:
        stmt = stmt.where(_column(User.locked_until, indexed) > now)
    if filters.inactive:
        stmt = stmt.where(_column(User.is_active_flag, indexed).is_(False))
    return stmt


def _count_upto(stmt, limit: int) -> int:
    probe = stmt.with_only_columns(User.id).limit(inline_limit(limit)).subquery()
    return db.session.scalar(select(func.count()).select_from(probe))


@dataclass(frozen=True)
class Count:
    """How many accounts match: exact up to ``COUNT_CAP``, then "at least" (``capped``)."""

    value: int
    capped: bool

    def __str__(self) -> str:
        return f"{self.value:,}+" if self.capped else f"{self.value:,}"


_SQLITE_MATCHES = "SELECT id FROM users INDEXED BY ix_users_search WHERE {} LIMIT :n"
_SQLITE_LIKE = "search_text LIKE :p{} ESCAPE '\\'"
# One statement per number of patterns search_texts() gives (one or two).
_SQLITE_PROBES = {
    1: text(_SQLITE_MATCHES.format(_SQLITE_LIKE.format(0))),
    2: text(_SQLITE_MATCHES.format(f"{_SQLITE_LIKE.format(0)} OR {_SQLITE_LIKE.format(1)}")),
}


def _sqlite_matches(texts: list[str]) -> list[int]:
    """Ids of up to COUNT_CAP + 1 accounts whose search column matches, read from its index.

    SQLite computes its VIRTUAL search column row by row when it scans the table (180 ms at
    100k accounts); the column's index holds the computed values and is scanned in 30 ms, but
    the planner does not pick it on its own, and SQLAlchemy cannot write INDEXED BY.
    """
    params = {f"p{i}": like_pattern(t) for i, t in enumerate(texts)}
    return list(db.session.scalars(_SQLITE_PROBES[len(texts)], {**params, "n": COUNT_CAP + 1}))


def _planned(filters: UserFilters):
    """The filtered query, shaped so that SQLite picks a fast plan, and its count if known.

    PostgreSQL's statistics and the trigram index choose well on their own. SQLite cannot
    index "contains": a search first reads the matching ids from the search column's index;
    when they are few, the page and the count are cut from those ids, and when they are many,
    the email index is walked in page order, which stops after one page. For a dense filter
    without a search, SQLite would collect every match through the filter's index and sort
    them all, so the email index is walked then too.
    """
    if db.session.get_bind().dialect.name != "sqlite" or filters == UserFilters():
        return _filtered(filters), None
    texts = search_texts(filters.q)
    if not texts:
        return _filtered(filters, indexed=_count_upto(_filtered(filters), DENSE) < DENSE), None
    ids = _sqlite_matches(texts)
    if len(ids) <= COUNT_CAP:
        return _filtered(filters, search=False).where(User.id.in_(ids)), None
    only_search = filters == UserFilters(q=filters.q)
    return _filtered(filters, indexed=False), Count(COUNT_CAP, True) if only_search else None


def _count(stmt) -> Count:
    found = _count_upto(stmt, COUNT_CAP + 1)
    return Count(min(found, COUNT_CAP), found > COUNT_CAP)


def find_users(
    filters: UserFilters,
    *,
    after: int | None = None,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> tuple[Page, Count]:
    """One page of accounts matching ``filters`` (ordered by email), and how many match.

    Matches are counted up to COUNT_CAP and then shown as "1,000+", so a common search costs
    what a rare one does, and the whole list costs no count of every row (110 ms at 100k
    accounts on a busy PostgreSQL; the dashboard shows the exact total).
    """
    stmt, known = _planned(filters)
    rows, more = keyset_page(stmt, User.email_key, User.id, after=after, before=before, limit=limit)
    page = page_of(rows, more, after=after, before=before, ident=lambda u: u.id)
    return page, known or _count(stmt)


def search_users(
    filters: UserFilters,
    *,
    after: int | None = None,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    """One page of accounts matching ``filters``, ordered by email (no count)."""
    rows, more = keyset_page(
        _planned(filters)[0], User.email_key, User.id, after=after, before=before, limit=limit
    )
    return page_of(rows, more, after=after, before=before, ident=lambda u: u.id)


def get_user(user_id: int) -> User | None:
    """The account with ``user_id``, or None."""
    return db.session.get(User, user_id)


def _locked_active_admins() -> list[int]:
    """Ids of the active admins, their rows locked until the commit (FOR UPDATE on PostgreSQL).

    Two admins demoting each other at once both lock the same rows in the same order; the
    second waits for the first to commit and then sees the first one's change (PostgreSQL
    re-checks a locked row's WHERE against its new version), so it cannot remove the last
    admin. SQLite has one writer at a time, so the second transaction cannot commit a write
    decided on a snapshot older than the first one's commit.
    """
    stmt = select(User.id).where(User.role == Role.ADMIN.value, User.is_active_flag.is_(True))
    return list(db.session.scalars(stmt.order_by(User.id).with_for_update()))


def _guard_admin_loss(user: User, actor: User | None, *, losing: bool, message: str) -> None:
    if not losing:
        return
    if actor is not None and user.id == actor.id:
        raise ActionRefused(message)
    if not user.is_admin:
        return
    admins = _locked_active_admins()
    if actor is not None and actor.id not in admins:
        raise ActionRefused(message)  # demoted a moment ago by another admin
    if not [admin for admin in admins if admin != user.id]:
        raise ActionRefused(message)


def update_user(
    user: User, *, role: str, programs: list[str], active: bool, actor: User
) -> dict[str, list]:
    """Change role, programs and activity; deactivation ends every credential (one commit).

    Raises ActionRefused when the change would remove the actor's own access or the last
    active administrator. Returns the changes as {field: [old, new]}.
    """
    role = Role(role).value
    losing = (user.is_admin and role != Role.ADMIN.value) or (user.is_active and not active)
    _guard_admin_loss(user, actor, losing=losing, message=messages.ADMIN_SELF_LOCKOUT)
    changes: dict[str, list] = {}
    if role != user.role:
        changes["role"] = [user.role, role]
        user.role = role
        if user.is_service_account:
            _become_machine(user)
    new_programs = sorted(set(programs))
    if new_programs != sorted(user.program_ids):
        changes["programs"] = [sorted(user.program_ids), new_programs]
        user.programs = [UserProgram(lo_root_id=p) for p in new_programs]
        # The next import that would replace them asks first (services.allowlist.edits).
        user.programs_edited_at = utcnow()
    if active != user.is_active:
        changes["active"] = [user.is_active, active]
        _set_active(user, active)
    if changes:
        audit.record("user.updated", actor=actor, target=user, changes=changes)
        db.session.commit()
    return changes


def _become_machine(user: User) -> None:
    """A service account keeps no password and no session; its API keys stay (no commit)."""
    user.password_hash = None
    user.password_changed_at = None
    sessions.revoke_all(user, reason="service_account")


def _set_active(user: User, active: bool) -> None:
    user.is_active_flag = active
    user.inactive_reason = None if active else lifecycle.REASON_ADMIN
    if not active:
        # A deactivated account keeps no way in: browser sessions, remember-me cookies, API
        # tokens (through their session) and API keys all end now.
        sessions.revoke_all(user, reason="deactivated")
        lifecycle.end_credentials([user.id], reason="deactivated")


def create_user(
    email: str,
    *,
    role: str,
    first_name: str | None,
    last_name: str | None,
    programs: list[str],
    actor: User,
) -> User:
    """Create an account without a password and queue its setup email (one commit)."""
    return accounts.create_user(
        email,
        role=role,
        actor=actor,
        first_name=first_name,
        last_name=last_name,
        programs=programs,
        source=Source.ADMIN,
        send_setup=True,
    )


def unlock(user: User, actor: User) -> None:
    """Clear the account's lock and failed sign-in count (one commit)."""
    accounts.unlock(user, actor=actor)


def sign_out_everywhere(user: User, actor: User) -> int:
    """End every session of the account, browser and API, and revoke its API keys (one commit)."""
    return accounts.sign_out_everywhere(user, actor=actor, revoke_keys=True)


def resend_setup(user: User, actor: User) -> None:
    """Queue a fresh password-setup email for an account that has no password (one commit)."""
    if user.is_service_account:
        raise ActionRefused(messages.ADMIN_SERVICE_NO_PASSWORD)
    if user.password_hash is not None:
        raise ActionRefused(messages.ADMIN_SETUP_NOT_NEEDED)
    if not user.is_active:
        raise ActionRefused(messages.ADMIN_ACCOUNT_INACTIVE)
    recovery.queue_setup_link(user, actor=actor)
    db.session.commit()


def delete_user(user: User, actor: User) -> None:
    """Delete the account and everything that belongs to it; the audit trail keeps its label.

    Rows that belong to the account are deleted explicitly rather than left to ON DELETE
    CASCADE, which SQLite only honours when foreign keys are switched on (one commit).
    """
    _guard_admin_loss(user, actor, losing=True, message=messages.ADMIN_SELF_DELETE)
    uid, label = user.id, user.email
    for model in (AuthSession, ApiKey, PasswordHistory, UserProgram, AllowlistUpload):
        column = model.actor_id if model is AllowlistUpload else model.user_id
        db.session.execute(delete(model).where(column == uid))
    for column in (AuditEvent.actor_id, AuditEvent.target_id):
        db.session.execute(update(AuditEvent).where(column == uid).values({column.key: None}))
    db.session.execute(
        update(AllowlistImport).where(AllowlistImport.actor_id == uid).values(actor_id=None)
    )
    db.session.expunge(user)
    db.session.execute(delete(User).where(User.id == uid))
    audit.record("user.deleted", actor=actor, target_label=label, user_id=uid)
    db.session.commit()


# A non-admin probing the console gets one admin.denied row per path per window, and at most
# DENIED_PER_WINDOW in all, so a script cannot flood the audit log.
DENIED_WINDOW = timedelta(minutes=10)
DENIED_PER_WINDOW = 20


def record_denied(user: User, method: str, path: str) -> None:
    """Audit a signed-in non-admin's attempt on an admin URL, throttled (one commit)."""
    path = path[:200]
    recent = db.session.scalars(
        select(AuditEvent.details)
        .where(AuditEvent.event == "admin.denied", AuditEvent.actor_id == user.id)
        .where(AuditEvent.at >= utcnow() - DENIED_WINDOW)
        .limit(DENIED_PER_WINDOW)
    ).all()
    if len(recent) >= DENIED_PER_WINDOW or any((d or {}).get("path") == path for d in recent):
        return
    audit.record("admin.denied", actor=user, target=user, method=method, path=path)
    db.session.commit()
