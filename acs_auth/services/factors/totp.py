"""Authenticator apps (TOTP, RFC 6238, through pyotp): enrol, confirm, check a code, remove.

Enrolment is two steps: ``begin`` stores a new key (encrypted, unconfirmed) and the page shows
it as a QR code drawn on the server (segno, an inline SVG: no script, nothing outside the CSP)
and as text; ``confirm`` activates it once the person types a first code from their app, so a
mistyped key never locks anyone out. A code is accepted for its own 30-second step and one on
either side (clock drift), and only for a step later than the last one accepted: a code seen
over someone's shoulder, or sent twice, is refused.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

import pyotp
import segno
from flask import current_app
from sqlalchemy import delete, or_, select, update

from acs_auth.extensions import db
from acs_auth.models import AuthSession, TotpFactor, User, utcnow
from acs_auth.services import audit
from acs_auth.services.factors import crypto, notices, recovery_codes, state
from acs_auth.services.signin import authentication

DIGITS = 6
DRIFT_STEPS = 1  # a code of the step before or after the current one is accepted too
QR_SCALE = 4


class AlreadyEnrolled(ValueError):
    """The person already has an authenticator: remove it before setting up another."""


class NotEnrolled(ValueError):
    """There is no authenticator (or no enrolment begun) to act on."""


class CodeRefused(ValueError):
    """The code is not the app's code for this moment, or was already used."""


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the key as text, the otpauth URI and its QR code."""

    secret: str
    uri: str
    qr_svg: str

    @property
    def grouped_secret(self) -> str:
        """The key in groups of four characters, easier to type into an app."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


def normalize(text: str) -> str | None:
    """A code as the app shows it (spaces allowed), or None when it cannot be one."""
    if not isinstance(text, str):
        return None
    folded = text.strip().replace(" ", "")
    return folded if len(folded) == DIGITS and folded.isascii() and folded.isdigit() else None


def _row(user: User) -> TotpFactor | None:
    return db.session.scalar(select(TotpFactor).where(TotpFactor.user_id == user.id))


def _readable(row: TotpFactor) -> str | None:
    """The row's key, or None when no configured key decrypts it (logged)."""
    try:
        return crypto.decrypt(row.secret)
    except crypto.SecretUnreadable:
        current_app.logger.error("authenticator secret of user %s is unreadable", row.user_id)
        return None


def begin(user: User) -> None:
    """Store a fresh key for ``user``, unconfirmed, replacing an unfinished one (one commit)."""
    row = _row(user)
    if row is not None and row.is_active:
        raise AlreadyEnrolled()
    if row is not None:
        db.session.delete(row)
        db.session.flush()
    db.session.add(TotpFactor(user_id=user.id, secret=crypto.encrypt(pyotp.random_base32())))
    db.session.commit()


def pending(user: User) -> Enrolment | None:
    """The enrolment ``user`` began and has not confirmed yet, ready to show; else None."""
    row = _row(user)
    if row is None or row.is_active:
        return None
    secret = _readable(row)
    if secret is None:  # its key was dropped: the person simply starts again
        return None
    issuer = current_app.config["APP_NAME"]
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)
    title = f"QR code of the key for {issuer}"
    svg = segno.make(uri, error="m").svg_inline(
        scale=QR_SCALE, title=title, svgclass="qr-code", light="#fff"
    )
    return Enrolment(secret=secret, uri=uri, qr_svg=svg)


def _matching_step(secret: str, code: str) -> int | None:
    """The time step (within the drift) whose code is ``code``, or None."""
    totp = pyotp.TOTP(secret)
    now = totp.timecode(utcnow())
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def confirm(user: User, text: str) -> list[str]:
    """Activate the begun enrolment with its first code; returns new recovery codes (one commit).

    Raises NotEnrolled without a begun enrolment, CodeRefused for a wrong code.
    """
    row = _row(user)
    if row is None or row.is_active:
        raise NotEnrolled()
    secret = _readable(row)
    code = normalize(text)
    step = _matching_step(secret, code) if code and secret else None
    if step is None:
        raise CodeRefused()
    now = utcnow()
    row.confirmed_at, row.last_used_step, row.last_used_at = now, step, now
    codes = recovery_codes.issue(user)
    audit.record("mfa.totp_enabled", actor=user, target=user)
    notices.totp_enabled(user)
    db.session.commit()
    return codes


def accept(user: User, text: str) -> bool:
    """True when ``text`` is the code of ``user``'s app for now, not used before (no commit).

    The step is recorded with one conditional UPDATE, so of two requests carrying one code
    only one is accepted, whichever worker serves them.
    """
    code = normalize(text)
    row = _row(user)
    if code is None or row is None or not row.is_active:
        return False
    secret = _readable(row)
    step = _matching_step(secret, code) if secret else None
    if step is None:
        return False
    done = db.session.execute(
        update(TotpFactor)
        .where(
            TotpFactor.id == row.id,
            or_(TotpFactor.last_used_step.is_(None), TotpFactor.last_used_step < step),
        )
        .values(last_used_step=step, last_used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return done.rowcount == 1


def is_active(user: User) -> bool:
    """True when ``user`` has a confirmed authenticator."""
    row = _row(user)
    return row is not None and row.is_active


def remove(user: User, password: str, asking: AuthSession | None) -> None:
    """Remove the authenticator behind the password (one commit).

    A wrong password counts toward the lockout (authentication.confirm_password raises). When
    no second factor is left, the recovery codes go too: they stood in for it.
    """
    authentication.confirm_password(user, password, asking, "mfa.remove_password_wrong")
    if not is_active(user):
        raise NotEnrolled()
    db.session.execute(delete(TotpFactor).where(TotpFactor.user_id == user.id))
    if not state.has_second_factor(user):
        recovery_codes.forget(user)
    audit.record("mfa.totp_removed", actor=user, target=user)
    notices.totp_removed(user)
    db.session.commit()
