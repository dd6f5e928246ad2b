"""What the provider keeps: codes, tokens, subjects and consents, and the rules on their use.

Every function adds to the caller's transaction; the views commit once per request, except
where a replay must be recorded even though the request fails (``_commit_now``).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from acs_auth.extensions import db
from acs_auth.models import (
    AuthSession,
    OAuthClient,
    OAuthCode,
    OAuthConsent,
    OAuthSubject,
    OAuthToken,
    User,
    utcnow,
)
from acs_auth.services import audit

CODE_LIFETIME = timedelta(seconds=60)
MAX_SECRET = 512
ACR_PASSWORD = "urn:acs_auth:acr:password"


def digest(secret: str) -> str:
    """SHA-256 of a high-entropy secret (codes, tokens, client secrets)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _valid(secret) -> bool:
    return isinstance(secret, str) and 0 < len(secret) <= MAX_SECRET


def _commit_now() -> None:
    db.session.commit()


# --- clients and subjects ------------------------------------------------------------------
def find_client(client_id) -> OAuthClient | None:
    """The active client with ``client_id``, or None."""
    if not isinstance(client_id, str) or not 0 < len(client_id) <= 64:
        return None
    return db.session.scalar(
        select(OAuthClient).where(OAuthClient.client_id == client_id, OAuthClient.active)
    )


def subject_of(user: User) -> str:
    """The account's ``sub``: random, stored once, stable for the account's lifetime."""
    sub = db.session.scalar(select(OAuthSubject.sub).where(OAuthSubject.user_id == user.id))
    if sub is None:
        sub = secrets.token_urlsafe(24)
        db.session.add(OAuthSubject(user_id=user.id, sub=sub))
        db.session.flush()
    return sub


def session_sid(session: AuthSession | None) -> str | None:
    """The ``sid`` claim of a portal session: a hash, since its public id is a credential."""
    if session is None:
        return None
    return digest("oidc-sid:" + session.public_id)[:32]


# --- authorization codes -----------------------------------------------------------------
def save_code(code: str, request, session: AuthSession) -> OAuthCode:
    """Keep the hash of a new code with what the token request will need."""
    data = request.payload.data
    now = utcnow()
    row = OAuthCode(
        code_hash=digest(code),
        client_pk=request.client.id,
        user_id=request.user.id,
        session_id=session.id,
        redirect_uri=request.payload.redirect_uri,
        scope=request.payload.scope or "",
        nonce=data.get("nonce"),
        code_challenge=data.get("code_challenge"),
        code_challenge_method=data.get("code_challenge_method"),
        auth_time=int(session.created_at.timestamp()),
        amr=session.methods,  # how this sign-in happened (RFC 8176), from the session row
        acr=ACR_PASSWORD,
        created_at=now,
        expires_at=now + CODE_LIFETIME,
    )
    db.session.add(row)
    audit.record(
        "oidc.code_issued", actor=request.user, target=request.user, client=request.client.client_id
    )
    return row


def find_code(code, client: OAuthClient) -> OAuthCode | None:
    """The unexpired, unused code issued to ``client``; a replay revokes what it issued."""
    if not _valid(code):
        return None
    row = db.session.scalar(select(OAuthCode).where(OAuthCode.code_hash == digest(code)))
    if row is None or row.client_pk != client.id:
        return None  # unknown, or issued to another client: never usable here
    if row.used_at is not None:
        revoked = revoke_where(OAuthToken.code_id == row.id)
        audit.record(
            "oidc.code_replayed", target=row.user, client=client.client_id, revoked=revoked
        )
        _commit_now()
        return None
    if row.expires_at <= utcnow():
        return None
    return row


