"""Configuration classes, chosen by ACS_CONFIG and filled from the environment (or .env).

Every setting that DESIGN §10 names is read from the environment variable of the same name
(``SQLALCHEMY_DATABASE_URI`` from ``DATABASE_URL``). The reading happens when an application is
created, not when this module is imported, so ``create_app()`` always sees the current
environment. Settings derived from others (cookie names, lifetimes) are filled in by
``acs_auth.checks.apply_defaults`` after explicit overrides.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from dotenv import load_dotenv

load_dotenv()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigurationError(ValueError):
    """An environment variable holds a value that cannot be read as its setting's type."""


def env_str(name: str, default: str | None = None) -> str | None:
    """Return the environment value of ``name`` or ``default`` when unset or empty."""
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean setting: 1/true/yes/on or 0/false/no/off (any case)."""
    value = env_str(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word not in _TRUE | _FALSE:
        raise ConfigurationError(f"{name} must be true or false, not {value!r}")
    return word in _TRUE


def env_int(name: str, default: int) -> int:
    """Read an integer setting."""
    value = env_str(name)
    if value is None:
        return default
    try:
        return int(value.strip())
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {value!r}") from None


def env_float(name: str, default: float) -> float:
    """Read a decimal setting."""
    value = env_str(name)
    if value is None:
        return default
    try:
        return float(value.strip())
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, not {value!r}") from None


_READERS: dict[type, Callable[[str, Any], Any]] = {
    str: env_str,
    bool: env_bool,
    int: env_int,
    float: env_float,
}


class Env:
    """A setting read from the environment each time the class attribute is looked up.

    The variable is the attribute's own name unless ``names`` are given (the first one set
    wins). ``app.config.from_object(cls)`` looks every attribute up, so each new application
    reads the environment as it is at that moment.
    """

    def __init__(
        self, kind: type, default: Any = None, names: tuple[str, ...] = (), empty: bool = False
    ):
        self.kind = kind
        self.default = default
        self.names = names
        # empty=True (text settings whose empty value means "none"): a variable set to "" is
        # that empty value, not "unset, take the default".
        self.empty = empty

    def __set_name__(self, owner: type, name: str) -> None:
        self.names = self.names or (name,)

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        read = _READERS[self.kind]
        for name in self.names:
            if self.empty and os.environ.get(name) == "":
                return ""
            value = read(name, None)
            if value is not None:
                return value
        return self.default


class Config:
    """Settings shared by every environment; each one can be overridden by the environment."""

    ENV_NAME = "base"
    SECRET_KEY = Env(str, names=("SECRET_KEY", "FLASK_SECRET_KEY"))
    # Earlier keys that still verify (comma-separated) while a rotation settles; never sign.
    SECRET_KEY_FALLBACKS = Env(str)
    SQLALCHEMY_DATABASE_URI = Env(str, "sqlite:///acs_auth.db", names=("DATABASE_URL",))
    # Extra SQLAlchemy engine options; checks.py adds the pool ping and connect timeout for
    # database servers.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    DATABASE_CONNECT_TIMEOUT = Env(int, 5)
    # Production refuses SQLite unless this says a single-host deployment is meant.
    ALLOW_SQLITE_IN_PRODUCTION = Env(bool, False)
    APP_URL = Env(str, "http://127.0.0.1:5000")
    APP_NAME = Env(str, "ACS Portal")

    # JSON Web Tokens (API).
    JWT_SECRET_KEY = Env(str)
    JWT_ALGORITHM = Env(str, "HS256")
    JWT_PRIVATE_KEY_FILE = Env(str)
    JWT_PREVIOUS_PUBLIC_KEY_FILE = Env(str)
    JWT_ISSUER = Env(str, "acs_auth")
    JWT_AUDIENCE = Env(str, "acs_auth_api")
    ACCESS_TOKEN_EXPIRE_MINUTES = Env(int, 30)
    REFRESH_TOKEN_EXPIRE_DAYS = Env(int, 7)
    REMEMBER_ME_DAYS = Env(int, 30)  # capped at 30 by checks.apply_defaults
    # API keys expire: this many days unless the request asks for fewer (at most the maximum).
    API_KEY_DEFAULT_EXPIRE_DAYS = Env(int, 90)
    API_KEY_MAX_EXPIRE_DAYS = Env(int, 365)
    # `flask cleanup` deletes audit events older than this many days; 0 keeps them forever.
    AUDIT_RETENTION_DAYS = Env(int, 0)

    # The API's credential lookup: the prepared, kept-connection SELECT and the JWT
    # verification cache (true), or one plain Core select() per request (false); issue 13.
    API_FAST_LOOKUP = Env(bool, True)

    # Browser sessions (cookie names, Secure flags and lifetimes are derived in checks.py).
    BROWSER_SESSION_HOURS = Env(int, 12)
    SESSION_COOKIE_NAME = "acs_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = Env(bool, False)
    REMEMBER_COOKIE_NAME = "acs_remember"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    # Sign-in protection.
    # How long a pending sign-in (password right, second factor still to come) stays usable.
    SIGNIN_PENDING_MINUTES = Env(int, 5)
    MAX_LOGIN_ATTEMPTS = Env(int, 5)
    LOCKOUT_DURATION_MINUTES = Env(int, 30)
    RATELIMIT_ENABLED = Env(bool, True)
    RATELIMIT_STORAGE_URI = Env(str, "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # Never swallow storage errors (that would fail open); wrapped errors become a 503 in
    # acs_auth/errors.py, and short timeouts keep a dead Redis from stalling every worker.
    RATELIMIT_SWALLOW_ERRORS = False
    RATELIMIT_STORAGE_OPTIONS = {
        "wrap_exceptions": True,
        "socket_connect_timeout": 2,
        "socket_timeout": 2,
    }
    RATELIMIT_PER_IP = Env(str, "30 per minute;300 per hour")
    RATELIMIT_PER_IDENTIFIER = Env(str, "10 per minute;50 per hour")
    # Budgets of their own (acs_auth/ratelimits.py): setting a password per account, and token
    # refresh per API session and per address (a NAT of API clients must not starve).
    RATELIMIT_PASSWORD_PER_ACCOUNT = Env(str, "10 per minute;30 per hour")
    RATELIMIT_REFRESH_PER_SESSION = Env(str, "10 per minute;60 per hour")
    RATELIMIT_REFRESH_PER_IP = Env(str, "300 per minute;6000 per hour")
    # Authenticated /api requests, per account and per API key (X-RateLimit-* headers).
    API_RATE_LIMIT_USER = Env(str, "100 per hour")
    API_RATE_LIMIT_ADMIN = Env(str, "1000 per hour")
    PROXY_FIX_X_FOR = Env(int, 0)
    PROXY_FIX_X_PROTO = Env(int, 0)
    # Peers (IPs or networks, comma-separated) whose X-Forwarded-* and X-Request-ID count;
    # the same variable tells gunicorn whose X-Forwarded-Proto to believe.
    FORWARDED_ALLOW_IPS = Env(str, "127.0.0.1,::1")

    # Mail.
    MAIL_SERVER = Env(str)
    MAIL_PORT = Env(int, 25)
    MAIL_USE_TLS = Env(bool, False)
    MAIL_USE_SSL = Env(bool, False)
    MAIL_USERNAME = Env(str)
    MAIL_PASSWORD = Env(str)
    MAIL_DEFAULT_SENDER = Env(str, "ACS Portal <no-reply@localhost>")
    MAIL_TIMEOUT_SECONDS = Env(int, 10)
    # "background": a thread sends what a request queued, after the response.
    # "worker": only `flask mail worker` / `flask mail send-pending` send.
    MAIL_DELIVERY = Env(str, "background")
    MAIL_MAX_ATTEMPTS = Env(int, 12)
    # "smtp" (through MAIL_SERVER) or "console" (printed and saved under instance/outbox/).
    # Unset: smtp when MAIL_SERVER is set, else console; production needs one or the other.
    MAIL_BACKEND = Env(str)

    # Registration and passwords.
    REGISTRATION_EMAIL_CONFIRMATION = Env(bool, True)
    REGISTRATION_TOKEN_HOURS = 24
    RESET_TOKEN_HOURS = 1
    SETUP_TOKEN_HOURS = 24
    PASSWORD_MIN_LENGTH = Env(int, 12)
    PASSWORD_MAX_LENGTH = 128
    PASSWORD_MIN_SCORE = Env(int, 3)
    PASSWORD_REQUIRE_CHARACTER_CLASSES = Env(bool, False)
    PASSWORD_HISTORY = 3
    BCRYPT_LOG_ROUNDS = Env(int, 12)
    BCRYPT_HANDLE_LONG_PASSWORDS = True

    # Uploads and the allowlist.
    MAX_CONTENT_LENGTH = Env(int, 5 * 1024 * 1024)
    MAX_FORM_MEMORY_SIZE = Env(int, 512 * 1024)
    ALLOWLIST_MAX_ROWS = Env(int, 200_000)
    ALLOWLIST_MAX_BYTES = Env(int, 20 * 1024 * 1024)
    ALLOWLIST_MAX_REMOVAL_FRACTION = Env(float, 0.10)
    ALLOWLIST_INVITE_BATCH = Env(int, 500)  # invitations queued per bulk-invite request

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session that holds it
    # Flask-WTF's HTTPS Referer check would refuse every form on the pages that send
    # Referrer-Policy: no-referrer (reset, setup, registration links). The per-session CSRF
    # token, SameSite=Lax and __Host- cookies already stop cross-site posts.
    WTF_CSRF_SSL_STRICT = Env(bool, False)
    # Where a program page links to, e.g. "https://chat.example.org/{program_id}" (optional).
    PROGRAM_URL_TEMPLATE = Env(str)
    # OpenID Connect provider (docs/oidc.md): the ID token signing key when the API uses HS256
    # (RSA or Ed25519 PEM; development generates one under instance/), and the issuer URL.
    OIDC_PRIVATE_KEY_FILE = Env(str)
    OIDC_ISSUER = Env(str)
    PREFERRED_URL_SCHEME = "http"
    HSTS = False

    # Application log lines on stderr ("json" or "text"), each with its request id.
    LOG_FORMAT = Env(str, "text")
    LOG_LEVEL = Env(str, "INFO")

    # Operations: /metrics answers only with this bearer token (404 while unset).
    METRICS_TOKEN = Env(str)
    # Security view and alert: 0 turns the alert mail off.
    SECURITY_ALERT_THRESHOLD = Env(int, 0)
    SECURITY_ALERT_WINDOW_MINUTES = Env(int, 15)
    SECURITY_DORMANT_DAYS = Env(int, 90)

    # Notices that keep people out of silent dead ends (acs_auth/services/mail/notices.py).
    ADMIN_CONTACT = Env(str)  # whom people are told to contact, e.g. "it-help@example.org"
    NOTICE_NO_MATCH_PER_ADDRESS = Env(str, "3 per day")
    NOTICE_NO_MATCH_PER_IP = Env(str, "20 per day")
    NOTICE_INACTIVE_HOURS = Env(int, 24)
    EMAIL_CHANGE_TOKEN_HOURS = Env(int, 24)  # life of the link confirming a new email address

    # Second factor (issue 15): roles that must enrol one before anything else (comma-separated;
    # empty: nobody is forced), and how long "remember this browser" skips the second step
    # (days; 0 turns the checkbox off). Its cookie gets a __Host- name in production.
    MFA_REQUIRED_ROLES = Env(str, "admin", empty=True)
    MFA_REMEMBER_DAYS = Env(int, 30)
    MFA_REMEMBER_COOKIE_NAME = "acs_mfa_browser"
    # Fernet keys, comma-separated: the first encrypts authenticator
    # secrets, every one decrypts (rotation); production requires one, development and testing
    # derive one from SECRET_KEY when unset (acs_auth/services/factors/crypto.py).
    MFA_ENCRYPTION_KEYS = Env(str)
    # Codes tried at the second step of sign-in (browser and API together), per account; each
    # wrong code also counts toward MAX_LOGIN_ATTEMPTS like a wrong password.
    RATELIMIT_MFA_PER_ACCOUNT = Env(str, "10 per minute;30 per hour")


class DevelopmentConfig(Config):
    """Laptop defaults: SQLite under instance/, mail on the console, throwaway secrets."""

    ENV_NAME = "development"


class TestingConfig(Config):
    """Fast and isolated: the suite overrides the database and storage per test."""

    ENV_NAME = "testing"
    TESTING = True
    # Fixed so that several app instances of one test run (and their emailed tokens) agree;
    # production refuses any key it does not consider strong (acs_auth.checks).
    SECRET_KEY = "testing-secret-key-not-for-production-0123456789"
    JWT_SECRET_KEY = "testing-jwt-secret-key-not-for-production-987654321"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    BCRYPT_LOG_ROUNDS = 4
    RATELIMIT_ENABLED = False
    MAIL_SERVER = None
    MAIL_DELIVERY = "worker"
    APP_URL = "http://portal.test"
    # The suites sign in admins to test everything else; tests/test_mfa_policy.py turns the
    # production default ("admin") on for itself (README, "Second factor").
    MFA_REQUIRED_ROLES = Env(str, "", empty=True)


class ProductionConfig(Config):
    """Secure cookies, HSTS and strict start-up checks (see acs_auth.checks)."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = Env(bool, True)
    PREFERRED_URL_SCHEME = "https"
    HSTS = True
    LOG_FORMAT = Env(str, "json")


class _Configs(dict):
    """The classes by ACS_CONFIG name; an unknown name is a clear error, not a KeyError."""

    def __missing__(self, name: str):
        raise ConfigurationError(f"ACS_CONFIG must be one of {', '.join(self)}, not {name!r}")


CONFIGS = _Configs(
    development=DevelopmentConfig,
    testing=TestingConfig,
    production=ProductionConfig,
)
