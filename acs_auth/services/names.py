"""Comparing people's names the way a person would: trimmed, case- and accent-insensitive."""

from __future__ import annotations

import unicodedata


def name_key(value: str | None) -> str:
    """Fold ``value``: NFKD without combining marks, case-folded, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


def same_name(a: str | None, b: str | None) -> bool:
    """True when two names match after folding; an empty name never matches."""
    key = name_key(a)
    return bool(key) and key == name_key(b)
