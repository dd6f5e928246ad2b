"""The suite's settings: test database and Redis from the environment, app settings, keys, ports."""

from __future__ import annotations

import os
import socket
from pathlib import Path

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")


STRONG_PASSWORD = "correct horse battery staple 42"


def write_private_key(path: Path) -> str:
    """Write a fresh RSA (2048) private key as PKCS#8 PEM to ``path``; returns the path."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(path)


def app_settings(database_url: str, **overrides) -> dict:
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_STORAGE_URI": TEST_REDIS_URL or "memory://",
    }
    if database_url.startswith("sqlite"):
        # Writers from several app instances or threads wait for each other instead of failing.
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    settings.update(overrides)
    return settings


def free_port() -> int:
    """An unused loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
