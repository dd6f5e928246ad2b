"""Is the database migrated to the head of migrations/versions? (for /readyz, without Alembic).

The head revisions are read once per process from the migration files themselves (their
``revision`` and ``down_revision`` assignments), so the web path never imports Alembic; the
database's revisions come from the ``alembic_version`` table that `flask db upgrade` keeps.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from acs_auth.extensions import MIGRATIONS

VERSIONS = MIGRATIONS / "versions"


def _assignments(path: Path) -> dict[str, object]:
    """The module-level ``revision`` / ``down_revision`` literals of one migration file."""
    found: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8"), filename=str(path)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            found[target.id] = ast.literal_eval(value)
    return found


@cache
def script_heads(folder: Path = VERSIONS) -> frozenset[str]:
    """The revisions no other migration builds on (one, unless branches await a merge)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in folder.glob("*.py"):
        found = _assignments(path)
        if "revision" not in found:
            continue
        revisions.add(str(found["revision"]))
        down = found.get("down_revision")
        if isinstance(down, list | tuple):
            parents.update(map(str, down))
        elif down is not None:
            parents.add(str(down))
    return frozenset(revisions - parents)


def database_revisions(conn: Connection) -> frozenset[str]:
    """The revisions recorded in ``alembic_version``; none when the table does not exist."""
    try:
        rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
        return frozenset(rows)
    except SQLAlchemyError:
        # Never migrated (no table). On PostgreSQL the failed statement ends the transaction;
        # the caller's connection is rolled back when it is closed.
        return frozenset()


def is_current(conn: Connection) -> bool:
    """True when the database stands exactly at the migration scripts' head(s)."""
    return database_revisions(conn) == script_heads()
