"""Text rules shared by forms, the API schemas, services and request guards: control characters.

One definition of "control character" for the whole application: C0 controls and DEL. A NUL
must never reach the database (PostgreSQL refuses it in a string parameter, so it would end
as a 500), and no name, address, identifier or file name has a use for the others.
"""

from __future__ import annotations

import re

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def has_control_characters(value: object) -> bool:
    """True for a string holding a control character (anything else: False)."""
    return isinstance(value, str) and CONTROL_CHARACTERS.search(value) is not None


def without_control_characters(value: str) -> str:
    """``value`` with its control characters removed."""
    return CONTROL_CHARACTERS.sub("", value)
