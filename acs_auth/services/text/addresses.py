"""Email address normalisation: one canonical form stored, one key compared.

An address that differs from another only by Unicode compatibility characters (the Kelvin sign
U+212A for "K", full-width letters, ligatures, the long s, an ideographic full stop in the
domain…) must never reach the other's account (issue 12, item 6). email-validator would fold
some of them into plain letters (NFC turns the Kelvin sign into "K"; the domain's UTS 46
mapping turns full-width letters into ASCII and drops variation selectors), and ``str.lower``
turns the Kelvin sign into "k". So an address holding such a character is refused wherever
an address is validated (LookalikeEmail: a form error, a 422, a CLI error), and the key under
which addresses are compared never folds one, so an unvalidated look-alike (the sign-in box,
which also takes usernames) is simply another address, one that no account can have.
"""

from __future__ import annotations

import unicodedata

import idna
from email_validator import EmailNotValidError, validate_email

from acs_auth import messages

# The longest address accepted anywhere (RFC 5321 path limit less the angle brackets), and so
# the longest email key or sign-in identifier worth looking up.
EMAIL_MAX = 254


class InvalidEmail(ValueError):
    """The address is not a syntactically valid email address."""


class LookalikeEmail(InvalidEmail):
    """The address holds characters that Unicode folds into other ones (Kelvin sign…)."""


def _folds(char: str) -> bool:
    """True for a character that NFKC replaces: compatibility and singleton characters."""
    return unicodedata.normalize("NFKC", char) != char


def _remapped(char: str) -> bool:
    """True for a domain character that UTS 46 maps to something else than its lower case."""
    try:
        return idna.uts46_remap(char, std3_rules=False, transitional=False) != char.lower()
    except idna.IDNAError:
        return False  # disallowed in a domain: email-validator refuses the address anyway


def has_lookalike_characters(value: str) -> bool:
    """True when ``value`` holds a character that would fold into another address."""
    if value.isascii():
        return False
    domain = value.rpartition("@")[2]
    return any(_folds(c) for c in value) or any(_remapped(c) for c in domain)


def _fold_case(text: str) -> str:
    """Lower case, except for look-alike characters (the Kelvin sign would become "k")."""
    if text.isascii() or not any(_folds(c) for c in text):
        return text.lower()  # every key stored so far was made this way
    return "".join(c if _folds(c) else c.lower() for c in text)


def normalize_email(value: str) -> str:
    """Trim the address and lower-case its domain; the local part keeps its case for display."""
    value = (value or "").strip()
    local, sep, domain = value.rpartition("@")
    if not sep:
        return value
    return f"{local}@{_fold_case(domain)}"


def email_key(value: str) -> str:
    """The case-insensitive key under which an address is unique and looked up."""
    return _fold_case(normalize_email(value))


def validate_address(value: str) -> str:
    """Validate syntax (no DNS lookup) and return the normalised address, or raise InvalidEmail.

    LookalikeEmail (an InvalidEmail) when the address holds look-alike characters.
    """
    value = (value or "").strip()
    if len(value) > EMAIL_MAX:
        raise InvalidEmail("The email address is too long.")
    if has_lookalike_characters(value):
        raise LookalikeEmail(messages.EMAIL_LOOKALIKE)
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from exc
    return normalize_email(result.normalized)
