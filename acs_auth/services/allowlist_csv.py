"""Reading and writing the allowlist CSV (DESIGN §8): decoding, header aliases, row checks."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from acs_auth.services.emails import InvalidEmail, email_key, validate_address

HEADER_ALIASES = {
    "lastname": "last_name",
    "surname": "last_name",
    "familyname": "last_name",
    "email": "email",
    "emailaddress": "email",
    "mail": "email",
    "lorootid": "lo_root_ids",
    "lorootids": "lo_root_ids",
    "firstname": "first_name",
    "givenname": "first_name",
}
REQUIRED = ("last_name", "email", "lo_root_ids")
ID_SEPARATORS = re.compile(r"[;,|]")
ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_NAME = 100


class CsvRejected(ValueError):
    """The file as a whole cannot be read (encoding, header, size): nothing is applied."""


@dataclass
class Row:
    """One person, merged across the lines that name them."""

    email: str
    last_name: str
    first_name: str | None
    ids: set[str]
    lines: list[int] = field(default_factory=list)

    @property
    def lo_root_ids(self) -> str:
        return ";".join(sorted(self.ids))


@dataclass
class Parsed:
    """The outcome of reading a file: good rows by email key, and errors by line."""

    rows: dict[str, Row] = field(default_factory=dict)
    errors: list[tuple[int, str]] = field(default_factory=list)
    total_lines: int = 0


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), falling back to cp1252 as Excel writes it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise CsvRejected("The file is neither UTF-8 nor Windows-1252 text.") from exc


def _canonical_header(name: str) -> str | None:
    key = re.sub(r"[\s_\-]", "", (name or "").lower())
    return HEADER_ALIASES.get(key)


def _sniff_delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    return max(counts, key=counts.get) if any(counts.values()) else ","


def _columns(header: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        canonical = _canonical_header(name)
        if canonical and canonical not in columns:
            columns[canonical] = index
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise CsvRejected("Missing required column(s): " + ", ".join(missing) + ".")
    return columns


def _cell(record: list[str], columns: dict[str, int], name: str) -> str:
    index = columns.get(name)
    return record[index].strip() if index is not None and index < len(record) else ""


def parse(data: bytes, max_rows: int) -> Parsed:
    """Parse a whole file; row problems become line-numbered errors, file problems raise."""
    text = decode(data)
    if not text.strip():
        raise CsvRejected("The file is empty.")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    try:
        columns = _columns(next(reader))
        result = Parsed()
        names: dict[str, tuple[str, int]] = {}
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            result.total_lines += 1
            if result.total_lines > max_rows:
                raise CsvRejected(f"The file has more than {max_rows} rows.")
            _add_record(result, names, record, columns, line)
    except csv.Error as exc:
        raise CsvRejected(f"The file is not valid CSV: {exc}.") from exc
    return result


def _add_record(result: Parsed, names: dict, record: list[str], columns: dict, line: int) -> None:
    last = _cell(record, columns, "last_name")
    first = _cell(record, columns, "first_name") or None
    raw_email = _cell(record, columns, "email")
    ids = {
        i.strip() for i in ID_SEPARATORS.split(_cell(record, columns, "lo_root_ids")) if i.strip()
    }
    problem = _row_problem(last, first, raw_email, ids)
    if problem:
        result.errors.append((line, problem))
        return
    email = validate_address(raw_email)
    key = email_key(email)
    seen = names.get(key)
    if seen and seen[0].casefold() != last.casefold():
        result.errors.append(
            (line, f"{email} has last name {last!r} here but {seen[0]!r} on line {seen[1]}.")
        )
        return
    names.setdefault(key, (last, line))
    row = result.rows.get(key)
    if row is None:
        result.rows[key] = Row(email=email, last_name=last, first_name=first, ids=ids, lines=[line])
    else:
        row.ids |= ids
        row.first_name = row.first_name or first
        row.lines.append(line)


def _row_problem(last: str, first: str | None, email: str, ids: set[str]) -> str | None:
    if not last:
        return "The last name is empty."
    if len(last) > MAX_NAME or (first and len(first) > MAX_NAME):
        return f"A name is longer than {MAX_NAME} characters."
    if not email:
        return "The email is empty."
    try:
        validate_address(email)
    except InvalidEmail:
        return f"{email[:80]!r} is not a valid email address."
    if not ids:
        return "No LO Root ID is given."
    bad = sorted(i for i in ids if not ID_PATTERN.match(i))
    if bad:
        return f"Invalid LO Root ID {bad[0][:40]!r}."
    return None


def neutralise(value: str | None) -> str:
    """Prefix a cell a spreadsheet would run as a formula with a quote."""
    value = value or ""
    return "'" + value if value.startswith(FORMULA_START) else value


def write(rows: list[tuple[str, str, str | None, str]]) -> str:
    """CSV text for (last_name, email, first_name, lo_root_ids) rows, formula cells neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["last_name", "first_name", "email", "lo_root_ids"])
    for last, email, first, ids in rows:
        writer.writerow([neutralise(last), neutralise(first), neutralise(email), ids])
    return out.getvalue()
