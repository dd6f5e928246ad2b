"""Account administration: search, filter, paginate, edit, unlock, sign out, resend, delete.

Searches match any part of the lower-cased keys (email_key, username_key, first_name_key,
last_name_key; trigram-indexed on PostgreSQL), and pages are cut with keyset pagination on the
unique email_key, so a page costs about the same at 100k accounts as at 100. Filters are a
fixed set of states; no query ever filters or sorts on a secret column's value (password
hash, tokens).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, delete, func, literal_column, or_, select, update

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
from acs_auth.services import audit, paging
from acs_auth.services.accounts import accounts
from acs_auth.services.allowlist import lifecycle
from acs_auth.services.mail import letters
from acs_auth.services.signin import sessions
from acs_auth.services.text.addresses import EMAIL_MAX
from acs_auth.services.text.characters import without_control_characters
from acs_auth.services.text.identifiers import program_list

PAGE_SIZE = 50
PASSWORD_STATES = ("set", "pending")


def clean_query(q: str | None, limit: int = EMAIL_MAX) -> str:
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


# Without a search, a filter matching at least this many accounts is "dense": see _planned.
DENSE = 1000


def _column(attribute, indexed: bool):
    """The column itself, or (SQLite) "+column", which keeps the planner off its index."""
    column = attribute.property.columns[0]
    if indexed:
        return attribute
    return literal_column(f"+{column.table.name}.{column.name}", column.type)


def contains(column, text: str):
    """``column`` contains ``text`` (already lower-cased); LIKE wildcards are plain characters.

    PostgreSQL answers it from the pg_trgm GIN indexes of migration 0003 (three characters or
    more); SQLite reads the rows in email order and stops after one page of matches.
    """
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like("%" + escaped + "%", escape="\\")


def _search_terms(q: str) -> list[list[tuple]]:
    """The search as alternatives (OR) of "contains" conditions that must all hold (AND)."""
    term = q.strip()
    if not term:
        return []
    lowered = term.lower()
    terms = [[(User.email_key, lowered)], [(User.username_key, lowered)]]
    folded = search_key(term) or ""
    if folded:
        terms += [[(User.last_name_key, folded)], [(User.first_name_key, folded)]]
        words = folded.split(" ")
        if len(words) > 1:  # "ada love": in the first name, then in the last name
            terms.append(
                [(User.first_name_key, words[0]), (User.last_name_key, " ".join(words[1:]))]
            )
    return terms


def _search_condition(terms: list[list[tuple]]):
    return or_(*[and_(*[contains(attr, text) for attr, text in branch]) for branch in terms])


def _filtered(filters: UserFilters, indexed: bool = True):
    stmt = select(User)
    now = utcnow()
    terms = _search_terms(clean_query(filters.q))
    if terms:
        stmt = stmt.where(_search_condition(terms))
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
    probe = stmt.with_only_columns(User.id).limit(limit).subquery()
    return db.session.scalar(select(func.count()).select_from(probe))


def _planned(filters: UserFilters):
    """The filtered query, shaped so that SQLite picks a fast plan.

    PostgreSQL's statistics and trigram indexes choose well on their own. SQLite cannot index
    "contains", and for a filter it may collect every match through the filter's index and
    sort them all. Walking the email index in page order and stopping after one page is
    cheaper whenever matches are not rare: always with a search, and for dense filters.
    """
    if db.session.get_bind().dialect.name != "sqlite" or filters == UserFilters():
        return _filtered(filters)
    if _search_terms(clean_query(filters.q)):
        return _filtered(filters, indexed=False)
    return _filtered(filters, indexed=_count_upto(_filtered(filters), DENSE) < DENSE)


def count_users(filters: UserFilters) -> int:
    """How many accounts match ``filters`` (all pages together)."""
    probe = _filtered(filters).with_only_columns(User.id).subquery()
    return db.session.scalar(select(func.count()).select_from(probe))


def search_users(
    filters: UserFilters,
    *,
    after: int | None = None,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> paging.Page:
    """One page of accounts matching ``filters``, ordered by email."""
    return paging.by_key(
        _planned(filters), User.email_key, User.id, after=after, before=before, limit=limit
    )


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
    new_programs = program_list(programs)
    if new_programs != user.program_ids:
        changes["programs"] = [user.program_ids, new_programs]
        user.programs = [UserProgram(lo_root_id=p) for p in new_programs]
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
    letters.send_setup_link(user, actor=actor)
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
