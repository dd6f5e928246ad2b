"""A deployment under test: one database, one Redis, one SMTP sink, any number of gunicorns."""

from __future__ import annotations

import os
import re
import subprocess
from datetime import timedelta
from pathlib import Path

import redis
from cryptography.fernet import Fernet

from acs_auth import create_app
from acs_auth.extensions import db, dispose_engines
from acs_auth.models import (
    AllowlistEntry,
    AuthSession,
    OutboxMessage,
    Role,
    User,
    utcnow,
)
from acs_auth.services.text.addresses import email_key, normalize_email
from tests.support.config import STRONG_PASSWORD
from tests.support.db import add_user
from tests.support.e2e import (
    BIN,
    PASSED_THROUGH,
    Database,
    Gunicorn,
    Mailbox,
    Process,
    free_port,
    random_secret,
    run_flask,
)
from tests.support.mail import SmtpServer

# What every instance of a deployment runs with (production settings, plain http on loopback
# behind an imagined TLS proxy whose address is APP_URL).
BASE_SETTINGS = {
    "ACS_CONFIG": "production",
    "PYTHON_DOTENV_DISABLED": "1",
    "DATABASE_CONNECT_TIMEOUT": "3",
    "MAIL_SERVER": "127.0.0.1",
    "MAIL_DELIVERY": "background",
    "MAIL_TIMEOUT_SECONDS": "5",
    "MAIL_DEFAULT_SENDER": "ACS Portal <no-reply@portal.test>",
    "BCRYPT_LOG_ROUNDS": "4",
    # Plain http on loopback: a Secure cookie would never come back from the browser.
    "SESSION_COOKIE_SECURE": "false",
    # Generous limits: suites that test the limits set small ones of their own.
    "RATELIMIT_PER_IP": "2000 per minute",
    "RATELIMIT_PER_IDENTIFIER": "2000 per minute",
    "RATELIMIT_PASSWORD_PER_ACCOUNT": "2000 per minute",
    "RATELIMIT_REFRESH_PER_SESSION": "2000 per minute",
    "RATELIMIT_REFRESH_PER_IP": "2000 per minute",
    "API_RATE_LIMIT_USER": "2000 per minute",
    "API_RATE_LIMIT_ADMIN": "2000 per minute",
    # The suites sign administrators in to test everything else; the second-factor policy
    # (production default: admin) is on in tests/e2e/test_browser_mfa_policy.py.
    "MFA_REQUIRED_ROLES": "",
    "GUNICORN_TIMEOUT": "30",
    "LOG_LEVEL": "info",
}
# The first instance's own plain-http address (development settings only: production wants https).
LOOPBACK_URL = "http://127.0.0.1:{port}"
PASSWORD_SHOWN = re.compile(r"store it safely\): (\S+)")


