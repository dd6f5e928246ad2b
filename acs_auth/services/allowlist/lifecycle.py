"""The allowlist lifecycle: leaving the list ends access, coming back restores it.

Removing a person from the allowlist (a replace import, or an admin's "remove") deactivates
their account and ends every credential it holds: browser sessions and remember-me cookies,
API sessions (and so their access and refresh tokens, which name a session) and API keys.
Adding them back reactivates the account, but only when the allowlist was what closed it: an
account an administrator deactivated stays closed. Changed LO Root IDs replace the account's
programs at once. Every function here adds to the caller's transaction and never commits,
except ``remove_entry``, which is a whole action.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update

from acs_auth.extensions import db
from acs_auth.models import (
    Account,
    AllowlistEntry,
    AllowlistImport,
    ApiKey,
    AuthSession,
    User,
    UserProgram,
    utcnow,
)
from acs_auth.services import audit
from acs_auth.services.signin.sessions import sessions_ended
from acs_auth.services.text.identifiers import program_list, split_joined_programs

REASON_ALLOWLIST = "allowlist"
REASON_ADMIN = "admin"
CHUNK = 500


@dataclass(frozen=True)
class AccountRow:
    """An Account (models.account) as the lifecycle reads it: plain columns, no ORM object."""

    id: int
    email: str
    role: str
    email_key: str
    is_active: bool
    inactive_reason: str | None


def chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    """``items`` in slices of ``size``, so IN lists stay within every backend's limits."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _account_columns():
    return select(
        User.id, User.email, User.role, User.email_key, User.is_active_flag, User.inactive_reason
    )


def accounts_for_keys(keys: Iterable[str]) -> dict[str, AccountRow]:
    """The accounts whose email key is in ``keys``."""
    found: dict[str, AccountRow] = {}
    for chunk in chunks(sorted(set(keys))):
        for row in db.session.execute(_account_columns().where(User.email_key.in_(chunk))):
            found[row.email_key] = AccountRow(*row)
    return found


def accounts_for_batch(batch_id: int) -> dict[str, AccountRow]:
    """The accounts of the entries an import batch touched, in one query."""
    stmt = (
        _account_columns()
        .join(AllowlistEntry, AllowlistEntry.email_key == User.email_key)
        .where(AllowlistEntry.import_batch_id == batch_id)
    )
    return {row.email_key: AccountRow(*row) for row in db.session.execute(stmt)}


