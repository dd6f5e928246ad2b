"""Pending sign-ins: the first factor passed, a second one is still to come.

A pending sign-in is a row of ``signin_challenges`` named by a random handle of 256 bits, of
which only the SHA-256 is stored. The handle lives in the browser's signed session (browser and
provider channels: it is never put in a form or a URL) or in the API client's hands (the
challenge token of the API channel); a handle opened for one side is refused by the other. It is
usable for SIGNIN_PENDING_MINUTES after the first factor passed, once (a compare-and-set UPDATE
of ``used_at`` decides between parallel uses), and only while the account is active and its
email and password are those it was opened with. A table rather than the rate limiter's storage
because single use must hold on every worker even with ``RATELIMIT_STORAGE_URI=memory://`` or
rate limits turned off; ``flask cleanup`` deletes old rows.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from acs_auth.extensions import db
from acs_auth.models import SessionKind, SignInChallenge, User, utcnow
from acs_auth.services.accounts.passwords import fingerprint

# Handles are 43 characters; anything much longer is refused before it is hashed.
MAX_HANDLE_LENGTH = 128


class Channel(enum.StrEnum):
    """Where a sign-in happens: a browser page, the JSON API, or the identity provider's
    authorize step (a browser sign-in that goes back to an OpenID Connect client)."""

    BROWSER = "browser"
    API = "api"
    PROVIDER = "provider"

    @property
    def session_kind(self) -> SessionKind:
        """The kind of session it opens: the provider's sign-in is a browser session."""
        return SessionKind.API if self is Channel.API else SessionKind.BROWSER

    @property
    def in_browser(self) -> bool:
        """Browser and provider sign-ins are held in the browser's session."""
        return self is not Channel.API


@dataclass(frozen=True)
class Pending:
    """A sign-in whose first factor passed: who, how so far, where, and what comes next."""

    handle: str  # the secret that resumes it: keep it in the browser session or give it out
    user_id: int
    amr: tuple[str, ...]  # RFC 8176 methods passed so far, e.g. ("pwd",)
    channel: Channel
    remember: bool
    next_url: str | None
    created_at: datetime
    expires_at: datetime


def lifetime() -> timedelta:
    """How long a pending sign-in may be resumed (SIGNIN_PENDING_MINUTES)."""
    return timedelta(minutes=current_app.config["SIGNIN_PENDING_MINUTES"])


def _digest(handle: str) -> str:
    return hashlib.sha256(handle.encode("ascii")).hexdigest()


def _account_state(user: User) -> str:
    """What a pending sign-in is bound to: the account's address and password state."""
    return fingerprint(f"{user.email_key}\n{user.password_hash or '<none>'}")


def _as_pending(row: SignInChallenge, handle: str) -> Pending:
    return Pending(
        handle=handle,
        user_id=row.user_id,
        amr=tuple(row.amr.split()),
        channel=Channel(row.channel),
        remember=bool(row.remember),
        next_url=row.next_url,
        created_at=row.created_at,
        expires_at=row.created_at + lifetime(),
    )


def open_pending(
    user: User,
    *,
    amr: tuple[str, ...],
    channel: Channel,
    remember: bool = False,
    next_url: str | None = None,
) -> Pending:
    """Add a pending sign-in for ``user`` to the current transaction (no commit)."""
    handle = secrets.token_urlsafe(32)
    row = SignInChallenge(
        digest=_digest(handle),
        user_id=user.id,
        channel=Channel(channel).value,
        amr=" ".join(amr),
        remember=bool(remember),
        next_url=next_url,
        account_state=_account_state(user),
        created_at=utcnow(),
    )
    db.session.add(row)
    return _as_pending(row, handle)


def find(handle: object, channel: Channel) -> Pending | None:
    """The live, unused pending sign-in ``handle`` names on ``channel``'s side, or None.

    None too when it is expired, of the other side (browser against API), or its account was
    deactivated or changed its email or password since. Nothing is written: ``consume`` is
    what uses it up.
    """
    if not isinstance(handle, str) or not 0 < len(handle) <= MAX_HANDLE_LENGTH:
        return None
    if not handle.isascii():
        return None
    row = db.session.scalar(
        select(SignInChallenge).where(
            SignInChallenge.digest == _digest(handle),
            SignInChallenge.used_at.is_(None),
            SignInChallenge.created_at > utcnow() - lifetime(),
        )
    )
    if row is None or Channel(row.channel).in_browser != Channel(channel).in_browser:
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.is_active or row.account_state != _account_state(user):
        return None
    return _as_pending(row, handle)


def consume(pending: Pending) -> bool:
    """Use ``pending`` up; True when it was still live, unused and its account unchanged.

    False when it was used or expired meanwhile, or the account was deactivated or changed
    its email or password since ``find`` (it is used up then too) (no commit).
    """
    now = utcnow()
    state = db.session.execute(
        update(SignInChallenge)
        .where(
            SignInChallenge.digest == _digest(pending.handle),
            SignInChallenge.used_at.is_(None),
            SignInChallenge.created_at > now - lifetime(),
        )
        .values(used_at=now)
        .returning(SignInChallenge.account_state)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if state is None:
        return False
    user = db.session.get(User, pending.user_id)
    return user is not None and user.is_active and state == _account_state(user)


def purge_expired(before: datetime) -> int:
    """Delete pending sign-ins begun before ``before`` (no commit)."""
    stmt = delete(SignInChallenge).where(SignInChallenge.created_at < before)
    return db.session.execute(stmt).rowcount