class Deployment:
    """Shares secrets, database, Redis db and SMTP sink between the gunicorns it starts."""

    def __init__(
        self,
        database: Database,
        smtp: SmtpServer,
        redis_url: str,
        workdir: Path,
        settings: dict | None = None,
    ):
        self.database = database
        self.smtp = smtp
        self.redis_url = redis_url
        self.workdir = workdir
        self.settings = dict(settings or {})
        self.secret_key = random_secret()
        self.jwt_secret_key = random_secret()
        self.mfa_encryption_keys = Fernet.generate_key().decode()
        # Emailed links carry the public https address that production requires, as behind a
        # TLS-terminating proxy; tests follow a link's path on whichever instance they talk to.
        # A module whose clients must reach the portal at its public address (an OpenID Connect
        # relying party doing discovery) sets APP_URL to LOOPBACK_URL, on a development portal.
        self.app_port = free_port()
        self.app_url = self.settings.get("APP_URL", "https://portal.test").format(
            port=self.app_port
        )
        self.settings["APP_URL"] = self.app_url
        self.mail = Mailbox(smtp, self.app_url)
        self.instances: list[Gunicorn] = []
        self.processes: list[Process] = []
        self._app = None

    # -- processes ------------------------------------------------------------------------

    def env(self, **extra) -> dict:
        """The environment of a gunicorn or `flask` process of this deployment."""
        env = {k: os.environ[k] for k in PASSED_THROUGH if k in os.environ}
        env.update(BASE_SETTINGS)
        env.update(
            SECRET_KEY=self.secret_key,
            JWT_SECRET_KEY=self.jwt_secret_key,
            MFA_ENCRYPTION_KEYS=self.mfa_encryption_keys,
            DATABASE_URL=self.database.url,
            APP_URL=self.app_url,
            MAIL_PORT=str(self.smtp.port),
            RATELIMIT_STORAGE_URI=self.redis_url,
        )
        env.update(self.settings)
        env.update(extra)
        return {key: str(value) for key, value in env.items()}

    def start(self, workers: int = 2, **extra) -> Gunicorn:
        """Start one more gunicorn (the first one on APP_URL's port) and wait until it answers."""
        port = self.app_port if not self.instances else None
        log = self.workdir / f"gunicorn-{len(self.instances)}.log"
        instance = Gunicorn(self.env(**extra), log, workers=workers, port=port)
        self.instances.append(instance)
        return instance.start()

    def flask(self, *args: str, timeout: float = 120, **extra) -> subprocess.CompletedProcess:
        return run_flask(self.env(**extra), *args, timeout=timeout)

    def flask_async(self, *args: str, **extra) -> Process:
        """Start ``flask --app wsgi ARGS`` in the background (stopped with the deployment)."""
        log = self.workdir / f"flask-{len(self.processes)}.log"
        process = Process([str(BIN / "flask"), "--app", "wsgi", *args], self.env(**extra), log)
        self.processes.append(process)
        process.start()
        return process

    def migrate(self) -> None:
        done = self.flask("db", "upgrade")
        assert done.returncode == 0, done.stdout + done.stderr

    def create_admin(self, email: str) -> str:
        """`flask users create-admin`; returns the password it prints once."""
        done = self.flask("users", "create-admin", "--email", email)
        assert done.returncode == 0, done.stdout + done.stderr
        return PASSWORD_SHOWN.search(done.stdout).group(1)

    def flush_redis(self) -> None:
        redis.Redis.from_url(self.redis_url, socket_connect_timeout=2).flushdb()

    def close(self) -> None:
        for process in [*self.instances, *self.processes]:
            process.stop()
        if self._app is not None:
            with self._app.app_context():
                db.session.remove()
                dispose_engines()

    def logs(self) -> str:
        return "\n".join(f"--- {i.log_path.name}\n{i.log_tail(40)}" for i in self.instances)

    # -- the database, in this process ----------------------------------------------------

    @property
    def app(self):
        """An app on the same database, for arranging rows and reading them back."""
        if self._app is None:
            self._app = create_app(
                "testing",
                SQLALCHEMY_DATABASE_URI=self.database.url,
                SECRET_KEY=self.secret_key,
                JWT_SECRET_KEY=self.jwt_secret_key,
                MFA_ENCRYPTION_KEYS=self.mfa_encryption_keys,
                APP_URL=self.app_url,
                MAIL_SERVER=None,
                MAIL_DELIVERY="worker",
                RATELIMIT_STORAGE_URI="memory://",
            )
        return self._app

    def read(self, fn):
        with self.app.app_context():
            try:
                return fn()
            finally:
                db.session.remove()

    def make_user(
        self,
        email: str,
        password: str | None = STRONG_PASSWORD,
        role: str = Role.USER.value,
        programs=("PROG-1",),
        last_name="Lovelace",
    ) -> int:
        return self.read(
            lambda: add_user(email, password, role, last_name=last_name, programs=programs)
        )

    def make_entry(self, email: str, last_name: str, programs=("PROG-1", "PROG-2")) -> int:
        def add():
            address = normalize_email(email)
            entry = AllowlistEntry(
                email=address,
                email_key=email_key(address),
                last_name=last_name,
                first_name="Grace",
                lo_root_ids=";".join(sorted(programs)),
                active=True,
            )
            db.session.add(entry)
            db.session.commit()
            return entry.id

        return self.read(add)

    def user(self, email: str) -> dict | None:
        """The sign-in columns of the account with ``email`` (None when there is none)."""

        def load():
            row = db.session.scalar(db.select(User).where(User.email_key == email_key(email)))
            if row is None:
                return None
            return {
                "id": row.id,
                "failed_login_count": row.failed_login_count,
                "locked_until": row.locked_until,
                "password_hash": row.password_hash,
                "is_active": row.is_active,
                "programs": sorted(p.lo_root_id for p in row.programs),
            }

        return self.read(load)

    def count_users(self, email: str) -> int:
        return self.read(
            lambda: db.session.scalar(
                db.select(db.func.count())
                .select_from(User)
                .where(User.email_key == email_key(email))
            )
        )

    def sessions(self, email: str) -> list[dict]:
        def load():
            rows = db.session.scalars(
                db.select(AuthSession)
                .join(User)
                .where(User.email_key == email_key(email))
                .order_by(AuthSession.id)
            )
            return [
                {
                    "public_id": r.public_id,
                    "kind": r.kind,
                    "remember": r.remember,
                    "revoked_at": r.revoked_at,
                    "refresh_generation": r.refresh_generation,
                }
                for r in rows
            ]

        return self.read(load)

    def idle_sessions(self, email: str, minutes: int) -> None:
        """Pretend the account's sessions were last used ``minutes`` ago (no waiting)."""

        def move():
            ids = db.select(User.id).where(User.email_key == email_key(email))
            db.session.execute(
                db.update(AuthSession)
                .where(AuthSession.user_id.in_(ids))
                .values(last_used_at=utcnow() - timedelta(minutes=minutes))
            )
            db.session.commit()

        self.read(move)

    def outbox(self) -> list[dict]:
        def load():
            rows = db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id))
            return [
                {
                    "id": r.id,
                    "to": r.to,
                    "kind": r.kind,
                    "attempts": r.attempts,
                    "sent_at": r.sent_at,
                    "failed_at": r.failed_at,
                    "next_attempt_at": r.next_attempt_at,
                    "last_error": r.last_error,
                }
                for r in rows
            ]

        return self.read(load)

    def make_outbox_due(self) -> int:
        """Move every waiting message's next_attempt_at to now (the back-off has no setting)."""

        def move():
            result = db.session.execute(
                db.update(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))
                .values(next_attempt_at=utcnow())
            )
            db.session.commit()
            return result.rowcount

        return self.read(move)
