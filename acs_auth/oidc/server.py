"""Authlib's authorization server, configured with our policy.

The protocol (parameter checks, PKCE, token responses, ID tokens, revocation, introspection,
RP-initiated logout) is Authlib's. What is ours: PKCE S256 for every client (no plain, no
opting out), exact redirect URIs, the code and token storage rules in ``store``, and the keys.
"""

from __future__ import annotations

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9207 import IssuerParameter
from authlib.oidc.core import OpenIDCode, UserInfo, UserInfoEndpoint
from authlib.oidc.rpinitiated import EndSessionEndpoint
from flask import Flask, current_app, g
from sqlalchemy import select

from acs_auth.extensions import db
from acs_auth.models import OAuthCode
from acs_auth.oidc import keys, logout, store
from acs_auth.oidc.keys import issuer

SECRET_METHODS = ["client_secret_basic", "client_secret_post"]
SCOPES = ["openid", "profile", "email", "programs", "offline_access"]


def user_info(user, scope: str) -> UserInfo:
    """The claims a scope releases: sub always; email, name and programs when asked."""
    scopes = set((scope or "").split())
    info = UserInfo(sub=store.subject_of(user))
    if "email" in scopes:
        info["email"] = user.email
        info["email_verified"] = user.email_verified_at is not None
    if "profile" in scopes:
        info["name"] = user.display_name
        if user.first_name:
            info["given_name"] = user.first_name
        if user.last_name:
            info["family_name"] = user.last_name
    if "programs" in scopes:
        info["programs"] = user.program_ids
    return info


class StrictPKCE(CodeChallenge):
    """PKCE with S256 for every client, confidential ones included (RFC 9700 §2.1.1)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge (S256).")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256.")
        return super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code):
        return authorization_code.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code):
        return authorization_code.code_challenge_method


class CodeGrant(AuthorizationCodeGrant):
    """Authorization code grant: codes hashed, ≤ 60 s, single use; a replay revokes."""

    TOKEN_ENDPOINT_AUTH_METHODS = [*SECRET_METHODS, "none"]

    def validate_authorization_request(self):
        if not self.request.payload.redirect_uri:
            raise InvalidRequestError("redirect_uri is required.")
        return super().validate_authorization_request()

    def save_authorization_code(self, code, request):
        return store.save_code(code, request, g.oidc_session)

    def query_authorization_code(self, code, client):
        return store.find_code(code, client)

    def delete_authorization_code(self, authorization_code):
        if not store.use_code(authorization_code):
            db.session.rollback()
            raise InvalidGrantError("Invalid 'code' in request.")

    def authenticate_user(self, authorization_code):
        return store.live_user(authorization_code.user_id, authorization_code.session_id)


class RefreshGrant(RefreshTokenGrant):
    """Refresh with rotation: each refresh token works once; reuse revokes the family."""

    TOKEN_ENDPOINT_AUTH_METHODS = [*SECRET_METHODS, "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        return store.find_refresh(refresh_token, self.request.client)

    def authenticate_user(self, refresh_token):
        return store.live_user(refresh_token.user_id, refresh_token.session_id)

    def revoke_old_credential(self, refresh_token):
        if not store.rotate(refresh_token):
            db.session.rollback()
            raise InvalidGrantError()


class OpenID(OpenIDCode):
    """ID tokens signed with the provider's key; auth_time, amr, acr and sid from the sign-in."""

    def exists_nonce(self, nonce, request):
        return (
            db.session.scalar(
                select(OAuthCode.id).where(
                    OAuthCode.client_pk == request.client.id, OAuthCode.nonce == nonce
                )
            )
            is not None
        )

    def resolve_client_private_key(self, client):
        return keys.signing_key().key

    def get_client_algorithm(self, client):
        return keys.signing_key().algorithm

    def get_encode_header(self, client):
        key = keys.signing_key()
        return {"alg": key.algorithm, "kid": key.kid, "typ": "JWT"}

    def get_client_claims(self, client):
        return {"iss": issuer(), "aud": [client.client_id]}

    def get_authorization_code_claims(self, authorization_code):
        claims = super().get_authorization_code_claims(authorization_code)
        session = db.session.get(store.AuthSession, authorization_code.session_id)
        sid = store.session_sid(session)
        if sid:
            claims["sid"] = sid
        return claims

    def generate_user_info(self, user, scope):
        return user_info(user, scope)


