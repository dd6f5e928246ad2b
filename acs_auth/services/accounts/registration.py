"""Two-step registration of people on the allowlist."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from acs_auth.extensions import db
from acs_auth.models import AllowlistEntry, Source, User, UserProgram, utcnow
from acs_auth.services import audit
from acs_auth.services.accounts import passwords, recovery, tokens
from acs_auth.services.mail import notices, outbox
from acs_auth.services.signin import sessions
from acs_auth.services.signin.authentication import SignIn
from acs_auth.services.text.addresses import email_key
from acs_auth.services.text.names import same_name

# How long the in-session variant (REGISTRATION_EMAIL_CONFIRMATION=false) keeps step 1 valid.
SESSION_STEP_LIFETIME = timedelta(minutes=30)
_MAX_NAME = 100


class AlreadyRegistered(RuntimeError):
    """An account exists for this allowlist entry (possibly created a moment ago)."""


class NoMatch(LookupError):
    """No active allowlist entry matches the last name and email given."""


class RegistrationExpired(RuntimeError):
    """The in-session registration was started too long ago."""


def match_entry(last_name: str, email: str) -> AllowlistEntry | None:
    """The active allowlist entry for ``email`` whose last name matches ``last_name``."""
    key = email_key(email or "")
    if not key or len(key) > 254 or len(last_name or "") > _MAX_NAME:
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


def queue_already_registered(user: User) -> None:
    """Queue the "you already have an account: sign in or reset" email (no commit)."""
    outbox.queue(
        "already_registered",
        user.email,
        user=user,
        login_url=tokens.app_link("/login"),
        reset_url=tokens.app_link("/forgot-password"),
    )
    audit.record("registration.already_registered", target=user)


def send_registration_link(entry: AllowlistEntry, actor: User | None = None) -> None:
    """Queue the email that fits the entry (no commit): link, setup, or already registered.

    Every message goes to the address stored on the entry or the account, never to the
    spelling a visitor typed. A deactivated account gets nothing: an administrator closed it.
    """
    user = account_for(entry)
    if user is None:
        outbox.queue(
            "registration_link",
            entry.email,
            entry=entry,
            link=tokens.app_link(f"/register/password/{tokens.for_entry(entry)}"),
            hours=current_app.config["REGISTRATION_TOKEN_HOURS"],
        )
        entry.invited_at = utcnow()
        audit.record("registration.link_sent", actor=actor, target_label=entry.email)
    elif not user.is_active:
        audit.record("registration.account_inactive", actor=actor, target=user)
    elif user.password_hash is None:
        recovery.queue_setup_link(user, actor=actor)
    else:
        queue_already_registered(user)


def request_registration(last_name: str, email: str) -> None:
    """Step 1 (email confirmation): email the stored address; the caller always answers the same."""
    entry = match_entry(last_name, email)
    if entry is None:
        audit.record("registration.no_match", target_label=audit.typed_label(email))
        notices.registration_not_recognised(email)
    else:
        send_registration_link(entry)
    db.session.commit()


def _user_by_email(email: str) -> User | None:
    key = email_key(email or "")
    if not key or len(key) > 254:
        return None
    return db.session.scalar(select(User).where(User.email_key == key))


def _name_matches(user: User, last_name: str) -> bool:
    """The last name given matches the account's, or its allowlist entry's when it has none."""
    if user.last_name:
        return same_name(user.last_name, last_name)
    return match_entry(last_name, user.email) is not None


def request_setup(last_name: str, email: str) -> None:
    """First-time setup: email the stored address whatever fits; the caller answers the same.

    An active account without a password gets its setup link, one with a password the "already
    registered" email; an allowlisted person without an account gets the registration link.
    """
    user = _user_by_email(email)
    if user is None:
        entry = match_entry(last_name, email)
        if entry is not None:
            send_registration_link(entry)
        else:
            audit.record("password.setup_requested", target_label=audit.typed_label(email))
    elif not user.is_active or user.is_service_account or not _name_matches(user, last_name):
        audit.record("password.setup_requested", target=user, matched=False)
    elif user.password_hash is None:
        recovery.queue_setup_link(user)
    else:
        queue_already_registered(user)
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
    if not isinstance(key, str) or not isinstance(started_at, int | float) or len(key) > 254:
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
    kind: str = "browser",
) -> SignIn:
    """Step 2: create the account with the entry's programs and sign it in (one commit).

    Raises PasswordRejected for a weak password and AlreadyRegistered when the account exists,
    including when a parallel request created it first (the unique email key decides).
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
    user.visit_count = 1
    user.last_login_at = now
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise AlreadyRegistered() from None
    row = sessions.open_session(user, kind)
    user.last_login_ip = row.ip
    audit.record("registration.completed", actor=user, target=user, verified=verified)
    db.session.commit()
    user.auth_session = row
    return SignIn(user=user, session=row)
