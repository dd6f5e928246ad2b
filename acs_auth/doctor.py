"""`flask doctor`'s checks: configuration (as production judges it), database and migrations,
Redis, SMTP and key files, each one a ``Finding``; nothing here changes any state.

Every probe has a short timeout, so a dead dependency makes the report slow by seconds, not
minutes. Details name hosts and ports, never passwords or keys.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace

import redis
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from acs_auth import checks, key_rotation, metrics
from acs_auth.extensions import MIGRATIONS
from acs_auth.services.factors import crypto
from acs_auth.services.signin import jwt_tokens

TIMEOUT_SECONDS = 5
REDIS_SCHEMES = ("redis://", "rediss://")


@dataclass(frozen=True)
class Finding:
    """One line of the report: what was checked, whether it passed, and what was seen."""

    name: str
    ok: bool
    detail: str


def run(app: Flask) -> list[Finding]:
    """Every check, in report order; a check that raises is a failed finding, not a crash."""
    findings = []
    for name, probe in PROBES:
        try:
            findings.extend(probe(app))
        except Exception as exc:
            findings.append(Finding(name, False, _reason(exc)))
    return findings


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip().splitlines()[0][:300]


def configuration(app: Flask) -> Iterator[Finding]:
    """The start-up refusals of production (acs_auth.checks), whatever ACS_CONFIG says."""
    as_production = SimpleNamespace(config={**app.config, "ENV_NAME": "production"})
    problems = []
    refusals: list[Callable] = [
        checks.refuse_weak_settings,
        metrics.refuse_weak_token,
        lambda a: key_rotation.init_app(_Copy(a.config)),
        crypto.init_app,
    ]
    for refuse in refusals:
        try:
            refuse(as_production)
        except checks.UnsafeConfiguration as exc:
            problems.extend(str(exc).removeprefix("Refusing to start: ").split("; "))
    checked_as = f"ACS_CONFIG={app.config['ENV_NAME']}, judged as production"
    if problems:
        for problem in problems:
            yield Finding("configuration", False, problem)
    else:
        yield Finding("configuration", True, f"no refusal ({checked_as})")


class _Copy(SimpleNamespace):
    """An app stand-in whose config is a private copy (init_app writes to it)."""

    def __init__(self, config):
        super().__init__(config=dict(config))


def database(app: Flask) -> Iterator[Finding]:
    """The database answers, and its schema is at the newest migration."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    where = f"{url.get_backend_name()} {url.host or url.database or ''}".strip()
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.pop("pool_pre_ping", None)
    engine = create_engine(url, **options)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = set(_current_heads(conn))
    finally:
        engine.dispose()
    yield Finding("database", True, f"{where} answers")
    heads = set(_script_heads())
    if current == heads:
        yield Finding("migrations", True, f"at head {', '.join(sorted(heads))}")
    else:
        seen = ", ".join(sorted(current)) or "none (empty database)"
        message = f"at {seen}, head is {', '.join(sorted(heads))}: run `flask db upgrade`"
        yield Finding("migrations", False, message)


def _current_heads(conn) -> tuple:
    # Lazy on purpose: only `flask doctor` loads Alembic (performance.md, "Worker memory").
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415

    return MigrationContext.configure(conn).get_current_heads()


def _script_heads() -> list[str]:
    # Lazy on purpose, as in _current_heads.
    from alembic.config import Config  # noqa: PLC0415
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_heads()


def redis_storage(app: Flask) -> Iterator[Finding]:
    """The rate-limit storage answers a PING (when it is Redis)."""
    uri = app.config.get("RATELIMIT_STORAGE_URI") or ""
    if not uri.startswith(REDIS_SCHEMES):
        yield Finding("redis", True, f"not used (rate limits in {uri.split(':', 1)[0]}://)")
        return
    client = redis.Redis.from_url(
        uri, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()
    host = client.connection_pool.connection_kwargs.get("host", "?")
    port = client.connection_pool.connection_kwargs.get("port", "?")
    yield Finding("redis", True, f"{host}:{port} answers PING")


def smtp(app: Flask) -> Iterator[Finding]:
    """The mail server accepts a connection, EHLO (STARTTLS and login when set) and NOOP."""
    cfg = app.config
    server = cfg.get("MAIL_SERVER")
    if not server:
        yield Finding("smtp", False, "MAIL_SERVER is not set: mail stays queued in the outbox")
        return
    port = int(cfg.get("MAIL_PORT") or 25)
    timeout = min(int(cfg.get("MAIL_TIMEOUT_SECONDS") or TIMEOUT_SECONDS), TIMEOUT_SECONDS)
    context = ssl.create_default_context()
    if cfg.get("MAIL_USE_SSL"):
        connection = smtplib.SMTP_SSL(server, port, timeout=timeout, context=context)
    else:
        connection = smtplib.SMTP(server, port, timeout=timeout)
    steps = ["EHLO"]
    try:
        connection.ehlo()
        if cfg.get("MAIL_USE_TLS"):
            connection.starttls(context=context)
            connection.ehlo()
            steps.append("STARTTLS")
        if cfg.get("MAIL_USERNAME"):
            connection.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD") or "")
            steps.append("AUTH")
        code, _ = connection.noop()
        if code != 250:
            raise smtplib.SMTPResponseException(code, b"NOOP refused")
        steps.append("NOOP")
    finally:
        try:
            connection.quit()
        except smtplib.SMTPException:
            connection.close()
    yield Finding("smtp", True, f"{server}:{port} accepts {' + '.join(steps)}")


def key_files(app: Flask) -> Iterator[Finding]:
    """JWT key files are readable PEM keys that match JWT_ALGORITHM (or HS256 needs none)."""
    ring = jwt_tokens.load_keyring(app.config)
    files = [app.config.get(k) for k in ("JWT_PRIVATE_KEY_FILE", "JWT_PREVIOUS_PUBLIC_KEY_FILE")]
    named = [f for f in files if f]
    if not named:
        yield Finding("keys", True, "HS256 with JWT_SECRET_KEY (no key file)")
        return
    yield Finding("keys", True, f"{ring.algorithm}: {', '.join(named)} readable")


def mfa_keys(app: Flask) -> Iterator[Finding]:
    """Every stored authenticator secret decrypts with MFA_ENCRYPTION_KEYS (the database's view)."""
    found = crypto.survey()
    keys = len(crypto.configured_keys(app.config))
    ring = f"{keys} key(s)" if keys else "the key derived from SECRET_KEY"
    if found.unreadable:
        detail = f"{found.unreadable} of {found.total} secret(s) readable with none of {ring}"
        yield Finding("mfa-keys", False, detail)
    elif found.behind:
        detail = f"{found.behind} of {found.total} secret(s) under an older key"
        yield Finding("mfa-keys", True, detail + ": run `flask mfa rotate-key`")
    else:
        yield Finding("mfa-keys", True, f"{found.total} secret(s), all under the first of {ring}")


PROBES: list[tuple[str, Callable[[Flask], Iterator[Finding]]]] = [
    ("configuration", configuration),
    ("database", database),
    ("redis", redis_storage),
    ("smtp", smtp),
    ("keys", key_files),
    ("mfa-keys", mfa_keys),
]
