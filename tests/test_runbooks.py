"""docs/operations.md, followed verbatim: its marked shell blocks run here as written.

Backup and restore on PostgreSQL (dump, restore into a fresh database, the app signs in on it
with the audit log and the outbox intact), the upgrade from the first migration to head with
data in place, and the SQLite backup. The PostgreSQL runs need TEST_DATABASE_URL: they create
and drop databases of their own on that server, and never touch the others.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from acs_auth.extensions import db, dispose_engines
from acs_auth.models import AuditEvent, OutboxMessage, User
from acs_auth.services.accounts.passwords import hash_password
from acs_auth.services.mail import link_requests
from tests.support.config import STRONG_PASSWORD, TEST_DATABASE_URL
from tests.support.db import read_db
from tests.support.web import AuthActions

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = ROOT / "docs" / "operations.md"
BLOCK = r"<!-- runbook: {name} -->\s*\n(?P<indent>[ ]*)```sh\n(?P<body>.*?)\n[ ]*```"

needs_postgres = pytest.mark.skipif(
    not (TEST_DATABASE_URL or "").startswith("postgresql"),
    reason="needs a PostgreSQL server (TEST_DATABASE_URL=postgresql+psycopg://...)",
)


def runbook(name: str) -> str:
    """The shell block of docs/operations.md marked ``<!-- runbook: name -->``."""
    found = re.search(BLOCK.format(name=re.escape(name)), OPERATIONS.read_text(), re.DOTALL)
    assert found, f"docs/operations.md has no block marked runbook: {name}"
    return textwrap.dedent(found["indent"] + found["body"])


def follow(name: str, **variables: str) -> str:
    """Run runbook ``name`` in bash (errors stop it) from the release folder; its stdout."""
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHON_DOTENV_DISABLED": "1",
        **variables,
    }
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", runbook(name)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, f"runbook {name} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


class Server:
    """Databases of this test's own on the TEST_DATABASE_URL server, dropped at the end."""

    def __init__(self, url: str):
        self.url = make_url(url)
        self.prefix = f"{self.url.database}_runbook_{secrets.token_hex(3)}"
        self.names: list[str] = []

    def name(self, tag: str) -> str:
        found = f"{self.prefix}_{tag}"
        self.names.append(found)
        return found

    def url_of(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def execute(self, statement: str) -> None:
        dsn = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(statement)

    def create(self, tag: str) -> str:
        name = self.name(tag)
        self.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_all(self) -> None:
        for name in self.names:
            self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def server(app):
    found = Server(TEST_DATABASE_URL)
    yield found
    found.drop_all()


def sign_in(app, email: str = "ada@example.org", password: str = STRONG_PASSWORD) -> int:
    return AuthActions(app.test_client()).login(email, password).status_code


def audit_trail(app) -> list[tuple]:
    rows = select(AuditEvent.event, AuditEvent.target_label).order_by(AuditEvent.id)
    return read_db(app, lambda: [tuple(r) for r in db.session.execute(rows)])


def outbox(app) -> list[tuple]:
    rows = select(OutboxMessage.to, OutboxMessage.kind, OutboxMessage.sent_at).order_by(
        OutboxMessage.id
    )
    return read_db(app, lambda: [tuple(r) for r in db.session.execute(rows)])


def populate(app, make_user_on) -> None:
    """An account that signed in once and has a reset email waiting in the outbox."""
    make_user_on(app)
    assert sign_in(app) == 302
    AuthActions(app.test_client()).post("/forgot-password", {"email": "ada@example.org"})
    with app.app_context():
        link_requests.process_pending(10)  # the reset email waits in the outbox, not yet sent
    assert outbox(app) and audit_trail(app)


@pytest.fixture
def make_user_on(make_user):
    """make_user for another app (the fixture's factory is bound to ``app``)."""
    from acs_auth.models import Role, UserProgram, utcnow
    from acs_auth.services.text.addresses import email_key, normalize_email

    def factory(app, email="ada@example.org"):
        def add():
            address = normalize_email(email)
            user = User(
                email=address,
                email_key=email_key(address),
                role=Role.USER.value,
                first_name="Ada",
                last_name="Lovelace",
                password_hash=hash_password(STRONG_PASSWORD),
                password_changed_at=utcnow(),
            )
            user.programs = [UserProgram(lo_root_id="PROG-1")]
            db.session.add(user)
            db.session.commit()

        read_db(app, add)

    return factory


def migrate(app, revision: str = "head") -> None:
    result = app.test_cli_runner().invoke(args=["db", "upgrade", revision])
    assert result.exit_code == 0, result.output


@needs_postgres
def test_postgres_backup_and_restore_runbook(make_app, server, make_user_on, tmp_path):
    source_name = server.create("source")
    source = make_app(SQLALCHEMY_DATABASE_URI=server.url_of(source_name))
    migrate(source)
    populate(source, make_user_on)
    trail, queued = audit_trail(source), outbox(source)

    printed = follow(
        "backup-postgres", DATABASE_URL=server.url_of(source_name), BACKUP_DIR=str(tmp_path)
    )
    backup = printed.strip().splitlines()[-1]
    assert Path(backup).parent == tmp_path and Path(backup).stat().st_size > 0
    restored_name = server.name("restored")
    follow(
        "restore-postgres",
        DATABASE_URL=server.url_of(source_name),
        RESTORE_DB=restored_name,
        BACKUP=backup,
    )

    restored = make_app(SQLALCHEMY_DATABASE_URI=server.url_of(restored_name))
    assert audit_trail(restored) == trail
    assert outbox(restored) == queued and queued[0][2] is None  # still waiting to be sent
    assert sign_in(restored) == 302
    assert audit_trail(restored)[-1] == ("login.succeeded", "ada@example.org")
    assert audit_trail(source) == trail  # the restored copy is separate from the source


@needs_postgres
def test_upgrade_runbook_from_the_first_migration_with_data_in_place(make_app, server):
    name = server.create("upgrade")
    url = server.url_of(name)
    old = make_app(SQLALCHEMY_DATABASE_URI=url)
    migrate(old, "0001")
    now = datetime.now(UTC)
    with old.app_context(), db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (email, email_key, first_name, last_name, password_hash, "
                "role, is_active, created_at, updated_at, visit_count, failed_login_count, "
                "source) VALUES ('ada@example.org', 'ada@example.org', 'Ada', 'Lovelace', "
                ":hash, 'user', true, :now, :now, 3, 0, 'csv')"
            ),
            {"hash": hash_password(STRONG_PASSWORD), "now": now},
        )
        conn.execute(
            text(
                "INSERT INTO audit_events (at, event, target_label, details) "
                "VALUES (:now, 'login.succeeded', 'ada@example.org', '{}')"
            ),
            {"now": now},
        )
    with old.app_context():
        dispose_engines()

    printed = follow("upgrade", DATABASE_URL=url, ACS_CONFIG="development")
    assert "(head)" in printed

    new = make_app(SQLALCHEMY_DATABASE_URI=url)
    user = read_db(new, lambda: db.session.scalar(select(User)))
    assert (user.email, user.visit_count, user.last_name_key) == (
        "ada@example.org",
        3,
        "lovelace",  # filled in by the data step of migration 0002
    )
    assert sign_in(new) == 302
    events = read_db(new, lambda: db.session.scalar(select(func.count(AuditEvent.id))))
    assert events == 2


def test_sqlite_backup_and_restore_runbook(make_app, make_user_on, tmp_path):
    path = tmp_path / "acs_auth.db"
    live = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    migrate(live)
    populate(live, make_user_on)
    trail, queued = audit_trail(live), outbox(live)
    backup = tmp_path / "backup.db"

    follow("backup-sqlite", SQLITE_DB=str(path), BACKUP=str(backup))
    assert sign_in(live, password="a wrong password") == 200  # a change after the backup
    assert audit_trail(live) != trail
    with live.app_context():
        dispose_engines()  # "stop the web and mail processes"
    follow("restore-sqlite", SQLITE_DB=str(path), BACKUP=str(backup))

    restored = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    assert audit_trail(restored) == trail and outbox(restored) == queued
    assert sign_in(restored) == 302
