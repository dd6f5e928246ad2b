"""Text rules shared by forms, the API schemas, services and request guards: control characters.

Addresses live in text.addresses, names in text.names, usernames and LO Root IDs in
text.identifiers.

One definition of "control character" for the whole application: C0 controls and DEL. A NUL
must never reach the database (PostgreSQL refuses it in a string parameter, so it would end
as a 500), and no name, address, identifier or file name has a use for the others.
"""

from __future__ import annotations

import re

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# The longest password field read anywhere (form, API, CLI): longer than any password the
# policy accepts, and a cap keeps a huge field from costing hashing or strength-check work.
PASSWORD_MAX = 1024


def has_control_characters(value: object) -> bool:
    """True for a string holding a control character (anything else: False)."""
    return isinstance(value, str) and CONTROL_CHARACTERS.search(value) is not None


def has_nul(value: str) -> bool:
    """True when ``value`` holds a NUL: the one control character free text may not hold.

    Descriptions and other multi-line text keep their line breaks and tabs.
    """
    return "\x00" in value


def without_control_characters(value: str) -> str:
    """``value`` with its control characters removed."""
    return CONTROL_CHARACTERS.sub("", value)
