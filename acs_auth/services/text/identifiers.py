"""The shapes of the identifiers people type: usernames and LO Root IDs (program IDs).

One definition of each for the forms, the API schemas, the services, the CSV import and the
CLI. Each pattern also exists as a bare regular expression (``*_REGEX``) for JSON Schema, where
the API anchors it with ``^…$``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# A username never contains "@", so it can never be mistaken for (or shadow) an email address
# at sign-in, where one box accepts either.
USERNAME_MAX = 64
USERNAME_REGEX = r"[A-Za-z0-9][A-Za-z0-9._-]{2,63}"
USERNAME_PATTERN = re.compile(USERNAME_REGEX)

# LO Root IDs never contain whitespace or ";", so a list of them can be stored ";"-joined (an
# allowlist entry's lo_root_ids) and carried space-joined (the API's one-row caller lookup).
PROGRAM_ID_MAX = 64
PROGRAM_ID_REGEX = r"[A-Za-z0-9._:-]{1,64}"
PROGRAM_ID_PATTERN = re.compile(rf"^{PROGRAM_ID_REGEX}\Z")
# What may separate LO Root IDs in one CSV cell or one text box.
PROGRAM_ID_SEPARATORS = re.compile(r"[;,|\s]+")
# The most LO Root IDs one person may hold.
MAX_PROGRAMS = 200


def is_program_id(value: object) -> bool:
    """True for a string shaped like an LO Root ID."""
    return isinstance(value, str) and PROGRAM_ID_PATTERN.match(value) is not None


def program_list(ids: Iterable[str]) -> list[str]:
    """A person's programs in their one in-code form: the unique LO Root IDs, sorted."""
    return sorted(set(ids))


def joined_programs(ids: Iterable[str], separator: str = ";") -> str:
    """The stored form of a person's programs: ``program_list`` joined by ``separator``."""
    return separator.join(program_list(ids))


def split_joined_programs(text: str | None, separator: str = ";") -> list[str]:
    """``joined_programs`` undone: the ``program_list`` of a stored value."""
    return program_list(p for p in (text or "").split(separator) if p)


def split_program_ids(text: str | None) -> list[str]:
    """The LO Root IDs typed in one box or cell, in the order given (not checked)."""
    return PROGRAM_ID_SEPARATORS.sub(" ", text or "").split()