def use_code(row: OAuthCode) -> bool:
    """Mark the code used; False when another request used it first (a race)."""
    result = db.session.execute(
        update(OAuthCode)
        .where(OAuthCode.id == row.id, OAuthCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def live_user(user_id: int, session_id: int | None) -> User | None:
    """The active account, provided the portal sign-in behind the grant is still live."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        return None
    if session_id is not None:
        session = db.session.get(AuthSession, session_id)
        if session is None or not session.is_live():
            return None
    return user


# --- tokens ------------------------------------------------------------------------------
def save_token(token: dict, request) -> OAuthToken:
    """Keep the hashes of a new access (and refresh) token; a rotation inherits its family."""
    now = utcnow()
    parent = getattr(request, "refresh_token", None)
    code = getattr(request, "authorization_code", None)
    origin = parent or code
    session_id = origin.session_id
    session = db.session.get(AuthSession, session_id) if session_id else None
    refresh = token.get("refresh_token")
    refresh_days = current_app.config["REFRESH_TOKEN_EXPIRE_DAYS"]
    refresh_expiry = parent.refresh_expires_at if parent else now + timedelta(days=refresh_days)
    if session is not None:
        refresh_expiry = min(refresh_expiry, session.expires_at)  # never outlives the sign-in
    row = OAuthToken(
        client_pk=request.client.id,
        user_id=request.user.id,
        session_id=session_id,
        code_id=parent.code_id if parent else code.id,
        family=parent.family if parent else secrets.token_hex(16),
        scope=token.get("scope", ""),
        access_token_hash=digest(token["access_token"]),
        refresh_token_hash=digest(refresh) if refresh else None,
        issued_at=now,
        expires_at=now + timedelta(seconds=int(token["expires_in"])),
        refresh_expires_at=refresh_expiry if refresh else None,
        auth_time=origin.auth_time,
        amr=list(origin.amr or []),
        acr=origin.acr,
    )
    db.session.add(row)
    event = "oidc.token_refreshed" if parent else "oidc.token_issued"
    audit.record(event, actor=request.user, target=request.user, client=request.client.client_id)
    return row


def find_token(secret, hint: str | None = None) -> OAuthToken | None:
    """The token row whose access or refresh token is ``secret`` (``matched`` says which)."""
    if not _valid(secret):
        return None
    hashed = digest(secret)
    row = db.session.scalar(
        select(OAuthToken).where(
            or_(OAuthToken.access_token_hash == hashed, OAuthToken.refresh_token_hash == hashed)
        )
    )
    if row is not None:
        row.matched = "refresh" if row.refresh_token_hash == hashed else "access"
    return row


def find_refresh(secret, client: OAuthClient) -> OAuthToken | None:
    """A usable refresh token of ``client``; a rotated one revokes its whole family."""
    row = find_token(secret)
    if row is None or row.matched != "refresh" or row.client_pk != client.id:
        return None
    if row.rotated_at is not None:
        revoked = revoke_where(OAuthToken.family == row.family)
        audit.record(
            "oidc.refresh_reused", target=row.user, client=client.client_id, revoked=revoked
        )
        _commit_now()
        return None
    if row.is_revoked() or row.is_expired():
        return None
    return row


def rotate(row: OAuthToken) -> bool:
    """Retire a refresh token after use; False when a concurrent request rotated it first."""
    now = utcnow()
    result = db.session.execute(
        update(OAuthToken)
        .where(OAuthToken.id == row.id, OAuthToken.rotated_at.is_(None))
        .values(rotated_at=now, revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def revoke_where(*conditions) -> int:
    """Revoke every live token matching ``conditions``; returns how many."""
    return db.session.execute(
        update(OAuthToken)
        .where(*conditions, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount


def revoke_token(row: OAuthToken, client: OAuthClient) -> None:
    """RFC 7009: revoking a refresh token ends its family; an access token ends alone."""
    if row.matched == "refresh":
        revoke_where(OAuthToken.family == row.family)
    else:
        revoke_where(OAuthToken.id == row.id)
    audit.record("oidc.token_revoked", target=row.user, client=client.client_id, kind=row.matched)


# --- consent -------------------------------------------------------------------------------
def has_consent(user: User, client: OAuthClient, scope: str) -> bool:
    """True for first-party clients, or when the person already agreed to this scope."""
    if client.first_party:
        return True
    row = db.session.get(OAuthConsent, (user.id, client.id))
    return row is not None and set(scope.split()) <= set(row.scope.split())


def grant_consent(user: User, client: OAuthClient, scope: str) -> None:
    """Remember the person's consent to ``client`` for ``scope``."""
    row = db.session.get(OAuthConsent, (user.id, client.id))
    if row is None:
        row = OAuthConsent(user_id=user.id, client_pk=client.id, scope="")
        db.session.add(row)
    row.scope = " ".join(sorted(set(row.scope.split()) | set(scope.split())))
    row.granted_at = utcnow()
    audit.record("oidc.consent_granted", actor=user, target=user, client=client.client_id)


def consents_of(user: User) -> list[OAuthConsent]:
    """The person's remembered consents, for /account."""
    return list(db.session.scalars(select(OAuthConsent).where(OAuthConsent.user_id == user.id)))


def withdraw_consent(user: User, client_id: str) -> bool:
    """Forget a consent and end the client's tokens for this person (one commit)."""
    client = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    row = db.session.get(OAuthConsent, (user.id, client.id)) if client else None
    if row is None:
        return False
    db.session.delete(row)
    revoke_where(OAuthToken.user_id == user.id, OAuthToken.client_pk == client.id)
    audit.record("oidc.consent_revoked", actor=user, target=user, client=client_id)
    db.session.commit()
    return True
