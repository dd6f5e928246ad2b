"""Two-step registration of people on the allowlist."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from acs_auth.extensions import db
from acs_auth.models import AllowlistEntry, AuthSession, Source, User, UserProgram, utcnow
from acs_auth.services import audit
from acs_auth.services.accounts import passwords, tokens
from acs_auth.services.mail import letters, notices
from acs_auth.services.signin import seam
from acs_auth.services.signin.seam import Attempt, Channel
from acs_auth.services.text.addresses import EMAIL_MAX, email_key
from acs_auth.services.text.names import NAME_MAX, same_name

# How long the in-session variant (REGISTRATION_EMAIL_CONFIRMATION=false) keeps step 1 valid.
SESSION_STEP_LIFETIME = timedelta(minutes=30)


class AlreadyRegistered(RuntimeError):
    """An account exists for this allowlist entry (possibly created a moment ago)."""


class NoMatch(LookupError):
    """No active allowlist entry matches the last name and email given."""


class RegistrationExpired(RuntimeError):
    """The in-session registration was started too long ago."""


def match_entry(last_name: str, email: str) -> AllowlistEntry | None:
    """The active allowlist entry for ``email`` whose last name matches ``last_name``."""
    key = email_key(email or "")
    if not key or len(key) > EMAIL_MAX or len(last_name or "") > NAME_MAX:
        return None
    entry = _active_entry(key)
    return entry if entry is not None and same_name(entry.last_name, last_name) else None


def _active_entry(key: str) -> AllowlistEntry | None:
    return db.session.scalar(
        select(AllowlistEntry).where(
            AllowlistEntry.email_key == key, AllowlistEntry.active.is_(True)
        )
    )


def account_for(entry: AllowlistEntry) -> User | None:
    """The account registered for an allowlist entry, if any."""
    return db.session.scalar(select(User).where(User.email_key == entry.email_key))


def request_registration(last_name: str, email: str) -> None:
    """Step 1 (email confirmation): email the stored address; the caller always answers the same."""
    entry = match_entry(last_name, email)
    if entry is None:
        audit.record("registration.no_match", target_label=audit.typed_label(email))
        notices.registration_not_recognised(email)
    else:
        letters.send_registration_link(entry, account_for(entry))
    db.session.commit()


def start_in_session(last_name: str, email: str) -> AllowlistEntry:
    """Step 1 of the in-session variant: the matching entry, or NoMatch / AlreadyRegistered."""
    entry = match_entry(last_name, email)
    if entry is None:
        audit.record("registration.no_match", target_label=audit.typed_label(email))
        db.session.commit()
        raise NoMatch()
    if account_for(entry) is not None:
        audit.record("registration.already_registered", target_label=entry.email)
        db.session.commit()
        raise AlreadyRegistered()
    audit.record("registration.started", target_label=entry.email)
    db.session.commit()
    return entry


def entry_for_session(key: str | None, started_at: float | None) -> AllowlistEntry | None:
    """The entry an in-session registration was started for, while valid and unregistered.

    Raises RegistrationExpired once SESSION_STEP_LIFETIME has passed since step 1.
    """
    if not isinstance(key, str) or not isinstance(started_at, int | float) or len(key) > EMAIL_MAX:
        return None
    age = utcnow().timestamp() - started_at
    if age > SESSION_STEP_LIFETIME.total_seconds() or age < -60:
        raise RegistrationExpired()
    entry = _active_entry(key)
    if entry is None or account_for(entry) is not None:
        return None
    return entry


def entry_for_token(token: str) -> AllowlistEntry | None:
    """The entry a registration link was issued for, while it is active and unregistered."""
    payload = tokens.load(tokens.Purpose.REGISTER, token)
    if payload is None or not isinstance(payload.get("e"), str):
        return None
    entry = _active_entry(payload["e"])
    if entry is None or account_for(entry) is not None:
        return None
    return entry


def complete_registration(
    entry: AllowlistEntry,
    password: str,
    *,
    verified: bool,
    source: Source = Source.CSV,
    channel: Channel = Channel.BROWSER,
    before_commit: Callable[[AuthSession], Any] | None = None,
) -> Attempt:
    """Step 2: create the account with the entry's programs and sign it in (one commit).

    Signing in goes through the seam (a session, or a pending sign-in when a second factor is
    required; ``before_commit`` as in seam.begin). Raises PasswordRejected for a weak password
    and AlreadyRegistered when the account exists, including when a parallel request created
    it first (the unique email key decides).
    """
    now = utcnow()
    user = User(
        email=entry.email,
        email_key=entry.email_key,
        first_name=entry.first_name,
        last_name=entry.last_name,
        source=Source(source).value,
        email_verified_at=now if verified else None,
    )
    passwords.check_policy(password, passwords.PolicyContext.of(user))
    user.password_hash = passwords.hash_password(password)
    user.password_changed_at = now
    user.programs = [UserProgram(lo_root_id=p) for p in sorted(set(entry.program_ids))]
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise AlreadyRegistered() from None
    return seam.begin(
        user,
        channel,
        event="registration.completed",
        details={"verified": verified},
        before_commit=before_commit,
    )
