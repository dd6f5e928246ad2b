"""JSON shapes of the API's resources; never a hash, a token digest or a lockout counter."""

from __future__ import annotations

from datetime import datetime

from acs_auth.models import ApiKey, AuthSession, User, utcnow
from acs_auth.services.signin import api_keys, api_quota, sessions
from acs_auth.services.signin.api_auth import Caller
from acs_auth.services.signin.refresh import TokenPair


def timestamp(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, or None."""
    if value is None:
        return None
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


def user_json(user: User | Caller) -> dict:
    """What a person may see about their own account (from the ORM row or the snapshot)."""
    return {
        "id": user.id,
        "email": user.email,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role,
        "programs": user.program_ids,
        "email_verified": user.email_verified_at is not None,
        "created_at": timestamp(user.created_at),
        "last_login_at": timestamp(user.last_login_at),
    }


def admin_user_json(user: User) -> dict:
    """What an administrator sees: the account plus its state (active, password set, locked)."""
    return {
        **user_json(user),
        "is_active": user.is_active,
        "has_password": user.has_password,
        "locked": user.is_locked(),
        "locked_until": timestamp(user.locked_until) if user.is_locked() else None,
        "source": user.source,
        "visit_count": user.visit_count,
        "password_changed_at": timestamp(user.password_changed_at),
        "updated_at": timestamp(user.updated_at),
    }


def token_pair_json(pair: TokenPair) -> dict:
    """The sign-in answer: both tokens, their type, the access lifetime and the user."""
    return {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "token_type": "bearer",
        "expires_in": pair.expires_in,
        "user": user_json(pair.user),
    }


def session_json(row: AuthSession, current_id: int | None) -> dict:
    """One of the caller's sign-ins; ``current_id`` is the row id of the caller's own."""
    return {
        "id": row.public_id,
        "kind": row.kind,
        "current": row.id == current_id,
        "created_at": timestamp(row.created_at),
        "last_used_at": timestamp(row.last_used_at),
        "expires_at": timestamp(row.expires_at),
        "ip": row.ip,
        "user_agent": row.user_agent,
        "device": sessions.describe_device(row.user_agent),
    }


def api_key_json(row: ApiKey) -> dict:
    """An API key as listed: its prefix, never the secret or its digest."""
    expires = row.expires_at
    used, limit = api_quota.key_usage(row)
    return {
        "id": row.public_id,
        "name": row.name,
        "prefix": row.prefix,
        "scope": api_keys.scope_of(row.scopes),
        "created_at": timestamp(row.created_at),
        "last_used_at": timestamp(row.last_used_at),
        "expires_at": timestamp(expires),
        "expired": expires is not None and expires <= utcnow(),
        "requests_used": used,
        "requests_limit": limit,
    }
