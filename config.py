"""Configuration classes, chosen by ACS_CONFIG and filled from the environment (or .env)."""

from __future__ import annotations

import os
from datetime import timedelta

from dotenv import load_dotenv

load_dotenv()

_TRUE = {"1", "true", "yes", "on"}


def env_str(name: str, default: str | None = None) -> str | None:
    """Return the environment value of ``name`` or ``default`` when unset or empty."""
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean setting: 1/true/yes/on are true, anything else set is false."""
    value = env_str(name)
    return default if value is None else value.strip().lower() in _TRUE


def env_int(name: str, default: int) -> int:
    """Read an integer setting."""
    value = env_str(name)
    return default if value is None else int(value)


def env_float(name: str, default: float) -> float:
    """Read a float setting."""
    value = env_str(name)
    return default if value is None else float(value)


class Config:
    """Settings shared by every environment; each one can be overridden by the environment."""

    ENV_NAME = "base"
    SECRET_KEY = env_str("SECRET_KEY") or env_str("FLASK_SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = env_str("DATABASE_URL", "sqlite:///acs_auth.db")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    APP_URL = env_str("APP_URL", "http://127.0.0.1:5000")
    APP_NAME = env_str("APP_NAME", "ACS Portal")

    # JSON Web Tokens (API).
    JWT_SECRET_KEY = env_str("JWT_SECRET_KEY")
    JWT_ALGORITHM = env_str("JWT_ALGORITHM", "HS256")
    JWT_PRIVATE_KEY_FILE = env_str("JWT_PRIVATE_KEY_FILE")
    JWT_PREVIOUS_PUBLIC_KEY_FILE = env_str("JWT_PREVIOUS_PUBLIC_KEY_FILE")
    JWT_ISSUER = env_str("JWT_ISSUER", "acs_auth")
    JWT_AUDIENCE = env_str("JWT_AUDIENCE", "acs_auth_api")
    ACCESS_TOKEN_EXPIRE_MINUTES = env_int("ACCESS_TOKEN_EXPIRE_MINUTES", 30)
    REFRESH_TOKEN_EXPIRE_DAYS = env_int("REFRESH_TOKEN_EXPIRE_DAYS", 7)
    REMEMBER_ME_DAYS = min(env_int("REMEMBER_ME_DAYS", 30), 30)

    # Browser sessions.
    BROWSER_SESSION_HOURS = env_int("BROWSER_SESSION_HOURS", 12)
    SESSION_COOKIE_NAME = "acs_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_NAME = "acs_remember"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_DURATION = timedelta(days=REMEMBER_ME_DAYS)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=BROWSER_SESSION_HOURS)

    # Sign-in protection.
    MAX_LOGIN_ATTEMPTS = env_int("MAX_LOGIN_ATTEMPTS", 5)
    LOCKOUT_DURATION_MINUTES = env_int("LOCKOUT_DURATION_MINUTES", 30)
    RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = env_str("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = False
    RATELIMIT_PER_IP = env_str("RATELIMIT_PER_IP", "30 per minute;300 per hour")
    RATELIMIT_PER_IDENTIFIER = env_str("RATELIMIT_PER_IDENTIFIER", "10 per minute;50 per hour")
    PROXY_FIX_X_FOR = env_int("PROXY_FIX_X_FOR", 0)
    PROXY_FIX_X_PROTO = env_int("PROXY_FIX_X_PROTO", 0)

    # Mail.
    MAIL_SERVER = env_str("MAIL_SERVER")
    MAIL_PORT = env_int("MAIL_PORT", 25)
    MAIL_USE_TLS = env_bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = env_bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = env_str("MAIL_USERNAME")
    MAIL_PASSWORD = env_str("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = env_str("MAIL_DEFAULT_SENDER", "ACS Portal <no-reply@localhost>")
    MAIL_TIMEOUT_SECONDS = env_int("MAIL_TIMEOUT_SECONDS", 10)
    # "background": a thread sends what a request queued, after the response.
    # "worker": only `flask mail worker` / `flask mail send-pending` send.
    MAIL_DELIVERY = env_str("MAIL_DELIVERY", "background")
    MAIL_MAX_ATTEMPTS = env_int("MAIL_MAX_ATTEMPTS", 12)

    # Registration and passwords.
    REGISTRATION_EMAIL_CONFIRMATION = env_bool("REGISTRATION_EMAIL_CONFIRMATION", True)
    REGISTRATION_TOKEN_HOURS = 24
    RESET_TOKEN_HOURS = 1
    SETUP_TOKEN_HOURS = 24
    PASSWORD_MIN_LENGTH = env_int("PASSWORD_MIN_LENGTH", 12)
    PASSWORD_MAX_LENGTH = 128
    PASSWORD_MIN_SCORE = env_int("PASSWORD_MIN_SCORE", 3)
    PASSWORD_REQUIRE_CHARACTER_CLASSES = env_bool("PASSWORD_REQUIRE_CHARACTER_CLASSES", False)
    PASSWORD_HISTORY = 3
    BCRYPT_LOG_ROUNDS = env_int("BCRYPT_LOG_ROUNDS", 12)
    BCRYPT_HANDLE_LONG_PASSWORDS = True

    # Uploads and the allowlist.
    MAX_CONTENT_LENGTH = env_int("MAX_CONTENT_LENGTH", 5 * 1024 * 1024)
    MAX_FORM_MEMORY_SIZE = env_int("MAX_FORM_MEMORY_SIZE", 512 * 1024)
    ALLOWLIST_MAX_ROWS = env_int("ALLOWLIST_MAX_ROWS", 200_000)
    ALLOWLIST_MAX_BYTES = env_int("ALLOWLIST_MAX_BYTES", 20 * 1024 * 1024)
    ALLOWLIST_MAX_REMOVAL_FRACTION = env_float("ALLOWLIST_MAX_REMOVAL_FRACTION", 0.10)

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session that holds it
    PREFERRED_URL_SCHEME = "http"
    HSTS = False


class DevelopmentConfig(Config):
    """Laptop defaults: SQLite under instance/, mail on the console, a throwaway secret."""

    ENV_NAME = "development"
    SQLALCHEMY_DATABASE_URI = env_str("DATABASE_URL", "sqlite:///acs_auth.db")


class TestingConfig(Config):
    """Fast and isolated: the suite overrides the database and storage per test."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key-not-for-production-0123456789"
    JWT_SECRET_KEY = "testing-jwt-secret-key-not-for-production-987654321"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    BCRYPT_LOG_ROUNDS = 4
    RATELIMIT_ENABLED = False
    MAIL_SERVER = None
    MAIL_DELIVERY = "worker"
    APP_URL = "http://portal.test"


class ProductionConfig(Config):
    """Secure cookies, HSTS and strict start-up checks (see acs_auth.checks)."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # __Host- cookies need Secure, Path=/ and no Domain: the browser then refuses any
    # attempt by a sibling sub-domain to plant or overwrite them.
    SESSION_COOKIE_NAME = "__Host-acs_session" if SESSION_COOKIE_SECURE else "acs_session"
    REMEMBER_COOKIE_NAME = "__Host-acs_remember" if SESSION_COOKIE_SECURE else "acs_remember"
    PREFERRED_URL_SCHEME = "https"
    HSTS = True


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
