"""Signing in with a passkey, through the sign-in seam like every other entrance.

As a first factor (passwordless, a discoverable credential) a verified passkey is handed to
``seam.begin`` with amr ``hwk`` or ``swk``; as the second step after the password it completes
the pending sign-in the seam holds. Either way the account's state is judged at that moment,
failures count toward the lockout of the account the passkey names, and the seam opens the
session (visit count, amr, audit, new-device notice).
"""

from __future__ import annotations

from sqlalchemy import select

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import Passkey, User
from acs_auth.services import audit
from acs_auth.services.factors import passkeys
from acs_auth.services.signin import authentication, seam
from acs_auth.services.signin.pending import Channel, Pending


def account_id_for_credential(credential_id: object) -> int | None:
    """The account a credential id belongs to, for the sign-in rate limit; else None."""
    if not isinstance(credential_id, str) or not 0 < len(credential_id) <= 1400:
        return None
    return db.session.scalar(select(Passkey.user_id).where(Passkey.credential_id == credential_id))


def _refusal(user: User) -> str | None:
    """Why ``user`` may not sign in now, as the password path judges it; None when they may."""
    if user.is_locked():
        return "locked"
    if user.is_service_account:
        return "service_account"
    if not user.is_active:  # deactivated, or removed from the allowlist
        return "inactive"
    return None


def sign_in(
    state: object, credential: object, channel: Channel = Channel.BROWSER, **begin
) -> seam.Attempt:
    """The passwordless first factor: a verified discoverable passkey, then ``seam.begin``.

    Every refusal (unknown or removed passkey, bad answer, expired challenge, an account that
    may not sign in) raises PasskeyError after its one commit; a bad answer for a known passkey
    counts toward that account's lockout. ``begin`` takes the seam's keyword arguments
    (``next_url``, ``remember``).
    """
    try:
        found = passkeys.finish_assertion(state, credential)
    except passkeys.PasskeyRejected as exc:
        if exc.owner is not None:
            authentication.refuse(exc.owner, "passkey")
        db.session.commit()
        raise
    except passkeys.PasskeyError:
        db.session.commit()
        raise
    refusal = _refusal(found.user)
    if refusal is not None:
        audit.record("login.failed", target=found.user, reason=refusal, method="passkey")
        db.session.commit()
        raise passkeys.PasskeyRejected(messages.PASSKEY_SIGN_IN_FAILED)
    details = {"method": found.amr, "passkey": found.passkey.public_id}
    attempt = seam.begin(found.user, channel, amr=(found.amr,), details=details, **begin)
    if attempt.failed:  # locked meanwhile: the seam has audited it
        raise passkeys.PasskeyRejected(messages.PASSKEY_SIGN_IN_FAILED)
    return attempt


def second_factor_options(held: Pending) -> passkeys.Ceremony:
    """Options for the second step of ``held``: only that person's passkeys (one commit)."""
    return passkeys.start_assertion(db.session.get(User, held.user_id))


def second_factor(held: Pending, state: object, credential: object) -> seam.SignIn | None:
    """A passkey as the second step of ``held``: verify it, then complete the sign-in.

    On success the seam opens the session with amr ``pwd hwk mfa`` (or ``swk``), audited as
    ``passkey.used_second_factor`` (one commit); None when ``held`` was used or expired
    meanwhile. A wrong answer counts toward the lockout through the seam (which ends the
    pending sign-in once the account locks) and raises PasskeyError.
    """
    user = db.session.get(User, held.user_id)
    try:
        found = passkeys.finish_assertion(state, credential, user)
    except passkeys.PasskeyRejected:
        seam.second_factor_failed(held, "passkey")
        raise
    except passkeys.PasskeyError:
        db.session.commit()
        raise
    audit.record(
        "passkey.used_second_factor", actor=user, target=user, passkey=found.passkey.public_id
    )
    return seam.complete(held, found.amr)  # the seam adds "mfa": two factors were used
