"""The sign-in seam: every entrance turns an account whose factors passed into a session here.

The entrances (browser /login, registration completion, first-time setup, the API's login and
register, the API's new pair after a password change, and the identity provider's authorize
step, which sends the person through /login) call these functions and nothing else to sign
someone in:

- ``sign_in`` checks an email-or-username and password (services.signin.authentication.check,
  the one judge of a first factor) and goes on with ``begin``;
- ``begin`` is where a first factor ends: it asks services.signin.second_factor whether the
  account must give a second one; if so it opens a pending sign-in (``hold``, kept in
  services.signin.pending), else it signs in with ``establish``;
- ``resume`` finds a pending sign-in again, ``complete`` uses it up once the second factor has
  passed and signs in, ``second_factor_failed`` counts a wrong one toward the lockout;
- ``establish`` opens the session: visit count (re-checking the lock), the session row with its
  methods (``amr``) and remember-me lifetime, the audit event, the new-device notice; one commit.

The browser side (Flask-Login, the remember-me cookie, the pending handle) is
services.signin.browser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import has_request_context, request
from sqlalchemy import bindparam, or_, update
from sqlalchemy.orm.attributes import set_committed_value

from acs_auth.extensions import db
from acs_auth.models import AuthSession, User, UTCDateTime, utcnow
from acs_auth.services import audit
from acs_auth.services.mail import notices
from acs_auth.services.signin import activity, authentication, second_factor, sessions
from acs_auth.services.signin import pending as pending_signins
from acs_auth.services.signin.pending import Channel, Pending

__all__ = [
    "Attempt",
    "Channel",
    "Pending",
    "SignIn",
    "begin",
    "complete",
    "establish",
    "hold",
    "resume",
    "second_factor_failed",
    "sign_in",
]

PASSWORD = "pwd"  # RFC 8176: password-based authentication
MULTIPLE_FACTORS = "mfa"  # RFC 8176: more than one factor (a second one passed)
LOGIN_SUCCEEDED = "login.succeeded"

_NOW = bindparam("now", type_=UTCDateTime())
_USERS = User.__table__.c
# Built once (building a statement costs more than running it). It names the table, not the
# class, so the Session runs it as plain SQL; _count_visit updates the account in memory itself.
_COUNT_VISIT = (
    update(User.__table__)
    # The lock test is repeated here: a parallel wrong guess that locked the account after
    # this request read the row must still win over a right password.
    .where(
        _USERS.id == bindparam("user_id"),
        or_(_USERS.locked_until.is_(None), _USERS.locked_until <= _NOW),
    )
    .values(
        visit_count=_USERS.visit_count + 1,
        failed_login_count=0,
        locked_until=None,
        last_login_at=_NOW,
        last_login_ip=bindparam("ip"),
    )
)


@dataclass
class SignIn:
    """A session just opened: the account, its session row, what ``before_commit`` returned."""

    user: User
    session: AuthSession
    prepared: Any = None


@dataclass
class Attempt:
    """What a first factor led to: a session, a pending sign-in, or neither (a failure)."""

    signed_in: SignIn | None = None
    pending: Pending | None = None

    @property
    def failed(self) -> bool:
        return self.signed_in is None and self.pending is None


def sign_in(
    identifier: str,
    password: str,
    channel: Channel,
    *,
    remember: bool = False,
    next_url: str | None = None,
    before_commit: Callable[[AuthSession], Any] | None = None,
) -> Attempt:
    """Check an email-or-username and password, then ``begin``; a failed Attempt otherwise.

    Every kind of failure (unknown, wrong, locked, inactive, service account, not set up)
    looks the same to the caller and costs one bcrypt check (signin.authentication.check).
    """
    user = authentication.check(identifier, password)
    if user is None:
        return Attempt()
    return begin(user, channel, remember=remember, next_url=next_url, before_commit=before_commit)


def begin(
    user: User,
    channel: Channel,
    *,
    amr: tuple[str, ...] = (PASSWORD,),
    remember: bool = False,
    next_url: str | None = None,
    event: str = LOGIN_SUCCEEDED,
    details: dict | None = None,
    before_commit: Callable[[AuthSession], Any] | None = None,
) -> Attempt:
    """A first factor passed for ``user``: sign in, or hold a pending sign-in (one commit).

    ``event`` is the audit event of the entrance (``login.succeeded``, or the link completion
    that signs in: ``registration.completed``, ``password.setup_completed``), written with the
    session; when a second factor is asked for first, the link completion's event is written
    now (the account changed) and ``login.succeeded`` when the pending sign-in completes.
    Everything the entrance did in this transaction commits with it.
    """
    if not second_factor.required(user, Channel(channel), tuple(amr)):
        signed_in = establish(
            user,
            channel,
            amr=amr,
            remember=remember,
            event=event,
            details=details,
            before_commit=before_commit,
        )
        return Attempt(signed_in=signed_in)
    if event != LOGIN_SUCCEEDED:
        audit.record(event, actor=user, target=user, **(details or {}))
    return Attempt(pending=hold(user, channel, amr=amr, remember=remember, next_url=next_url))


def hold(
    user: User,
    channel: Channel,
    *,
    amr: tuple[str, ...] = (PASSWORD,),
    remember: bool = False,
    next_url: str | None = None,
) -> Pending:
    """Open a pending sign-in for ``user``, whose first factor (``amr``) passed (one commit).

    ``begin`` does this when a second factor is required; its handle goes to the browser's
    session (services.signin.browser.hold) or to the API client as the challenge.
    """
    held = pending_signins.open_pending(
        user, amr=tuple(amr), channel=channel, remember=remember, next_url=next_url
    )
    audit.record("login.second_factor_asked", actor=user, target=user, channel=str(channel))
    db.session.commit()
    return held


def resume(handle: object, channel: Channel) -> Pending | None:
    """The pending sign-in ``handle`` names, while live and unused on ``channel``'s side."""
    return pending_signins.find(handle, channel)


