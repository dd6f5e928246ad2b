"""/api/auth: sign-in, registration, token refresh, logout and passwords for JSON clients.

Every view calls the same services as the browser pages; sign-in failures of every kind
(unknown, wrong password, locked, inactive, not set up) answer one 401 with one body.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from acs_auth import messages
from acs_auth.api.contract import Invalid, Response, validate
from acs_auth.api.guards import bearer_only, principal, public
from acs_auth.api.problems import CREDENTIAL_KINDS, REFRESH_KINDS, problem, unauthorized
from acs_auth.api.schemas.auth import (
    Accepted,
    ChangePasswordRequest,
    Jwks,
    LoginRequest,
    MfaLoginRequest,
    PasswordResetRequest,
    RefreshRequest,
    RegisterRequest,
    ResetPasswordRequest,
    TokenInfo,
    TokenPair,
    VerifyTokenRequest,
)
from acs_auth.api.serializers import timestamp, token_pair_json, user_json
from acs_auth.models import Source
from acs_auth.ratelimits import (
    LINK_REQUEST,
    PASSWORD,
    REFRESH,
    SECOND_STEP,
    SIGN_IN,
    account_named_by,
    address_in,
    json_field,
    limited,
    link_subject,
    pending_signin,
    refresh_session,
    reset_address_in,
    signed_in_account,
)
from acs_auth.services.accounts import accounts, passwords, recovery, registration, tokens
from acs_auth.services.factors import second_step
from acs_auth.services.factors import state as factor_state
from acs_auth.services.mail import link_requests
from acs_auth.services.signin import api_auth, jwt_tokens, refresh, seam

bp = Blueprint("auth", __name__, url_prefix="/auth")
TAGS = ("auth",)


def tokens_response(pair: refresh.TokenPair, status: int = 200):
    """A token pair answer; never stored by any cache (RFC 6749 §5.1)."""
    response = jsonify(token_pair_json(pair))
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def signed_in_response(attempt: seam.Attempt, status: int = 200):
    """The token pair of a sign-in, or the challenge of a pending one (a second factor)."""
    if attempt.pending is not None:
        methods = factor_state.api_second_steps(attempt.pending.user_id)
        response = problem(
            401,
            detail=messages.SECOND_FACTOR_REQUIRED if methods else messages.MFA_API_PASSKEY_ONLY,
            kind="mfa-required",
            challenge=attempt.pending.handle,
            expires_at=timestamp(attempt.pending.expires_at),
            methods=methods,
        )
        response.headers["Cache-Control"] = "no-store"
        return response
    return tokens_response(attempt.signed_in.prepared, status)


def accepted(detail: str):
    """202 with a fixed message: the same answer whether or not the person exists."""
    return jsonify(status="accepted", detail=detail), 202


@bp.post("/register")
@public
@limited(LINK_REQUEST, address_in(json_field("email")))
@validate(resp=Response("HTTP_403", "HTTP_409", HTTP_202=Accepted, HTTP_201=TokenPair), tags=TAGS)
def register(json: RegisterRequest):
    """Register someone on the allowlist.

    By default the answer is always 202 and the person receives an email: a registration link
    when the last name and email match the allowlist, otherwise a notice. When the portal runs
    without email confirmation, the password is required and the account is created and
    signed in at once (201 with a token pair).
    """
    if current_app.config["REGISTRATION_EMAIL_CONFIRMATION"]:
        link_requests.defer(link_requests.REGISTER, json.email, json.last_name)
        return accepted(messages.REGISTRATION_EMAIL_SENT)
    if json.password is None:
        raise Invalid({"password": [messages.FIELD_REQUIRED]})
    try:
        entry = registration.start_in_session(json.last_name, json.email)
        attempt = registration.complete_registration(
            entry,
            json.password,
            verified=False,
            source=Source.API,
            channel=seam.Channel.API,
            before_commit=refresh.sign_in_answer,
        )
    except registration.NoMatch:
        return problem(403, detail=messages.REGISTRATION_NOT_FOUND)
    except registration.AlreadyRegistered:
        return problem(409, detail=messages.ACCOUNT_EXISTS)
    except passwords.PasswordRejected as exc:
        raise Invalid({"password": [str(exc)]}) from None
    return signed_in_response(attempt, 201)


@bp.post("/login")
@public
@limited(SIGN_IN, account_named_by(json_field("email", "username")))
@validate(resp=Response("HTTP_401", HTTP_200=TokenPair), tags=TAGS)
def login(json: LoginRequest):
    """Sign in with email or username and password.

    Answers a token pair, or one 401 (sign-in-failed) for every kind of failure: unknown
    account, wrong password, locked, deactivated or not yet set up. A lock never answers
    differently from a wrong password, so 423 is never sent. When the password is right and
    the account has a second factor, the answer is 401 mfa-required with a `challenge` and its
    `expires_at`: finish with `POST /api/auth/login/mfa`.
    """
    if (json.email is None) == (json.username is None):
        raise Invalid({"email": [messages.API_LOGIN_IDENTIFIER]})
    attempt = seam.sign_in(
        json.email or json.username,
        json.password,
        seam.Channel.API,
        remember=json.remember_me,
        before_commit=refresh.sign_in_answer,
    )
    if attempt.failed:
        return unauthorized(messages.LOGIN_FAILED, kind="sign-in-failed")
    return signed_in_response(attempt)


@bp.post("/login/mfa")
@public
@limited(SECOND_STEP, pending_signin(json_field("challenge")))
@validate(resp=Response("HTTP_401", HTTP_200=TokenPair), tags=TAGS)
def login_mfa(json: MfaLoginRequest):
    """Finish a sign-in with the second factor.

    After `POST /api/auth/login` answered 401 mfa-required: its challenge and the code of the
    authenticator app (or one recovery code) answer the token pair, whose access tokens carry
    amr ["pwd", "otp", "mfa"]. A wrong or already used code answers mfa-code-invalid and the
    challenge stays usable until it expires; wrong codes count toward the lockout. A challenge
    that is used, expired, of a browser, or whose account was locked or changed answers
    mfa-challenge-invalid: sign in again.
    """
    held = seam.resume(json.challenge, seam.Channel.API)
    if held is None:
        return unauthorized(messages.MFA_CHALLENGE_INVALID, kind="mfa-challenge-invalid")
    outcome = second_step.finish(held, json.code, before_commit=refresh.sign_in_answer)
    if outcome.signed_in is not None:
        return tokens_response(outcome.signed_in.prepared)
    if outcome.over:
        return unauthorized(messages.MFA_CHALLENGE_INVALID, kind="mfa-challenge-invalid")
    return unauthorized(messages.MFA_CODE_WRONG, kind="mfa-code-invalid")


@bp.post("/refresh")
@public
@limited(REFRESH, refresh_session(json_field("refresh_token")))
@validate(resp=Response("HTTP_401", HTTP_200=TokenPair), tags=TAGS)
def refresh_tokens(json: RefreshRequest):
    """Rotate a refresh token.

    Answers a new pair; the old refresh token stops working. A rotated token presented again
    revokes its whole session (token-revoked); an expired one answers session-expired. Both
    mean: sign in again.
    """
    try:
        pair = refresh.rotate(json.refresh_token)
    except jwt_tokens.InvalidToken as exc:
        kind = REFRESH_KINDS[exc.kind]
        return unauthorized(messages.API_REFRESH_INVALID, token_given=True, kind=kind)
    return tokens_response(pair)


@bp.post("/logout")
@bearer_only
@validate(resp=Response("HTTP_204"), tags=TAGS)
def logout():
    """End this API session.

    The caller's access and refresh tokens stop working at once; other sessions go on.
    """
    accounts.sign_out(principal().session)
    return "", 204


@bp.post("/verify-token")
@public
@validate(resp=Response("HTTP_401", HTTP_200=TokenInfo), tags=TAGS)
def verify_token(json: VerifyTokenRequest):
    """Check an access token.

    Tells a back end whether the token is valid now (its session is live), and whose it is; a
    401 names why not (token-expired, token-revoked or invalid-token).
    """
    try:
        found = api_auth.from_access_token(json.token)
    except api_auth.Unauthenticated as exc:
        kind = CREDENTIAL_KINDS[exc.kind]
        return unauthorized(messages.API_TOKEN_INVALID, token_given=True, kind=kind)
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
@validate(resp=Response(HTTP_200=TokenPair), tags=TAGS)
def change_password(json: ChangePasswordRequest):
    """Change the password.

    Needs the current password. Every session of the account ends and the caller gets a fresh
    pair; with revoke_api_keys the keys are revoked too. The owner is emailed. Wrong current
    passwords count toward the lockout; the one that locks the account ends this session too
    (401 token-revoked).
    """
    me = principal()
    remember, methods = me.remember, me.session.methods
    try:
        accounts.change_password(
            me.user,
            json.current_password,
            json.new_password,
            None,
            asking=me.session,
            revoke_keys=json.revoke_api_keys,
        )
    except accounts.SignedOutByLock:
        return unauthorized(
            messages.SIGNED_OUT_AFTER_WRONG_PASSWORDS, token_given=True, kind="token-revoked"
        )
    except accounts.CurrentPasswordWrong:
        raise Invalid({"current_password": [messages.CURRENT_PASSWORD_WRONG]}) from None
    except passwords.PasswordRejected as exc:
        raise Invalid({"new_password": [str(exc)]}) from None
    return tokens_response(refresh.open_pair(me.user, remember, methods))


@bp.post("/request-password-reset")
@public
@limited(LINK_REQUEST, reset_address_in(json_field("email", "username")))
@validate(resp=Response(HTTP_202=Accepted), tags=TAGS)
def request_password_reset(json: PasswordResetRequest):
    """Email a reset link.

    The link (valid 1 hour) goes to the address stored on the account named by email or
    username; the answer is the same whether or not such an account exists.
    """
    if (json.email is None) == (json.username is None):
        raise Invalid({"email": [messages.API_LOGIN_IDENTIFIER]})
    link_requests.defer(link_requests.RESET, json.email or json.username)
    return accepted(messages.RESET_EMAIL_SENT)


@bp.post("/reset-password")
@public
@limited(PASSWORD, link_subject(tokens.Purpose.RESET, json_field("token")))
@validate(resp=Response("HTTP_204"), tags=TAGS)
def reset_password(json: ResetPasswordRequest):
    """Set a new password with the emailed token.

    Every session ends and none is opened: no tokens come back (204), the client signs in with
    the new password, so a reset link is never a way around a second factor.
    """
    try:
        recovery.complete(tokens.Purpose.RESET, json.token, json.password, "api")
    except recovery.LinkInvalid:
        raise Invalid({"token": [messages.LINK_INVALID]}) from None
    except passwords.PasswordRejected as exc:
        raise Invalid({"password": [str(exc)]}) from None
    return "", 204


@bp.get("/.well-known/jwks.json")
@public
@validate(resp=Response(HTTP_200=Jwks), tags=TAGS)
def jwks():
    """Public keys for RS256/EdDSA tokens.

    The keys that verify access tokens and ID tokens (an empty set with HS256).
    """
    response = jsonify(jwt_tokens.keyring().jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
