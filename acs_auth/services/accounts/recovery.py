"""Forgotten passwords and first-time setup through emailed links."""

from __future__ import annotations

from sqlalchemy import select

from acs_auth.extensions import db
from acs_auth.models import User, utcnow
from acs_auth.services import audit
from acs_auth.services.accounts import passwords, registration, tokens
from acs_auth.services.factors import remembered
from acs_auth.services.mail import letters, outbox
from acs_auth.services.signin import api_keys, seam, sessions
from acs_auth.services.signin.authentication import find_by_identifier
from acs_auth.services.signin.seam import Attempt, Channel
from acs_auth.services.text.addresses import EMAIL_MAX, email_key
from acs_auth.services.text.names import same_name


class LinkInvalid(RuntimeError):
    """The link is malformed, expired, already used or no longer matches the account."""


def _user_by_email(email: str) -> User | None:
    key = email_key(email or "")
    if not key or len(key) > EMAIL_MAX:
        return None
    return db.session.scalar(select(User).where(User.email_key == key))


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
    else:
        letters.send_password_link(user)
    db.session.commit()


def _name_matches(user: User, last_name: str) -> bool:
    """The last name given matches the account's, or its allowlist entry's when it has none."""
    if user.last_name:
        return same_name(user.last_name, last_name)
    return registration.match_entry(last_name, user.email) is not None


def request_setup(last_name: str, email: str) -> None:
    """First-time setup: email the stored address whatever fits; the caller answers the same.

    An active account without a password gets its setup link, one with a password the "already
    registered" email; an allowlisted person without an account gets the registration link.
    """
    user = _user_by_email(email)
    if user is None:
        entry = registration.match_entry(last_name, email)
        if entry is not None:
            letters.send_registration_link(entry, None)
        else:
            audit.record("password.setup_requested", target_label=audit.typed_label(email))
    elif not user.is_active or user.is_service_account or not _name_matches(user, last_name):
        audit.record("password.setup_requested", target=user, matched=False)
    else:
        letters.send_account_letter(user)
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


def complete(
    purpose: tokens.Purpose, token: str, password: str, channel: Channel = Channel.BROWSER
) -> Attempt | None:
    """Set the password through a link and end every session (one commit).

    A setup link signs the person in through the seam (the returned Attempt: a session, or a
    pending sign-in when a second factor is required); a reset link does not (None): the
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
    remembered.revoke_all(user)  # and every browser that would skip the second factor
    user.email_verified_at = user.email_verified_at or utcnow()  # the link proved the mailbox
    if purpose is tokens.Purpose.RESET:
        outbox.queue("password_changed", user.email, user=user, when=utcnow())
        audit.record("password.reset_completed", actor=user, target=user, sessions_ended=ended)
        db.session.commit()
        return None
    return seam.begin(
        user,
        channel,
        event=f"password.{purpose}_completed",
        details={"sessions_ended": ended},
    )
