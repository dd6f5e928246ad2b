"""Fixtures only: an app per test on SQLite (or TEST_DATABASE_URL), a real SMTP sink, users.

The schema is built once per run by the Alembic migrations (so the migrations are exercised on
every backend) and emptied between tests. The helpers these fixtures use, and that tests import,
live in tests/support (``from tests.support.<module> import <name>``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from acs_auth import create_app
from acs_auth.extensions import db, dispose_engines
from acs_auth.models import AllowlistEntry, Role, User
from acs_auth.services.text.addresses import email_key, normalize_email
from tests.support.config import (
    STRONG_PASSWORD,
    TEST_DATABASE_URL,
    app_settings,
)
from tests.support.db import add_user, empty_tables, flush_redis
from tests.support.mail import Outbox, SmtpServer
from tests.support.web import AuthActions


@pytest.fixture(scope="session")
def database_url():
    """A database for the whole run: TEST_DATABASE_URL, or a SQLite file in a temp folder."""
    if TEST_DATABASE_URL:
        yield TEST_DATABASE_URL
        return
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{folder}/test.db"


@pytest.fixture(scope="session")
def _schema(database_url):
    """Run the Alembic migrations once for the run."""
    from flask_migrate import upgrade

    from acs_auth.extensions import init_migrations

    app = create_app("testing", **app_settings(database_url))
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        init_migrations(app)
        upgrade()
        dispose_engines()
    return database_url


@pytest.fixture
def make_app(_schema, tmp_path):
    """Factory for extra app instances on the same database (for multi-instance tests)."""
    apps = []

    def factory(**overrides):
        url = overrides.pop("SQLALCHEMY_DATABASE_URI", _schema)
        instance = create_app("testing", **app_settings(url, **overrides))
        instance.instance_path = str(tmp_path / f"instance{len(apps)}")
        apps.append(instance)
        return instance

    yield factory
    for instance in apps:
        with instance.app_context():
            db.session.remove()
            dispose_engines()


@pytest.fixture
def app_overrides(request):
    """Override this fixture (or parametrize it indirectly) to change settings for a test."""
    return getattr(request, "param", {})


@pytest.fixture
def app(make_app, app_overrides):
    """The application under test, with empty tables and an empty rate-limit store."""
    application = make_app(**app_overrides)
    with application.app_context():
        empty_tables()
    flush_redis()
    yield application
    with application.app_context():
        db.session.remove()
        empty_tables()


@pytest.fixture
def postgres(app):
    """The app's engine on a PostgreSQL server; the test is skipped on SQLite."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("needs a database server connection (TEST_DATABASE_URL=postgresql+...)")
    return engine


@pytest.fixture
def terminate_backend(postgres):
    """``terminate_backend(pid)`` ends a server connection from outside, as a restart does."""
    killer = create_engine(postgres.url)

    def terminate(pid: int) -> None:
        with killer.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    yield terminate
    killer.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def smtp(app):
    """Start a real SMTP server and point Flask-Mail at it."""
    server = SmtpServer()
    server.start()
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=server.port,
        MAIL_USE_TLS=False,
        MAIL_USE_SSL=False,
        MAIL_TIMEOUT_SECONDS=5,
    )
    app.extensions["mail"].server = "127.0.0.1"
    app.extensions["mail"].port = server.port
    app.extensions["mail"].use_tls = False
    app.extensions["mail"].use_ssl = False
    yield server
    server.stop()


@pytest.fixture
def outbox(app, smtp):
    return Outbox(app, smtp)


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def make_user(app):
    """Create an account directly in the database (password optional, programs optional)."""

    def factory(
        email="ada@example.org",
        password=STRONG_PASSWORD,
        role=Role.USER.value,
        last_name="Lovelace",
        first_name="Ada",
        programs=("PROG-1",),
        active=True,
    ):
        with app.app_context():
            return add_user(email, password, role, last_name, first_name, programs, active)

    return factory


@pytest.fixture
def admin(make_user, login_as):
    """An administrator (root@example.org) signed in on ``client``; returns their id."""
    admin_id = make_user(
        email="root@example.org", role=Role.ADMIN.value, first_name="Rhea", last_name="Root"
    )
    login_as(admin_id)
    return admin_id


@pytest.fixture
def make_entry(app):
    """Add an allowlist entry directly."""

    def factory(
        email="grace@example.org",
        last_name="Hopper",
        first_name="Grace",
        programs=("PROG-1", "PROG-2"),
        active=True,
    ):
        with app.app_context():
            address = normalize_email(email)
            entry = AllowlistEntry(
                email=address,
                email_key=email_key(address),
                last_name=last_name,
                first_name=first_name,
                lo_root_ids=";".join(sorted(programs)),
                active=active,
            )
            db.session.add(entry)
            db.session.commit()
            return entry.id

    return factory


@pytest.fixture
def fixtures_dir() -> Path:
    return Path(__file__).parent / "data"


@pytest.fixture
def login_as(app, client):
    """Sign ``user_id`` in on ``client`` without the login form (for tests of other features).

    Opens a real auth session through the service and stores its public id the way
    Flask-Login does, so every guard and loader runs as in production.
    """
    from acs_auth.services.signin import sessions

    def sign_in(user_id: int, remember: bool = False, on=None) -> str:
        target = on or client
        with app.test_request_context():
            user = db.session.get(User, user_id)
            row = sessions.open_session(user, "browser", remember)
            db.session.commit()
            public_id = row.public_id
            db.session.remove()
        with target.session_transaction() as sess:
            sess["_user_id"] = public_id
            sess["_fresh"] = True
        return public_id

    return sign_in


@pytest.fixture
def totp_enrolled(app, make_user, login_as):
    """Ada with an authenticator app: (user id, key, recovery codes); nobody signed in.

    Enrolled through the pages on a client of its own, so the test's clients start signed out.
    """
    from tests.support.mfa import enrol

    user_id = make_user()
    setup = app.test_client()
    login_as(user_id, on=setup)
    key, codes = enrol(setup)
    return user_id, key, codes
