"""What an administrator does to a person's ways in: sessions, a password reset, service keys.

Listing and revoking API keys is api_keys.list_for / api_keys.revoke with an ``actor``; the
admin pages and /api/admin call these functions alike, and each one commits once.
"""

from __future__ import annotations

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import ApiKey, AuthSession, User
from acs_auth.services import audit
from acs_auth.services.accounts.user_admin import ActionRefused
from acs_auth.services.mail import letters
from acs_auth.services.signin import api_keys, sessions


def live_sessions(user: User) -> list[AuthSession]:
    """The person's live sessions, browser and API, newest activity first."""
    return sessions.list_live(user)


def revoke_session(user: User, public_id: str, actor: User) -> bool:
    """End one live session of ``user``; False when it is not theirs or not live (one commit)."""
    row = sessions.find_own(user, public_id[:64])
    if row is None:
        return False
    sessions.revoke(row, "revoked_by_admin")
    audit.record("session.revoked", actor=actor, target=user, kind=row.kind)
    db.session.commit()
    return True


SERVICE_SCOPES = ("read", "full")  # never "admin": a service account is not an administrator


def create_service_key(
    user: User, *, name: str, scope: str, days: int | None, actor: User
) -> tuple[ApiKey, str]:
    """An administrator makes an API key for a service account; the secret is returned once.

    People mint their own keys with their password; a service account has none, so its keys
    come from an administrator, who is named in the audit log (one commit). Raises
    ActionRefused, or api_keys.ExpiryTooLong / TooManyKeys.
    """
    if not user.is_service_account:
        raise ActionRefused(messages.ADMIN_KEYS_FOR_SERVICE_ONLY)
    if not user.is_active:
        raise ActionRefused(messages.ADMIN_ACCOUNT_INACTIVE)
    if scope not in SERVICE_SCOPES:
        raise ActionRefused(messages.ADMIN_CHOICE_INVALID)
    expires_at = api_keys.expiry(days)
    return api_keys.create(user, name=name, scope=scope, expires_at=expires_at, actor=actor)


def send_password_reset(user: User, actor: User) -> str:
    """Email the person a reset link (a setup link when no password is set) (one commit).

    The link goes to the person's own address only; the administrator never sees it, and
    nothing about the current password changes until the person uses the link. Returns
    "reset" or "setup", whichever email was queued.
    """
    if not user.is_active:
        raise ActionRefused(messages.ADMIN_ACCOUNT_INACTIVE)
    if user.is_service_account:
        raise ActionRefused(messages.ADMIN_SERVICE_NO_PASSWORD)
    kind = letters.send_password_link(user, actor=actor)
    db.session.commit()
    return kind
