"""The API's credential lookup, behind one function: ``lookup(statement, params)``.

Every authenticated API request makes one SELECT of its credential (session or key), account
and programs (``acs_auth.services.signin.api_auth``). ``lookup`` runs it either the fast way (the
default) or, with ``API_FAST_LOOKUP=false``, as one plain SQLAlchemy Core ``select()`` through
``db.session``; the JWT verification cache of ``jwt_tokens.decode`` follows the same setting.

Kept because it measured far above issue 13's bar (>= 10 % more /me throughput on SQLite):
bench/bench_api_me.py --compare-lookup, 2026-12-05, both servers side by side in one run, /me
throughput fast / plain = 1.69 and 1.87 on SQLite (medians of 10 and 12 pairs; workers' CPU
per request 1.00 against 1.52 ms, 1.28 against 2.06 ms) and 3.24 on PostgreSQL (12 pairs; 1.12
against 2.39 ms), on a loaded shared machine (docs/performance.md, "The fast lookup against a
plain Core select()").

The fast way: ``PreparedSelect`` keeps what matters of SQLAlchemy: the SQL is compiled by the
engine's dialect, the connection comes from the engine's pool (reset on return), bind and
result values go through the column types' own processors, so the rows hold exactly what
Core would return (tests/test_credential_lookup.py compares both on SQLite and PostgreSQL), and
a driver error is raised as SQLAlchemy's ``DBAPIError`` (a lost connection is invalidated
first), so the application's 503 handling applies unchanged.

One SELECT needs no transaction, and no ping before it: on a server database it runs on the
autocommit engine of ``extensions.reads_engine()``, one round trip where the main engine would
take four (ping, BEGIN, SELECT, ROLLBACK); a dropped connection is caught by the statement
itself and the SELECT retried once. pysqlite opens no transaction for a SELECT in the first
place.

Each thread keeps the connection it ran the statement on, with its cursor, for the next call
(``_Kept``): checking a connection out of the pool and back in, with the pool's reset, cost
about as much as the statement itself on SQLite, and a third of it on PostgreSQL. The kept
connection stays checked out of its engine's pool (one per worker thread and engine), holds no
transaction between calls (autocommit on a server; on SQLite the SELECT is read to its end, so
no read snapshot outlives it), is closed when its engine is disposed and goes back to the
pool when its thread ends.

What it gives up: SQLAlchemy's ``before_cursor_execute`` / ``after_cursor_execute`` events do
not fire for these statements. Use it only for a hot, fixed query; everything else goes through
the ORM or Core as usual.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from flask import current_app
from sqlalchemy import event, exc
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import Select

from acs_auth.extensions import db, reads_engine

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    """The statement as one dialect runs it."""

    sql: str
    construct_params: Callable[..., dict[str, Any]]
    binds: tuple[tuple[str, Callable[[Any], Any]], ...]  # (bind name, the type's processor)
    positional: tuple[str, ...] | None  # bind names in order, for positional paramstyles


class PreparedSelect:
    """A SELECT whose rows are named tuples, e.g. ``row.email``, keyed like the Core result."""

    def __init__(self, statement: Select):
        self.statement = statement
        self.columns = tuple(statement.selected_columns)
        self.Row = namedtuple("Row", statement.selected_columns.keys())
        self._compiled: WeakKeyDictionary[Dialect, _Compiled] = WeakKeyDictionary()
        self._results: WeakKeyDictionary[Dialect, tuple[Processor, ...]] = WeakKeyDictionary()

    def all(self, engine: Engine, params: dict[str, Any]) -> list[tuple]:
        """Run the statement with ``params`` on this thread's connection of ``engine``; every row.

        The engine's pool need not ping at checkout: a connection the server has dropped (a
        restart, a failover) fails on the statement, and then the pool is emptied, since its
        other connections are as dead, and the SELECT runs once more on a new connection. A
        second failure, or a failure to connect, is raised.
        """
        dialect = engine.dialect
        compiled = self._compile(dialect)
        parameters = self._parameters(compiled, params)
        dbapi = dialect.loaded_dbapi
        for attempt in (1, 2):
            kept = None
            try:
                kept = _Kept.of(engine)
                cursor = kept.cursor
                cursor.execute(compiled.sql, parameters)
                rows = cursor.fetchall()
                processors = self._results.get(dialect) or self._result_processors(
                    dialect,
                    cursor.description,  # built per call by psycopg: read once
                )
                break
            except dbapi.Error as error:
                lost = kept is None or dialect.is_disconnect(
                    error, kept.pooled.dbapi_connection, kept.cursor
                )
                if kept is not None:  # back to the pool, which resets it, or closed when lost
                    kept.release(invalid=error if lost else None)
                    if lost and attempt == 1:
                        engine.dispose()
                        continue
                raise exc.DBAPIError.instance(
                    compiled.sql,
                    parameters,
                    error,
                    dbapi.Error,
                    connection_invalidated=lost,
                    dialect=dialect,
                ) from error
        return [self.Row._make(_processed(processors, row)) for row in rows]

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect)
        if compiled is None:
            sql = self.statement.compile(dialect=dialect)
            if any(bind.expanding or bind.literal_execute for bind in sql.binds.values()):
                # Their SQL is only rendered at execution time, from the values given.
                raise ValueError("PreparedSelect takes no expanding (IN) or literal parameters")
            processors = (
                (name, bind.type.dialect_impl(dialect).bind_processor(dialect))
                for name, bind in sql.binds.items()
            )
            compiled = self._compiled[dialect] = _Compiled(
                sql=sql.string,
                construct_params=sql.construct_params,
                binds=tuple((name, p) for name, p in processors if p is not None),
                positional=tuple(sql.positiontup) if sql.positiontup is not None else None,
            )
        return compiled

    @staticmethod
    def _parameters(compiled: _Compiled, params: dict[str, Any]):
        values = compiled.construct_params(params)
        for name, process in compiled.binds:
            values[name] = process(values[name])
        if compiled.positional is None:
            return values
        return tuple(values[name] for name in compiled.positional)

    def _result_processors(self, dialect: Dialect, description) -> tuple[Processor, ...]:
        processors = self._results[dialect] = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, entry[1])
            for column, entry in zip(self.columns, description, strict=True)
        )
        return processors


def _processed(processors: tuple[Processor, ...], row) -> list:
    return [value if p is None else p(value) for p, value in zip(processors, row, strict=True)]


class _PerThread(threading.local):
    """Each thread's kept connections, by engine."""

    def __init__(self):
        self.by_engine: dict[Engine, _Kept] = {}


