"""Renaming and removing a person's passkeys (and an administrator's reset of them all)."""

from __future__ import annotations

from sqlalchemy import delete, select

from acs_auth.extensions import db
from acs_auth.models import Passkey, User
from acs_auth.services import audit
from acs_auth.services.factors import passkeys


def _owned(user: User, public_id: str) -> Passkey:
    """The person's own passkey ``public_id``; another person's answers as missing."""
    if not isinstance(public_id, str) or len(public_id) > 32:
        raise passkeys.PasskeyNotFound(public_id)
    row = db.session.scalar(
        select(Passkey).where(Passkey.public_id == public_id, Passkey.user_id == user.id)
    )
    if row is None:
        raise passkeys.PasskeyNotFound(public_id)
    return row


def rename(user: User, public_id: str, name: object) -> Passkey:
    """Give one of the person's passkeys a new name (one commit)."""
    label = passkeys.clean_name(name)
    row = _owned(user, public_id)
    row.name = label
    audit.record("passkey.renamed", actor=user, target=user, passkey=row.public_id, name=label)
    db.session.commit()
    return row


def remove(user: User, public_id: str, actor: User | None = None) -> str:
    """Delete a passkey: it signs nobody in from now on; audited and mailed (one commit).

    Returns the name it had.
    """
    row = _owned(user, public_id)
    audit.record(
        "passkey.removed", actor=actor or user, target=user, passkey=row.public_id, name=row.name
    )
    passkeys.notify(user, "passkey_removed", row)
    db.session.delete(row)
    db.session.commit()
    return row.name


def remove_all(user: User) -> int:
    """Delete every passkey of ``user`` (an administrator's reset of the person's factors).

    No audit, mail or commit: the reset records and tells it once for all factors.
    """
    done = db.session.execute(delete(Passkey).where(Passkey.user_id == user.id))
    return done.rowcount
