"""The first factor: the credential check, and atomic lockout counting shared by every check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, bindparam, case, literal, or_, select, update

from acs_auth.extensions import db
from acs_auth.models import AuthSession, User, UTCDateTime, utcnow
from acs_auth.services import audit
from acs_auth.services.accounts.passwords import verify_password
from acs_auth.services.mail import notices
from acs_auth.services.signin import sessions
from acs_auth.services.text.addresses import EMAIL_MAX, email_key


class CurrentPasswordWrong(ValueError):
    """The current password given to confirm a change is wrong."""


class SignedOutByLock(CurrentPasswordWrong):
    """Wrong, and the account is locked: the session that asked has been ended."""


@dataclass(frozen=True)
class Failure:
    """What counting one failed password check did to the account."""

    locked: bool  # the account is locked now
    just_locked: bool  # this failure is the one that locked it
    until: datetime | None = None  # when the lock ends


# The statements of every sign-in are built once: building one and deriving its cache key
# cost more than running it. docs/performance.md, "Sign-in".
_KEY = bindparam("key")
_FIND_ACCOUNT = (
    select(User)
    .where(or_(User.email_key == _KEY, User.username_key == _KEY))
    # An email match wins over a username match, so no username can shadow someone's email.
    .order_by(case((User.email_key == _KEY, 0), else_=1))
    .limit(1)
)
_FIND_ACCOUNT_ID = (
    select(User.id)
    .where(or_(User.email_key == _KEY, User.username_key == _KEY))
    .order_by(case((User.email_key == _KEY, 0), else_=1))
    .limit(1)
)


def account_id_for(identifier: str) -> int | None:
    """The id of the account ``identifier`` names at sign-in (as find_by_identifier), or None.

    Only printable keys of a possible length reach the database, so a NUL byte or a lone
    surrogate typed into the box is simply no account.
    """
    key = email_key(identifier) if isinstance(identifier, str) else ""
    if not key or len(key) > EMAIL_MAX or not key.isprintable():
        return None
    return db.session.scalar(_FIND_ACCOUNT_ID, {"key": key})


def find_by_identifier(identifier: str) -> User | None:
    """The account whose email or username matches ``identifier`` case-insensitively."""
    key = email_key(identifier or "")
    if not key or len(key) > EMAIL_MAX:
        return None
    return db.session.scalar(_FIND_ACCOUNT, {"key": key})


def count_failure(user: User) -> Failure:
    """Add one failure in a single UPDATE so that every worker agrees (no commit)."""
    cfg = current_app.config
    now = utcnow()
    until = now + timedelta(minutes=cfg["LOCKOUT_DURATION_MINUTES"])
    expired = and_(User.locked_until.is_not(None), User.locked_until <= now)
    new_count = case((expired, 1), else_=User.failed_login_count + 1)
    stmt = (
        update(User)
        .where(User.id == user.id)
        .values(
            failed_login_count=new_count,
            locked_until=case(
                (new_count >= cfg["MAX_LOGIN_ATTEMPTS"], literal(until, UTCDateTime())),
                (expired, literal(None, UTCDateTime())),
                else_=User.locked_until,
            ),
        )
        .returning(User.failed_login_count, User.locked_until)
        .execution_options(synchronize_session=False)
    )
    count, locked_until = db.session.execute(stmt).one()
    locked = locked_until is not None and locked_until > now
    just_locked = locked and count == cfg["MAX_LOGIN_ATTEMPTS"]
    return Failure(locked=locked, just_locked=just_locked, until=locked_until)


def _locked_now(user: User, failure: Failure) -> None:
    """Record the lock this failure caused and tell the owner, once per lock (no commit)."""
    audit.record("account.locked", target=user)
    notices.account_locked(user, failure.until)


def refuse(user: User, reason: str) -> Failure:
    """Count one wrong factor of ``user`` toward the lockout and audit it (no commit).

    A wrong password and a wrong second factor count on the same atomic counter, so neither
    can be guessed beyond MAX_LOGIN_ATTEMPTS; the failure that locks tells the owner, once.
    """
    failure = count_failure(user)
    audit.record("login.failed", target=user, reason=reason)
    if failure.just_locked:
        _locked_now(user, failure)
    return failure


def check(identifier: str, password: str) -> User | None:
    """The one judge of a first factor: the account when the credentials are good, else None.

    Unknown, wrong password, locked, inactive, service-account and not-yet-set-up accounts all
    pay one bcrypt check and all return None, so neither the answer nor its timing tells them
    apart; each failure is audited, counted toward the lockout where it is a wrong password,
    and committed here. A good password returns the account with nothing written yet: the
    sign-in seam (services.signin.seam) counts the visit, clears the counter and opens the
    session in the same transaction, re-checking the lock as it does.
    """
    user = find_by_identifier(identifier)
    password_ok = verify_password(user.password_hash if user else None, password or "")
    if user is None:
        audit.record("login.failed", target_label=audit.typed_label(identifier), reason="unknown")
    elif user.is_locked():
        audit.record("login.failed", target=user, reason="locked")
    elif user.is_service_account:  # a machine identity signs in with nothing but its API keys
        audit.record("login.failed", target=user, reason="service_account")
    elif not password_ok:
        refuse(user, "password")
    elif not user.is_active:
        audit.record("login.failed", target=user, reason="inactive")
        notices.account_inactive(user)  # the right password: tell the owner whom to ask
    else:
        return user
    db.session.commit()
    return None


def confirm_password(user: User, password: str, asking: AuthSession | None, event: str) -> None:
    """Check a signed-in person's current password; a wrong one counts toward the lockout.

    A wrong password is one more failed sign-in on the same atomic counter, so a stolen
    session cannot guess beyond MAX_LOGIN_ATTEMPTS: once the account is locked, the session
    ``asking`` is ended (one commit) and SignedOutByLock is raised, else CurrentPasswordWrong.
    A right password passes even while the account is locked by guesses made elsewhere.
    """
    if verify_password(user.password_hash, password or ""):
        return
    audit.record(event, actor=user, target=user)
    # A lock already in force is not extended by guesses from inside a session.
    failure = Failure(True, False) if user.is_locked() else count_failure(user)
    if failure.just_locked:
        _locked_now(user, failure)
    if failure.locked and asking is not None:
        sessions.revoke(asking, "locked")
        audit.record("session.ended_by_lock", actor=user, target=user)
    db.session.commit()
    raise SignedOutByLock() if failure.locked else CurrentPasswordWrong()
