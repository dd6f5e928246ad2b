"""The allowlist CSV reader against a corpus of files, each with its expected preview."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pytest

from acs_auth.extensions import db
from acs_auth.services.allowlist import imports
from acs_auth.services.allowlist.csvfile import (
    CsvRejected,
    check_email,
    neutralise,
    parse,
    unneutralise,
    write,
)
from acs_auth.services.text.addresses import InvalidEmail, validate_address

CORPUS = Path(__file__).parent / "data" / "csv"
CASES = sorted(p.stem for p in CORPUS.glob("*.csv"))


def _expected(name: str) -> dict:
    return json.loads((CORPUS / f"{name}.json").read_text(encoding="utf-8"))


def test_every_corpus_file_has_its_expected_preview():
    assert len(CASES) >= 15
    for name in CASES:
        assert (CORPUS / f"{name}.json").exists(), name


def _seed(app, existing, make_entry):
    for email, last, first, ids, active in existing:
        make_entry(email=email, last_name=last, first_name=first, programs=ids.split(";"))
        if not active:
            with app.app_context():
                from acs_auth.models import AllowlistEntry

                entry = db.session.query(AllowlistEntry).filter_by(email=email).one()
                entry.active = False
                db.session.commit()


@pytest.mark.parametrize("name", CASES)
def test_corpus_preview(name, app, make_entry):
    expected = _expected(name)
    data = (CORPUS / f"{name}.csv").read_bytes()
    if expected.get("max_bytes") == "size-1":
        app.config["ALLOWLIST_MAX_BYTES"] = len(data) - 1
    _seed(app, expected.get("existing", []), make_entry)
    with app.app_context():
        mode = expected.get("mode", "merge")
        if "rejected" in expected:
            with pytest.raises(CsvRejected) as caught:
                imports.preview_bytes(data, file_name=f"{name}.csv", mode=mode)
            assert str(caught.value) == expected["rejected"]
            return
        preview = imports.preview_bytes(data, file_name=f"{name}.csv", mode=mode)
        parsed = preview.parsed
        assert parsed.encoding == expected["encoding"]
        assert parsed.delimiter == expected["delimiter"]
        assert parsed.ignored_columns == expected.get("ignored_columns", [])
        added = [
            [r.email, r.last_name, r.first_name, r.lo_root_ids, r.lines] for r in preview.to_add
        ]
        assert added == expected.get("add", [])
        changed = [[c.row.email.lower(), [list(f) for f in c.fields]] for c in preview.to_change]
        assert changed == expected.get("change", [])
        assert preview.unchanged == expected.get("unchanged", 0)
        assert [r.email for r in preview.to_remove] == expected.get("remove", [])
        assert [list(e) for e in preview.errors] == expected.get("errors", [])
        wanted = expected.get("needs_removal_confirmation", False)
        assert preview.needs_removal_confirmation() is wanted


def test_a_file_at_the_cap_is_accepted_and_one_byte_more_is_not():
    data = b"last_name,email,lo_root_ids\nLovelace,ada@example.org,P1\n"
    assert parse(data, 10, len(data)).rows
    with pytest.raises(CsvRejected, match="larger than the limit of 56 bytes"):
        parse(data + b"\n", 10, len(data))


def test_the_row_cap_counts_data_rows_only():
    rows = "".join(f"L{i},p{i}@example.org,P1\n\n" for i in range(5))
    data = ("last_name,email,lo_root_ids\n" + rows).encode()
    assert len(parse(data, 5).rows) == 5
    with pytest.raises(CsvRejected, match="more than 4 rows"):
        parse(data, 4)


def test_a_one_megabyte_cell_is_a_clear_error_not_a_crash():
    data = b"last_name,email,lo_root_ids\n" + b"A" * 1_000_000 + b",a@example.org,P1\n"
    with pytest.raises(CsvRejected, match="not valid CSV near line"):
        parse(data, 10)


def test_a_long_name_and_many_ids_are_row_errors():
    ids = ";".join(f"P{i}" for i in range(201))
    data = (
        "last_name,first_name,email,lo_root_ids\n"
        f"{'x' * 101},A,a@example.org,P1\n"
        f"B,{'y' * 101},b@example.org,P1\n"
        f"C,C,c@example.org,{ids}\n"
        f"D,D,{'d' * 300}@example.org,P1\n"
    ).encode()
    parsed = parse(data, 10)
    assert parsed.rows == {}
    assert [line for line, _ in parsed.errors] == [2, 3, 4, 5]
    assert "longer than 100 characters" in parsed.errors[0][1]
    assert "first name" in parsed.errors[1][1]
    assert "More than 200 LO Root IDs" in parsed.errors[2][1]
    assert parsed.errors[3][1].endswith("is not a valid email address.")
    assert len(parsed.errors[3][1]) < 120  # the 300-character value is shortened


def test_nul_and_control_characters_are_refused_not_stored():
    data = "last_name,email,lo_root_ids\nNu\x00ll,a@example.org,P1\nTab\tbed,b@example.org,P1\n"
    parsed = parse(data.encode(), 10)
    assert parsed.rows == {}
    assert [e[1] for e in parsed.errors] == ["The last name contains control characters."] * 2


def test_the_fast_email_path_agrees_with_email_validator():
    rng = random.Random(20261122)
    alphabet = string.ascii_letters + string.digits + "._%+-!#$&'*/=?^`{|}~@-"
    samples = [
        "a@b.co",
        "A.B@EXAMPLE.ORG",
        "a..b@example.org",
        ".a@example.org",
        "a.@example.org",
        "a@example",
        "a@example.test",
        "a@xn--bcher-kva.example",
        "a@ex--ample.org",
        "a@-example.org",
        "a@example-.org",
        "a@example.123",
        "a" * 64 + "@example.org",
        "a" * 65 + "@example.org",
        "a@" + "b" * 63 + ".org",
        "a@" + "b" * 64 + ".org",
        "user+tag@sub.example.co.uk",
        "user@localhost",
        "x@x.arpa",
    ]
    for _ in range(3000):
        local = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        domain = "".join(rng.choice(string.ascii_lowercase + "-.0") for _ in range(8))
        samples.append(f"{local}@{domain}.{rng.choice(['org', 'de', 'x1', 'test', 'io'])}")
    for value in samples:
        try:
            expected = validate_address(value)
        except InvalidEmail:
            expected = None
        try:
            got = check_email(value)
        except InvalidEmail:
            got = None
        assert got == expected, value


def test_neutralised_cells_round_trip():
    for value in ["=1+2", "+1", "-x", "@home", "\tx", "\rx", "plain", "'quoted", "O'Brien", ""]:
        assert unneutralise(neutralise(value)) == value
    assert neutralise("=cmd") == "'=cmd"
    assert neutralise("O'Brien") == "O'Brien"


def test_an_exported_file_parses_back_to_the_same_rows():
    rows = [
        ("=HYPERLINK(1)", "eve@example.org", "+Eve", "P1"),
        ("Smith, Jr.", "bob@example.org", 'Bob "B"', "-P1;P2"),
        ("Ōta", "yuki@example.org", None, "P3"),
    ]
    text = write(rows)
    assert "'=HYPERLINK(1)" in text and "'+Eve" in text and "'-P1;P2" in text
    parsed = parse(text.encode(), 10)
    got = {r.email: (r.last_name, r.first_name, r.lo_root_ids) for r in parsed.rows.values()}
    assert got == {email: (last, first, ids) for last, email, first, ids in rows}
    assert parsed.errors == []
