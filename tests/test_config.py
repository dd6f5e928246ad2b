"""Configuration: environment variables by DESIGN §10 names, and production's start-up refusals."""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from acs_auth import create_app
from acs_auth.checks import UnsafeConfiguration
from acs_auth.extensions import db, dispose_engines, reads_engine
from config import CONFIGS, ConfigurationError

ROOT = Path(__file__).resolve().parent.parent

# Every variable the tests touch; cleared first so a developer's shell cannot change the outcome.
ENV_NAMES = [
    "ACS_CONFIG",
    "SECRET_KEY",
    "FLASK_SECRET_KEY",
    "DATABASE_URL",
    "APP_URL",
    "JWT_SECRET_KEY",
    "JWT_ALGORITHM",
    "JWT_PRIVATE_KEY_FILE",
    "ACCESS_TOKEN_EXPIRE_MINUTES",
    "REFRESH_TOKEN_EXPIRE_DAYS",
    "REMEMBER_ME_DAYS",
    "MAX_LOGIN_ATTEMPTS",
    "LOCKOUT_DURATION_MINUTES",
    "RATELIMIT_STORAGE_URI",
    "RATELIMIT_ENABLED",
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_USE_TLS",
    "MAIL_USE_SSL",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_DEFAULT_SENDER",
    "REGISTRATION_EMAIL_CONFIRMATION",
    "PASSWORD_MIN_LENGTH",
    "PASSWORD_MIN_SCORE",
    "PASSWORD_REQUIRE_CHARACTER_CLASSES",
    "BCRYPT_LOG_ROUNDS",
    "SESSION_COOKIE_SECURE",
    "PROXY_FIX_X_FOR",
    "MAX_CONTENT_LENGTH",
    "ALLOWLIST_MAX_ROWS",
    "WEB_CONCURRENCY",
    "MAIL_DELIVERY",
    "ALLOW_SQLITE_IN_PRODUCTION",
    "MAIL_BACKEND",
    "MFA_ENCRYPTION_KEYS",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def strong() -> str:
    return secrets.token_urlsafe(48)


MFA_KEY = Fernet.generate_key().decode()
# What a sound production deployment has besides its secrets (issue 12 refuses less).
DEPLOYMENT = {
    "APP_URL": "https://portal.example.org",
    "DATABASE_URL": "postgresql+psycopg://acs@db.internal/acs",
    "MAIL_SERVER": "smtp.example.org",
    "MFA_ENCRYPTION_KEYS": MFA_KEY,
}


@pytest.fixture
def deployed(clean_env):
    """The environment of a sound production deployment, secrets aside."""
    for name, value in DEPLOYMENT.items():
        clean_env.setenv(name, value)
    return clean_env


def production(**overrides):
    settings = {
        "SECRET_KEY": strong(),
        "JWT_SECRET_KEY": strong(),
        "APP_URL": DEPLOYMENT["APP_URL"],
        "SQLALCHEMY_DATABASE_URI": DEPLOYMENT["DATABASE_URL"],
        "MAIL_SERVER": DEPLOYMENT["MAIL_SERVER"],
        "MFA_ENCRYPTION_KEYS": MFA_KEY,
        **overrides,
    }
    return create_app("production", **settings)


# --- production refuses unsafe settings -----------------------------------------------------


def test_production_starts_with_strong_distinct_secrets():
    app = production()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-acs_session"
    assert app.config["REMEMBER_COOKIE_NAME"] == "__Host-acs_remember"
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["HSTS"] is True


def test_production_refuses_missing_secret_key():
    with pytest.raises(UnsafeConfiguration, match="SECRET_KEY"):
        production(SECRET_KEY=None)


@pytest.mark.parametrize(
    "value",
    ["changeme", "secret", "dev", "", "please-change-me"],
    ids=["changeme", "secret", "dev", "empty", "please-change-me"],
)
def test_production_refuses_known_weak_secret_key(value):
    with pytest.raises(UnsafeConfiguration, match="SECRET_KEY"):
        production(SECRET_KEY=value)


def test_production_refuses_short_secret_key():
    with pytest.raises(UnsafeConfiguration, match="SECRET_KEY"):
        production(SECRET_KEY=secrets.token_urlsafe(16))


def test_production_refuses_long_placeholder_secret_key():
    with pytest.raises(UnsafeConfiguration, match="SECRET_KEY"):
        production(SECRET_KEY="change-me-to-a-long-random-string-before-going-live")


def test_production_refuses_repetitive_secret_key():
    with pytest.raises(UnsafeConfiguration, match="SECRET_KEY"):
        production(SECRET_KEY="ab" * 40)


def test_production_refuses_the_test_suites_key():
    from config import TestingConfig

    with pytest.raises(UnsafeConfiguration, match="SECRET_KEY"):
        production(SECRET_KEY=TestingConfig.SECRET_KEY)


def test_production_refuses_missing_jwt_secret_under_hs256():
    with pytest.raises(UnsafeConfiguration, match="JWT_SECRET_KEY"):
        production(JWT_SECRET_KEY=None)


def test_production_refuses_short_jwt_secret():
    with pytest.raises(UnsafeConfiguration, match="JWT_SECRET_KEY"):
        production(JWT_SECRET_KEY=secrets.token_urlsafe(12))


def test_production_refuses_jwt_secret_equal_to_secret_key():
    key = strong()
    with pytest.raises(UnsafeConfiguration, match="differ"):
        production(SECRET_KEY=key, JWT_SECRET_KEY=key)


def test_production_refuses_memory_rate_limits_with_several_workers(clean_env):
    clean_env.setenv("WEB_CONCURRENCY", "4")
    with pytest.raises(UnsafeConfiguration, match="memory://"):
        production(RATELIMIT_STORAGE_URI="memory://")


def test_production_accepts_memory_rate_limits_with_one_worker(clean_env):
    clean_env.setenv("WEB_CONCURRENCY", "1")
    assert production(RATELIMIT_STORAGE_URI="memory://").config["ENV_NAME"] == "production"


def test_production_refuses_unreadable_web_concurrency(clean_env):
    clean_env.setenv("WEB_CONCURRENCY", "many")
    with pytest.raises(UnsafeConfiguration, match="WEB_CONCURRENCY"):
        production()


def test_production_reads_its_secrets_from_the_environment(deployed):
    clean_env = deployed
    clean_env.setenv("SECRET_KEY", strong())
    clean_env.setenv("JWT_SECRET_KEY", strong())
    app = create_app("production")
    assert app.config["SECRET_KEY"] == __import__("os").environ["SECRET_KEY"]


def test_production_without_secure_cookies_uses_plain_cookie_names(clean_env):
    clean_env.setenv("SESSION_COOKIE_SECURE", "false")
    app = production()
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["SESSION_COOKIE_NAME"] == "acs_session"
    assert app.config["REMEMBER_COOKIE_SECURE"] is False


# --- production refuses a deployment that would leak links, lose data or lose mail (issue 12)


@pytest.mark.parametrize(
    "url",
    ["http://portal.example.org", "portal.example.org", "https://", "", "ftp://portal.example.org"],
    ids=["http", "no-scheme", "no-host", "empty", "ftp"],
)
def test_production_refuses_an_app_url_that_is_not_https(url):
    with pytest.raises(UnsafeConfiguration, match="APP_URL must be the site's https://"):
        production(APP_URL=url)


def test_production_refuses_sqlite():
    with pytest.raises(UnsafeConfiguration, match="ALLOW_SQLITE_IN_PRODUCTION"):
        production(SQLALCHEMY_DATABASE_URI="sqlite:////srv/acs/acs.db")


def test_production_accepts_sqlite_when_explicitly_allowed(deployed):
    deployed.setenv("DATABASE_URL", "sqlite:////srv/acs/acs.db")
    deployed.setenv("ALLOW_SQLITE_IN_PRODUCTION", "true")
    app = create_app("production", SECRET_KEY=strong(), JWT_SECRET_KEY=strong())
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:////srv/acs/acs.db"


def test_production_refuses_to_run_without_a_mail_server():
    with pytest.raises(UnsafeConfiguration, match="MAIL_SERVER is not set"):
        production(MAIL_SERVER=None)


def test_production_refuses_smtp_without_a_mail_server(deployed):
    deployed.delenv("MAIL_SERVER")
    deployed.setenv("MAIL_BACKEND", "smtp")
    with pytest.raises(UnsafeConfiguration, match="MAIL_SERVER"):
        create_app("production", SECRET_KEY=strong(), JWT_SECRET_KEY=strong())


def test_production_prints_mail_only_when_told_to(deployed):
    deployed.delenv("MAIL_SERVER")
    deployed.setenv("MAIL_BACKEND", "Console")
    app = create_app("production", SECRET_KEY=strong(), JWT_SECRET_KEY=strong())
    assert app.config["MAIL_BACKEND"] == "console"


def test_unknown_mail_backend_is_a_clear_error(clean_env):
    clean_env.setenv("MAIL_BACKEND", "pigeon")
    with pytest.raises(ConfigurationError, match="MAIL_BACKEND must be smtp or console"):
        create_app("development")


def test_production_names_every_bad_setting_in_one_line():
    with pytest.raises(UnsafeConfiguration) as refused:
        production(
            APP_URL="http://portal.example.org",
            SQLALCHEMY_DATABASE_URI="sqlite:///acs.db",
            MAIL_SERVER=None,
        )
    message = str(refused.value)
    assert "\n" not in message
    for name in ("APP_URL", "DATABASE_URL", "MAIL_SERVER"):
        assert name in message


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_a_postgres_url_goes_through_psycopg(clean_env, scheme):
    clean_env.setenv("DATABASE_URL", f"{scheme}://acs:p%40ss@db.internal:5433/acs")
    app = create_app("development")
    assert (
        app.config["SQLALCHEMY_DATABASE_URI"]
        == "postgresql+psycopg://acs:p%40ss@db.internal:5433/acs"
    )
    with app.app_context():
        assert db.engine.dialect.name == "postgresql"
        assert db.engine.dialect.driver == "psycopg"
        assert db.engine.url.password == "p@ss"
        assert db.engine.pool._pre_ping is True  # treated as the database server it is
        dispose_engines()


@pytest.mark.parametrize(
    "url",
    ["not a url", "postgresql://acs:secret-pw@db:port/acs", "mysql://acs@db/acs", "://"],
    ids=["words", "bad-port", "mysql", "no-scheme"],
)
def test_an_unreadable_database_url_is_a_one_line_error(clean_env, url):
    clean_env.setenv("DATABASE_URL", url)
    with pytest.raises(ConfigurationError, match="DATABASE_URL must be a postgresql://") as bad:
        create_app("development")
    assert "secret-pw" not in str(bad.value)  # the URL may carry a password: never echoed


def flask_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    """`flask --app wsgi ARGS` in a clean environment plus ``env``."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    environment = {k: v for k, v in os.environ.items() if k in keep}
    environment.update(PYTHON_DOTENV_DISABLED="1", **env)
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_cli_refuses_a_misconfigured_production_in_one_line():
    done = flask_cli(
        "routes",
        ACS_CONFIG="production",
        SECRET_KEY=strong(),
        JWT_SECRET_KEY=strong(),
        APP_URL="http://portal.example.org",
        DATABASE_URL="sqlite:///acs.db",
    )
    assert done.returncode == 1
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("Refusing to start: ")
    assert "APP_URL" in line and "DATABASE_URL" in line and "MAIL_SERVER" in line
    assert "SECRET_KEY" not in line  # the secrets were fine: only the bad settings are named


def test_the_cli_reports_an_unreadable_database_url_in_one_line():
    done = flask_cli("routes", ACS_CONFIG="development", DATABASE_URL="postgres://u:pw@h:x/db")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "Refusing to start: DATABASE_URL must be a postgresql:// or sqlite:/// URL "
        "(it could not be read as one)"
    ]


# --- development ------------------------------------------------------------------------------


def test_development_generates_throwaway_secrets_per_app():
    first, second = create_app("development"), create_app("development")
    keys = {
        first.config["SECRET_KEY"],
        second.config["SECRET_KEY"],
        first.config["JWT_SECRET_KEY"],
        second.config["JWT_SECRET_KEY"],
    }
    assert len(keys) == 4
    assert all(len(key) >= 32 for key in keys)


def test_development_keeps_a_secret_key_from_the_environment(clean_env):
    key = strong()
    clean_env.setenv("SECRET_KEY", key)
    assert create_app("development").config["SECRET_KEY"] == key


def test_unknown_acs_config_is_a_clear_error(clean_env):
    clean_env.setenv("ACS_CONFIG", "staging")
    with pytest.raises(ConfigurationError, match="ACS_CONFIG"):
        create_app()


def test_acs_config_selects_the_class(deployed):
    clean_env = deployed
    clean_env.setenv("ACS_CONFIG", "production")
    clean_env.setenv("SECRET_KEY", strong())
    clean_env.setenv("JWT_SECRET_KEY", strong())
    assert create_app().config["ENV_NAME"] == "production"


# --- every DESIGN §10 name is read from the environment ------------------------------------


def test_secret_key_from_environment(clean_env):
    clean_env.setenv("SECRET_KEY", "k" + strong())
    assert create_app("development").config["SECRET_KEY"].startswith("k")


def test_flask_secret_key_is_the_fallback(clean_env):
    key = strong()
    clean_env.setenv("FLASK_SECRET_KEY", key)
    assert create_app("development").config["SECRET_KEY"] == key


def test_secret_key_wins_over_flask_secret_key(clean_env):
    key = strong()
    clean_env.setenv("SECRET_KEY", key)
    clean_env.setenv("FLASK_SECRET_KEY", strong())
    assert create_app("development").config["SECRET_KEY"] == key


def test_max_login_attempts_from_environment(clean_env):
    clean_env.setenv("MAX_LOGIN_ATTEMPTS", "3")
    assert create_app("development").config["MAX_LOGIN_ATTEMPTS"] == 3


@pytest.mark.parametrize(
    ("raw", "expected"), [("false", False), ("0", False), ("No", False), ("true", True)]
)
def test_registration_email_confirmation_from_environment(clean_env, raw, expected):
    clean_env.setenv("REGISTRATION_EMAIL_CONFIRMATION", raw)
    assert create_app("development").config["REGISTRATION_EMAIL_CONFIRMATION"] is expected


def test_registration_email_confirmation_defaults_to_true():
    assert create_app("development").config["REGISTRATION_EMAIL_CONFIRMATION"] is True


def test_database_url_from_environment(clean_env, tmp_path):
    url = f"sqlite:///{tmp_path}/elsewhere.db"
    clean_env.setenv("DATABASE_URL", url)
    app = create_app("development")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == url


def test_a_database_server_gets_a_pool_ping_and_a_connect_timeout(clean_env):
    """A pooled connection to a server can die (restart, failover): it is tested before use."""
    app = create_app("development", SQLALCHEMY_DATABASE_URI="postgresql+psycopg://u@127.0.0.1/x")
    with app.app_context():
        engine = db.engine
        assert engine.pool._pre_ping is True
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {"connect_timeout": 5}


def test_a_database_server_gets_an_autocommit_engine_for_the_api_lookup(clean_env):
    """Its own pool, same server, no transaction and no ping (the SELECT retries instead)."""
    url = "postgresql+psycopg://u@127.0.0.1/x"
    app = create_app(
        "development",
        SQLALCHEMY_DATABASE_URI=url,
        DATABASE_CONNECT_TIMEOUT=3,
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"sslmode": "verify-full"}},
    )
    with app.app_context():
        engine = reads_engine()
        assert engine is not db.engine
        assert engine.url == db.engine.url
        assert engine.pool._pre_ping is False
    options = app.config["READS_ENGINE_OPTIONS"]
    assert options["isolation_level"] == "AUTOCOMMIT"  # tests/test_credential_lookup.py: in effect
    # It connects as the main engine does: the same TLS settings and timeout.
    assert options["connect_args"] == {"sslmode": "verify-full", "connect_timeout": 3}


def test_a_server_app_leaves_other_apps_create_all_alone(clean_env, tmp_path):
    """The lookup's engine is no Flask-SQLAlchemy bind, whose MetaData all apps would share."""
    create_app("development", SQLALCHEMY_DATABASE_URI="postgresql+psycopg://u@127.0.0.1/x")
    app = create_app("development", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/app.db")
    with app.app_context():
        db.create_all()
        db.drop_all()
        db.engine.dispose()


def test_a_sqlite_file_is_not_pinged_before_every_request(clean_env, tmp_path):
    app = create_app("development", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/app.db")
    with app.app_context():
        assert db.engine.pool._pre_ping is False
        assert reads_engine() is db.engine  # a SELECT opens no transaction on SQLite
        assert app.config["READS_ENGINE_OPTIONS"] is None


def test_a_sqlite_file_runs_with_a_write_ahead_log(clean_env, tmp_path):
    """WAL: readers never wait for the writer, and a commit does not wait for an fsync."""
    path = tmp_path / "app.db"
    app = create_app("development", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        conn.exec_driver_sql("CREATE TABLE t (x)")
        conn.commit()
        reader = sqlite3.connect(path, timeout=0, isolation_level=None)
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM t").fetchone() == (0,)
        # With a rollback journal this commit would fail at once: "database is locked".
        conn.exec_driver_sql("PRAGMA busy_timeout = 0")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        conn.commit()
        assert reader.execute("SELECT count(*) FROM t").fetchone() == (0,)  # its snapshot
        reader.execute("COMMIT")
        assert reader.execute("SELECT count(*) FROM t").fetchone() == (1,)
        reader.close()


ENVIRONMENT_CASES = [
    ("APP_URL", "https://portal.example.org", "APP_URL", "https://portal.example.org"),
    ("ACCESS_TOKEN_EXPIRE_MINUTES", "15", "ACCESS_TOKEN_EXPIRE_MINUTES", 15),
    ("REFRESH_TOKEN_EXPIRE_DAYS", "3", "REFRESH_TOKEN_EXPIRE_DAYS", 3),
    ("REMEMBER_ME_DAYS", "14", "REMEMBER_COOKIE_DURATION", timedelta(days=14)),
    ("LOCKOUT_DURATION_MINUTES", "45", "LOCKOUT_DURATION_MINUTES", 45),
    (
        "RATELIMIT_STORAGE_URI",
        "redis://cache:6379/2",
        "RATELIMIT_STORAGE_URI",
        "redis://cache:6379/2",
    ),
    ("RATELIMIT_ENABLED", "false", "RATELIMIT_ENABLED", False),
    ("MAIL_SERVER", "smtp.example.org", "MAIL_SERVER", "smtp.example.org"),
    ("MAIL_PORT", "587", "MAIL_PORT", 587),
    ("MAIL_USE_TLS", "true", "MAIL_USE_TLS", True),
    ("MAIL_USE_SSL", "yes", "MAIL_USE_SSL", True),
    ("MAIL_USERNAME", "mailer", "MAIL_USERNAME", "mailer"),
    ("MAIL_PASSWORD", "smtp pass", "MAIL_PASSWORD", "smtp pass"),
    (
        "MAIL_DEFAULT_SENDER",
        "Portal <p@example.org>",
        "MAIL_DEFAULT_SENDER",
        "Portal <p@example.org>",
    ),
    ("PASSWORD_MIN_LENGTH", "16", "PASSWORD_MIN_LENGTH", 16),
    ("PASSWORD_MIN_SCORE", "4", "PASSWORD_MIN_SCORE", 4),
    ("PASSWORD_REQUIRE_CHARACTER_CLASSES", "true", "PASSWORD_REQUIRE_CHARACTER_CLASSES", True),
    ("BCRYPT_LOG_ROUNDS", "10", "BCRYPT_LOG_ROUNDS", 10),
    ("SESSION_COOKIE_SECURE", "true", "SESSION_COOKIE_SECURE", True),
    ("PROXY_FIX_X_FOR", "2", "PROXY_FIX_X_FOR", 2),
    ("MAX_CONTENT_LENGTH", "1048576", "MAX_CONTENT_LENGTH", 1048576),
    ("ALLOWLIST_MAX_ROWS", "500", "ALLOWLIST_MAX_ROWS", 500),
    ("MAIL_DELIVERY", "worker", "MAIL_DELIVERY", "worker"),
]


@pytest.mark.parametrize(
    ("name", "raw", "key", "expected"), ENVIRONMENT_CASES, ids=[c[0] for c in ENVIRONMENT_CASES]
)
def test_setting_is_read_from_environment(clean_env, name, raw, key, expected):
    clean_env.setenv(name, raw)
    assert create_app("development").config[key] == expected


def test_jwt_algorithm_and_key_file_from_environment(clean_env, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "jwt.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    clean_env.setenv("JWT_ALGORITHM", "RS256")
    clean_env.setenv("JWT_PRIVATE_KEY_FILE", str(pem))
    app = production(JWT_SECRET_KEY=None)  # no HMAC secret needed with a key pair
    assert app.config["JWT_ALGORITHM"] == "RS256"
    assert app.config["JWT_PRIVATE_KEY_FILE"] == str(pem)


def test_production_refuses_rs256_without_a_key_file(clean_env):
    clean_env.setenv("JWT_ALGORITHM", "RS256")
    with pytest.raises(UnsafeConfiguration, match="JWT_PRIVATE_KEY_FILE"):
        production()


def test_jwt_secret_key_from_environment(clean_env):
    key = strong()
    clean_env.setenv("JWT_SECRET_KEY", key)
    assert create_app("development").config["JWT_SECRET_KEY"] == key


def test_remember_me_is_capped_at_thirty_days(clean_env):
    clean_env.setenv("REMEMBER_ME_DAYS", "365")
    app = create_app("development")
    assert app.config["REMEMBER_COOKIE_DURATION"] == timedelta(days=30)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("MAX_LOGIN_ATTEMPTS", "five"),
        ("REGISTRATION_EMAIL_CONFIRMATION", "maybe"),
        ("LOG_FORMAT", "xml"),
        ("LOG_LEVEL", "chatty"),
    ],
)
def test_unreadable_value_names_the_variable(clean_env, name, raw):
    clean_env.setenv(name, raw)
    with pytest.raises(ConfigurationError, match=name):
        create_app("development")


def test_empty_variable_means_the_default(clean_env):
    clean_env.setenv("MAX_LOGIN_ATTEMPTS", "")
    assert create_app("development").config["MAX_LOGIN_ATTEMPTS"] == 5


def test_explicit_overrides_beat_the_environment(clean_env):
    clean_env.setenv("MAX_LOGIN_ATTEMPTS", "3")
    assert create_app("development", MAX_LOGIN_ATTEMPTS=9).config["MAX_LOGIN_ATTEMPTS"] == 9


# --- settings that act on requests ----------------------------------------------------------


def _echo_app(**overrides):
    app = create_app(
        "development", RATELIMIT_STORAGE_URI="memory://", WTF_CSRF_ENABLED=False, **overrides
    )

    def echo():
        from flask import request

        return {"ip": request.remote_addr, "size": len(request.get_data())}

    app.add_url_rule("/_echo", "echo", echo, methods=["GET", "POST"])
    return app


def test_proxy_fix_x_for_trusts_exactly_the_configured_hops(clean_env):
    clean_env.setenv("PROXY_FIX_X_FOR", "1")
    client = _echo_app().test_client()
    headers = {"X-Forwarded-For": "203.0.113.9, 198.51.100.7"}
    assert client.get("/_echo", headers=headers).get_json()["ip"] == "198.51.100.7"


def test_forwarded_for_is_ignored_without_proxy_fix():
    client = _echo_app().test_client()
    response = client.get("/_echo", headers={"X-Forwarded-For": "203.0.113.9"})
    assert response.get_json()["ip"] == "127.0.0.1"


def test_max_content_length_from_environment_answers_413(clean_env):
    clean_env.setenv("MAX_CONTENT_LENGTH", "1024")
    client = _echo_app().test_client()
    assert client.post("/_echo", data=b"x" * 512).status_code == 200
    response = client.post("/_echo", data=b"x" * (1024 * 1024))
    assert response.status_code == 413


def test_production_logs_json_with_the_request_id(clean_env, capsys):
    """One JSON object per line on stderr, carrying the request's X-Request-ID."""
    import json
    import logging

    from acs_auth.logs import FORMATS, RequestIdFilter

    app = create_app("development", LOG_FORMAT="json")
    handler = logging.StreamHandler()  # the handler init_app installs, on a fresh logger
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(FORMATS[app.config["LOG_FORMAT"]]())
    logger = logging.getLogger("acs_auth.test_logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with app.test_request_context(headers={"X-Request-ID": "req-42"}):
            app.preprocess_request()
            logger.warning("something %s", "happened")
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)
    first, second = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert first["message"] == "something happened"
    assert first["request_id"] == "req-42"
    assert first["level"] == "WARNING"
    assert second["request_id"] is None
    assert CONFIGS["production"].LOG_FORMAT == "json"
    assert CONFIGS["development"].LOG_FORMAT == "text"
