"""The issuer, the key that signs ID tokens and logout tokens, and the JWKS that publishes it.

ID tokens need an asymmetric signature (RS256 or EdDSA). When the API's keyring is already
asymmetric (JWT_PRIVATE_KEY_FILE), the provider signs with that same key, so one rotation
covers both. With the API on HS256, ``OIDC_PRIVATE_KEY_FILE`` names the provider's key. Without
either, development and testing generate an RSA key once into ``instance/oidc-signing-key.pem``
(at first use, never inside create_app); production serves no OpenID Connect at all (every
provider endpoint answers 404) and logs one line saying which setting is missing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app
from joserfc.jwk import OKPKey, RSAKey

from acs_auth.services.signin import jwt_tokens

GENERATED_FILE = "oidc-signing-key.pem"
_EXTENSION = "acs_auth.oidc.key"


def issuer() -> str:
    """The provider's issuer identifier: OIDC_ISSUER, else APP_URL (no trailing slash)."""
    config = current_app.config
    return (config.get("OIDC_ISSUER") or config["APP_URL"]).rstrip("/")


class ProviderDisabled(RuntimeError):
    """Production without an asymmetric key: the provider is off."""


@dataclass(frozen=True)
class SigningKey:
    """The private key as joserfc wants it, its algorithm, kid and public JWK."""

    algorithm: str
    kid: str
    key: Any
    jwk: dict


def _joserfc(private_key, algorithm: str, kid: str):
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    cls = RSAKey if algorithm == "RS256" else OKPKey
    return cls.import_key(pem, {"kid": kid, "alg": algorithm, "use": "sig"})


def _generated(path: Path):
    """The development key under instance/, created (mode 0600) on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
    return str(path)


def _load() -> SigningKey:
    config = current_app.config
    ring = jwt_tokens.keyring()
    if ring.algorithm != "HS256":
        jwk = ring.verify[ring.kid].jwk
        return SigningKey(ring.algorithm, ring.kid, _joserfc(ring.signing_key, *jwk_alg(jwk)), jwk)
    path = config.get("OIDC_PRIVATE_KEY_FILE")
    if not path:
        if config["ENV_NAME"] == "production":
            raise ProviderDisabled(
                "OpenID Connect is off: set OIDC_PRIVATE_KEY_FILE (or JWT_PRIVATE_KEY_FILE)"
            )
        path = _generated(Path(current_app.instance_path) / GENERATED_FILE)
    private_key = jwt_tokens._read_pem(path, private=True)
    algorithm, jwk = jwt_tokens._public_jwk(private_key.public_key())
    return SigningKey(algorithm, jwk["kid"], _joserfc(private_key, algorithm, jwk["kid"]), jwk)


def jwk_alg(jwk: dict) -> tuple[str, str]:
    """(algorithm, kid) of a published JWK."""
    return jwk["alg"], jwk["kid"]


def signing_key() -> SigningKey:
    """The provider's signing key (cached per app and key settings)."""
    signature = (
        jwt_tokens._signature(current_app.config),
        current_app.config.get("OIDC_PRIVATE_KEY_FILE"),
    )
    cached = current_app.extensions.get(_EXTENSION)
    if cached is None or cached[0] != signature:
        cached = (signature, _load())
        current_app.extensions[_EXTENSION] = cached
    return cached[1]


def enabled() -> bool:
    """False in production without an asymmetric key (the provider's endpoints answer 404)."""
    try:
        signing_key()
    except ProviderDisabled:
        return False
    return True


def jwks() -> dict:
    """Every public key that verifies the API's tokens or the provider's, as one JWKS."""
    keys = list(jwt_tokens.keyring().jwks()["keys"])
    if enabled():
        own = signing_key().jwk
        if all(k.get("kid") != own["kid"] for k in keys):
            keys.append(own)
    return {"keys": keys}
