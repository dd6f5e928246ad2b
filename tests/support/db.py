"""Reading and resetting the database from tests, and counting the statements a block sends."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from acs_auth.extensions import db
from acs_auth.models import Role, User, UserProgram, utcnow
from acs_auth.services.accounts.passwords import hash_password
from acs_auth.services.text.addresses import email_key, normalize_email
from tests.support.config import STRONG_PASSWORD, TEST_REDIS_URL


def empty_tables() -> None:
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


def flush_redis() -> None:
    # Only the db the caller named in TEST_REDIS_URL, which is theirs to give (README, "Test
    # suites"); unset, the suite uses memory:// and touches no Redis at all.
    if TEST_REDIS_URL:
        import redis

        redis.Redis.from_url(TEST_REDIS_URL).flushdb()


def read_db(app, fn):
    """Run ``fn()`` inside an app context and return its result (for assertions on rows)."""
    with app.app_context():
        try:
            return fn()
        finally:
            db.session.remove()


PING_STATEMENTS = frozenset({"SELECT 1", ";"})


@contextmanager
def statements_sent(*engines, pings: bool = False):
    """Every statement the drivers of ``engines`` send while the block runs, whoever issued it.

    Counted below SQLAlchemy (the API's lookup runs on the DBAPI cursor, where SQLAlchemy's
    cursor events do not see it): SQLite's trace callback, or a counting psycopg cursor class.
    The pool's liveness ping at checkout (pool_pre_ping: "SELECT 1" on SQLite, an empty
    statement ";" on PostgreSQL) is left out unless ``pings``.
    """
    sent: list[str] = []
    traced = []

    def record(statement) -> None:
        text_ = str(statement).strip()
        if pings or text_ not in PING_STATEMENTS:
            sent.append(text_)

    if engines[0].dialect.name == "sqlite":

        def install(dbapi_connection, *args) -> None:
            dbapi_connection.set_trace_callback(record)
            traced.append(dbapi_connection)

        def uninstall(dbapi_connection) -> None:
            dbapi_connection.set_trace_callback(None)

    else:
        import psycopg

        class CountingCursor(psycopg.Cursor):
            def execute(self, query, params=None, **kwargs):
                record(query)
                return super().execute(query, params, **kwargs)

        def install(dbapi_connection, *args) -> None:
            traced.append((dbapi_connection, dbapi_connection.cursor_factory))
            dbapi_connection.cursor_factory = CountingCursor

        def uninstall(entry) -> None:
            dbapi_connection, factory = entry
            dbapi_connection.cursor_factory = factory

    for engine in engines:
        engine.dispose()  # every connection of the block is new, so the hook sees it
        event.listen(engine, "connect", install)
    try:
        yield sent
    finally:
        for engine in engines:
            event.remove(engine, "connect", install)
        for entry in traced:
            uninstall(entry)
        for engine in engines:
            engine.dispose()


def add_user(
    email: str = "ada@example.org",
    password: str | None = STRONG_PASSWORD,
    role: str = Role.USER.value,
    last_name: str = "Lovelace",
    first_name: str = "Ada",
    programs=("PROG-1",),
    active: bool = True,
) -> int:
    """Write an account straight into the database (inside an app context); its id.

    No password (None) makes an account whose password is still to be set up.
    """
    address = normalize_email(email)
    user = User(
        email=address,
        email_key=email_key(address),
        role=role,
        last_name=last_name,
        first_name=first_name,
        is_active_flag=active,
        password_hash=hash_password(password) if password else None,
        password_changed_at=utcnow() if password else None,
    )
    user.programs = [UserProgram(lo_root_id=p) for p in programs]
    db.session.add(user)
    db.session.commit()
    return user.id
