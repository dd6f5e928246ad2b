"""A small software authenticator: real WebAuthn responses signed with an EC P-256 key.

It does what a browser and a platform authenticator do together in a ceremony: it builds the
clientDataJSON (type, challenge, origin), the authenticator data (RP id hash, flags, sign
count, and at registration the credential's COSE public key), attestation "none", and an ES256
signature over authenticatorData || SHA-256(clientDataJSON). Tests hand its answers to the
server unchanged, or change one thing (the origin, the RP id, the sign count) to see it refused.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    """One key pair the authenticator holds for an RP, with its user handle and counter."""

    rp_id: str
    user_handle: bytes
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    id: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    sign_count: int = 0

    def cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )


class SoftAuthenticator:
    """Creates credentials and assertions for ``origin``, as a browser on that origin would.

    ``synced`` sets the backup-eligible and backed-up flags (a synced passkey, amr ``swk``);
    otherwise the credential is bound to this device (``hwk``).
    """

    def __init__(self, origin: str = "http://portal.test", synced: bool = False):
        self.origin = origin
        self.synced = synced
        self.credentials: list[Credential] = []

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        body = {
            "type": kind,
            "challenge": challenge,
            "origin": origin or self.origin,
            "crossOrigin": False,
        }
        return json.dumps(body, separators=(",", ":")).encode()

    def _flags(self, verified: bool) -> int:
        flags = UP | (UV if verified else 0)
        return flags | (BE | BS if self.synced else 0)

    def create(
        self,
        options: dict | str,
        *,
        origin: str | None = None,
        rp_id: str | None = None,
    ) -> dict:
        """The answer of navigator.credentials.create() to ``options``, as JSON."""
        options = json.loads(options) if isinstance(options, str) else options
        cred = Credential(rp_id=options["rp"]["id"], user_handle=unb64url(options["user"]["id"]))
        self.credentials.append(cred)
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        auth_data = (
            hashlib.sha256((rp_id or cred.rp_id).encode()).digest()
            + bytes([self._flags(True) | AT])
            + struct.pack(">I", cred.sign_count)
            + bytes(16)  # AAGUID: none given with attestation "none"
            + struct.pack(">H", len(cred.id))
            + cred.id
            + cred.cose_key()
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return _public_key_credential(
            cred,
            clientDataJSON=b64url(client_data),
            attestationObject=b64url(attestation),
            transports=["internal"],
        )

    def get(
        self,
        options: dict | str,
        *,
        credential: Credential | None = None,
        origin: str | None = None,
        rp_id: str | None = None,
        sign_count: int | None = None,
        verified: bool = True,
    ) -> dict:
        """The answer of navigator.credentials.get() to ``options``, as JSON.

        Without ``credential`` it uses one the options allow, or (a discoverable request) the
        newest credential for the RP. Each use adds one to the credential's counter unless
        ``sign_count`` says what to report.
        """
        options = json.loads(options) if isinstance(options, str) else options
        cred = credential or self._pick(options)
        if sign_count is None:
            cred.sign_count += 1
            sign_count = cred.sign_count
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        auth_data = (
            hashlib.sha256((rp_id or cred.rp_id).encode()).digest()
            + bytes([self._flags(verified)])
            + struct.pack(">I", sign_count)
        )
        signature = cred.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return _public_key_credential(
            cred,
            clientDataJSON=b64url(client_data),
            authenticatorData=b64url(auth_data),
            signature=b64url(signature),
            userHandle=b64url(cred.user_handle),
        )

    def _pick(self, options: dict) -> Credential:
        allowed = {item["id"] for item in options.get("allowCredentials") or []}
        for cred in reversed(self.credentials):
            if cred.rp_id == options["rpId"] and (not allowed or b64url(cred.id) in allowed):
                return cred
        raise LookupError("no credential for these options")


def _public_key_credential(cred: Credential, **response) -> dict:
    """A PublicKeyCredential as its toJSON() gives it, around the ceremony's ``response``."""
    return {
        "id": b64url(cred.id),
        "rawId": b64url(cred.id),
        "type": "public-key",
        "authenticatorAttachment": "platform",
        "clientExtensionResults": {},
        "response": response,
    }
