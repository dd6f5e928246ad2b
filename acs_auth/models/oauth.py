"""The OpenID Connect provider's records: clients, codes, tokens, consents, subjects, logouts.

Secrets (client secrets, codes, access and refresh tokens) are stored as SHA-256 only: they
are long random strings, so a plain hash is enough and lookups stay one indexed read.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from acs_auth.extensions import db
from acs_auth.models.base import UTCDateTime, utcnow
from acs_auth.models.user import User


class OAuthClient(db.Model):
    """A relying party registered by an administrator (a program's back end, the chatbot)."""

    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # NULL for a public client (PKCE only, no secret).
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(2000))
    # LO Root IDs this client serves: when any, only a person holding one gets a code.
    programs: Mapped[list[str]] = mapped_column(JSON, default=list)
    first_party: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def is_public(self) -> bool:
        return self.secret_hash is None

    # --- Authlib's ClientMixin (the policy behind each answer is in acs_auth.oidc) ---------
    @property
    def client_metadata(self) -> dict:
        return {"post_logout_redirect_uris": list(self.post_logout_redirect_uris or [])}

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # redirect_uri is always required: no default to fall back on

    def get_allowed_scope(self, scope: str) -> str:
        allowed = {"openid", "profile", "email", "programs", "offline_access"}
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in (self.redirect_uris or [])  # exact match, never a prefix

    def check_client_secret(self, client_secret: str) -> bool:
        if self.secret_hash is None or not isinstance(client_secret, str):
            return False
        digest = hashlib.sha256(client_secret.encode()).hexdigest()
        return hmac.compare_digest(digest, self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if not self.active:
            return False
        if self.is_public:
            return method == "none" and endpoint in ("token", "revocation")
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return self.active and response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


class OAuthSubject(db.Model):
    """The stable, opaque ``sub`` of an account (never its row id)."""

    __tablename__ = "oauth_subjects"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    sub: Mapped[str] = mapped_column(String(64), unique=True)


class OAuthCode(db.Model):
    """An authorization code: lives at most 60 seconds and works once."""

    __tablename__ = "oauth_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True
    )
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    scope: Mapped[str] = mapped_column(String(500), default="")
    nonce: Mapped[str | None] = mapped_column(String(255))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(10))
    auth_time: Mapped[int] = mapped_column()
    amr: Mapped[list[str]] = mapped_column(JSON, default=list)
    acr: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    client: Mapped[OAuthClient] = relationship()
    user: Mapped[User] = relationship()

    # --- Authlib's AuthorizationCodeMixin and the OpenID Connect additions ----------------
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str | None:
        return self.acr

    def get_amr(self) -> list[str]:
        return list(self.amr or [])


class OAuthToken(db.Model):
    """An access token and (optionally) its refresh token, issued to a client for a person."""

    __tablename__ = "oauth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(
        ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The portal sign-in this token came from: ending it ends the token (and logs the RP out).
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True
    )
    code_id: Mapped[int | None] = mapped_column(
        ForeignKey("oauth_codes.id", ondelete="SET NULL"), index=True
    )
    # Every token rotated from one code shares a family; reusing a rotated refresh token
    # revokes the family.
    family: Mapped[str] = mapped_column(String(32), index=True)
    scope: Mapped[str] = mapped_column(String(500), default="")
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    auth_time: Mapped[int] = mapped_column()
    amr: Mapped[list[str]] = mapped_column(JSON, default=list)
    acr: Mapped[str | None] = mapped_column(String(64))

    client: Mapped[OAuthClient] = relationship()
    user: Mapped[User] = relationship()

    # Which of the two secrets a lookup matched ("access" or "refresh"); not a column.
    matched = "access"

    # --- Authlib's TokenMixin ---------------------------------------------------------------
    def check_client(self, client) -> bool:
        return client is not None and client.id == self.client_pk

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(int((self.expires_at - self.issued_at).total_seconds()), 0)

    def current_expiry(self) -> datetime | None:
        return self.refresh_expires_at if self.matched == "refresh" else self.expires_at

    def is_expired(self) -> bool:
        expiry = self.current_expiry()
        return expiry is None or expiry <= utcnow()

    def is_revoked(self) -> bool:
        return self.revoked_at is not None or (self.matched == "refresh" and bool(self.rotated_at))

    def get_user(self) -> User:
        return self.user

    def get_client(self) -> OAuthClient:
        return self.client


class OAuthConsent(db.Model):
    """A person's consent to a (not first-party) client, remembered until revoked."""

    __tablename__ = "oauth_consents"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    client_pk: Mapped[int] = mapped_column(
        ForeignKey("oauth_clients.id", ondelete="CASCADE"), primary_key=True
    )
    scope: Mapped[str] = mapped_column(String(500), default="")
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    client: Mapped[OAuthClient] = relationship()


class BackchannelLogout(db.Model):
    """A signed logout token waiting to be posted to a client (retried like the mail outbox)."""

    __tablename__ = "oauth_backchannel_logouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(
        ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True
    )
    uri: Mapped[str] = mapped_column(String(2000))
    logout_token: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
