"""Reading and writing the allowlist CSV (DESIGN §8): decoding, header aliases, row checks.

``parse`` turns the bytes of an upload into one ``Row`` per person (rows naming the same email
are merged) and a line-numbered list of problems; it never touches the database. ``write``
produces the export, with every cell a spreadsheet would run as a formula neutralised, and
``parse`` undoes that neutralisation, so an exported file re-imports to the same values.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

from acs_auth import messages
from acs_auth.services.text.addresses import EMAIL_MAX, InvalidEmail, email_key, validate_address
from acs_auth.services.text.characters import has_control_characters
from acs_auth.services.text.identifiers import (
    MAX_PROGRAMS,
    PROGRAM_ID_PATTERN,
    is_program_id,
    joined_programs,
    split_joined_programs,
    split_program_ids,
)
from acs_auth.services.text.names import NAME_MAX, name_key

# Header names are compared lower-cased with everything but letters and digits removed, so
# "Last Name", "last_name", "LAST-NAME" and "E-mail" all match.
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
    "forename": "first_name",
}
REQUIRED = ("last_name", "email", "lo_root_ids")
FIELD_LABELS = {
    "last_name": "last name",
    "first_name": "first name",
    "email": "email",
    "lo_root_ids": "LO Root IDs",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# First characters a spreadsheet may also read as one of those: the full-width forms
# (U+FF1D, U+FF0B, U+FF0D, U+FF20, which an East Asian IME types and Excel accepts) and the
# small forms (U+FE66, U+FE62, U+FE63, U+FE6B), all folded to ASCII by NFKC, and the minus
# sign U+2212, which NFKC keeps.
_FORMULA_LOOKALIKES = ("\u2212",)
_NON_ALNUM = re.compile(r"[^0-9a-z]")
# A strict subset of what email-validator accepts, checked first because the full validator
# costs ~25 µs per address (2.5 s for 100k rows). Anything outside it takes the full path; the
# test suite compares both paths on generated addresses.
_PLAIN_EMAIL = re.compile(
    r"([A-Za-z0-9_%+-]{1,64}(?:\.[A-Za-z0-9_%+-]+)*)@"
    r"((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,63}))"
)
_SPECIAL_TLDS = {"arpa", "invalid", "local", "localhost", "onion", "test"}


class CsvRejected(ValueError):
    """The file as a whole cannot be read (size, encoding, header, CSV syntax): nothing applies."""


@dataclass(slots=True)
class Row:
    """One person, merged across the lines that name them.

    A 100k-row file keeps 100k of these alive at once, so each holds only strings and ints
    (one object the garbage collector tracks per person, not three): the IDs are kept in
    their stored form and ``ids`` and ``lines`` are built on demand.
    """

    email: str
    last_name: str
    first_name: str | None
    # The IDs in their stored form (sorted, ";"-joined).
    lo_root_ids: str
    # The line the person first appears on; later lines naming them go to ``more_lines``.
    line: int
    key: str = ""
    more_lines: list[int] | None = None

    def __post_init__(self) -> None:
        self.key = self.key or email_key(self.email)

    @property
    def ids(self) -> list[str]:
        """The LO Root IDs (services.text.identifiers.program_list: unique, sorted)."""
        return split_joined_programs(self.lo_root_ids)

    @property
    def lines(self) -> list[int]:
        """Every line of the file that names this person, in file order."""
        return [self.line, *(self.more_lines or ())]


@dataclass
class Parsed:
    """The outcome of reading a file: good rows by email key, and problems by line."""

    rows: dict[str, Row] = field(default_factory=dict)
    errors: list[tuple[int, str]] = field(default_factory=list)
    # Email keys named on a bad row: a replace import must not remove these people.
    bad_keys: set[str] = field(default_factory=set)
    total_lines: int = 0
    has_first_name: bool = False
    delimiter: str = ","
    encoding: str = "utf-8"
    ignored_columns: list[str] = field(default_factory=list)


def human_size(size: int) -> str:
    """A byte count as people read it (``20 MB``, ``512 KB``, ``900 bytes``)."""
    kib, mib = 1024, 1024 * 1024
    if size >= mib:
        return f"{size // mib} MB" if size % mib == 0 else f"{size / mib:.1f} MB"
    if size >= kib and (size % kib == 0 or size >= 10 * kib):
        return f"{size // kib} KB" if size % kib == 0 else f"{size / kib:.0f} KB"
    return f"{size} bytes"


def check_size(data: bytes, max_bytes: int) -> None:
    """Refuse a file above ``max_bytes`` before reading any of it."""
    if len(data) > max_bytes:
        raise CsvRejected(messages.CSV_TOO_LARGE.format(limit=human_size(max_bytes)))


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 with or without BOM, falling back to cp1252 as Excel writes it."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise CsvRejected(messages.CSV_BAD_ENCODING) from exc


def shorten(value: str, limit: int = 60) -> str:
    """``value`` cut to ``limit`` characters for an error message (a 1 MB cell stays readable)."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _runs_as_formula(value: str) -> bool:
    """Whether a spreadsheet may read a cell starting like ``value`` as a formula."""
    first = value[:1]
    if not first:
        return False
    return first in _FORMULA_LOOKALIKES or unicodedata.normalize("NFKC", first).startswith(
        FORMULA_START
    )