class _Kept:
    """A connection checked out of an engine's pool once, with its cursor, for one thread.

    It is closed when its engine is disposed; when its thread ends, or the interpreter exits,
    a finalizer gives it back to the pool, so no checked-out connection is left for the garbage
    collector (a development server runs each request in a thread of its own).
    """

    _threads = _PerThread()

    def __init__(self, engine: Engine, pooled: PoolProxiedConnection, cursor):
        self.engine = engine
        self.pooled = pooled
        self.cursor = cursor
        self._finalizer = weakref.finalize(self, _give_back, pooled, os.getpid())

    @classmethod
    def of(cls, engine: Engine) -> _Kept:
        """The current thread's connection of ``engine``; checked out on first use."""
        kept = cls._mine().get(engine)
        if kept is None:
            if not event.contains(engine, "engine_disposed", _release_on_dispose):
                event.listen(engine, "engine_disposed", _release_on_dispose)
            pooled = engine.raw_connection()
            try:
                cursor = pooled.dbapi_connection.cursor()
            except BaseException:
                pooled.close()
                raise
            kept = cls._mine()[engine] = cls(engine, pooled, cursor)
        return kept

    @classmethod
    def _mine(cls) -> dict[Engine, _Kept]:
        return cls._threads.by_engine

    def release(self, *, close: bool = False, invalid: BaseException | None = None) -> None:
        """Give the connection back to the pool, or close it (``close``, ``invalid``); forget it."""
        mine = self._mine()
        if mine.get(self.engine) is self:
            del mine[self.engine]
        self._finalizer.detach()
        try:
            if close or invalid is not None:
                self.pooled.invalidate(invalid)  # closes the DBAPI connection
            else:
                self.cursor.close()
        finally:
            self.pooled.close()

    @classmethod
    def forget_inherited(cls) -> None:
        """In a forked child: drop the parent's connections, unused and unclosed.

        Their sockets belong to the parent; closing or resetting them here would end the
        parent's session on the server. They stay referenced, so no finalizer touches them.
        """
        _INHERITED.extend(cls._threads.by_engine.values())
        cls._threads.by_engine = {}


_INHERITED: list[_Kept] = []
os.register_at_fork(after_in_child=_Kept.forget_inherited)


def _give_back(pooled: PoolProxiedConnection, owner: int) -> None:
    """Finalizer of a kept connection: back to its pool, in the process that opened it only."""
    if os.getpid() == owner:
        pooled.close()


def _release_on_dispose(engine: Engine) -> None:
    """``engine.dispose()`` closed the pool's idle connections; this closes the thread's one.

    The event fires once the old pool is gone, so the connection is closed, not returned.
    """
    kept = _Kept._mine().get(engine)
    if kept is not None:
        kept.release(close=True)


def kept_connection(engine: Engine):
    """The DBAPI connection the current thread keeps for ``engine``, or None (for tests)."""
    kept = _Kept._mine().get(engine)
    return kept.pooled.dbapi_connection if kept is not None else None


_PREPARED: dict[int, tuple[Select, PreparedSelect]] = {}


def prepared(statement: Select) -> PreparedSelect:
    """The ``PreparedSelect`` of ``statement``, built once per statement object."""
    entry = _PREPARED.get(id(statement))
    if entry is None or entry[0] is not statement:
        entry = _PREPARED[id(statement)] = (statement, PreparedSelect(statement))
    return entry[1]


def lookup(statement: Select, params: dict[str, Any]) -> list:
    """Every row of ``statement`` with ``params``; rows are read by name (``row.email``).

    The fast way unless ``API_FAST_LOOKUP`` is off: then one plain Core ``select()`` through
    ``db.session``, as bench/bench_api_me.py --compare-lookup measures it.
    """
    if current_app.config["API_FAST_LOOKUP"]:
        return prepared(statement).all(reads_engine(), params)
    return db.session.execute(statement, params).all()
