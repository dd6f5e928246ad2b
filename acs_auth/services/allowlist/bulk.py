"""Bulk writes for the allowlist import: many rows per round trip, inside the caller's transaction.

PostgreSQL gets COPY (into the table, or into a temporary table joined by one UPDATE … FROM);
other backends (SQLite) get one prepared statement executed for many parameter tuples. Values
that are the same for every row (the batch id, the timestamp) are converted once by the
column's own type and bound once, so nothing here bypasses the types the ORM would apply.
Nothing commits: the import's single transaction commits or rolls back everything.

Table and column names in the SQL below come from the models, never from input; every value
travels as a bound parameter or through COPY.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table, bindparam, text, update
from sqlalchemy.exc import IntegrityError

from acs_auth.extensions import db

CHUNK = 5000
Progress = Callable[[int], None]


def _connection():
    return db.session.connection()


def _is_postgresql() -> bool:
    return _connection().dialect.name == "postgresql"


@contextmanager
def _copy(sql: str) -> Iterator[Any]:
    """A COPY … FROM STDIN on the session's connection; driver integrity errors are re-raised
    as SQLAlchemy's, as every other statement of the import raises them."""
    connection = _connection()
    driver = connection.connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            yield copy
    except connection.dialect.dbapi.IntegrityError as exc:
        raise IntegrityError(sql, None, exc) from exc


def bind_value(table: Table, column: str, value: Any) -> Any:
    """``value`` as the column's type sends it to the database driver."""
    dialect = _connection().dialect
    processor = table.c[column].type._cached_bind_processor(dialect)
    return processor(value) if processor else value


def insert_rows(
    table: Table,
    columns: Sequence[str],
    rows: Sequence[tuple],
    constants: dict[str, Any],
    progress: Progress,
) -> None:
    """INSERT ``rows`` (tuples in ``columns`` order) plus ``constants`` in every row."""
    names = [*columns, *constants]
    if _is_postgresql():
        fixed = tuple(constants.values())
        with _copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
            for start in range(0, len(rows), CHUNK):
                for row in rows[start : start + CHUNK]:
                    copy.write_row((*row, *fixed))
                progress(min(CHUNK, len(rows) - start))
        return
    fixed = tuple(bind_value(table, k, v) for k, v in constants.items())
    placeholders = ", ".join("?" * len(names))
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({placeholders})"  # noqa: S608
    for start in range(0, len(rows), CHUNK):
        chunk = [(*row, *fixed) for row in rows[start : start + CHUNK]]
        _connection().exec_driver_sql(sql, chunk)
        progress(len(chunk))


def update_rows(
    table: Table,
    key: str,
    columns: Sequence[str],
    rows: Sequence[tuple],
    constants: dict[str, Any],
    progress: Progress,
) -> None:
    """UPDATE the rows whose ``key`` is each tuple's first value with the values that follow."""
    if not rows:
        return
    if _is_postgresql():
        _update_through_copy(table, key, columns, rows, constants, progress)
        return
    fixed = [bind_value(table, k, v) for k, v in constants.items()]
    assignments = [f"{c} = ?" for c in (*columns, *constants)]
    sql = f"UPDATE {table.name} SET {', '.join(assignments)} WHERE {key} = ?"  # noqa: S608
    for start in range(0, len(rows), CHUNK):
        chunk = [(*row[1:], *fixed, row[0]) for row in rows[start : start + CHUNK]]
        _connection().exec_driver_sql(sql, chunk)
        progress(len(chunk))


def _update_through_copy(table, key, columns, rows, constants, progress) -> None:
    """COPY the new values into a temporary table, then one UPDATE … FROM joins them."""
    dialect = _connection().dialect
    staging = f"acs_bulk_{secrets.token_hex(4)}"
    names = [key, *columns]
    definitions = ", ".join(f"{c} {table.c[c].type.compile(dialect)}" for c in names)
    conn = _connection()
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {staging} ({definitions}) ON COMMIT DROP")
    with _copy(f"COPY {staging} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    source = f"{staging}"
    assignments = [f"{c} = {source}.{c}" for c in columns]
    assignments += [f"{c} = :{c}" for c in constants]
    conn.execute(
        text(
            f"UPDATE {table.name} SET {', '.join(assignments)} "  # noqa: S608
            f"FROM {source} WHERE {table.name}.{key} = {source}.{key}"
        ).bindparams(*[bindparam(c, type_=table.c[c].type) for c in constants]),
        constants,
    )
    progress(len(rows))


def update_where_in(
    table: Table, key: str, keys: Sequence[str], values: dict[str, Any], progress: Progress
) -> None:
    """Set ``values`` on the rows whose ``key`` is in ``keys``, a thousand keys per statement."""
    for start in range(0, len(keys), 1000):
        chunk = list(keys[start : start + 1000])
        db.session.execute(update(table).where(table.c[key].in_(chunk)).values(values))
        progress(len(chunk))
