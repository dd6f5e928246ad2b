"""Shared fixtures: an app per test on SQLite (or TEST_DATABASE_URL), a real SMTP sink, helpers.

The schema is built once per run by the Alembic migrations (so the migrations are exercised on
every backend) and emptied between tests.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
from contextlib import contextmanager
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, event, text

from acs_auth import create_app
from acs_auth.extensions import db, dispose_engines
from acs_auth.models import AllowlistEntry, Role, User, UserProgram, utcnow
from acs_auth.services.accounts.passwords import hash_password
from acs_auth.services.mail import delivery as mail_service
from acs_auth.services.text.addresses import email_key, normalize_email

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
STRONG_PASSWORD = "correct horse battery staple 42"
CSRF_INPUT = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'type="hidden" name="csrf_token" value="([^"]+)"'
)


def write_private_key(path: Path) -> str:
    """Write a fresh RSA (2048) private key as PKCS#8 PEM to ``path``; returns the path."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(path)


@pytest.fixture(scope="session")
def database_url():
    """A database for the whole run: TEST_DATABASE_URL, or a SQLite file in a temp folder."""
    if TEST_DATABASE_URL:
        yield TEST_DATABASE_URL
        return
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{folder}/test.db"


def _settings(database_url: str, **overrides) -> dict:
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_STORAGE_URI": TEST_REDIS_URL or "memory://",
    }
    if database_url.startswith("sqlite"):
        # Writers from several app instances or threads wait for each other instead of failing.
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    settings.update(overrides)
    return settings


@pytest.fixture(scope="session")
def _schema(database_url):
    """Run the Alembic migrations once for the run."""
    from flask_migrate import upgrade

    from acs_auth.extensions import init_migrations

    app = create_app("testing", **_settings(database_url))
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        init_migrations(app)
        upgrade()
        dispose_engines()
    return database_url


def _empty_tables() -> None:
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


def _flush_redis() -> None:
    # Only the db the caller named in TEST_REDIS_URL, which is theirs to give (README, "Test
    # suites"); unset, the suite uses memory:// and touches no Redis at all.
    if TEST_REDIS_URL:
        import redis

        redis.Redis.from_url(TEST_REDIS_URL).flushdb()


@pytest.fixture
def make_app(_schema, tmp_path):
    """Factory for extra app instances on the same database (for multi-instance tests)."""
    apps = []

    def factory(**overrides):
        url = overrides.pop("SQLALCHEMY_DATABASE_URI", _schema)
        instance = create_app("testing", **_settings(url, **overrides))
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
        _empty_tables()
    _flush_redis()
    yield application
    with application.app_context():
        db.session.remove()
        _empty_tables()


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


def free_port() -> int:
    """An unused loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    """aiosmtpd handler that keeps every message it receives, parsed."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(
            envelope.original_content or envelope.content, policy=policy.default
        )
        self.messages.append(msg)
        return "250 OK"


class SmtpServer:
    """A real SMTP server on a loopback port that can be stopped and started again."""

    def __init__(self):
        self.port = free_port()
        self.sink = SmtpSink()
        self.controller = None

    def start(self):
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self):
        return self.sink.messages


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


class Outbox:
    """Delivers the queued mail through the real SMTP sink and finds links in it."""

    def __init__(self, app, smtp: SmtpServer):
        self.app = app
        self.smtp = smtp

    def deliver(self) -> list:
        with self.app.app_context():
            mail_service.send_pending()
        return self.smtp.messages

    @property
    def messages(self):
        return self.deliver()

    def to(self, address: str) -> list:
        return [m for m in self.deliver() if address.lower() in m["To"].lower()]

    def last_to(self, address: str):
        found = self.to(address)
        assert found, f"no email was sent to {address}"
        return found[-1]

    @staticmethod
    def text(msg) -> str:
        return msg.get_body(preferencelist=("plain",)).get_content()

    def link(self, address: str, path_prefix: str) -> str:
        """The path of the last link to ``address`` that starts with APP_URL + path_prefix."""
        base = self.app.config["APP_URL"]
        body = self.text(self.last_to(address))
        found = re.findall(re.escape(base + path_prefix) + r"[^\s<>\"]+", body)
        assert found, f"no {path_prefix} link in the email to {address}:\n{body}"
        return found[-1][len(base) :]


@pytest.fixture
def outbox(app, smtp):
    return Outbox(app, smtp)


def csrf_from(html: str) -> str:
    """The CSRF token of the first form in ``html``."""
    match = CSRF_INPUT.search(html)
    assert match, "page has no csrf_token field"
    return match.group(1) or match.group(2)


class AuthActions:
    """Sign in and out through the real endpoints, with the CSRF token each form carries."""

    def __init__(self, client):
        self.client = client

    def csrf(self, url: str = "/login") -> str:
        return csrf_from(self.client.get(url).get_data(as_text=True))

    def post(self, url: str, data: dict, form_url: str | None = None, **kwargs):
        data = {"csrf_token": self.csrf(form_url or url), **data}
        return self.client.post(url, data=data, **kwargs)

    def login(self, email: str, password: str = STRONG_PASSWORD, remember: bool = False, **kw):
        data = {"email": email, "password": password}
        if remember:
            data["remember"] = "y"
        return self.post("/login", data, **kw)

    def logout(self):
        token = csrf_from(self.client.get("/account").get_data(as_text=True))
        return self.client.post("/logout", data={"csrf_token": token})


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

    return factory


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


def read_db(app, fn):
    """Run ``fn()`` inside an app context and return its result (for assertions on rows)."""
    with app.app_context():
        try:
            return fn()
        finally:
            db.session.remove()


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
