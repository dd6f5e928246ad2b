"""The allowlist export neutralises look-alike formula characters too (full-width, small, minus)."""

from __future__ import annotations

import csv
import io

import pytest
from test_allowlist_admin import apply, csv_of, entries, import_all, people, preview_url, upload

from acs_auth.services.allowlist.csvfile import neutralise, unneutralise

# First characters a spreadsheet may run as a formula, beyond the ASCII = + - @.
LOOKALIKES = {
    "\uff1d": "FULLWIDTH EQUALS SIGN",
    "\uff0b": "FULLWIDTH PLUS SIGN",
    "\uff0d": "FULLWIDTH HYPHEN-MINUS",
    "\uff20": "FULLWIDTH COMMERCIAL AT",
    "\ufe66": "SMALL EQUALS SIGN",
    "\ufe62": "SMALL PLUS SIGN",
    "\ufe63": "SMALL HYPHEN-MINUS",
    "\ufe6b": "SMALL COMMERCIAL AT",
    "\u2212": "MINUS SIGN",
}


def test_the_download_neutralises_look_alike_formula_characters(app, client, admin):
    tricky = [
        (f"{char}HYPERLINK(1)", f"{char}Eve", f"p{i}@example.org", "P1")
        for i, char in enumerate(LOOKALIKES)
    ]
    import_all(client, csv_of(*tricky, *people(20)))

    response = client.get("/admin/allowlist/export.csv")
    assert response.status_code == 200
    cells = [
        cell for row in csv.reader(io.StringIO(response.get_data(as_text=True))) for cell in row
    ]
    for char, name in LOOKALIKES.items():
        assert f"'{char}HYPERLINK(1)" in cells, name
        assert f"'{char}Eve" in cells, name
        assert not any(cell.startswith(char) for cell in cells), name

    # ...and the file still re-imports to the same entries.
    before = entries(app)
    preview = preview_url(upload(client, response.get_data(), mode="replace", name="back.csv"))
    assert apply(client, preview).status_code == 302
    assert entries(app) == before


@pytest.mark.parametrize(
    "value", ["\uff1dcmd", "\u2212P1", "'\uff20x", "''=x", "'quoted", "Ōta", "\uff21bc", ""]
)
def test_neutralised_look_alikes_round_trip(value):
    assert unneutralise(neutralise(value)) == value
