"""`flask seed-demo` and the steps of `make run` on a fresh SQLite file."""

from __future__ import annotations

import csv
import re
import secrets
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import delete, func, select
from test_cli_users import PASSWORD_LINE, signs_in
from test_health import subprocess_env, wait_for

from acs_auth import create_app, messages
from acs_auth.extensions import db, dispose_engines
from acs_auth.models import AllowlistEntry, User
from acs_auth.services.allowlist import entries as allowlist_entries
from acs_auth.services.operations.demo import DEMO_ADMIN_EMAIL, DEMO_ALLOWLIST
from tests.support.config import free_port
from tests.support.db import read_db

ROOT = Path(__file__).resolve().parent.parent


def count(app, model) -> int:
    return read_db(app, lambda: db.session.scalar(select(func.count()).select_from(model)))


def test_demo_allowlist_is_realistic():
    with DEMO_ALLOWLIST.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["Last Name", "First Name", "Email", "LO Root IDs"]
    assert 5 <= len(rows) <= 8
    assert all(row["Email"].endswith("@example.org") for row in rows)
    assert any(not row["Last Name"].isascii() for row in rows)  # an accent
    assert any(len(re.split(r"[;,|]", row["LO Root IDs"])) == 2 for row in rows)


def test_seed_demo_imports_the_allowlist_and_prints_the_admin_password(app, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert messages.CLI_SEED_IMPORTED.format(added=6, changed=0, unchanged=0, removed=0) in (
        result.output
    )
    (password,) = PASSWORD_LINE.findall(result.output)
    assert signs_in(app, DEMO_ADMIN_EMAIL, password)
    admin = read_db(app, lambda: db.session.scalar(select(User)))
    assert admin.role == "admin"
    entries = read_db(app, lambda: db.session.scalars(select(AllowlistEntry)).all())
    assert len(entries) == 6
    assert any(entry.last_name == "Müller" for entry in entries)
    assert any(len(entry.program_ids) == 2 for entry in entries)


def test_seed_demo_is_idempotent_and_never_shows_the_password_again(app, runner):
    first = runner.invoke(args=["seed-demo"])
    (password,) = PASSWORD_LINE.findall(first.output)
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert messages.CLI_SEED_ALLOWLIST_KEPT in second.output  # seeded once (issue 12)
    assert messages.CLI_SEED_ADMIN_EXISTS.format(email=DEMO_ADMIN_EMAIL) in second.output
    assert not PASSWORD_LINE.search(second.output)
    assert count(app, User) == 1
    assert count(app, AllowlistEntry) == 6
    assert signs_in(app, DEMO_ADMIN_EMAIL, password)  # the first password still works


# --- `make run` seeds once: an administrator's edits survive the next start (issue 12) ------


def remove_entry(app, email: str) -> None:
    """What the admin console's "remove" does, as the demo administrator."""

    def remove():
        admin = db.session.scalar(select(User).where(User.email == DEMO_ADMIN_EMAIL))
        entry = db.session.scalar(select(AllowlistEntry).where(AllowlistEntry.email == email))
        allowlist_entries.remove(entry, admin)

    read_db(app, remove)


def active_entries(app) -> set[str]:
    return set(
        read_db(
            app,
            lambda: db.session.scalars(
                select(AllowlistEntry.email).where(AllowlistEntry.active.is_(True))
            ).all(),
        )
    )


def test_seed_demo_again_keeps_an_administrators_removal(app, runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    (first, *_) = sorted(active_entries(app))
    remove_entry(app, first)

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    assert messages.CLI_SEED_ALLOWLIST_KEPT in again.output
    assert first not in active_entries(app)
    assert len(active_entries(app)) == 5


def test_seed_demo_keeps_an_allowlist_that_was_emptied_after_an_import(app, runner):
    """The import history is the marker: an emptied allowlist is an edit too."""
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    read_db(app, lambda: (db.session.execute(delete(AllowlistEntry)), db.session.commit()))
    again = runner.invoke(args=["seed-demo"])
    assert messages.CLI_SEED_ALLOWLIST_KEPT in again.output
    assert count(app, AllowlistEntry) == 0


def test_seed_demo_leaves_an_allowlist_of_its_own_alone(app, runner, make_entry):
    make_entry(email="someone@example.net")
    result = runner.invoke(args=["seed-demo"])
    assert messages.CLI_SEED_ALLOWLIST_KEPT in result.output
    assert count(app, AllowlistEntry) == 1
    assert PASSWORD_LINE.search(result.output)  # the demo admin is still created


def test_seed_demo_force_merges_the_demo_file_again(app, runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    (first, *_) = sorted(active_entries(app))
    remove_entry(app, first)
    forced = runner.invoke(args=["seed-demo", "--force"])
    assert forced.exit_code == 0, forced.output
    assert messages.CLI_SEED_IMPORTED.format(added=0, changed=1, unchanged=5, removed=0) in (
        forced.output
    )
    assert first in active_entries(app)


@pytest.mark.parametrize(("target", "forced"), [("run", False), ("seed", True)])
def test_make_run_seeds_once_and_make_seed_on_purpose(target, forced):
    """`make run` runs the once-only seed on every start; `make seed` asks for the merge."""
    done = subprocess.run(
        ["make", "-n", target, "VENV=/nonexistent-venv"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    (seed_line,) = [line for line in done.stdout.splitlines() if "seed-demo" in line]
    assert ("--force" in seed_line) is forced


def test_seed_demo_reports_a_bad_file_with_exit_code_1(app, runner, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Last Name,First Name,Email,LO Root IDs\nDoe,Jane,not-an-email,P1\n")
    result = runner.invoke(args=["seed-demo", "--file", str(bad)])
    assert result.exit_code == 1
    assert messages.CLI_SEED_IMPORT_FAILED in result.output
    assert count(app, AllowlistEntry) == 0


def test_seed_demo_refuses_to_run_in_production(app, tmp_path):
    production = create_app(
        "production",
        SECRET_KEY=secrets.token_urlsafe(48),
        JWT_SECRET_KEY=secrets.token_urlsafe(48),
        MFA_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        RATELIMIT_STORAGE_URI="memory://",
        APP_URL="https://portal.test",
        ALLOW_SQLITE_IN_PRODUCTION=True,
        MAIL_BACKEND="console",
    )
    result = production.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 1
    assert messages.CLI_SEED_PRODUCTION in result.output
    assert count(app, User) == 0
    with production.app_context():
        dispose_engines()


@pytest.mark.slow
def test_make_run_steps_on_a_fresh_sqlite_file(tmp_path, make_app):
    """What `make run` does: db upgrade, seed-demo, then the server answers."""
    env = subprocess_env(
        ACS_CONFIG="development",
        DATABASE_URL=f"sqlite:///{tmp_path}/dev.db",
        SECRET_KEY=secrets.token_urlsafe(48),
    )
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]

    def run(*args):
        return subprocess.run(
            [*flask, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )

    assert run("db", "upgrade").returncode == 0
    seeded = run("seed-demo")
    assert seeded.returncode == 0, seeded.stderr
    (password,) = PASSWORD_LINE.findall(seeded.stdout)
    again = run("seed-demo")
    assert again.returncode == 0 and not PASSWORD_LINE.search(again.stdout)

    app = make_app(SQLALCHEMY_DATABASE_URI=env["DATABASE_URL"])
    assert signs_in(app, DEMO_ADMIN_EMAIL, password)

    port = free_port()
    server = subprocess.Popen(
        [*flask, "run", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        status, _, body = wait_for(f"http://127.0.0.1:{port}/readyz")
        assert status == 200, body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
            assert response.status == 200
    finally:
        server.terminate()
        server.wait(timeout=20)
