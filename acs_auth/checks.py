"""Start-up checks: derived defaults, and production's refusal of weak or unsafe settings."""

from __future__ import annotations

import os
import secrets

from flask import Flask

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
MIN_SECRET_BYTES = 32


class UnsafeConfiguration(RuntimeError):
    """Production was asked to start with a setting that would make it insecure."""


def apply_defaults(app: Flask) -> None:
    """Fill settings derived from others; outside production, generate throwaway secrets."""
    cfg = app.config
    if app.config["ENV_NAME"] != "production":
        # A per-process random key: sessions do not survive a restart, which is acceptable on a
        # laptop and never silently insecure.
        cfg["SECRET_KEY"] = cfg.get("SECRET_KEY") or secrets.token_urlsafe(48)
        cfg["JWT_SECRET_KEY"] = cfg.get("JWT_SECRET_KEY") or secrets.token_urlsafe(48)


def _weak(value: str | None) -> bool:
    return (
        value is None
        or value.strip().lower() in KNOWN_WEAK
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
    if cfg["JWT_ALGORITHM"] == "HS256":
        if _weak(cfg.get("JWT_SECRET_KEY")):
            problems.append(f"JWT_SECRET_KEY must be at least {MIN_SECRET_BYTES} random bytes")
        elif cfg.get("JWT_SECRET_KEY") == cfg.get("SECRET_KEY"):
            problems.append("JWT_SECRET_KEY must differ from SECRET_KEY")
    elif not cfg.get("JWT_PRIVATE_KEY_FILE"):
        problems.append(f"JWT_ALGORITHM={cfg['JWT_ALGORITHM']} needs JWT_PRIVATE_KEY_FILE")
    workers = int(os.environ.get("WEB_CONCURRENCY", cfg.get("WEB_CONCURRENCY", 1)) or 1)
    if workers > 1 and cfg["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        problems.append("RATELIMIT_STORAGE_URI=memory:// cannot be shared by several workers")
    if problems:
        raise UnsafeConfiguration("Refusing to start: " + "; ".join(problems))
