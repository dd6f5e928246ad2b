"""Second factors as administrators see them: who has which, the users-list filter, the reset.

``HOLDERS`` gives, for each kind of factor, a query of the accounts that hold one in force;
``FACTOR_MODELS`` lists the tables a reset empties; a new kind adds one entry to each, as
passkeys do. "With a second factor" means a kind that stands as the second step on its own
(``state.SECOND_FACTORS``): recovery codes alone do not count, as at sign-in.

May import models, the factor state and policy, remembered browsers, audit and mail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Select, delete, func, select, union

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import Passkey, RecoveryCode, TotpFactor, User, utcnow
from acs_auth.services import audit
from acs_auth.services.factors import policy, remembered, state
from acs_auth.services.mail import outbox

# What a person reads for each kind (admin pages, dashboard); unknown kinds show their name.
LABELS = {
    state.TOTP: "Authenticator app",
    state.RECOVERY_CODES: "Recovery codes",
    state.PASSKEY: "Passkeys",
}
# kind -> the ids of the accounts holding that kind of factor in force.
HOLDERS: dict[str, Callable[[], Select]] = {
    state.TOTP: lambda: select(TotpFactor.user_id).where(TotpFactor.confirmed_at.is_not(None)),
    state.RECOVERY_CODES: lambda: select(RecoveryCode.user_id).where(
        RecoveryCode.used_at.is_(None)
    ),
    state.PASSKEY: lambda: select(Passkey.user_id),
}
# Every table holding a factor of an account (a reset deletes the account's rows in each).
FACTOR_MODELS: list[type] = [TotpFactor, RecoveryCode, Passkey]
FILTERS = ("with", "without")


def labels_of(kinds) -> list[str]:
    """The names people read for ``kinds``, in the order of LABELS (then unknown kinds)."""
    order = list(LABELS)
    ranked = sorted(kinds, key=lambda k: (order.index(k) if k in order else len(order), k))
    return [LABELS.get(kind, kind) for kind in ranked]


class ResetRefused(ValueError):
    """The reset cannot be done; ``str(exc)`` says why (nothing to reset, your own account)."""


@dataclass
class Summary:
    """One account's factors for its admin page."""

    kinds: list[str]
    required: bool


@dataclass
class Counts:
    """The dashboard's figures over active accounts."""

    by_kind: dict[str, int] = field(default_factory=dict)
    without: int = 0
    required_missing: int = 0
    required_role: str = ""


def _second_factor_holders():
    """The ids of accounts with a kind of factor that stands as the second step on its own."""
    return union(*[HOLDERS[kind]() for kind in sorted(state.SECOND_FACTORS) if kind in HOLDERS])


def filtered(stmt: Select, value: str) -> Select:
    """``stmt`` (a select of User) narrowed to accounts with ("with") or without a factor."""
    if value == "with":
        return stmt.where(User.id.in_(_second_factor_holders()))
    if value == "without":
        return stmt.where(User.id.not_in(_second_factor_holders()))
    return stmt


def kinds_of(user_ids: list[int]) -> dict[int, list[str]]:
    """The kinds of factor held by each of ``user_ids`` (one query per kind), for a list page."""
    found: dict[int, list[str]] = {}
    if not user_ids:
        return found
    for kind, holders in HOLDERS.items():
        held = holders().subquery()
        ids = db.session.scalars(
            select(held.c.user_id).where(held.c.user_id.in_(user_ids)).distinct()
        )
        for user_id in ids:
            found.setdefault(user_id, []).append(kind)
    return found


def summary(user: User) -> Summary:
    """What the admin user page shows: the kinds in force and whether the role needs one."""
    return Summary(kinds=sorted(state.enrolled(user)), required=policy.is_required(user))


def counts() -> Counts:
    """Active accounts per kind of factor, with none, and required but missing (reads only)."""
    active = select(User.id).where(User.is_active_flag.is_(True))
    figures = Counts()
    for kind, holders in HOLDERS.items():
        figures.by_kind[kind] = _count(active.where(User.id.in_(holders())))
    missing = active.where(User.id.not_in(_second_factor_holders()))
    figures.without = _count(missing)
    roles = sorted(policy.required_roles())
    if roles:
        figures.required_missing = _count(missing.where(User.role.in_(roles)))
        figures.required_role = roles[0] if len(roles) == 1 else ""
    return figures


def _count(stmt: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def reset(user: User, actor: User) -> list[str]:
    """Remove every second factor of ``user`` and its remembered browsers (one commit).

    The person is emailed (who, what, when; no link) and the reset is audited with the kinds
    removed. Returns those kinds (``state`` names, sorted). Raises ResetRefused for an
    administrator's own account (the account page, which asks for the password, is the way
    there) and when there is nothing to reset.
    """
    if actor is not None and actor.id == user.id:
        raise ResetRefused(messages.ADMIN_FACTORS_NOT_YOURS)
    kinds = sorted(state.enrolled(user))
    if not kinds:
        raise ResetRefused(messages.ADMIN_FACTORS_NONE)
    for model in FACTOR_MODELS:
        db.session.execute(delete(model).where(model.user_id == user.id))
    browsers = remembered.revoke_all(user)
    outbox.queue(
        "factors_reset",
        user.email,
        user=user,
        actor=actor,
        kinds=labels_of(kinds),
        required=policy.is_required(user),
        when=utcnow(),
    )
    audit.record(
        "mfa.factors_reset", actor=actor, target=user, kinds=kinds, remembered_browsers=browsers
    )
    db.session.commit()
    return kinds