def end_credentials(user_ids: list[int], reason: str) -> int:
    """Revoke every live session and API key of these accounts; returns sessions ended."""
    now, ended = utcnow(), 0
    for chunk in chunks(user_ids):
        live = select(AuthSession.id).where(
            AuthSession.user_id.in_(chunk), AuthSession.revoked_at.is_(None)
        )
        session_ids = list(db.session.scalars(live))
        for ids in chunks(session_ids):
            ended += db.session.execute(
                update(AuthSession)
                .where(AuthSession.id.in_(ids))
                .values(revoked_at=now, revoked_reason=reason)
                .execution_options(synchronize_session=False)
            ).rowcount
        db.session.execute(
            update(ApiKey)
            .where(ApiKey.user_id.in_(chunk), ApiKey.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        if session_ids:
            sessions_ended.send(None, user_ids=chunk, session_ids=session_ids, reason=reason)
    return ended


def _record(event: str, account: Account, actor: Account | None, **details) -> None:
    audit.record(event, actor=actor, target=account, **details)


def deactivate(accounts: Iterable[AccountRow], actor: Account | None, **source) -> int:
    """Close the accounts of people removed from the allowlist and end their credentials.

    ``source`` (the import's id and file name) goes into each account's history.
    """
    # The acting administrator is never locked out (or signed out) by their own import.
    accounts = [a for a in accounts if actor is None or a.id != actor.id]
    closing = [a for a in accounts if a.is_active]
    for chunk in chunks([a.id for a in closing]):
        db.session.execute(
            update(User)
            .where(User.id.in_(chunk), User.is_active_flag.is_(True))
            .values(is_active_flag=False, inactive_reason=REASON_ALLOWLIST, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    end_credentials([a.id for a in accounts], reason="allowlist_removed")
    for account in closing:
        _record("account.deactivated", account, actor, reason=REASON_ALLOWLIST, **source)
    return len(closing)


def reactivate(accounts: Iterable[AccountRow], actor: Account | None, **source) -> int:
    """Reopen accounts that the allowlist closed, now that their person is back on it."""
    opening = [a for a in accounts if not a.is_active and a.inactive_reason == REASON_ALLOWLIST]
    for chunk in chunks([a.id for a in opening]):
        db.session.execute(
            update(User)
            .where(User.id.in_(chunk), User.inactive_reason == REASON_ALLOWLIST)
            .values(is_active_flag=True, inactive_reason=None, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    for account in opening:
        _record("account.reactivated", account, actor, reason=REASON_ALLOWLIST, **source)
    return len(opening)


def set_programs(programs: dict[int, Iterable[str]]) -> int:
    """Replace the programs of each account id with the LO Root IDs given."""
    ids = sorted(programs)
    for chunk in chunks(ids):
        db.session.execute(delete(UserProgram).where(UserProgram.user_id.in_(chunk)))
    rows = [{"user_id": uid, "lo_root_id": p} for uid in ids for p in program_list(programs[uid])]
    for chunk in chunks(rows, 5000):
        db.session.execute(insert(UserProgram), chunk)
    return len(ids)


def _programs_of(user_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {uid: [] for uid in user_ids}
    for chunk in chunks(user_ids):
        rows = db.session.execute(
            select(UserProgram.user_id, UserProgram.lo_root_id).where(
                UserProgram.user_id.in_(chunk)
            )
        )
        for user_id, program in rows:
            found[user_id].append(program)
    return {uid: sorted(ids) for uid, ids in found.items()}


def record_program_changes(
    programs: dict[int, list[str]], actor: Account | None, accounts: dict[int, AccountRow], **source
) -> None:
    """Write ``programs: old → new`` into the history of each account an import changes."""
    before = _programs_of(sorted(programs))
    for user_id, new in programs.items():
        new = program_list(new)
        if before[user_id] != new:
            changes = {"programs": [before[user_id], new]}
            _record("user.updated", accounts[user_id], actor, changes=changes, **source)


@dataclass
class Outcome:
    """What an import did to accounts."""

    deactivated: int = 0
    reactivated: int = 0
    reprogrammed: int = 0


def after_import(
    batch_id: int,
    *,
    removed: set[str],
    restored: set[str],
    programs: dict[str, str],
    actor: Account | None,
) -> Outcome:
    """Apply the lifecycle to the accounts of every entry an import added, changed or removed.

    ``programs`` maps email keys to LO Root IDs in their stored form (";"-joined).
    """
    accounts = accounts_for_batch(batch_id)
    # Each account's history names the import that changed it.
    file_name = db.session.scalar(
        select(AllowlistImport.file_name).where(AllowlistImport.id == batch_id)
    )
    source = {"import_id": batch_id, "import_file": file_name or None}
    outcome = Outcome()
    closing = [accounts[k] for k in removed if k in accounts]
    outcome.deactivated = deactivate(closing, actor, **source)
    opening = [accounts[k] for k in restored if k in accounts]
    outcome.reactivated = reactivate(opening, actor, **source)
    by_id = {
        accounts[k].id: split_joined_programs(ids) for k, ids in programs.items() if k in accounts
    }
    record_program_changes(by_id, actor, {a.id: a for a in accounts.values()}, **source)
    outcome.reprogrammed = set_programs(by_id)
    return outcome


def remove_entry(entry: AllowlistEntry, actor: Account | None) -> int:
    """Take one person off the allowlist and close their account (one commit)."""
    entry.active = False
    entry.imported_at = utcnow()
    accounts = accounts_for_keys([entry.email_key])
    closed = deactivate(accounts.values(), actor)
    audit.record(
        "allowlist.entry_removed", actor=actor, target_label=entry.email, deactivated=closed
    )
    db.session.commit()
    return closed


def restore_entry(entry: AllowlistEntry, actor: Account | None) -> int:
    """Put a removed person back on the allowlist and reopen their account (one commit)."""
    entry.active = True
    entry.imported_at = utcnow()
    accounts = accounts_for_keys([entry.email_key])
    opened = reactivate(accounts.values(), actor)
    set_programs({a.id: entry.program_ids for a in accounts.values()})
    audit.record(
        "allowlist.entry_restored", actor=actor, target_label=entry.email, reactivated=opened
    )
    db.session.commit()
    return opened