def neutralise(value: str | None) -> str:
    """Prefix a cell a spreadsheet would run as a formula with a quote.

    A cell that already starts with quotes before a formula character gets one more, so
    that ``unneutralise`` gives it back unchanged.
    """
    value = value or ""
    return "'" + value if _runs_as_formula(value.lstrip("'")) else value


def unneutralise(value: str) -> str:
    """Undo ``neutralise``: a quote before (quotes and) a formula character is dropped."""
    if value[:1] == "'" and _runs_as_formula(value.lstrip("'")):
        return value[1:]
    return value


def _canonical_header(name: str) -> str | None:
    return HEADER_ALIASES.get(_NON_ALNUM.sub("", (name or "").lower()))


def _sniff_delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    return max(counts, key=counts.get) if any(counts.values()) else ","


def _columns(header: list[str], parsed: Parsed) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        canonical = _canonical_header(name)
        if canonical is None:
            if name.strip():
                parsed.ignored_columns.append(shorten(name.strip(), 40))
        elif canonical in columns:
            first = header[columns[canonical]].strip()
            raise CsvRejected(
                messages.CSV_DUPLICATE_COLUMN.format(
                    first=shorten(first, 40),
                    second=shorten(name.strip(), 40),
                    field=FIELD_LABELS[canonical],
                )
            )
        else:
            columns[canonical] = index
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise CsvRejected(messages.CSV_MISSING_COLUMNS.format(columns=", ".join(missing)))
    parsed.has_first_name = "first_name" in columns
    return columns


def parse(data: bytes, max_rows: int, max_bytes: int | None = None) -> Parsed:
    """Parse a whole file; row problems become line-numbered errors, file problems raise."""
    if max_bytes is not None:
        check_size(data, max_bytes)
    text, encoding = decode(data)
    if not text.strip():
        raise CsvRejected(messages.CSV_EMPTY)
    parsed = Parsed(delimiter=_sniff_delimiter(text), encoding=encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=parsed.delimiter)
    _read(reader, parsed, max_rows)
    return parsed


def _read(reader, parsed: Parsed, max_rows: int) -> None:
    try:
        reader_state = _Reader(parsed, max_rows, _columns(next(reader, []), parsed))
        previous = reader.line_num
        for record in reader:
            # A quoted cell may span lines: report the line where the record starts.
            start, previous = previous + 1, reader.line_num
            if any(cell.strip() for cell in record):
                reader_state.add(record, start)
    except csv.Error as exc:
        line = reader.line_num or 1
        raise CsvRejected(messages.CSV_MALFORMED.format(line=line, reason=exc)) from exc
    reader_state.finish()


