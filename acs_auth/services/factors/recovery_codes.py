"""Recovery codes: ten one-time codes that stand in for a lost authenticator.

A code is 16 characters from a 31-letter alphabet without look-alikes (about 79 random bits),
shown once as ``abcd-efgh-jkmn-pqrs``; only the SHA-256 of its normalised form is stored. So
much randomness makes a fast hash safe (as for API keys): no guess list can cover it, and the
sign-in step is rate-limited and counts toward the lockout anyway. Each code works once: using
it is a single conditional UPDATE, so two requests racing with one code cannot both win.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import delete, func, select, update

from acs_auth.extensions import db
from acs_auth.models import AuthSession, RecoveryCode, User, utcnow
from acs_auth.services import audit
from acs_auth.services.factors import notices, state
from acs_auth.services.signin import authentication

COUNT = 10
LENGTH = 16
GROUP = 4
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no i, l, o, 0, 1


class NoSecondFactor(ValueError):
    """Recovery codes stand in for a factor; without one there is nothing to recover."""


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, LENGTH, GROUP))


def normalize(text: str) -> str | None:
    """The code as stored (lower case, no spaces or hyphens), or None when it cannot be one."""
    if not isinstance(text, str):
        return None
    folded = text.strip().lower().replace("-", "").replace(" ", "")
    if len(folded) != LENGTH or any(ch not in ALPHABET for ch in folded):
        return None
    return folded


def looks_like_code(text: str) -> bool:
    """True when ``text`` has the shape of a recovery code (not an authenticator's digits)."""
    return normalize(text) is not None


def _digest(normalized: str) -> str:
    return hashlib.sha256(normalized.encode()).hexdigest()


def issue(user: User) -> list[str]:
    """Replace every code of ``user`` with ten new ones and return them (no commit)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_code() for _ in range(COUNT)]
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=_digest(normalize(code))) for code in codes
    )
    return codes


def forget(user: User) -> None:
    """Delete every code of ``user`` (their last second factor went; no commit)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def regenerate(user: User, password: str, asking: AuthSession | None) -> list[str]:
    """New codes for a person with a second factor, behind their password (one commit).

    A wrong password counts toward the lockout (authentication.confirm_password raises).
    """
    authentication.confirm_password(user, password, asking, "mfa.recovery_password_wrong")
    if not state.has_second_factor(user):
        raise NoSecondFactor()
    codes = issue(user)
    audit.record("mfa.recovery_codes_regenerated", actor=user, target=user)
    notices.recovery_codes_regenerated(user)
    db.session.commit()
    return codes


def accept(user: User, text: str) -> bool:
    """Spend one unused code of ``user``; True when ``text`` was one (no commit).

    On success the owner is emailed (with how many codes are left) and the use is audited.
    """
    normalized = normalize(text)
    if normalized is None:
        return False
    spent = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _digest(normalized),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        return False
    left = remaining(user)
    audit.record("mfa.recovery_code_used", actor=user, target=user, remaining=left)
    notices.recovery_code_used(user, left)
    return True


def remaining(user: User) -> int:
    """How many unused codes ``user`` has."""
    return db.session.scalar(
        select(func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )


def all_unused(user: User, texts: list[str]) -> bool:
    """True when every one of ``texts`` is an unused code of ``user`` (for the download)."""
    digests = set()
    for text in texts:
        normalized = normalize(text)
        if normalized is None:
            return False
        digests.add(_digest(normalized))
    if not digests or len(digests) > COUNT:
        return False
    found = db.session.scalar(
        select(func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.used_at.is_(None),
            RecoveryCode.code_hash.in_(digests),
        )
    )
    return found == len(digests)
