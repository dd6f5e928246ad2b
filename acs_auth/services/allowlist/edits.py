"""Programs an administrator set by hand, and the import that would replace them.

An import sets an account's programs to its allowlist row whenever the row's LO Root IDs
change, the person is added, or comes back. When an administrator had set that account's
programs by hand (``users.programs_edited_at``, stamped by user_admin.update_user), the
preview lists the person as a change of an edited value: the programs set by hand, the entry's
IDs before and the file's IDs. The administrator chooses, per person, to keep the hand edit
or to take the file's value; the CLI and the API choose once for all (``keep`` by default), so
no hand edit is ever undone without someone having said so.

Keeping: the entry takes the file's IDs (the export matches the file), the account keeps its
programs and stays marked, so the next import that changes them asks again; the person's
history records ``user.programs_edit_kept`` with the import. Taking the file's value: the
programs change as for anyone (``user.updated`` names the import) and the mark is cleared.
Functions here add to the caller's transaction and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from acs_auth.extensions import db
from acs_auth.models import User, UserProgram
from acs_auth.services import audit
from acs_auth.services.allowlist.lifecycle import chunks

KEEP = "keep"
TAKE_FILE = "file"
CHOICES = (KEEP, TAKE_FILE)


@dataclass(frozen=True)
class EditedPrograms:
    """A person whose hand-set programs the file would replace."""

    key: str
    email: str
    user_id: int
    by_hand: tuple[str, ...]
    in_entry: tuple[str, ...]
    in_file: tuple[str, ...]
    edited_at: datetime


def _edited_accounts(keys: list[str]) -> dict[str, tuple[int, str, datetime]]:
    """Accounts among ``keys`` whose programs an administrator set by hand."""
    found = {}
    for chunk in chunks(sorted(keys)):
        stmt = select(User.email_key, User.id, User.email, User.programs_edited_at).where(
            User.email_key.in_(chunk), User.programs_edited_at.is_not(None)
        )
        for key, user_id, email, edited_at in db.session.execute(stmt):
            found[key] = (user_id, email, edited_at)
    return found


def _programs_of(user_ids: list[int]) -> dict[int, tuple[str, ...]]:
    held: dict[int, list[str]] = {uid: [] for uid in user_ids}
    for chunk in chunks(user_ids):
        stmt = select(UserProgram.user_id, UserProgram.lo_root_id).where(
            UserProgram.user_id.in_(chunk)
        )
        for user_id, program in db.session.execute(stmt):
            held[user_id].append(program)
    return {uid: tuple(sorted(ids)) for uid, ids in held.items()}


def find_in(preview) -> list[EditedPrograms]:
    """The hand edits an import preview would replace (services.allowlist.imports.Preview).

    The import writes programs for the people it adds, restores, or whose IDs it changes.
    """

    def ids(row) -> set[str]:
        return {i for i in row.lo_root_ids.split(";") if i}

    incoming = {row.key: (ids(row), "") for row in preview.to_add}
    for change in preview.to_change:
        if change.ids_changed or change.restored:
            before = [old for label, old, _ in change.fields if label == "LO Root IDs"]
            incoming[change.key] = (
                ids(change.row),
                before[0] if before else change.row.lo_root_ids,
            )
    return find(incoming)


def find(incoming: dict[str, tuple[set[str], str]]) -> list[EditedPrograms]:
    """The hand edits that ``incoming`` ({key: (file IDs, entry IDs before)}) would replace.

    Only accounts marked as edited by hand whose programs differ from the file's are listed:
    a hand edit the file agrees with is no conflict.
    """
    edited = _edited_accounts(list(incoming))
    held = _programs_of(sorted(uid for uid, _, _ in edited.values()))
    found = []
    for key, (user_id, email, edited_at) in sorted(edited.items()):
        in_file = tuple(sorted(incoming[key][0]))
        if held[user_id] != in_file:
            in_entry = tuple(i for i in incoming[key][1].split(";") if i)
            found.append(
                EditedPrograms(key, email, user_id, held[user_id], in_entry, in_file, edited_at)
            )
    return found


def choices_for(edited: list[EditedPrograms], choices: dict[int, str] | str) -> dict[str, str]:
    """Each edited person's choice by email key: one for all (a string) or per account id.

    A person without a valid choice keeps the hand edit.
    """
    if isinstance(choices, str):
        choice = choices if choices in CHOICES else KEEP
        return {item.key: choice for item in edited}
    return {
        item.key: choices.get(item.user_id) if choices.get(item.user_id) in CHOICES else KEEP
        for item in edited
    }


def settle(
    edited: list[EditedPrograms],
    chosen: dict[str, str],
    programs: dict[str, set[str]],
    actor: User | None,
    **source,
) -> int:
    """Apply the choices to an import's planned ``programs`` (in place); returns how many kept.

    Kept hand edits leave ``programs`` and are recorded in the person's history with the
    import (``source``); taken file values stay in ``programs`` and lose their mark.
    """
    kept = [item for item in edited if chosen.get(item.key, KEEP) == KEEP]
    for item in kept:
        programs.pop(item.key, None)
        row = audit.record(
            "user.programs_edit_kept",
            actor=actor,
            target_label=item.email,
            kept=list(item.by_hand),
            file=list(item.in_file),
            **source,
        )
        row.target_id = item.user_id
    taken = [item.user_id for item in edited if chosen.get(item.key, KEEP) == TAKE_FILE]
    for chunk in chunks(taken):
        db.session.execute(
            update(User)
            .where(User.id.in_(chunk))
            .values(programs_edited_at=None)
            .execution_options(synchronize_session=False)
        )
    return len(kept)