class _Reader:
    """Row-level checks and the merging of rows that name the same person (the hot loop)."""

    def __init__(self, parsed: Parsed, max_rows: int, columns: dict[str, int]) -> None:
        self.parsed = parsed
        self.max_rows = max_rows
        self.conflicted: set[str] = set()
        self.last_i, self.email_i = columns["last_name"], columns["email"]
        self.ids_i, self.first_i = columns["lo_root_ids"], columns.get("first_name")

    def add(self, record: list[str], line: int) -> None:
        parsed = self.parsed
        parsed.total_lines += 1
        if parsed.total_lines > self.max_rows:
            raise CsvRejected(messages.CSV_TOO_MANY_ROWS.format(limit=self.max_rows))
        size = len(record)
        last = _cell(record, size, self.last_i)
        email = _cell(record, size, self.email_i)
        first = _cell(record, size, self.first_i) if self.first_i is not None else ""
        cell = _cell(record, size, self.ids_i)
        # Most cells hold one well-formed ID: skip the split for them.
        ids = {cell} if PROGRAM_ID_PATTERN.match(cell) else set(split_program_ids(cell))
        address, problem = _row_problem(last, first or None, email, ids)
        if problem:
            parsed.errors.append((line, problem))
            if email:
                parsed.bad_keys.add(email_key(email)[:EMAIL_MAX])
            return
        text = cell if len(ids) == 1 and cell in ids else joined_programs(ids)
        self._merge(Row(address, last, first or None, text, line, address.lower()))

    def _merge(self, row: Row) -> None:
        parsed, key = self.parsed, row.key
        known = parsed.rows.get(key)
        if known is None:
            parsed.rows[key] = row
        elif known.last_name != row.last_name and name_key(known.last_name) != name_key(
            row.last_name
        ):
            message = messages.CSV_ROW_NAME_CONFLICT.format(
                email=row.email,
                name=shorten(row.last_name),
                other=shorten(known.last_name),
                line=known.line,
            )
            parsed.errors.append((row.line, message))
            self.conflicted.add(key)
        else:
            if row.lo_root_ids != known.lo_root_ids:  # the union of their IDs
                known.lo_root_ids = joined_programs([*known.ids, *row.ids])
            known.first_name = known.first_name or row.first_name
            known.more_lines = [*(known.more_lines or ()), row.line]

    def finish(self) -> None:
        # A person named with two different last names is not applied at all: which row is
        # right is for the admin to decide, and a replace import must not remove them either.
        for key in self.conflicted:
            self.parsed.rows.pop(key, None)
            self.parsed.bad_keys.add(key)
        self.parsed.errors.sort(key=lambda item: item[0])


def _cell(record: list[str], size: int, index: int) -> str:
    if index >= size:
        return ""
    value = record[index].strip()
    if value[:1] == "'":
        value = unneutralise(value).strip()
    return value


def check_email(value: str) -> str:
    """The normalised address, or InvalidEmail; plain ASCII addresses take a fast path."""
    match = _PLAIN_EMAIL.fullmatch(value)
    if match is not None:
        local, domain, tld = match.groups()
        if (
            len(value) <= EMAIL_MAX
            and len(local) <= 64
            and "--" not in domain
            and tld.lower() not in _SPECIAL_TLDS
        ):
            return f"{local}@{domain.lower()}"
    return validate_address(value)


def _name_problem(label: str, value: str | None) -> str | None:
    if value and len(value) > NAME_MAX:
        return messages.CSV_ROW_TOO_LONG.format(field=label, limit=NAME_MAX)
    if value and has_control_characters(value):
        return messages.CSV_ROW_CONTROL.format(field=label)
    return None


def _row_problem(last: str, first: str | None, email: str, ids: set[str]) -> tuple[str, str | None]:
    """(normalised email, None) for a good row, or ("", the reason) for a bad one."""
    if not last:
        return "", messages.CSV_ROW_LAST_NAME_EMPTY
    problem = _name_problem("last name", last) or _name_problem("first name", first)
    if problem:
        return "", problem
    if not email:
        return "", messages.CSV_ROW_EMAIL_EMPTY
    try:
        address = check_email(email)
    except InvalidEmail:
        return "", messages.CSV_ROW_EMAIL_INVALID.format(value=shorten(email))
    if not ids:
        return "", messages.CSV_ROW_NO_IDS
    if len(ids) > MAX_PROGRAMS:
        return "", messages.CSV_ROW_TOO_MANY_IDS.format(limit=MAX_PROGRAMS)
    bad = sorted(i for i in ids if not is_program_id(i))
    if bad:
        return "", messages.CSV_ROW_BAD_ID.format(value=shorten(bad[0], 40))
    return address, None


HEADER = ["last_name", "first_name", "email", "lo_root_ids"]


def write_row(writer, last: str, first: str | None, email: str, ids: str) -> None:
    """Write one entry with every cell neutralised."""
    writer.writerow([neutralise(last), neutralise(first), neutralise(email), neutralise(ids)])


def write(rows: list[tuple[str, str, str | None, str]]) -> str:
    """CSV text for (last_name, email, first_name, lo_root_ids) rows, formula cells neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for last, email, first, ids in rows:
        write_row(writer, last, first, email, ids)
    return out.getvalue()