def complete(
    held: Pending,
    method: str,
    *,
    before_commit: Callable[[AuthSession], Any] | None = None,
) -> SignIn | None:
    """The second factor ``method`` (RFC 8176: ``otp``, ``hwk``, ``swk``...) passed: sign in.

    Uses the pending sign-in up (once, whatever the number of parallel attempts) and opens the
    session with the methods so far plus ``method`` and ``mfa`` (two factors were used), in one
    commit. None when it was used or expired meanwhile, or the account was locked meanwhile.
    """
    if not pending_signins.consume(held):
        db.session.rollback()
        return None
    user = db.session.get(User, held.user_id)
    amr = held.amr if method in held.amr else (*held.amr, method)
    if MULTIPLE_FACTORS not in amr:
        amr = (*amr, MULTIPLE_FACTORS)
    return establish(
        user, held.channel, amr=amr, remember=held.remember, before_commit=before_commit
    )


def second_factor_failed(held: Pending, method: str) -> bool:
    """A wrong second factor (``method``) for ``held``: count it toward the lockout (one commit).

    Returns True when the account is locked now; the pending sign-in is then used up, so the
    person starts again (after the lock) with the password. A second factor that passes goes
    to ``complete``.
    """
    user = db.session.get(User, held.user_id)
    failure = authentication.refuse(user, f"second_factor:{method}")
    if failure.locked:
        pending_signins.consume(held)
    db.session.commit()
    return failure.locked


def establish(
    user: User,
    channel: Channel,
    *,
    amr: tuple[str, ...],
    remember: bool = False,
    event: str | None = LOGIN_SUCCEEDED,
    details: dict | None = None,
    fresh: bool = True,
    before_commit: Callable[[AuthSession], Any] | None = None,
) -> SignIn | None:
    """Open the session of an account whose factors all passed (one commit).

    A ``fresh`` sign-in counts a visit (and clears the failure counter) unless a lock landed
    meanwhile (then None, audited as a locked failure), and tells the owner about a device
    new to the account. ``fresh=False`` is a session that continues one the person already
    had (the API's new pair after a password change): no visit, no notice, the methods of the
    session it replaces. ``before_commit(row)`` runs inside the transaction (the API mints the
    pair there and builds its answer from the account as this leaves it); its result is
    ``SignIn.prepared``. After the commit the account's attributes load again when read.
    """
    new_device = False
    kind = Channel(channel).session_kind
    if fresh:
        if not _count_visit(user):
            audit.record("login.failed", target=user, reason="locked")
            db.session.commit()
            return None
        new_device = has_request_context() and activity.is_new_device(
            user, request.user_agent.string, request.remote_addr
        )
    row = sessions.open_session(user, kind, remember, amr=" ".join(amr))
    prepared = before_commit(row) if before_commit else None
    if event is not None:
        extra = {"kind": kind.value} if event == LOGIN_SUCCEEDED else {}
        audit.record(event, actor=user, target=user, **extra, **(details or {}))
    if new_device:
        notices.new_device(user, row)
    db.session.commit()
    return SignIn(user=user, session=row, prepared=prepared)


def _count_visit(user: User) -> bool:
    """Count the visit and clear the counter, unless a lock landed meanwhile; True when done."""
    now = utcnow()
    ip = request.remote_addr if has_request_context() else None
    done = db.session.execute(_COUNT_VISIT, {"user_id": user.id, "now": now, "ip": ip})
    if done.rowcount != 1:
        return False
    # The loaded account now matches the row, so an answer built before the commit is right
    # without reading it back; visit_count is reloaded if someone asks for it.
    written = {
        "failed_login_count": 0,
        "locked_until": None,
        "last_login_at": now,
        "last_login_ip": ip,
    }
    for key, value in written.items():
        set_committed_value(user, key, value)
    db.session.expire(user, ["visit_count"])
    return True
