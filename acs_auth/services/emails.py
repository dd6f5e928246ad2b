"""Email address normalisation: one canonical form stored, one key compared."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


class InvalidEmail(ValueError):
    """The address is not a syntactically valid email address."""


def normalize_email(value: str) -> str:
    """Trim the address and lower-case its domain; the local part keeps its case for display."""
    value = (value or "").strip()
    local, sep, domain = value.rpartition("@")
    if not sep:
        return value
    return f"{local}@{domain.lower()}"


def email_key(value: str) -> str:
    """The case-insensitive key under which an address is unique and looked up."""
    return normalize_email(value).lower()


def validate_address(value: str) -> str:
    """Validate syntax (no DNS lookup) and return the normalised address, or raise InvalidEmail."""
    value = (value or "").strip()
    if len(value) > 254:
        raise InvalidEmail("The email address is too long.")
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from exc
    return normalize_email(result.normalized)
