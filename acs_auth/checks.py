"""Start-up checks: derived defaults, and production's refusal of weak or unsafe settings."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from config import ConfigurationError

# Values that appear in tutorials and .env examples; never acceptable in production.
KNOWN_WEAK = {
    "",
    "dev",
    "secret",
    "changeme",
    "change-me",
    "development",
    "secret-key",
    "your-secret-key",
    "supersecret",
    "please-change-me",
}
# Fragments of placeholder values ("change-me-to-something-long…", the test suite's keys).
WEAK_FRAGMENTS = ("changeme", "change-me", "change_me", "not-for-production", "your-secret")
MIN_SECRET_BYTES = 32
MAX_REMEMBER_ME_DAYS = 30
REFUSAL = "Refusing to start: "
# Heroku-style and driver-less PostgreSQL URLs go through psycopg 3, the driver we ship.
POSTGRES_PREFIXES = ("postgres://", "postgresql://")
DATABASE_BACKENDS = ("postgresql", "sqlite")
MAIL_BACKENDS = ("smtp", "console")


class UnsafeConfiguration(RuntimeError):
    """Production was asked to start with a setting that would make it insecure."""


def apply_defaults(app: Flask) -> None:
    """Fill settings derived from others; outside production, generate throwaway secrets."""
    cfg = app.config
    cfg["SQLALCHEMY_DATABASE_URI"] = database_url(cfg["SQLALCHEMY_DATABASE_URI"])
    cfg["MAIL_BACKEND"] = _chosen_mail_backend(cfg)
    if cfg["ENV_NAME"] != "production":
        # A per-app random key: sessions do not survive a restart, which is acceptable on a
        # laptop and never silently insecure (`make run` exports a key kept under instance/).
        cfg["SECRET_KEY"] = cfg.get("SECRET_KEY") or secrets.token_urlsafe(48)
        cfg["JWT_SECRET_KEY"] = cfg.get("JWT_SECRET_KEY") or secrets.token_urlsafe(48)
    cfg["REMEMBER_ME_DAYS"] = min(int(cfg["REMEMBER_ME_DAYS"]), MAX_REMEMBER_ME_DAYS)
    cfg["REMEMBER_COOKIE_DURATION"] = timedelta(days=cfg["REMEMBER_ME_DAYS"])
    cfg["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=cfg["BROWSER_SESSION_HOURS"])
    cfg.setdefault("REMEMBER_COOKIE_SECURE", cfg["SESSION_COOKIE_SECURE"])
    if cfg["ENV_NAME"] == "production" and cfg["SESSION_COOKIE_SECURE"]:
        # __Host- cookies need Secure, Path=/ and no Domain: the browser then refuses any
        # attempt by a sibling sub-domain to plant or overwrite them.
        for key in ("SESSION_COOKIE_NAME", "REMEMBER_COOKIE_NAME", "MFA_REMEMBER_COOKIE_NAME"):
            if not cfg[key].startswith("__Host-"):
                cfg[key] = "__Host-" + cfg[key]
    cfg["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(cfg)
    cfg["READS_ENGINE_OPTIONS"] = _reads_engine_options(cfg, cfg["SQLALCHEMY_ENGINE_OPTIONS"])


def database_url(value) -> str:
    """DATABASE_URL as SQLAlchemy needs it: ``postgres://`` becomes ``postgresql+psycopg://``.

    A value that is not a PostgreSQL or SQLite URL is a ConfigurationError naming the setting
    but not the value (it may carry a password).
    """
    url = str(value or "").strip()
    for prefix in POSTGRES_PREFIXES:
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url.removeprefix(prefix)
    try:
        backend = make_url(url).get_backend_name()
    except (ArgumentError, ValueError):
        backend = None
    if backend not in DATABASE_BACKENDS:
        raise ConfigurationError(
            "DATABASE_URL must be a postgresql:// or sqlite:/// URL (it could not be read as one)"
        )
    return url


def _chosen_mail_backend(cfg) -> str | None:
    """MAIL_BACKEND as given (lower-cased), None when unset; anything else is refused."""
    chosen = (cfg.get("MAIL_BACKEND") or "").strip().lower() or None
    if chosen not in (None, *MAIL_BACKENDS):
        raise ConfigurationError(f"MAIL_BACKEND must be smtp or console, not {chosen!r}")
    return chosen


def mail_backend(cfg) -> str:
    """Where mail goes: MAIL_BACKEND, else smtp with a MAIL_SERVER (or in production), else console.

    Read when mail is sent, so a MAIL_SERVER set after start-up (the test suite's SMTP sink)
    takes effect. Production never falls back to the console unless told to.
    """
    if cfg.get("MAIL_BACKEND"):
        return cfg["MAIL_BACKEND"]
    production = cfg["ENV_NAME"] == "production"
    return "smtp" if cfg.get("MAIL_SERVER") or production else "console"


def _on_server(cfg) -> bool:
    return str(cfg["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql")


def _engine_options(cfg) -> dict:
    """Engine options for a database server: a ping at checkout and a connect timeout (a copy).

    The ping lets every worker survive a database restart (a dead pooled connection is replaced
    before use) and the timeout makes an outage fail fast. A SQLite file has no connection to
    lose, so it gets neither: the ping would be one more statement on every request.
    """
    options = dict(cfg.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if cfg["ENV_NAME"] == "production":
        # A statement's parameters (emails, names, hashes, tokens) never go into an error
        # message, so never into a log line or an error tracker (issue 12, item 7).
        options.setdefault("hide_parameters", True)
    if _on_server(cfg):
        options.setdefault("pool_pre_ping", True)
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("connect_timeout", cfg["DATABASE_CONNECT_TIMEOUT"])
        options["connect_args"] = connect_args
    return options


def _reads_engine_options(cfg, main: dict) -> dict | None:
    """On a database server, the options of a second engine for the API's per-request lookup.

    Its connections stay in autocommit mode, so the one SELECT costs one round trip: no BEGIN,
    no ROLLBACK, and no ping at checkout (``PreparedSelect`` retries once on a new connection
    when the server dropped the old one). It connects as the main engine does (same URL, same
    ``connect_args``: TLS settings, timeout) with a pool of its own, so each worker may hold one
    connection more. A SQLite file needs none of this (None): the lookup uses the main engine.
    """
    if not _on_server(cfg):
        return None
    return {
        "isolation_level": "AUTOCOMMIT",
        "connect_args": dict(main["connect_args"]),
        "hide_parameters": main.get("hide_parameters", False),
    }


def web_concurrency() -> int:
    """The number of worker processes announced by WEB_CONCURRENCY (gunicorn.conf.py sets it)."""
    value = os.environ.get("WEB_CONCURRENCY", "").strip()
    try:
        return max(int(value), 1) if value else 1
    except ValueError:
        message = f"WEB_CONCURRENCY must be a whole number, not {value!r}"
        raise UnsafeConfiguration(message) from None


def _weak(value: str | None) -> bool:
    """True for a missing, known, placeholder, short or repetitive secret."""
    return (
        value is None
        or value.strip().lower() in KNOWN_WEAK
        or any(fragment in value.lower() for fragment in WEAK_FRAGMENTS)
        or len(value.encode()) < MIN_SECRET_BYTES
        or len(set(value)) < 10
    )


def refuse_weak_settings(app: Flask) -> None:
    """Raise UnsafeConfiguration in production for any weak secret or unsafe combination."""
    cfg = app.config
    if cfg["ENV_NAME"] != "production":
        return
    problems = []
    if _weak(cfg.get("SECRET_KEY")):
        problems.append(f"SECRET_KEY must be at least {MIN_SECRET_BYTES} random bytes")
    if cfg["JWT_ALGORITHM"].upper().startswith("HS"):
        if _weak(cfg.get("JWT_SECRET_KEY")):
            problems.append(f"JWT_SECRET_KEY must be at least {MIN_SECRET_BYTES} random bytes")
        elif cfg.get("JWT_SECRET_KEY") == cfg.get("SECRET_KEY"):
            problems.append("JWT_SECRET_KEY must differ from SECRET_KEY")
    elif not cfg.get("JWT_PRIVATE_KEY_FILE"):
        problems.append(f"JWT_ALGORITHM={cfg['JWT_ALGORITHM']} needs JWT_PRIVATE_KEY_FILE")
    if web_concurrency() > 1 and cfg["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        problems.append("RATELIMIT_STORAGE_URI=memory:// cannot be shared by several workers")
    problems += _deployment_problems(cfg)
    if problems:
        raise UnsafeConfiguration(REFUSAL + "; ".join(problems))


def _deployment_problems(cfg) -> list[str]:
    """Production settings that would leak links, lose data or lose mail, one line each."""
    problems = []
    app_url = urlsplit(cfg.get("APP_URL") or "")
    if app_url.scheme != "https" or not app_url.hostname:
        # Emailed reset and setup links are built from APP_URL: over http they travel in clear.
        problems.append("APP_URL must be the site's https:// address")
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") and not cfg.get(
        "ALLOW_SQLITE_IN_PRODUCTION"
    ):
        problems.append(
            "DATABASE_URL is SQLite: use PostgreSQL, or set ALLOW_SQLITE_IN_PRODUCTION=true"
        )
    if mail_backend(cfg) == "smtp" and not cfg.get("MAIL_SERVER"):
        problems.append("MAIL_SERVER is not set (or set MAIL_BACKEND=console to print mail)")
    return problems


@contextmanager
def exit_on_refusal() -> Iterator[None]:
    """Turn a refused configuration into one line on stderr and exit status 1, no traceback.

    Used around ``create_app()`` in wsgi.py, so `flask …` and gunicorn both print the line.
    """
    try:
        yield
    except (UnsafeConfiguration, ConfigurationError) as exc:
        message = str(exc)
        raise SystemExit(message if message.startswith(REFUSAL) else REFUSAL + message) from None
