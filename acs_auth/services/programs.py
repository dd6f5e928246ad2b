"""Which programs (LO Root IDs) a person may use."""

from __future__ import annotations

from sqlalchemy import select

from acs_auth.extensions import db
from acs_auth.models import AllowlistEntry, User, UserProgram


def programs_for(user: User) -> list[str]:
    """The caller's LO Root IDs, sorted; administrators see every known program."""
    if not user.is_admin:
        return sorted(user.program_ids)
    known = set(db.session.scalars(select(UserProgram.lo_root_id).distinct()))
    for ids in db.session.scalars(select(AllowlistEntry.lo_root_ids).where(AllowlistEntry.active)):
        known.update(p for p in ids.split(";") if p)
    return sorted(known)


def may_use(user: User, program_id: str) -> bool:
    """True when ``user`` is authorized for ``program_id``."""
    return user.is_admin or program_id in user.program_ids
