"""Comparing people's names the way a person would: trimmed, case- and accent-insensitive."""

from __future__ import annotations

import re
import unicodedata

# Letters that NFKD does not decompose into a base letter plus a combining mark, and the
# typographic variants of the apostrophe and hyphen that keyboards and spreadsheets produce.
_FOLD = str.maketrans(
    {
        "\u00f8": "o",  # o with stroke
        "\u00e6": "ae",
        "\u0153": "oe",
        "\u0142": "l",  # l with stroke
        "\u0111": "d",  # d with stroke
        "\u00f0": "d",  # eth
        "\u00fe": "th",  # thorn
        "\u0131": "i",  # dotless i
        "\u2019": "'",  # right single quotation mark
        "\u2018": "'",  # left single quotation mark
        "\u02bc": "'",  # modifier letter apostrophe
        "`": "'",
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
    }
)
# Hyphens and runs of whitespace separate the parts of a name alike ("Smith-Jones" and
# "Smith Jones" are the same person to a human reader).
_SEPARATORS = re.compile(r"[\s\-]+")


def name_key(value: str | None) -> str:
    """Fold ``value``: no accents, case-folded, separators collapsed to one space, trimmed."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = stripped.casefold().translate(_FOLD)
    return _SEPARATORS.sub(" ", folded).strip()


def same_name(a: str | None, b: str | None) -> bool:
    """True when two names match after folding; an empty name never matches."""
    key = name_key(a)
    return bool(key) and key == name_key(b)
