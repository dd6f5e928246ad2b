"""Which programs (LO Root IDs) a person may use, and where each one opens."""

from __future__ import annotations

from urllib.parse import quote

from flask import current_app
from sqlalchemy import bindparam, select

from acs_auth.extensions import db
from acs_auth.models import AllowlistEntry, User, UserProgram
from acs_auth.services.programs import catalogue
from acs_auth.services.text.identifiers import program_list, split_joined_programs

# Built once, on the table: plain SQL, no ORM objects.
_GRANTS = UserProgram.__table__.c
_IDS_OF = (
    select(_GRANTS.lo_root_id)
    .where(_GRANTS.user_id == bindparam("user_id"))
    .order_by(_GRANTS.lo_root_id)
)


def ids_of(user_id: int) -> list[str]:
    """The LO Root IDs granted to the account ``user_id``, sorted, read without loading it.

    Run on the Session's connection, so it sees this transaction but does not flush it first
    (a sign-in reads it with its new session row pending, which the commit writes anyway).
    """
    return list(db.session.connection().scalars(_IDS_OF, {"user_id": user_id}))


def programs_for(user: User) -> list[str]:
    """The caller's LO Root IDs, sorted; administrators see every known program."""
    if not user.is_admin:
        return user.program_ids
    known = set(db.session.scalars(select(UserProgram.lo_root_id).distinct()))
    for ids in db.session.scalars(select(AllowlistEntry.lo_root_ids).where(AllowlistEntry.active)):
        known.update(split_joined_programs(ids))
    return program_list(known)


def may_use(user: User, program_id: str) -> bool:
    """True when ``user`` is authorized for ``program_id`` (administrators: any known program)."""
    if program_id in user.program_ids:
        return True
    return user.is_admin and program_id in programs_for(user)


def chatbot_url(program_id: str) -> str | None:
    """The chatbot address for ``program_id`` from PROGRAM_URL_TEMPLATE, or None when unset.

    Plain substitution of ``{program_id}`` (percent-encoded), not str.format, so a template
    with other braces cannot raise and an id cannot smuggle a path or query into the link.
    """
    template = current_app.config.get("PROGRAM_URL_TEMPLATE")
    if not template:
        return None
    return template.replace("{program_id}", quote(program_id, safe=""))


def offered(user: User) -> list[dict]:
    """The caller's programs as the catalogue describes them (deactivated ones left out).

    A program missing from the catalogue is still offered under its LO Root ID, opening
    through PROGRAM_URL_TEMPLATE (or its own page) as before the catalogue existed.
    """
    ids = programs_for(user)
    known = catalogue.by_ids(ids)
    items = []
    for lo_root_id in ids:
        program = known.get(lo_root_id)
        if program is not None and not program.active:
            continue
        items.append(
            {
                "lo_root_id": lo_root_id,
                "name": program.name if program else lo_root_id,
                "description": program.description if program else "",
                "launch_url": (program.launch_url if program else None) or chatbot_url(lo_root_id),
            }
        )
    return items
