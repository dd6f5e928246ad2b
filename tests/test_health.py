"""Health endpoints (/healthz, /readyz) and serving them through gunicorn as `make serve` does."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from unittest import mock

import pytest
from flask_limiter import Limit
from sqlalchemy import text

from acs_auth.extensions import db, limiter
from acs_auth.services.operations import schema
from tests.support.config import TEST_REDIS_URL, free_port

ROOT = Path(__file__).resolve().parent.parent


def closed_postgres_url() -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing"


def test_healthz_answers_ok_without_dependencies(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_answers_ok_while_the_database_is_down(make_app):
    app = make_app(SQLALCHEMY_DATABASE_URI=closed_postgres_url())
    assert app.test_client().get("/healthz").status_code == 200


def test_readyz_answers_ok_when_dependencies_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"] == "ok"
    if TEST_REDIS_URL:
        assert body["checks"]["redis"] == "ok"
    else:
        assert "redis" not in body["checks"]


def test_readyz_is_503_when_the_database_is_unreachable(make_app):
    url = closed_postgres_url()
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["failed"] == ["database"]
    assert body["checks"]["database"] == "unavailable"
    assert url.split("@")[1] not in response.get_data(as_text=True)  # no connection details
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_is_503_when_redis_is_unreachable(make_app):
    app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failed"] == ["redis"]
    assert body["checks"] == {"database": "ok", "migrations": "ok", "redis": "unavailable"}


def test_readyz_names_both_failures(make_app):
    app = make_app(
        SQLALCHEMY_DATABASE_URI=closed_postgres_url(),
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0",
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["failed"] == ["database", "redis"]


# --- /readyz and the migrations (issue 12) -------------------------------------------------


@pytest.fixture
def unmigrated(make_app, tmp_path):
    """An app on a fresh SQLite file whose tables exist but that `flask db upgrade` never saw."""
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/unmigrated.db")
    with app.app_context():
        db.create_all()
    return app


def stamp(app, *revisions: str) -> None:
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32))"))
        conn.execute(text("DELETE FROM alembic_version"))
        for revision in revisions:
            conn.execute(text("INSERT INTO alembic_version VALUES (:r)"), {"r": revision})


def assert_migrations_pending(app) -> None:
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failed"] == ["migrations"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"] == "pending"


def test_readyz_is_503_while_the_database_was_never_migrated(unmigrated):
    assert_migrations_pending(unmigrated)


def test_readyz_is_503_while_the_database_is_behind_the_scripts(unmigrated):
    stamp(unmigrated, "0001")
    assert_migrations_pending(unmigrated)


def test_readyz_is_503_when_the_database_is_ahead_of_the_scripts(unmigrated):
    """An older release in front of a newer schema is not ready either."""
    stamp(unmigrated, "9999")
    assert_migrations_pending(unmigrated)


def test_readyz_is_200_once_the_database_is_at_the_head(unmigrated):
    stamp(unmigrated, *schema.script_heads())
    response = unmigrated.test_client().get("/readyz")
    assert response.status_code == 200, response.get_json()


def test_the_head_is_the_one_alembic_computes():
    from alembic.script import ScriptDirectory

    from acs_auth.extensions import MIGRATIONS

    heads = ScriptDirectory(str(MIGRATIONS)).get_heads()
    assert schema.script_heads() == frozenset(heads)


def test_the_head_is_read_from_the_files_once_per_process(tmp_path):
    (tmp_path / "0001_a.py").write_text('revision = "a1"\ndown_revision = None\n')
    (tmp_path / "0002_b.py").write_text('revision: str = "b2"\ndown_revision = "a1"\n')
    (tmp_path / "0003_c.py").write_text('revision = "c3"\ndown_revision = "a1"\n')
    assert schema.script_heads(tmp_path) == {"b2", "c3"}  # two branches await a merge
    (tmp_path / "0004_m.py").write_text('revision = "m4"\ndown_revision = ("b2", "c3")\n')
    assert schema.script_heads(tmp_path) == {"b2", "c3"}  # cached: no file read per probe
    schema.script_heads.cache_clear()
    assert schema.script_heads(tmp_path) == {"m4"}
    schema.script_heads.cache_clear()


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_refuse_other_methods_without_a_500(client, path):
    assert client.post(path, data={"x": "y" * 1_000_000}).status_code in (405, 413)
    assert client.delete(path).status_code == 405


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_are_never_rate_limited(make_app, path):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    app.add_url_rule("/_limited", "limited", lambda: "ok")
    # Default limits live on the shared limiter object: set them for this test only.
    limiter.limit_manager.set_default_limits(
        [Limit(limit_provider="2 per minute", key_function=lambda: "probe").bind(limiter)]
    )
    try:
        client = app.test_client()
        assert [client.get("/_limited").status_code for _ in range(3)][-1] == 429
        assert {client.get(path).status_code for _ in range(10)} == {200}
    finally:
        limiter.limit_manager.set_default_limits([])


# --- gunicorn, as `make serve` runs it ---------------------------------------------------


def load_gunicorn_conf():
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    # The config points prometheus_client at a metrics folder through the environment: keep
    # that out of this process (and its folder out of /tmp).
    with (
        tempfile.TemporaryDirectory() as folder,
        mock.patch.dict(os.environ, {"PROMETHEUS_MULTIPROC_DIR": folder}),
    ):
        spec.loader.exec_module(module)
    return module


def test_gunicorn_access_log_drops_emailed_tokens_and_credentials():
    conf = load_gunicorn_conf()
    assert conf.redact("GET /reset-password/abc.DEF-123 HTTP/1.1") == (
        "GET /reset-password/[redacted] HTTP/1.1"
    )
    assert conf.redact("/register/password/tok?x=1") == "/register/password/[redacted]?x=1"
    assert conf.redact("/login") == "/login"
    assert conf.redact("GET /api/auth/me?access_token=eyJ.a.b&x=1 HTTP/1.1") == (
        "GET /api/auth/me?access_token=[redacted]&x=1 HTTP/1.1"
    )
    assert conf.redact("x=1&API_KEY=acs_secret") == "x=1&API_KEY=[redacted]"
    assert conf.redact("monkey=1") == "monkey=1"
    assert conf.forwarded_allow_ips != "*"


LEAKS = {
    # percent-encoded credential names, as a server decodes them
    "/api/auth/me?access%5Ftoken=LEAK-A1": "/api/auth/me?access%5Ftoken=[redacted]",
    "/login?%70assword=LEAK-A2&next=/programs": "/login?%70assword=[redacted]&next=/programs",
    "/x?%2570assword=LEAK-A3": "/x?%2570assword=[redacted]",
    # header names and form fields that must never sit in a URL
    "/x?X-API-Key=LEAK-A4&x_api_key=LEAK-A5": "/x?X-API-Key=[redacted]&x_api_key=[redacted]",
    "/x?password=LEAK-A6&Authorization=Bearer%20LEAK-A7&q=ok": (
        "/x?password=[redacted]&Authorization=[redacted]&q=ok"
    ),
    "/x?new_password=LEAK-A8": "/x?new_password=[redacted]",
    # values that are keys or JWTs, wherever they appear
    "/api/auth/api-keys/acsk_LEAKB1xyz": "/api/auth/api-keys/[redacted]",
    "/x?q=acsk_LEAKB2xyz&page=2": "/x?q=[redacted]&page=2",
    "/x?q=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.LEAKB3": "/x?q=[redacted]",
    "/x?q=%65yJhbGciOiJIUzI1NiJ9.eyJ.LEAKB4": "/x?q=[redacted]",
    "https://portal.example/x/eyJhbGc.eyJzdWI.LEAKB5?y=1": "https://portal.example/x/[redacted]?y=1",
    # an emailed-link path spelled with percent-escapes reaches the same page
    "/reset%2Dpassword/LEAKC1": "/reset%2Dpassword/[redacted]",
    "https://portal.example/setup-password/LEAKC2": "https://portal.example/setup-password/[redacted]",
    # nothing else changes
    "/admin/users?q=ada%40example.org&page=2": "/admin/users?q=ada%40example.org&page=2",
    "/admin/audit?event=login.failed&keyboard=1": "/admin/audit?event=login.failed&keyboard=1",
}


@pytest.mark.parametrize("raw", LEAKS)
def test_log_redaction_matches_encoded_names_keys_and_jwts(raw):
    conf = load_gunicorn_conf()
    assert conf.redact(raw) == LEAKS[raw]
    assert conf.redact(f"GET {raw} HTTP/1.1") == f"GET {LEAKS[raw]} HTTP/1.1"


@pytest.fixture
def migrated_sqlite(tmp_path):
    """A fresh SQLite file migrated by the real `flask db upgrade`."""
    url = f"sqlite:///{tmp_path}/serve.db"
    env = subprocess_env(DATABASE_URL=url, ACS_CONFIG="development")
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return url


# A single-host production on a SQLite file, mail printed: each allowed explicitly (issue 12).
PRODUCTION_ON_SQLITE = {
    "ALLOW_SQLITE_IN_PRODUCTION": "true",
    "APP_URL": "https://portal.test",
    "MAIL_BACKEND": "console",
    "MFA_ENCRYPTION_KEYS": "5v2Gx0cB1QnYlqv8Jc9s1Yl5w7Zf3kJrVbS0NwUx5aE=",
}


def subprocess_env(**values) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "WEB_CONC"))}
    env.update(PYTHON_DOTENV_DISABLED="1", **values)
    return env


def wait_for(url: str, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def request(url: str, *, method="GET", headers=None, data: bytes | None = None):
    """(status, headers) of one request, whatever the status."""
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers


@pytest.mark.slow
def test_gunicorn_serves_health_and_logs_json_lines_with_request_ids(migrated_sqlite, tmp_path):
    port = free_port()
    env = subprocess_env(
        ACS_CONFIG="production",
        DATABASE_URL=migrated_sqlite,
        **PRODUCTION_ON_SQLITE,
        SECRET_KEY=secrets.token_urlsafe(48),
        JWT_SECRET_KEY=secrets.token_urlsafe(48),
        BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        GUNICORN_CMD_ARGS="--no-control-socket",
    )
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            status, headers, body = wait_for(f"{base}/readyz")
            assert status == 200, body
            status, headers, _ = wait_for(f"{base}/healthz")
            assert status == 200
            assert headers["Strict-Transport-Security"]
            health_id = headers["X-Request-ID"]
            wait_for(f"{base}/reset-password/SECRETTOKEN123")
            # A refused bearer token: the app logs the refusal under the request's id.
            status, refused = request(
                f"{base}/api/auth/me", headers={"Authorization": "Bearer not-a-jwt"}
            )
            assert status == 401
            # A failed sign-in: its audit row keeps the id the client sent.
            status, _ = request(
                f"{base}/api/auth/login",
                method="POST",
                headers={"Content-Type": "application/json", "X-Request-ID": "trace-0042"},
                data=b'{"email": "nobody@example.org", "password": "wrong password 123"}',
            )
            assert status == 401
            status, _ = request(f"{base}/api/auth/me?access_token=LEAKEDTOKEN")
            assert status == 400
            for raw in LEAKS:  # path, query and referrer of real requests
                path = raw if raw.startswith("/") else "/x"
                request(f"{base}{path}", headers={"Referer": f"https://portal.example{raw}"})
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    lines = log.read_text().splitlines()
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    access = {e["request_id"]: e for e in entries if "status" in e}
    assert access[health_id]["path"] == "/healthz"
    assert access[health_id]["status"] == 200
    assert re.fullmatch(r"[0-9a-f]{16}", health_id)
    assert access["trace-0042"]["method"] == "POST"
    assert access["trace-0042"]["status"] == 401
    app_lines = [e for e in entries if e.get("logger", "").startswith("acs_auth")]
    assert any(
        e["request_id"] == refused["X-Request-ID"] and "refused" in e["message"] for e in app_lines
    ), app_lines
    text = "\n".join(lines)
    assert "/reset-password/[redacted]" in text
    assert "SECRETTOKEN123" not in text
    assert "LEAKEDTOKEN" not in text
    assert "LEAK-" not in text and "LEAKB" not in text and "LEAKC" not in text
    assert "/api/auth/api-keys/[redacted]" in text
    audit = read_audit(migrated_sqlite)
    assert ("login.failed", "trace-0042") in audit, audit


def read_audit(database_url: str) -> list[tuple[str, str]]:
    import sqlite3

    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
        return conn.execute("SELECT event, request_id FROM audit_events").fetchall()


@pytest.mark.slow
def test_gunicorn_refuses_several_workers_with_memory_rate_limits(migrated_sqlite):
    env = subprocess_env(
        ACS_CONFIG="production",
        DATABASE_URL=migrated_sqlite,
        **PRODUCTION_ON_SQLITE,
        SECRET_KEY=secrets.token_urlsafe(48),
        JWT_SECRET_KEY=secrets.token_urlsafe(48),
        BIND=f"127.0.0.1:{free_port()}",
        RATELIMIT_STORAGE_URI="memory://",
        GUNICORN_CMD_ARGS="--no-control-socket --workers 2",
    )
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "memory://" in result.stderr + result.stdout
