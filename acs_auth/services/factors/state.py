"""Which second factors a person has, and a stamp that changes whenever they (or the password) do.

Each kind of factor is one entry of ``KINDS``: a function giving the part of the stamp the kind
contributes for a person, or None when the person has none of it. A new kind (passkeys) adds
one entry; ``SECOND_FACTORS`` says which kinds can stand as the second step on their own
(recovery codes only stand in for a factor the person has).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import Passkey, RecoveryCode, TotpFactor, User

TOTP = "totp"
RECOVERY_CODES = "recovery_codes"
PASSKEY = "passkey"


def _totp_part(user: User) -> str | None:
    """The confirmed authenticator's id and confirmation time (a new enrolment changes both)."""
    row = db.session.execute(
        select(TotpFactor.id, TotpFactor.confirmed_at).where(
            TotpFactor.user_id == user.id, TotpFactor.confirmed_at.is_not(None)
        )
    ).first()
    return f"{row.id}:{row.confirmed_at.isoformat()}" if row else None


def _recovery_part(user: User) -> str | None:
    """The newest set of recovery codes (regenerating replaces it), while any code is unused."""
    newest, issued, used = db.session.execute(
        select(
            func.max(RecoveryCode.id), func.count(RecoveryCode.id), func.count(RecoveryCode.used_at)
        ).where(RecoveryCode.user_id == user.id)
    ).one()
    # Using a code leaves the stamp alone; only a new set (or the last code used) changes it.
    return f"{newest}" if issued > used else None


def _passkey_part(user: User) -> str | None:
    """The ids of the person's passkeys (adding or removing one changes it); None without any."""
    ids = db.session.scalars(
        select(Passkey.id).where(Passkey.user_id == user.id).order_by(Passkey.id)
    ).all()
    return ",".join(map(str, ids)) if ids else None


KINDS: dict[str, Callable[[User], str | None]] = {
    TOTP: _totp_part,
    RECOVERY_CODES: _recovery_part,
    PASSKEY: _passkey_part,
}
SECOND_FACTORS = {TOTP, PASSKEY}
# What a JSON client can give at POST /api/auth/login/mfa: codes. A passkey answers a challenge
# bound to the site's origin, which only a browser can do.
API_SECOND_STEPS = {TOTP, RECOVERY_CODES}


def _parts(user: User) -> dict[str, str]:
    found = {}
    for kind, part in KINDS.items():
        value = part(user)
        if value is not None:
            found[kind] = value
    return found


def enrolled(user: User) -> set[str]:
    """The kinds of factor ``user`` has in force (a begun, unconfirmed enrolment is none)."""
    return set(_parts(user))


def api_second_steps(user_id: int) -> list[str]:
    """The kinds of code the API's second step accepts for the account ``user_id`` (sorted).

    Empty for a person whose second factor is a passkey alone: such a person signs in to the
    API with an API key, made on /account after a browser sign-in.
    """
    user = db.session.get(User, user_id)
    return sorted(enrolled(user) & API_SECOND_STEPS) if user is not None else []


def has_second_factor(user: User) -> bool:
    """True when sign-in must ask ``user`` for a second step (a factor, not just codes)."""
    return bool(enrolled(user) & SECOND_FACTORS)


def factor_stamp(user: User) -> str:
    """A short digest that changes whenever the password or any factor of ``user`` changes.

    Something bound to it (a remembered browser) dies with such a change. It says nothing about
    the factors themselves: the password hash and the parts only enter the digest.
    """
    parts = sorted(_parts(user).items())
    material = "|".join([user.password_hash or "-", *(f"{k}={v}" for k, v in parts)])
    return hashlib.sha256(material.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Overview:
    """What /account says about a person's second factors."""

    kinds: frozenset[str]
    codes_left: int

    @property
    def protected(self) -> bool:
        return bool(self.kinds & SECOND_FACTORS)

    @property
    def codes_low(self) -> bool:
        """An authenticator app, and at most LOW_CODES recovery codes left: time for new ones.

        (Recovery codes stand in for the app; a person with passkeys only has none to run out of.)
        """
        return TOTP in self.kinds and self.codes_left <= LOW_CODES

    @property
    def warning(self) -> str | None:
        """What to tell a person running out of recovery codes, or None."""
        return messages.MFA_CODES_LOW.format(count=self.codes_left) if self.codes_low else None


LOW_CODES = 2


def overview(user: User) -> Overview:
    """The kinds in force and how many recovery codes are left."""
    left = db.session.scalar(
        select(func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )
    return Overview(kinds=frozenset(enrolled(user)), codes_left=left)
