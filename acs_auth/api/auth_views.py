"""/api/auth: sign-in, registration, token refresh, logout and passwords for JSON clients.

Every view calls the same services as the browser pages; sign-in failures of every kind
(unknown, wrong password, locked, inactive, not set up) answer one 401 with one body.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from acs_auth import messages
from acs_auth.api import schemas
from acs_auth.api.guards import bearer_only, principal, public
from acs_auth.api.problems import problem, unauthorized
from acs_auth.api.serializers import timestamp, token_pair_json, user_json
from acs_auth.api.validation import Invalid, json_body
from acs_auth.models import Source
from acs_auth.ratelimits import (
    LINK_REQUEST,
    PASSWORD,
    REFRESH,
    SIGN_IN,
    account_named_by,
    address_in,
    json_field,
    limited,
    link_subject,
    refresh_session,
    reset_address_in,
    signed_in_account,
)
from acs_auth.services.accounts import accounts, passwords, recovery, registration, tokens
from acs_auth.services.mail import link_requests
from acs_auth.services.signin import api_auth, authentication, jwt_tokens, refresh

bp = Blueprint("auth", __name__, url_prefix="/auth")


def tokens_response(pair: refresh.TokenPair, status: int = 200):
    """A token pair answer; never stored by any cache (RFC 6749 §5.1)."""
    response = jsonify(token_pair_json(pair))
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def accepted(detail: str):
    """202 with a fixed message: the same answer whether or not the person exists."""
    return jsonify(status="accepted", detail=detail), 202


@bp.post("/register")
@public
@limited(LINK_REQUEST, address_in(json_field("email")))
def register():
    """Registration: by emailed link (default), or at once when email confirmation is off."""
    data = json_body(schemas.REGISTER)
    if current_app.config["REGISTRATION_EMAIL_CONFIRMATION"]:
        link_requests.defer(link_requests.REGISTER, data["email"], data["last_name"])
        return accepted(messages.REGISTRATION_EMAIL_SENT)
    if "password" not in data:
        raise Invalid({"password": [messages.FIELD_REQUIRED]})
    try:
        entry = registration.start_in_session(data["last_name"], data["email"])
        signed_in = registration.complete_registration(
            entry, data["password"], verified=False, source=Source.API, kind="api"
        )
    except registration.NoMatch:
        return problem(403, detail=messages.REGISTRATION_NOT_FOUND)
    except registration.AlreadyRegistered:
        return problem(409, detail=messages.ACCOUNT_EXISTS)
    except passwords.PasswordRejected as exc:
        raise Invalid({"password": [str(exc)]}) from None
    return tokens_response(refresh.issue_pair(signed_in), 201)


@bp.post("/login")
@public
@limited(SIGN_IN, account_named_by(json_field("email", "username")))
def login():
    """Email or username + password; a token pair, or one 401 for every kind of failure."""
    data = json_body(schemas.LOGIN)
    if ("email" in data) == ("username" in data):
        raise Invalid({"email": [messages.API_LOGIN_IDENTIFIER]})
    identifier = data.get("email") or data.get("username")
    remember = data.get("remember_me", False)
    signed_in = authentication.sign_in(
        identifier, data["password"], "api", remember, before_commit=refresh.sign_in_answer
    )
    if signed_in is None:
        return unauthorized(messages.LOGIN_FAILED)
    return tokens_response(signed_in.prepared)


@bp.post("/refresh")
@public
@limited(REFRESH, refresh_session(json_field("refresh_token")))
def refresh_tokens():
    """Rotate a refresh token; a rotated one presented again revokes its session."""
    data = json_body(schemas.REFRESH)
    try:
        pair = refresh.rotate(data["refresh_token"])
    except jwt_tokens.InvalidToken:
        return unauthorized(messages.API_REFRESH_INVALID, token_given=True)
    return tokens_response(pair)


@bp.post("/logout")
@bearer_only
def logout():
    """End the caller's API session: its access and refresh tokens stop working at once."""
    accounts.sign_out(principal().session)
    return "", 204


@bp.post("/verify-token")
@public
def verify_token():
    """Tell a back end whether an access token is valid now, and whose it is."""
    data = json_body(schemas.VERIFY)
    try:
        found = api_auth.from_access_token(data["token"])
    except api_auth.Unauthenticated:
        return unauthorized(messages.API_TOKEN_INVALID, token_given=True)
    expires = jwt_tokens.expiry_of(found.claims)
    return jsonify(
        valid=True,
        session_id=found.session_public_id,
        expires_at=timestamp(expires),
        user=user_json(found.caller),
    )


@bp.post("/change-password")
@bearer_only
@limited(PASSWORD, signed_in_account)
def change_password():
    """Change the password; every session ends and the caller gets a fresh pair."""
    data = json_body(schemas.CHANGE_PASSWORD)
    me = principal()
    remember = me.remember
    try:
        accounts.change_password(
            me.user,
            data["current_password"],
            data["new_password"],
            None,
            asking=me.session,
            revoke_keys=data.get("revoke_api_keys", False),
        )
    except accounts.SignedOutByLock:
        return unauthorized(messages.SIGNED_OUT_AFTER_WRONG_PASSWORDS, token_given=True)
    except accounts.CurrentPasswordWrong:
        raise Invalid({"current_password": [messages.CURRENT_PASSWORD_WRONG]}) from None
    except passwords.PasswordRejected as exc:
        raise Invalid({"new_password": [str(exc)]}) from None
    return tokens_response(refresh.open_pair(me.user, remember))


@bp.post("/request-password-reset")
@public
@limited(LINK_REQUEST, reset_address_in(json_field("email", "username")))
def request_password_reset():
    """Email a reset link to the stored address; the same answer whether or not it exists."""
    data = json_body(schemas.REQUEST_RESET)
    if ("email" in data) == ("username" in data):
        raise Invalid({"email": [messages.API_LOGIN_IDENTIFIER]})
    link_requests.defer(link_requests.RESET, data.get("email") or data["username"])
    return accepted(messages.RESET_EMAIL_SENT)


@bp.post("/reset-password")
@public
@limited(PASSWORD, link_subject(tokens.Purpose.RESET, json_field("token")))
def reset_password():
    """Set a new password with the emailed token; every session ends and none is opened.

    No tokens come back (204): the client signs in with the new password, so a reset link is
    never a way around a second factor.
    """
    data = json_body(schemas.RESET)
    try:
        recovery.complete(tokens.Purpose.RESET, data["token"], data["password"], "api")
    except recovery.LinkInvalid:
        raise Invalid({"token": [messages.LINK_INVALID]}) from None
    except passwords.PasswordRejected as exc:
        raise Invalid({"password": [str(exc)]}) from None
    return "", 204


@bp.get("/.well-known/jwks.json")
@public
def jwks():
    """The public keys that verify access tokens (an empty set with HS256)."""
    response = jsonify(jwt_tokens.keyring().jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
