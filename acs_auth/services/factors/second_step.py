"""The second step of a sign-in: a code from the authenticator app, or a recovery code.

The sign-in seam (services.signin) holds the pending sign-in; this module judges the code given
for it. A code that passes is spent (its time step, or the recovery code) in the transaction in
which the seam opens the session, so a code whose sign-in did not happen is not spent. A wrong
code is a failed sign-in of the account (seam.second_factor_failed): it adds to the atomic
counter a wrong password adds to, so guessing codes locks the account after MAX_LOGIN_ATTEMPTS,
and the pending sign-in of a locked account is used up. Both kinds of code are ``otp`` (RFC
8176: a recovery code is a one-time password too); a recovery code's use is told apart in the
audit log (``mfa.passed`` with ``method=recovery_code``) and emailed to the owner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from acs_auth.extensions import db
from acs_auth.models import AuthSession, User
from acs_auth.services import audit
from acs_auth.services.factors import recovery_codes, state, totp
from acs_auth.services.signin import seam

OTP = "otp"  # RFC 8176: one-time password
TOTP_METHOD = "totp"
RECOVERY_METHOD = "recovery_code"


@dataclass(frozen=True)
class Outcome:
    """What a code did: the session it opened, or whether the pending sign-in is over."""

    signed_in: seam.SignIn | None = None
    over: bool = False  # locked now, or the pending sign-in was used up or expired meanwhile


def offered(held: seam.Pending) -> set[str]:
    """The kinds of factor the person of ``held`` can use at this step (services.factors)."""
    return state.enrolled(db.session.get(User, held.user_id))


def _spend(user: User, text: str) -> str | None:
    """Spend ``text`` as ``user``'s code (no commit); the method it passed as, or None."""
    if recovery_codes.looks_like_code(text):
        return RECOVERY_METHOD if recovery_codes.accept(user, text) else None
    return TOTP_METHOD if totp.accept(user, text) else None


def finish(
    held: seam.Pending,
    text: str,
    *,
    before_commit: Callable[[AuthSession], Any] | None = None,
) -> Outcome:
    """Judge ``text`` for the pending sign-in ``held``: sign in (one commit), or count a failure.

    ``before_commit`` runs inside the sign-in's transaction (the API mints its token pair).
    """
    user = db.session.get(User, held.user_id)
    method = _spend(user, text)
    if method is None:  # audited by the seam as login.failed, reason second_factor:otp
        return Outcome(over=seam.second_factor_failed(held, OTP))
    audit.record("mfa.passed", actor=user, target=user, method=method)
    signed_in = seam.complete(held, OTP, before_commit=before_commit)
    return Outcome(signed_in=signed_in, over=signed_in is None)
