"""`flask doctor`: one report over configuration, database, Redis, SMTP and keys; exit 1 on any
failure. Real dependencies: the test database, an aiosmtpd server, closed ports."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from acs_auth import messages
from tests.support.config import TEST_REDIS_URL, free_port

STRONG = {
    "SECRET_KEY": "k3y-Zq8vN2xR7tLw1cYp0sHm5jGd4fBa9eUo6iKr",
    "JWT_SECRET_KEY": "jwT-8sLq2wXe7rTy1uIo0pAs5dFg4hJk9lZx6cVb",
    "MFA_ENCRYPTION_KEYS": "5v2Gx0cB1QnYlqv8Jc9s1Yl5w7Zf3kJrVbS0NwUx5aE=",
    # Production also wants an https APP_URL and PostgreSQL (the suite may run on SQLite).
    "APP_URL": "https://portal.example.org",
    "ALLOW_SQLITE_IN_PRODUCTION": True,
}


@pytest.fixture
def app_overrides():
    return dict(STRONG)


def doctor(app):
    result = app.test_cli_runner().invoke(args=["doctor"])
    lines = {}
    for line in result.stdout.splitlines():
        if not line.startswith(("ok  ", "FAIL")):
            continue
        mark, name, detail = line[:4].strip(), *line[5:].split(None, 1)
        lines.setdefault(name, []).append((mark, detail))
    return result, lines


def test_a_healthy_deployment_passes_every_check(app, smtp):
    result, lines = doctor(app)
    assert result.exit_code == 0, result.output
    assert set(lines) == {
        "configuration",
        "database",
        "migrations",
        "redis",
        "smtp",
        "keys",
        "mfa-keys",
    }
    assert all(mark == "ok" for found in lines.values() for mark, _ in found), result.output
    assert "at head" in lines["migrations"][0][1]
    assert f"127.0.0.1:{smtp.port} accepts EHLO + NOOP" in lines["smtp"][0][1]
    assert messages.CLI_DOCTOR_OK in result.stdout
    if TEST_REDIS_URL:
        assert "answers PING" in lines["redis"][0][1]


def test_a_closed_smtp_port_fails_with_exit_1(app):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    result, lines = doctor(app)
    assert result.exit_code == 1
    assert lines["smtp"][0][0] == "FAIL"
    assert "Connection refused" in lines["smtp"][0][1]
    assert messages.CLI_DOCTOR_FAILED.format(count=1) in result.stderr


def test_a_closed_redis_port_fails(app, smtp):
    app.config["RATELIMIT_STORAGE_URI"] = f"redis://127.0.0.1:{free_port()}/0"
    result, lines = doctor(app)
    assert result.exit_code == 1
    assert lines["redis"][0][0] == "FAIL"
    assert [name for name, found in lines.items() if found[0][0] == "FAIL"] == ["redis"]


def test_weak_settings_are_listed_one_per_line(app, smtp):
    app.config.update(SECRET_KEY="changeme", JWT_SECRET_KEY="changeme", METRICS_TOKEN="short")
    result, lines = doctor(app)
    assert result.exit_code == 1
    details = [detail for mark, detail in lines["configuration"] if mark == "FAIL"]
    assert any(d.startswith("SECRET_KEY") for d in details)
    assert any(d.startswith("JWT_SECRET_KEY") for d in details)
    assert any(d.startswith("METRICS_TOKEN") for d in details)
    assert "changeme" not in result.output


def test_an_unmigrated_database_fails(make_app, smtp, tmp_path):
    empty = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/empty.db", **STRONG)
    result, lines = doctor(empty)
    assert result.exit_code == 1
    assert lines["database"][0][0] == "ok"
    assert lines["migrations"][0][0] == "FAIL" and "flask db upgrade" in lines["migrations"][0][1]


def test_an_unreachable_database_fails(make_app, smtp):
    port = free_port()
    gone = make_app(
        SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://nobody:secret-pw@127.0.0.1:{port}/x",
        **STRONG,
    )
    result, lines = doctor(gone)
    assert result.exit_code == 1
    assert lines["database"][0][0] == "FAIL"
    assert "secret-pw" not in result.output


def test_an_unreadable_key_file_fails(make_app, smtp, tmp_path):
    key = tmp_path / "jwt.pem"
    key.write_bytes(
        ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    signer = make_app(JWT_PRIVATE_KEY_FILE=str(key), **STRONG)
    result, lines = doctor(signer)
    assert lines["keys"][0] == ("ok", f"EdDSA: {key} readable"), result.output

    os.unlink(key)
    result, lines = doctor(signer)
    assert result.exit_code == 1
    assert lines["keys"][0][0] == "FAIL" and "cannot read JWT key file" in lines["keys"][0][1]
