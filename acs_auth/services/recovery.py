"""Forgotten passwords and first-time setup through emailed links."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from acs_auth.extensions import db
from acs_auth.models import User, utcnow
from acs_auth.services import audit, mail, passwords, sessions, tokens
from acs_auth.services.authentication import SignIn
from acs_auth.services.emails import email_key
from acs_auth.services.names import same_name


class LinkInvalid(RuntimeError):
    """The link is malformed, expired, already used or no longer matches the account."""


def _user_by_email(email: str) -> User | None:
    key = email_key(email)
    if not key or len(key) > 254:
        return None
    return db.session.scalar(select(User).where(User.email_key == key))


def queue_setup_link(user: User, actor: User | None = None, welcome: bool = False) -> None:
    """Queue the password-setup email for an account without a password (no commit)."""
    token = tokens.for_user(tokens.Purpose.SETUP, user)
    link = current_app.config["APP_URL"] + f"/setup-password/{token}"
    mail.queue(
        "password_setup",
        user.email,
        user=user,
        link=link,
        welcome=welcome,
        hours=current_app.config["SETUP_TOKEN_HOURS"],
    )
    audit.record("password.setup_link_sent", actor=actor, target=user)


def queue_reset_link(user: User) -> None:
    """Queue the password-reset email (no commit)."""
    token = tokens.for_user(tokens.Purpose.RESET, user)
    link = current_app.config["APP_URL"] + f"/reset-password/{token}"
    mail.queue(
        "password_reset",
        user.email,
        user=user,
        link=link,
        hours=current_app.config["RESET_TOKEN_HOURS"],
    )
    audit.record("password.reset_link_sent", target=user)


def request_reset(email: str) -> None:
    """Email a reset link (or a setup link when no password exists yet) to the stored address.

    Works for locked accounts; sends nothing for unknown or inactive ones. The caller answers
    the same in every case.
    """
    user = _user_by_email(email)
    if user is None or not user.is_active:
        audit.record(
            "password.reset_requested",
            target=user,
            target_label=None if user else (email or "")[:254],
            matched=False,
        )
    elif user.password_hash is None:
        queue_setup_link(user)
    else:
        queue_reset_link(user)
    db.session.commit()


def request_setup(last_name: str, email: str) -> None:
    """First-time setup: an account without a password, or an allowlisted person without one."""
    from acs_auth.services.registration import match_entry, send_registration_link

    user = _user_by_email(email)
    if user is not None:
        if user.is_active and user.password_hash is None and same_name(user.last_name, last_name):
            queue_setup_link(user)
        elif user.is_active and same_name(user.last_name, last_name):
            send_registration_link_for_user(user)
    else:
        entry = match_entry(last_name, email)
        if entry is not None:
            send_registration_link(entry)
    if user is None:
        audit.record("password.setup_requested", target_label=(email or "")[:254])
    db.session.commit()


def send_registration_link_for_user(user: User) -> None:
    """A person with a working password asked for setup: tell them to sign in or reset."""
    mail.queue(
        "already_registered",
        user.email,
        user=user,
        login_url=current_app.config["APP_URL"] + "/login",
        reset_url=current_app.config["APP_URL"] + "/forgot-password",
    )


def user_for_token(purpose: tokens.Purpose, token: str) -> User | None:
    """The active account a reset or setup link belongs to, while the link is still valid."""
    payload = tokens.load(purpose, token)
    if payload is None or not isinstance(payload.get("u"), int):
        return None
    user = db.session.get(User, payload["u"])
    if user is None or not user.is_active or not tokens.matches_user(payload, user):
        return None
    if purpose is tokens.Purpose.SETUP and user.password_hash is not None:
        return None
    return user


def complete(purpose: tokens.Purpose, token: str, password: str, kind: str = "browser") -> SignIn:
    """Set the password through a link, end every other session, and sign in (one commit).

    Raises LinkInvalid (also for the loser of two parallel uses) or PasswordRejected.
    """
    user = user_for_token(purpose, token)
    if user is None:
        raise LinkInvalid()
    try:
        passwords.apply_new_password(user, password)
    except passwords.PasswordStateChanged:
        db.session.rollback()
        raise LinkInvalid() from None
    sessions.revoke_all(user, reason=f"password_{purpose}")
    user.email_verified_at = user.email_verified_at or utcnow()  # the link proved the mailbox
    if purpose is tokens.Purpose.RESET:
        mail.queue("password_changed", user.email, user=user, when=utcnow())
    row = sessions.open_session(user, kind)
    audit.record(f"password.{purpose}_completed", actor=user, target=user)
    db.session.commit()
    user.auth_session = row
    return SignIn(user=user, session=row)
