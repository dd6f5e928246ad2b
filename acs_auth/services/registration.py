"""Two-step registration of people on the allowlist."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from acs_auth.extensions import db
from acs_auth.models import AllowlistEntry, Source, User, UserProgram, utcnow
from acs_auth.services import audit, mail, passwords, sessions, tokens
from acs_auth.services.authentication import SignIn
from acs_auth.services.emails import email_key
from acs_auth.services.names import same_name


class AlreadyRegistered(RuntimeError):
    """An account exists for this allowlist entry (possibly created a moment ago)."""


def match_entry(last_name: str, email: str) -> AllowlistEntry | None:
    """The active allowlist entry for ``email`` whose last name matches ``last_name``."""
    key = email_key(email)
    if not key or len(key) > 254:
        return None
    entry = db.session.scalar(
        select(AllowlistEntry).where(
            AllowlistEntry.email_key == key, AllowlistEntry.active.is_(True)
        )
    )
    return entry if entry is not None and same_name(entry.last_name, last_name) else None


def account_for(entry: AllowlistEntry) -> User | None:
    """The account registered for an allowlist entry, if any."""
    return db.session.scalar(select(User).where(User.email_key == entry.email_key))


def send_registration_link(entry: AllowlistEntry, actor: User | None = None) -> None:
    """Queue the email that fits the entry (no commit): link, setup, or already registered."""
    user = account_for(entry)
    if user is None:
        link = current_app.config["APP_URL"] + f"/register/password/{tokens.for_entry(entry)}"
        mail.queue(
            "registration_link",
            entry.email,
            entry=entry,
            link=link,
            hours=current_app.config["REGISTRATION_TOKEN_HOURS"],
        )
        entry.invited_at = utcnow()
        audit.record("registration.link_sent", actor=actor, target_label=entry.email)
    elif user.password_hash is None:
        from acs_auth.services.recovery import queue_setup_link

        queue_setup_link(user)
    else:
        mail.queue(
            "already_registered",
            user.email,
            user=user,
            login_url=current_app.config["APP_URL"] + "/login",
            reset_url=current_app.config["APP_URL"] + "/forgot-password",
        )
        audit.record("registration.already_registered", target=user)


def request_registration(last_name: str, email: str) -> None:
    """Step 1 (email confirmation): email the stored address; the caller always answers the same."""
    entry = match_entry(last_name, email)
    if entry is None:
        audit.record("registration.no_match", target_label=(email or "")[:254])
    else:
        send_registration_link(entry)
    db.session.commit()


def entry_for_token(token: str) -> AllowlistEntry | None:
    """The entry a registration link was issued for, while it is active and unregistered."""
    payload = tokens.load(tokens.Purpose.REGISTER, token)
    if payload is None or not isinstance(payload.get("e"), str):
        return None
    entry = db.session.scalar(
        select(AllowlistEntry).where(
            AllowlistEntry.email_key == payload["e"], AllowlistEntry.active.is_(True)
        )
    )
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
    user = User(
        email=entry.email,
        email_key=entry.email_key,
        first_name=entry.first_name,
        last_name=entry.last_name,
        source=source.value,
        email_verified_at=utcnow() if verified else None,
    )
    passwords.check_policy(password, passwords.PolicyContext.of(user))
    user.password_hash = passwords.hash_password(password)
    user.password_changed_at = utcnow()
    user.programs = [UserProgram(lo_root_id=p) for p in entry.program_ids]
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise AlreadyRegistered() from None
    user.visit_count = 1
    user.last_login_at = utcnow()
    row = sessions.open_session(user, kind)
    user.last_login_ip = row.ip
    audit.record("registration.completed", actor=user, target=user, verified=verified)
    db.session.commit()
    user.auth_session = row
    return SignIn(user=user, session=row)
