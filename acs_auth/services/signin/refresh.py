"""API token pairs: minting them for a new session, rotating refresh tokens, catching reuse.

The session row holds the SHA-256 of its one live refresh token. A refresh swaps that hash with
a compare-and-set UPDATE, so of any number of parallel refreshes with one token at most one
succeeds; a signed refresh token whose hash is no longer the stored one has already been
rotated, which means it was copied, so the whole session is revoked (RFC 9700 §4.14.2).
The session's expires_at is the absolute lifetime: every refresh token of the family expires
with it and rotation never extends it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from acs_auth.extensions import db
from acs_auth.models import AuthSession, SessionKind, User, utcnow
from acs_auth.services import audit
from acs_auth.services.programs import access
from acs_auth.services.signin import jwt_tokens, seam, sessions
from acs_auth.services.signin.api_auth import Caller, snapshot


@dataclass
class TokenPair:
    """What a sign-in or refresh answers: both tokens, the access lifetime, the account."""

    access_token: str
    refresh_token: str
    expires_in: int
    user: Caller


def token_hash(token: str) -> str:
    """SHA-256 (hex) of a refresh token, the only form in which it is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _access_token(
    user_id: int, sid: str, session_expires: datetime, amr: list[str]
) -> tuple[str, int]:
    """An access token that never outlives its session; returns it and its lifetime in seconds.

    It carries the session's sign-in methods as ``amr`` (RFC 8176), so a program can ask for
    a second factor.
    """
    now = utcnow()
    minutes = current_app.config["ACCESS_TOKEN_EXPIRE_MINUTES"]
    expires = min(now + timedelta(minutes=minutes), session_expires)
    token = jwt_tokens.issue(
        jwt_tokens.ACCESS, user_id=user_id, sid=sid, expires_at=expires, amr=amr
    )
    return token, max(int((expires - now).total_seconds()), 0)


@dataclass
class MintedPair:
    """A pair minted for a session whose transaction has not committed yet."""

    access_token: str
    refresh_token: str
    expires_in: int


def mint_pair(row: AuthSession) -> MintedPair:
    """Mint the first pair of the API session ``row`` and put its refresh hash on the row."""
    user_id = row.user.id  # row may be pending: its user_id is set by the flush
    refresh_token = jwt_tokens.issue(
        jwt_tokens.REFRESH, user_id=user_id, sid=row.public_id, expires_at=row.expires_at
    )
    access_token, expires_in = _access_token(user_id, row.public_id, row.expires_at, row.methods)
    row.refresh_token_hash = token_hash(refresh_token)
    row.refresh_generation = (row.refresh_generation or 0) + 1
    return MintedPair(access_token, refresh_token, expires_in)


def sign_in_answer(row: AuthSession) -> TokenPair:
    """``before_commit`` of every API sign-in: mint the pair and build the whole answer.

    Runs inside the transaction that opens the session (services.signin.seam), so the session,
    its refresh hash and the audit event are written by one commit, and the account is read as
    the seam left it in memory instead of being loaded again after the commit.
    """
    minted = mint_pair(row)
    account = snapshot(row.user, access.ids_of(row.user.id))
    return TokenPair(minted.access_token, minted.refresh_token, minted.expires_in, account)


def open_pair(user: User, remember: bool = False, amr: list[str] | None = None) -> TokenPair:
    """A new API session and its pair for ``user``, continuing one whose password just changed.

    Through the seam, without a new visit: the person proved the current password in this
    request, and the new session carries the methods (``amr``) of the one it replaces.
    """
    signed_in = seam.establish(
        user,
        seam.Channel.API,
        amr=tuple(amr or (seam.PASSWORD,)),
        remember=remember,
        event=None,
        fresh=False,
        before_commit=sign_in_answer,
    )
    return signed_in.prepared


def rotate(token: str) -> TokenPair:
    """Exchange a live refresh token for a new pair; raise InvalidToken otherwise (one commit).

    A validly signed token that is no longer the live one revokes its session.
    """
    claims = jwt_tokens.decode(token, jwt_tokens.REFRESH)
    sid, user_id = claims["sid"], int(claims["sub"])
    expires = jwt_tokens.expiry_of(claims)
    successor = jwt_tokens.issue(jwt_tokens.REFRESH, user_id=user_id, sid=sid, expires_at=expires)
    now = utcnow()
    user_active = select(User.id).where(User.id == user_id, User.is_active_flag.is_(True)).exists()
    swapped = db.session.execute(
        update(AuthSession)
        .where(
            AuthSession.public_id == sid,
            AuthSession.user_id == user_id,
            AuthSession.kind == SessionKind.API.value,
            AuthSession.refresh_token_hash == token_hash(token),
            *sessions.live_filter(now),
            user_active,
        )
        .values(
            refresh_token_hash=token_hash(successor),
            refresh_generation=AuthSession.refresh_generation + 1,
            last_used_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if swapped != 1:
        _revoke_if_reused(sid, user_id, token)
        db.session.commit()
        raise jwt_tokens.InvalidToken("refresh token not live", "ended")
    row = sessions.load_live(sid, kind=SessionKind.API)
    account = snapshot(row.user) if row is not None else None
    methods = row.methods if row is not None else []
    db.session.commit()
    if row is None:  # revoked by a racing reuse detection between the two statements
        raise jwt_tokens.InvalidToken("session ended", "ended")
    access_token, expires_in = _access_token(user_id, sid, expires, methods)
    return TokenPair(access_token, successor, expires_in, account)


def _revoke_if_reused(sid: str, user_id: int, token: str) -> None:
    """Revoke the session when ``token`` was rotated away (no commit); expiry alone is no reuse."""
    revoked = db.session.execute(
        update(AuthSession)
        .where(
            AuthSession.public_id == sid,
            AuthSession.user_id == user_id,
            AuthSession.revoked_at.is_(None),
            # A NULL hash never equals anything, so compare explicitly: either way the token
            # presented is not the live one of a session that is still running.
            (AuthSession.refresh_token_hash.is_(None))
            | (AuthSession.refresh_token_hash != token_hash(token)),
        )
        .values(revoked_at=utcnow(), revoked_reason="refresh_reused")
        .execution_options(synchronize_session=False)
    ).rowcount
    if revoked:
        audit.record("token.refresh_reused", target=db.session.get(User, user_id), session=sid)
