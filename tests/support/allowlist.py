"""Allowlist CSV rows and files for the import tests, and the entries table as they read it."""

from __future__ import annotations

from sqlalchemy import select

from acs_auth.extensions import db
from acs_auth.models import AllowlistEntry
from tests.support.db import read_db

# The columns in the order people() gives them.
HEADER = "last_name,first_name,email,lo_root_ids\n"


def people(n: int, start: int = 0, ids: str = "P1") -> list[tuple[str, str, str, str]]:
    """Rows for person ``start`` to ``n - 1``: (last, first, email, LO Root IDs)."""
    return [(f"Last{i}", f"First{i}", f"person{i}@example.org", ids) for i in range(start, n)]


def csv_of(*rows: tuple[str, str, str, str]) -> bytes:
    """A CSV file (UTF-8, with the header) of ``rows``."""
    return (HEADER + "".join(",".join(r) + "\n" for r in rows)).encode()


def entries(app) -> dict[str, tuple]:
    """Every allowlist entry: email -> (last name, LO Root IDs, active)."""

    def read():
        rows = db.session.scalars(select(AllowlistEntry)).all()
        return {e.email: (e.last_name, e.lo_root_ids, e.active) for e in rows}

    return read_db(app, read)
