"""Models of /api/auth: sign-in, registration, tokens and passwords."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from acs_auth.api.schemas.account import USER, User
from acs_auth.api.schemas.fields import Answer, Body, Email, Identifier, Secret, Token, examples
from acs_auth.api.schemas.fields import text as _text
from acs_auth.services.text.names import NAME_MAX

PASSWORD = "correct horse battery staple 42"
LastName = _text(NAME_MAX)


class RegisterRequest(Body):
    """Registration by the allowlist's last name and email.

    With email confirmation (the default) the password is ignored and the account is created
    from the emailed link; without it, the password is required and the account is created at
    once.
    """

    model_config = examples({"email": "ada.lovelace@example.org", "last_name": "Lovelace"})

    email: Email
    last_name: LastName
    password: Secret = None


class LoginRequest(Body):
    """Send exactly one of email or username."""

    model_config = examples({"email": "ada.lovelace@example.org", "password": PASSWORD})

    email: Identifier = None
    username: Identifier = None
    password: Secret
    remember_me: bool = Field(False, description="A 30-day session instead of 7 days.")


class RefreshRequest(Body):
    """The refresh token of the last pair (each one works once)."""

    model_config = examples({"refresh_token": "eyJhbGciOiJIUzI1NiJ9.eyJ0eXBlIjoicmVmcmVzaCJ9.x"})

    refresh_token: Token


class VerifyTokenRequest(Body):
    """An access token to check."""

    model_config = examples({"token": "eyJhbGciOiJIUzI1NiJ9.eyJ0eXBlIjoiYWNjZXNzIn0.x"})

    token: Token


class ChangePasswordRequest(Body):
    """The current password and the new one."""

    model_config = examples(
        {"current_password": PASSWORD, "new_password": "violet umbrella marching sideways 7"}
    )

    current_password: Secret
    new_password: Secret
    revoke_api_keys: bool = Field(
        False, description="true: also revoke every API key of the account (default false)."
    )


class PasswordResetRequest(Body):
    """Send exactly one of email or username; the link goes to the account's stored address."""

    model_config = examples({"email": "ada.lovelace@example.org"})

    email: Email = None
    username: Identifier = None


class ResetPasswordRequest(Body):
    """The emailed token and the new password."""

    model_config = examples({"token": "InRva2VuIg.aBcDeF", "password": PASSWORD})

    token: Token
    password: Secret


class TokenPair(Answer):
    """A new access and refresh token, and whose they are."""

    no_store = True
    model_config = examples(
        {
            "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJ0eXBlIjoiYWNjZXNzIn0.x",
            "refresh_token": "eyJhbGciOiJIUzI1NiJ9.eyJ0eXBlIjoicmVmcmVzaCJ9.x",
            "token_type": "bearer",
            "expires_in": 1800,
            "user": USER,
        }
    )

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"]
    expires_in: int = Field(description="Access token lifetime, seconds.")
    user: User


class Accepted(Answer):
    """The same answer whether or not the person exists."""

    model_config = examples(
        {"status": "accepted", "detail": "If your details match, we have emailed you a link."}
    )

    status: Literal["accepted"]
    detail: str


class TokenInfo(Answer):
    """A valid access token: its session, expiry and account."""

    model_config = examples(
        {
            "valid": True,
            "session_id": "k2Jx0aQ9",
            "expires_at": "2026-12-05T08:30:00Z",
            "user": USER,
        }
    )

    valid: Literal[True]
    session_id: str
    expires_at: datetime
    user: User


class Jwks(Answer):
    """The public keys that verify tokens (empty with HS256)."""

    model_config = examples({"keys": []})

    keys: list[dict[str, Any]]
