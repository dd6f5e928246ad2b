"""API JSON Web Tokens: required claims, one pinned algorithm per key, `kid` and key rotation.

HS256 with ``JWT_SECRET_KEY`` by default. With ``JWT_PRIVATE_KEY_FILE`` the tokens are signed
with that key (RSA → RS256, Ed25519 → EdDSA) and carry its RFC 7638 thumbprint as ``kid``; the
public half, and the one in ``JWT_PREVIOUS_PUBLIC_KEY_FILE`` during a rotation, are published
as a JWKS. A token is verified only with the key its ``kid`` names and only with that key's
algorithm, so ``alg: none`` and "HS256 signed with the public key" never verify (RFC 8725 §3.1).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from flask import Flask, current_app
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

ACCESS = "access"
REFRESH = "refresh"
REQUIRED_CLAIMS = ["iss", "aud", "sub", "iat", "exp", "jti", "type", "sid"]
# Tolerated clock difference between the hosts that sign and verify.
LEEWAY_SECONDS = 5
# Longer strings are refused before any parsing; real tokens are well under 1 KB.
MAX_TOKEN_LENGTH = 4096
MIN_RSA_BITS = 2048
# Successful verifications remembered per process (see _verified).
VERIFIED_CACHE_SIZE = 4096
_EXTENSION = "acs_auth.jwt"


class InvalidToken(Exception):
    """The token is malformed, forged, expired, of the wrong type or for another audience.

    ``kind`` tells a client what to do: "expired" (only its lifetime is over), "ended" (its
    session was revoked or rotated past) or "invalid" (anything else).
    """

    def __init__(self, reason: str, kind: str = "invalid"):
        super().__init__(reason)
        self.kind = kind


class KeyConfigurationError(RuntimeError):
    """The configured key files or algorithm cannot be used."""


@dataclass(frozen=True)
class VerifyKey:
    """A key that verifies tokens, pinned to exactly one algorithm."""

    kid: str | None
    algorithm: str
    key: Any
    jwk: dict | None = None


@dataclass(frozen=True, eq=False)  # hashed by identity: the verification cache is per ring
class KeyRing:
    """The signing key and every key that still verifies."""

    algorithm: str
    signing_key: Any
    kid: str | None
    verify: dict[str | None, VerifyKey] = field(default_factory=dict)

    def jwks(self) -> dict:
        """The public keys as a JSON Web Key Set (empty for HS256)."""
        return {"keys": [k.jwk for k in self.verify.values() if k.jwk is not None]}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _public_jwk(public_key) -> tuple[str, dict]:
    """Algorithm and JWK (with RFC 7638 thumbprint as kid) for an RSA or Ed25519 public key."""
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < MIN_RSA_BITS:
            raise KeyConfigurationError(f"RSA keys must have at least {MIN_RSA_BITS} bits")
        algorithm, jwk = "RS256", RSAAlgorithm.to_jwk(public_key, as_dict=True)
        members = ("e", "kty", "n")
    elif isinstance(public_key, ed25519.Ed25519PublicKey):
        algorithm, jwk = "EdDSA", OKPAlgorithm.to_jwk(public_key, as_dict=True)
        members = ("crv", "kty", "x")
    else:
        raise KeyConfigurationError("JWT keys must be RSA (RS256) or Ed25519 (EdDSA)")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    kid = _b64(hashlib.sha256(canonical.encode()).digest())
    return algorithm, {**jwk, "kid": kid, "alg": algorithm, "use": "sig"}


def _read_pem(path: str, private: bool):
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise KeyConfigurationError(f"cannot read JWT key file {path}: {exc}") from exc
    try:
        if private:
            return serialization.load_pem_private_key(data, password=None)
        try:
            return serialization.load_pem_public_key(data)
        except ValueError:
            return serialization.load_pem_private_key(data, password=None).public_key()
    except (ValueError, TypeError) as exc:
        raise KeyConfigurationError(f"JWT key file {path} is not a usable PEM key") from exc


def load_keyring(config) -> KeyRing:
    """Build the key ring from the configuration; raises KeyConfigurationError when unusable."""
    wanted = (config.get("JWT_ALGORITHM") or "HS256").strip()
    private_file = config.get("JWT_PRIVATE_KEY_FILE")
    if not private_file:
        if wanted != "HS256":
            raise KeyConfigurationError(f"JWT_ALGORITHM={wanted} needs JWT_PRIVATE_KEY_FILE")
        secret = (config.get("JWT_SECRET_KEY") or "").encode()
        if len(secret) < 32:
            raise KeyConfigurationError("JWT_SECRET_KEY must be at least 32 bytes")
        return KeyRing("HS256", secret, None, {None: VerifyKey(None, "HS256", secret)})
    private_key = _read_pem(private_file, private=True)
    algorithm, jwk = _public_jwk(private_key.public_key())
    # HS256 is the setting's default; any other explicit value must agree with the key file.
    if wanted not in ("HS256", algorithm):
        raise KeyConfigurationError(f"JWT_ALGORITHM={wanted} does not match the key ({algorithm})")
    ring = KeyRing(algorithm, private_key, jwk["kid"])
    ring.verify[jwk["kid"]] = VerifyKey(jwk["kid"], algorithm, private_key.public_key(), jwk)
    previous_file = config.get("JWT_PREVIOUS_PUBLIC_KEY_FILE")
    if previous_file:
        previous = _read_pem(previous_file, private=False)
        prev_algorithm, prev_jwk = _public_jwk(previous)
        ring.verify.setdefault(
            prev_jwk["kid"], VerifyKey(prev_jwk["kid"], prev_algorithm, previous, prev_jwk)
        )
    return ring


def _signature(config) -> tuple:
    return tuple(
        config.get(name)
        for name in (
            "JWT_ALGORITHM",
            "JWT_SECRET_KEY",
            "JWT_PRIVATE_KEY_FILE",
            "JWT_PREVIOUS_PUBLIC_KEY_FILE",
        )
    )


def init_app(app: Flask) -> None:
    """Load the keys when the API is mounted, so a bad key file stops the start-up."""
    app.extensions[_EXTENSION] = (_signature(app.config), load_keyring(app.config))


def keyring() -> KeyRing:
    """The current app's key ring, rebuilt if the key settings changed since it was loaded."""
    config = current_app.config
    cached = current_app.extensions.get(_EXTENSION)
    signature = _signature(config)
    if cached is None or cached[0] != signature:
        cached = (signature, load_keyring(config))
        current_app.extensions[_EXTENSION] = cached
    return cached[1]


