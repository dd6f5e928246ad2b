"""Flask extensions, created unbound here and bound to the app in create_app()."""

import logging
from pathlib import Path

from flask import current_app, request
from flask_bcrypt import Bcrypt
from flask_limiter import Limiter
from flask_mail import Mail
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from acs_auth.key_rotation import RotatingLoginManager

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))


class LoginManager(RotatingLoginManager):
    """Flask-Login's manager with key rotation, deleting the remember-me cookie as it was set.

    The old remember-me cookie of a rotated SECRET_KEY is accepted (RotatingLoginManager).

    Flask-Login deletes it with only Path and Domain; a browser ignores a Set-Cookie for a
    ``__Host-`` name without ``Secure``, so the cookie would outlive a sign-out.
    """

    def _clear_cookie(self, response) -> None:
        config = current_app.config
        response.delete_cookie(
            config["REMEMBER_COOKIE_NAME"],
            path=config.get("REMEMBER_COOKIE_PATH", "/"),
            domain=config.get("REMEMBER_COOKIE_DOMAIN"),
            secure=bool(config.get("REMEMBER_COOKIE_SECURE")),
            httponly=config.get("REMEMBER_COOKIE_HTTPONLY", True),
            samesite=config.get("REMEMBER_COOKIE_SAMESITE"),
        )


login_manager = LoginManager()
csrf = CSRFProtect()
bcrypt = Bcrypt()
mail = Mail()


def client_ip() -> str:
    """The client address; ProxyFix has already applied the configured trusted hops."""
    return request.remote_addr or "unknown"


# Budgets and their keys: acs_auth/ratelimits.py.
limiter = Limiter(client_ip)
log = logging.getLogger(__name__)
# app.extensions key of the autocommit engine for single SELECTs (checks._reads_engine_options).
READS_ENGINE = "acs_auth.reads_engine"


def init_database(app) -> None:
    """Bind Flask-SQLAlchemy to ``app``; SQLite connections are set up by _write_ahead_log."""
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _write_ahead_log)
    # Not a Flask-SQLAlchemy bind: a bind gets a MetaData of its own, shared by every app of the
    # process, and db.create_all()/drop_all() then ask each app for that bind.
    options = app.config.get("READS_ENGINE_OPTIONS")
    if options:
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        app.extensions[READS_ENGINE] = create_engine(url, **options)
    # Registered after Flask-SQLAlchemy's own teardown, so it runs first (last in, first out).
    app.teardown_appcontext(_end_session)


def reads_engine() -> Engine:
    """The engine for a single SELECT outside any transaction (``PreparedSelect``).

    On a database server its own autocommit pool (``checks._reads_engine_options``); on
    SQLite the main engine, where a SELECT opens no transaction anyway.
    """
    return current_app.extensions.get(READS_ENGINE) or db.engine


def dispose_engines() -> None:
    """Close the pooled connections of every engine of the current app (tests, scripts)."""
    engines = [*db.engines.values(), current_app.extensions.get(READS_ENGINE)]
    for engine in filter(None, engines):
        engine.dispose()


def _end_session(_exc) -> None:
    """Close the request's Session; a connection lost by now does not undo the answer.

    The database can go away between the last statement and this rollback (a restart, a
    failover). The answer is already made, so it stands: the Session's connections are closed
    as invalid, and the pool opens a new one on the next checkout. Letting the error escape here
    would turn a finished 200 into gunicorn's bare 500 page with a traceback in the log.
    """
    try:
        db.session.remove()
    except DBAPIError as error:
        log.warning("database connection lost after the answer: %s", error.orig)
        db.session().invalidate()  # the scoped_session proxy does not offer it
        db.session.remove()


def _write_ahead_log(dbapi_connection, _record) -> None:
    """Put a SQLite file in WAL mode, synced at checkpoints instead of at every commit.

    Readers then never wait for the writer, and a commit costs no fsync: 1.2 ms less CPU per
    sign-in (docs/performance.md, "Sign-in"). A power cut can lose the last commits but never
    corrupts the file (https://sqlite.org/wal.html); deployments use PostgreSQL anyway. The
    mode is stored in the file, so it is only switched when not set yet; an in-memory
    database stays as it is.
    """
    cursor = dbapi_connection.cursor()
    try:
        (mode,) = cursor.execute("PRAGMA journal_mode").fetchone()
        if mode not in ("wal", "memory"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def init_migrations(app) -> None:
    """Bind Flask-Migrate (the ``flask db`` commands) to ``app``, once.

    Imported on demand: Flask-Migrate brings Alembic (≈12 MB per process), which no request
    needs, so the web workers never load it (docs/performance.md, "Worker memory").
    """
    if "migrate" not in app.extensions:
        # Lazy on purpose: web workers never load Flask-Migrate (performance.md, "Worker memory").
        from flask_migrate import Migrate  # noqa: PLC0415

        Migrate(app, db, directory=str(MIGRATIONS))
