"""Models of /api/auth/me, /api/auth/sessions and /api/auth/api-keys: the caller's own account."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from acs_auth.api.schemas.fields import Answer, Body, Name, Secret, Username, examples, text
from acs_auth.models import Role
from acs_auth.services.signin import api_keys

RoleName = Literal[tuple(r.value for r in Role)]
Scope = Literal[api_keys.SCOPES]
KeyName = text(api_keys.KEY_NAME_MAX)
STAMP = "2026-12-05T08:00:00Z"
USER = {
    "id": 7,
    "email": "ada.lovelace@example.org",
    "username": "ada",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "role": "user",
    "programs": ["PROG-1"],
    "email_verified": True,
    "created_at": STAMP,
    "last_login_at": STAMP,
}
SESSION = {
    "id": "k2Jx0aQ9",
    "kind": "api",
    "current": True,
    "created_at": STAMP,
    "last_used_at": STAMP,
    "expires_at": "2026-12-12T08:00:00Z",
    "ip": "203.0.113.7",
    "user_agent": "curl/8.5.0",
    "device": "curl",
}
API_KEY = {
    "id": "b7c1d2e3",
    "name": "nightly report",
    "prefix": "acs_b7c1",
    "scope": "read",
    "created_at": STAMP,
    "last_used_at": None,
    "expires_at": "2027-03-05T08:00:00Z",
    "expired": False,
    "requests_used": 0,
    "requests_limit": 1000,
}


class User(Answer):
    """What a person may see about their own account."""

    model_config = examples(USER)

    id: int
    email: str
    username: str | None
    first_name: str | None
    last_name: str | None
    role: RoleName
    programs: list[str]
    email_verified: bool
    created_at: datetime
    last_login_at: datetime | None


class ProfileUpdate(Body):
    """Only these fields; role, is_active and email cannot be changed here."""

    model_config = examples({"first_name": "Ada", "username": "ada"})

    first_name: Name | None = None
    last_name: Name | None = None
    username: Username | None = None


class Session(Answer):
    """One sign-in of the account, browser or API."""

    model_config = examples(SESSION)

    id: str
    kind: Literal["browser", "api"]
    current: bool
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    ip: str | None
    user_agent: str | None
    device: str


class SessionList(Answer):
    """Live sessions."""

    model_config = examples({"sessions": [SESSION]})

    sessions: list[Session]


class ApiKey(Answer):
    """An API key as listed: its prefix, never the secret or its digest."""

    model_config = examples(API_KEY)

    id: str
    name: str
    prefix: str = Field(description="The first characters, for recognition.")
    scope: Scope
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    expired: bool
    requests_used: int = Field(
        description="Requests made with the key in the current rate-limit window."
    )
    requests_limit: int = Field(description="The key's budget per window.")


class ApiKeyCreated(ApiKey):
    """The key just made; its secret is in this answer only."""

    no_store = True
    model_config = examples({**API_KEY, "key": "acs_b7c1…"})

    key: str = Field(description="The secret, shown in this answer only.")


class ApiKeyList(Answer):
    """Keys that are not revoked."""

    model_config = examples({"api_keys": [API_KEY]})

    api_keys: list[ApiKey]


class ApiKeyCreate(Body):
    """A key is a credential of the account: minting one needs the current password.

    A wrong password answers 403 and counts toward the account's lockout; the owner is emailed.
    """

    model_config = examples(
        {"name": "nightly report", "current_password": "correct horse battery staple 42"}
    )

    name: KeyName
    current_password: Secret
    scope: Scope = Field(
        "read",
        description="Defaults to read (GET only). full: also writes. admin: full plus "
        "/api/admin, for administrators only; no other key reaches /api/admin.",
    )
    expires_in_days: int | None = Field(
        None,
        ge=1,
        le=3650,
        description="Absent or null: API_KEY_DEFAULT_EXPIRE_DAYS (90). More than "
        "API_KEY_MAX_EXPIRE_DAYS (365) answers 422. Every key expires.",
    )
