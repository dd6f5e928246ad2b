"""Hypothesis on the allowlist CSV parser: any bytes give a Parsed report or CsvRejected.

Besides "no other exception", every report must be consistent: line numbers inside the file and
in order, rows normalised and merged by email, the caps respected. FUZZ_CSV_EXAMPLES (default
300) sets the examples per property.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from acs_auth.services.allowlist.csvfile import CsvRejected, Parsed, parse, write
from acs_auth.services.text.identifiers import PROGRAM_ID_PATTERN as ID_PATTERN

EXAMPLES = int(os.environ.get("FUZZ_CSV_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
LAST = ["last_name", "Last Name", "SURNAME", "family-name"]
EMAIL = ["email", "E-mail", "Email Address", "mail"]
IDS = ["lo_root_ids", "LO Root ID", "lo-root-ids"]
OTHER = ["first_name", "notes", "", "Comment"]
CLASHING = ["Given Name", "Last Name", "e-mail", "LO Root IDs"]
HEADER_LINE = b"last_name,email,lo_root_ids\n"
# Repetition weights the draws: mostly what exporters write, now and then something else.
DELIMITERS = [",", ",", ";", ";", "\t", "|"]
ENCODINGS = ["utf-8", "utf-8", "utf-8", "utf-8-sig", "cp1252", "utf-16"]
# Cells: plausible values, formula starters, quotes, separators, control and non-ASCII text.
CELL = st.one_of(
    st.sampled_from(["Curie", "Noether", "ÉMILE", "o'brien", "  spaced  ", "", "'=1+1", "=cmd"]),
    st.sampled_from(["a@example.org", "A@Example.ORG", "bad@", "x@y", "ü@exämple.de", "@@"]),
    st.sampled_from(["PROG-1", "P1;P2", "P1 | P2 , P3", "a" * 65, "bad id!", ";;", "-1"]),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=8).map(lambda t: f'"{t}"'),
)


def check_report(data: bytes, max_rows: int) -> Parsed | None:
    """Run the parser; return the report, None for a clear refusal, fail on anything else."""
    try:
        parsed = parse(data, max_rows=max_rows, max_bytes=64 * 1024)
    except CsvRejected as exc:
        assert str(exc), "a refusal must say why"
        event("refused")
        return None
    assert isinstance(parsed, Parsed)
    event(
        f"report: rows={'yes' if parsed.rows else 'no'} errors={'yes' if parsed.errors else 'no'}"
    )
    assert parsed.total_lines <= max_rows
    physical = data.count(b"\n") + data.count(b"\r") + 1
    lines = [line for line, _ in parsed.errors]
    assert lines == sorted(lines)
    assert all(2 <= line <= physical and message for line, message in parsed.errors)
    for key, row in parsed.rows.items():
        assert key == row.key == row.email.lower()
        assert row.last_name and row.ids
        assert all(ID_PATTERN.match(i) for i in row.ids)
        assert row.lo_root_ids == ";".join(sorted(row.ids))
        assert row.lines and all(2 <= line <= physical for line in row.lines)
    return parsed


@FUZZ
@given(
    st.one_of(st.binary(max_size=4096), st.binary(max_size=4096).map(HEADER_LINE.__add__)),
    st.integers(min_value=1, max_value=50),
)
def test_any_bytes_give_a_report_or_a_clear_refusal(data, max_rows):
    check_report(data, max_rows)


GOOD = {
    "last": st.sampled_from(["Curie", "Noether", "ÉMILE", "o'brien", "  spaced  ", "=cmd"]),
    "email": st.from_regex(r"[A-Za-z0-9._+-]{1,12}@[a-z]{1,8}\.(org|COM|de)", fullmatch=True),
    "ids": st.sampled_from(["PROG-1", "P1;P2", "P1 | P2 , P3", "'-1", "x:y.z_w"]),
    "other": st.sampled_from(["Ada", "", "note, with comma", '"quoted"']),
}


@st.composite
def csv_files(draw) -> bytes:
    """Files shaped like the real thing: a header of known names, rows mostly plausible."""
    delimiter = draw(st.sampled_from(DELIMITERS))
    columns = [(draw(st.sampled_from(LAST)), "last"), (draw(st.sampled_from(EMAIL)), "email")]
    columns.append((draw(st.sampled_from(IDS)), "ids"))
    columns += [
        (name, "other") for name in draw(st.lists(st.sampled_from(OTHER), max_size=3, unique=True))
    ]
    # Hypothesis draws the first choice of a sampled_from most often: the plain case first.
    surprise = draw(st.sampled_from(["none"] * 8 + ["missing", "clash"]))
    if surprise == "missing":  # now and then a required column is missing
        columns = columns[1:]
    elif surprise == "clash":  # or two columns mean the same field
        columns.append((draw(st.sampled_from(CLASHING)), "other"))
    columns = draw(st.permutations(columns))
    lines = [[name for name, _ in columns]]
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        # Four cells in five are plausible for their column; the rest anything at all.
        cells = [
            draw(GOOD[field] if draw(st.sampled_from([1, 1, 1, 1, 0])) else CELL)
            for _, field in columns
        ]
        if draw(st.sampled_from([False] * 5 + [True])):  # a short (or long) row
            cells = cells[: draw(st.integers(min_value=0, max_value=len(cells) + 1))]
        lines.append(cells)
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(delimiter.join(cells) for cells in lines)
    encoding = draw(st.sampled_from(ENCODINGS))
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="surrogatepass")


@FUZZ
@given(csv_files(), st.integers(min_value=1, max_value=20))
def test_csv_shaped_files_give_a_report_or_a_clear_refusal(data, max_rows):
    check_report(data, max_rows)


@FUZZ
@given(csv_files(), st.data())
def test_damaged_files_give_a_report_or_a_clear_refusal(data, draw):
    """A real-looking file with bytes flipped, cut or spliced in."""
    damaged = bytearray(data)
    for _ in range(draw.draw(st.integers(min_value=1, max_value=4))):
        position = draw.draw(st.integers(min_value=0, max_value=len(damaged)))
        damaged[position:position] = draw.draw(st.binary(min_size=1, max_size=6))
    cut = draw.draw(st.integers(min_value=0, max_value=len(damaged)))
    check_report(bytes(damaged[:cut] if draw.draw(st.booleans()) else damaged), 20)


PERSON = st.tuples(
    st.text(
        st.characters(codec="utf-8", exclude_categories=["Cc", "Cs", "Zl", "Zp"]),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    # A name that itself starts with a quote and a formula character cannot be told apart from
    # a neutralised cell (the documented rule drops such a quote on import).
    .filter(lambda name: name and name[0] != "'"),
    st.from_regex(r"[a-z]{1,10}\.[a-z]{1,10}@[a-z]{2,10}\.(org|com|de)", fullmatch=True),
    st.one_of(st.none(), st.sampled_from(["Ada", "=SUM(A1)", "+1", "@home", "-x"])),
    st.lists(st.from_regex(r"[A-Za-z0-9._:-]{1,20}", fullmatch=True), min_size=1, max_size=4),
)


@FUZZ
@given(st.lists(PERSON, max_size=15, unique_by=lambda p: p[1]))
def test_an_export_reads_back_to_the_same_people(people):
    """write() then parse(): every person comes back unchanged, formulas neutralised and undone."""
    rows = [(last, email, first, ";".join(sorted(set(ids)))) for last, email, first, ids in people]
    exported = write(rows).encode("utf-8")
    parsed = check_report(exported, 100)
    assert parsed is not None or not rows
    if parsed is None:
        return
    assert not parsed.errors, parsed.errors
    back = {r.email: (r.last_name, r.first_name, r.lo_root_ids) for r in parsed.rows.values()}
    assert back == {email: (last, first, ids) for last, email, first, ids in rows}