def issue(
    token_type: str, *, user_id: int, sid: str, expires_at: datetime, amr: list[str] | None = None
) -> str:
    """Sign a token of ``token_type`` for the session ``sid`` that expires at ``expires_at``.

    ``amr`` (RFC 8176 method names) says how the session's person signed in.
    """
    ring = keyring()
    config = current_app.config
    claims = {
        "iss": config["JWT_ISSUER"],
        "aud": config["JWT_AUDIENCE"],
        "sub": str(user_id),
        "iat": int(time.time()),
        "exp": int(expires_at.timestamp()),
        "jti": secrets.token_urlsafe(16),
        "type": token_type,
        "sid": sid,
    }
    if amr:
        claims["amr"] = list(amr)
    headers = {"kid": ring.kid} if ring.kid else None
    return jwt.encode(claims, ring.signing_key, algorithm=ring.algorithm, headers=headers)


def decode(token: Any, expected_type: str) -> dict:
    """Verify ``token`` and return its claims; raise InvalidToken for anything less than valid."""
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_LENGTH:
        raise InvalidToken("malformed")
    if token.count(".") != 2:
        raise InvalidToken("malformed")
    config = current_app.config
    verify = _verified if config["API_FAST_LOOKUP"] else _verified.__wrapped__
    claims = verify(keyring(), token, config["JWT_ISSUER"], config["JWT_AUDIENCE"])
    # A remembered verification says nothing about time: expiry is checked on every use.
    if claims["exp"] + LEEWAY_SECONDS <= now():
        raise InvalidToken("expired", "expired")
    if claims.get("type") != expected_type:
        raise InvalidToken("wrong token type")
    sub, sid = claims.get("sub"), claims.get("sid")
    if not (isinstance(sub, str) and sub.isascii() and sub.isdigit() and len(sub) <= 18):
        raise InvalidToken("bad subject")
    if not (isinstance(sid, str) and 0 < len(sid) <= 64):
        raise InvalidToken("bad session id")
    return dict(claims)


def now() -> float:
    """The current Unix time (a function, so tests can move the clock)."""
    return time.time()


# A client reuses its access token for up to ACCESS_TOKEN_EXPIRE_MINUTES, and checking the
# signature again on every request costs about as much as the session lookup itself. Only
# successful verifications are remembered, per key ring (a key change builds a new ring, so
# nothing verified with an old key survives it) and per issuer/audience; expiry and the token
# type are checked again on every use, and the session row is still read on every request.
@lru_cache(maxsize=VERIFIED_CACHE_SIZE)
def _verified(ring: KeyRing, token: str, issuer: str, audience: str) -> MappingProxyType:
    try:
        # The key is chosen by kid (HS256 has one key and no kid), and the algorithm comes from
        # the key, never from the token: PyJWT refuses a header alg outside ``algorithms``.
        key = ring.verify[None] if ring.kid is None else _key_for(ring, token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=[key.algorithm],
            audience=audience,
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("expired", "expired") from None
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise InvalidToken(type(exc).__name__) from None
    if not isinstance(claims.get("exp"), int):
        raise InvalidToken("bad expiry")
    return MappingProxyType(claims)


def _key_for(ring: KeyRing, token: str) -> VerifyKey:
    header = jwt.get_unverified_header(token)
    key = ring.verify.get(header.get("kid"))
    if key is None or header.get("alg") != key.algorithm:
        raise InvalidToken("unknown key or algorithm")
    return key


def expiry_of(claims: dict) -> datetime:
    """The ``exp`` claim as an aware datetime."""
    return datetime.fromtimestamp(int(claims["exp"]), UTC)
