"""Who must have a second factor: the roles named by ``MFA_REQUIRED_ROLES`` (default admin).

A person in such a role who has no factor yet is sent to enrolment before any other page, and
an administrator without one cannot use /admin or /api/admin (acs_auth/mfa/policy_hooks.py
enforces both). The roles are read from the database on every request, like every role check,
so a promotion to admin takes effect on the next click.

May import models and the factor state; nothing above.
"""

from __future__ import annotations

from flask import current_app

from acs_auth.models import Role, User
from acs_auth.services import factors
from config import ConfigurationError


def parse_roles(value: str | None) -> frozenset[str]:
    """MFA_REQUIRED_ROLES as a set; an unknown role is a ConfigurationError, not a silent gap.

    A typo such as ``admins`` would otherwise turn the policy off without a word.
    """
    names = {part.strip().lower() for part in (value or "").split(",") if part.strip()}
    unknown = names - {role.value for role in Role}
    if unknown:
        raise ConfigurationError(
            "MFA_REQUIRED_ROLES must list roles among "
            f"{', '.join(r.value for r in Role)}, not {', '.join(sorted(unknown))}"
        )
    return frozenset(names)


def required_roles() -> frozenset[str]:
    """The roles that must enrol a second factor, as checked when the app was created."""
    return current_app.extensions["mfa_required_roles"]


def is_required(user: User) -> bool:
    """Whether ``user``'s role must have a second factor."""
    return user.role in required_roles()


def must_enrol(user: User) -> bool:
    """Whether ``user`` is held at enrolment: the role requires a factor and none is enrolled."""
    return is_required(user) and not factors.has_second_factor(user)
