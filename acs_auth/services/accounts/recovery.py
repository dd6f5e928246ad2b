"""Forgotten passwords and first-time setup through emailed links."""

from __future__ import annotations

from flask import current_app, has_request_context, request
from sqlalchemy import update

from acs_auth.extensions import db
from acs_auth.models import User, utcnow
from acs_auth.services import audit
from acs_auth.services.accounts import passwords, tokens
from acs_auth.services.accounts.tokens import app_link, reset_link
from acs_auth.services.mail import outbox
from acs_auth.services.signin import api_keys, sessions
from acs_auth.services.signin.authentication import SignIn, find_by_identifier


class LinkInvalid(RuntimeError):
    """The link is malformed, expired, already used or no longer matches the account."""


def queue_setup_link(user: User, actor: User | None = None, welcome: bool = False) -> None:
    """Queue the password-setup email for an account without a password (no commit)."""
    outbox.queue(
        "password_setup",
        user.email,
        user=user,
        link=app_link("/setup-password/" + tokens.for_user(tokens.Purpose.SETUP, user)),
        welcome=welcome,
        hours=current_app.config["SETUP_TOKEN_HOURS"],
    )
    audit.record("password.setup_link_sent", actor=actor, target=user, welcome=welcome)


def queue_reset_link(user: User, actor: User | None = None) -> None:
    """Queue the password-reset email; ``actor`` is the administrator who sent it (no commit)."""
    outbox.queue(
        "password_reset",
        user.email,
        user=user,
        link=reset_link(user),
        hours=current_app.config["RESET_TOKEN_HOURS"],
    )
    audit.record("password.reset_link_sent", actor=actor, target=user)


def request_reset(identifier: str) -> None:
    """Email a reset link (or a setup link when no password exists yet) to the stored address.

    ``identifier`` is the account's email or its username (an email match wins, as at sign-in);
    the link only ever goes to the address stored on the account. Works for locked accounts;
    sends nothing for unknown or inactive ones. The caller answers the same in every case.
    """
    user = find_by_identifier((identifier or "").strip())
    if user is None or not user.is_active or user.is_service_account:
        audit.record(
            "password.reset_requested",
            target=user,
            target_label=None if user else audit.typed_label(identifier),
            matched=False,
        )
    elif user.password_hash is None:
        queue_setup_link(user)
    else:
        queue_reset_link(user)
    db.session.commit()


def user_for_token(purpose: tokens.Purpose, token: str) -> User | None:
    """The active account a reset or setup link belongs to, while the link is still valid."""
    payload = tokens.load(purpose, token)
    user_id = payload.get("u") if payload is not None else None
    if type(user_id) is not int or not 0 < user_id < 2**63:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or not tokens.matches_user(payload, user):
        return None
    if user.is_service_account:  # never a password, whatever link it was sent before
        return None
    if purpose is tokens.Purpose.SETUP and user.password_hash is not None:
        return None
    return user


def _count_visit(user: User) -> None:
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(
            visit_count=User.visit_count + 1,
            last_login_at=utcnow(),
            last_login_ip=request.remote_addr if has_request_context() else None,
        )
        .execution_options(synchronize_session=False)
    )


def complete(
    purpose: tokens.Purpose, token: str, password: str, kind: str = "browser"
) -> SignIn | None:
    """Set the password through a link and end every session (one commit).

    A setup link signs the person in (the returned SignIn); a reset link does not (None): the
    person signs in afresh on /login, so a reset link is never a way around a second factor
    (OWASP Forgot Password cheat sheet). Raises LinkInvalid (also for the loser of two parallel
    uses) or PasswordRejected.
    """
    purpose = tokens.Purpose(purpose)
    if purpose is tokens.Purpose.REGISTER:
        raise LinkInvalid()
    user = user_for_token(purpose, token)
    if user is None:
        raise LinkInvalid()
    try:
        passwords.apply_new_password(user, password)
    except passwords.PasswordStateChanged:
        db.session.rollback()
        raise LinkInvalid() from None
    # A reset usually follows a suspected compromise: every session, browser and API, ends.
    ended = sessions.revoke_all(user, reason=f"password_{purpose}")
    api_keys.revoke_all(user)  # keys too: a key minted by an intruder must not survive a reset
    user.email_verified_at = user.email_verified_at or utcnow()  # the link proved the mailbox
    if purpose is tokens.Purpose.RESET:
        outbox.queue("password_changed", user.email, user=user, when=utcnow())
        audit.record("password.reset_completed", actor=user, target=user, sessions_ended=ended)
        db.session.commit()
        return None
    _count_visit(user)
    row = sessions.open_session(user, kind)
    audit.record(f"password.{purpose}_completed", actor=user, target=user, sessions_ended=ended)
    db.session.commit()
    user.auth_session = row
    return SignIn(user=user, session=row)
