"""The emails that tell a person their second factors changed; each is queued (no commit).

Like every notice they go through the outbox in the transaction of the change they describe,
to the address stored on the account, and they carry no secret and no code.
"""

from __future__ import annotations

from acs_auth.models import User, utcnow
from acs_auth.services.mail import letters, outbox


def _send(kind: str, user: User, **context) -> None:
    outbox.queue(
        kind,
        user.email,
        user=user,
        when=utcnow(),
        account_url=letters.app_link("/account"),
        reset_url=letters.app_link("/forgot-password"),
        **context,
    )


def totp_enabled(user: User) -> None:
    """An authenticator app now guards the account."""
    _send("mfa_totp_enabled", user)


def totp_removed(user: User) -> None:
    """The authenticator app was removed (by the person or an administrator)."""
    _send("mfa_totp_removed", user)


def recovery_code_used(user: User, left: int) -> None:
    """A recovery code signed in; ``left`` codes remain."""
    _send("mfa_recovery_code_used", user, left=left)


def recovery_codes_regenerated(user: User) -> None:
    """A new set of recovery codes replaced the old one."""
    _send("mfa_recovery_codes_regenerated", user)
