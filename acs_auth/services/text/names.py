"""Comparing people's names the way a person would: trimmed, case- and accent-insensitive.

``name_key`` is the stored search key (columns ``*_name_key``); ``same_name`` is the looser
check registration and first-time setup apply to a typed last name. It is only a filter in
front of the real proof, the link emailed to the stored address, so it may forgive the ways
people really type names: German transliterations and one part of a compound surname.
"""

from __future__ import annotations

import re
import unicodedata

# The longest first or last name accepted anywhere (forms, API, CSV import, CLI).
NAME_MAX = 100

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


# German umlauts are written ae/oe/ue without the letter ("Mueller" for "Müller"); ß already
# case-folds to "ss". Applied after NFC and casefold, so composed and decomposed input agree.
_TRANSLITERATE = str.maketrans({"\u00e4": "ae", "\u00f6": "oe", "\u00fc": "ue"})
# Particles that never stand alone for a compound surname ("de" does not match "de la Cruz").
_PARTICLES = frozenset(
    "a al ap bin d da das de del della der di do dos du e el ibn l la le lo st te ten ter "  # noqa: SIM905
    "van vander von y zu".split()
)


def _keys(value: str | None) -> set[str]:
    """The folded spellings of ``value``: accents dropped, and umlauts as ae/oe/ue."""
    plain = name_key(value)
    composed = unicodedata.normalize("NFC", value or "").casefold()
    return {key for key in (plain, name_key(composed.translate(_TRANSLITERATE))) if key}


def _whole_runs(key: str) -> set[str]:
    """``key`` and every run of its whole parts that is not made of particles only."""
    parts = key.split(" ")
    runs = {key}
    for start in range(len(parts)):
        for end in range(start + 1, len(parts) + 1):
            run = parts[start:end]
            if not all(part in _PARTICLES for part in run):
                runs.add(" ".join(run))
    return runs


def same_name(stored: str | None, typed: str | None) -> bool:
    """True when ``typed`` is ``stored`` as people type it; an empty name never matches.

    Case, accents, spaces and hyphens do not count; "ue", "oe", "ae" and "ss" stand for "ü",
    "ö", "ä" and "ß" either way round; and a compound surname may be given by one of its
    parts in full ("Garcia" for "García Márquez", "Jones" for "Smith-Jones"), never by a
    fragment of one ("Garc").
    """
    typed_keys = _keys(typed)
    if not typed_keys:
        return False
    return any(typed_keys & _whole_runs(key) for key in _keys(stored))