class Issuer(IssuerParameter):
    """RFC 9207: every authorization response names its issuer."""

    def get_issuer(self) -> str:
        return issuer()


class TokenValidator(BearerTokenValidator):
    """Access tokens for userinfo: known, unexpired, unrevoked, of a live person."""

    def authenticate_token(self, token_string):
        row = store.find_token(token_string)
        if row is None or row.matched != "access":
            return None
        if store.live_user(row.user_id, row.session_id) is None:
            return None
        return row


class UserInfoView(UserInfoEndpoint):
    """The userinfo endpoint: the claims of the token's scope."""

    def get_issuer(self) -> str:
        return issuer()

    def generate_user_info(self, user, scope):
        return user_info(user, scope)

    def resolve_private_key(self):
        return keys.signing_key().key


class Revocation(RevocationEndpoint):
    """RFC 7009 for clients: their own tokens only; public clients identify with client_id."""

    CLIENT_AUTH_METHODS = [*SECRET_METHODS, "none"]

    def query_token(self, token_string, token_type_hint):
        return store.find_token(token_string, token_type_hint)

    def revoke_token(self, token, request):
        store.revoke_token(token, request.client)


class Introspection(IntrospectionEndpoint):
    """RFC 7662 for confidential clients, about their own tokens."""

    CLIENT_AUTH_METHODS = SECRET_METHODS

    def query_token(self, token_string, token_type_hint):
        return store.find_token(token_string, token_type_hint)

    def check_permission(self, token, client, request):
        return token.client_pk == client.id

    def introspect_token(self, token):
        expiry = token.current_expiry()
        return {
            "active": True,
            "client_id": token.client.client_id,
            "token_type": "refresh_token" if token.matched == "refresh" else "Bearer",
            "scope": token.scope,
            "sub": store.subject_of(token.user),
            "aud": token.client.client_id,
            "iss": issuer(),
            "exp": int(expiry.timestamp()),
            "iat": int(token.issued_at.timestamp()),
        }


class EndSession(EndSessionEndpoint):
    """RP-initiated logout: ends the portal session; redirects only to registered URIs."""

    def get_server_jwks(self):
        return keys.jwks()

    def get_algorithms(self):
        return [keys.signing_key().algorithm]

    def resolve_client_from_id_token_claims(self, id_token_claims):
        aud = id_token_claims.get("aud")
        if isinstance(aud, list) and len(aud) == 1:
            aud = aud[0]
        return self.server.query_client(aud) if isinstance(aud, str) else None

    def end_session(self, end_session_request):
        logout.end_portal_session(end_session_request.client)


_EXTENSION = "acs_auth.oidc.server"


def _query_client(client_id):
    return store.find_client(client_id)


def _save_token(token, request):
    return store.save_token(token, request)


def init_app(app: Flask) -> None:
    """Build this app's server (one per app, so test apps never share one)."""
    minutes = app.config["ACCESS_TOKEN_EXPIRE_MINUTES"]
    app.config.setdefault("OAUTH2_REFRESH_TOKEN_GENERATOR", True)
    app.config.setdefault(
        "OAUTH2_TOKEN_EXPIRES_IN",
        {"authorization_code": minutes * 60, "refresh_token": minutes * 60},
    )
    app.config.setdefault("OAUTH2_SCOPES_SUPPORTED", SCOPES)
    server = AuthorizationServer(app, query_client=_query_client, save_token=_save_token)
    server.register_grant(CodeGrant, [StrictPKCE(required=True), OpenID(require_nonce=False)])
    server.register_grant(RefreshGrant)
    server.register_extension(Issuer())
    protector = ResourceProtector()
    protector.register_token_validator(TokenValidator())
    server.register_endpoint(UserInfoView(resource_protector=protector))
    server.register_endpoint(Revocation)
    server.register_endpoint(Introspection)
    server.register_endpoint(EndSession)
    app.extensions[_EXTENSION] = server


def current_server() -> AuthorizationServer:
    """The current app's authorization server."""
    return current_app.extensions[_EXTENSION]
