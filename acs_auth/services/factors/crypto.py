"""Second-factor secrets encrypted at rest with MFA_ENCRYPTION_KEYS (Fernet, rotatable).

``MFA_ENCRYPTION_KEYS`` is a comma-separated list of Fernet keys: the first one encrypts, every
one decrypts (cryptography's MultiFernet), so a new key goes in front and the old one stays
behind it while ``flask mfa rotate-key`` encrypts every stored secret again with the new one;
then the old key is dropped (docs/operations.md, "Rotating secrets"). Production refuses to
start without a key; development and testing derive one from SECRET_KEY when none is set, so a
laptop needs no extra secret (and loses its authenticators when its SECRET_KEY changes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app
from sqlalchemy import select

from acs_auth.checks import REFUSAL, UnsafeConfiguration
from acs_auth.extensions import db
from acs_auth.models import TotpFactor

SETTING = "MFA_ENCRYPTION_KEYS"
_SEPARATORS = re.compile(r"[\s,]+")
_DERIVATION_LABEL = b"acs_auth second-factor encryption key"
GENERATE_HINT = (
    "generate one with: python -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())'"
)


class SecretUnreadable(ValueError):
    """A stored secret that none of the configured keys decrypts (its key was dropped)."""


def configured_keys(cfg) -> list[str]:
    """The keys the operator set, in order (first encrypts); empty when unset."""
    value = cfg.get(SETTING)
    if not value:
        return []
    if isinstance(value, str):
        return [key for key in _SEPARATORS.split(value.strip()) if key]
    return [str(key) for key in value if key]


def _derived_key(cfg) -> bytes:
    """Outside production, a key derived from SECRET_KEY (stable while SECRET_KEY is)."""
    digest = hmac.new(cfg["SECRET_KEY"].encode(), _DERIVATION_LABEL, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest)


def _problems(cfg) -> list[str]:
    keys = configured_keys(cfg)
    if not keys and cfg["ENV_NAME"] == "production":
        return [f"{SETTING} is not set: second-factor secrets need a key ({GENERATE_HINT})"]
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, TypeError):
            return [f"{SETTING} holds a value that is not a Fernet key ({GENERATE_HINT})"]
    return []


def init_app(app: Flask) -> None:
    """Refuse a missing key in production, and an unreadable key anywhere (keys never printed)."""
    problems = _problems(app.config)
    if problems:
        raise UnsafeConfiguration(REFUSAL + "; ".join(problems))


def _keys(cfg) -> list[bytes]:
    keys = [key.encode() for key in configured_keys(cfg)]
    return keys or [_derived_key(cfg)]


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in _keys(current_app.config)])


def encrypt(secret: str) -> str:
    """``secret`` encrypted with the first key (a Fernet token, url-safe text)."""
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    """The secret in ``token``, with whichever configured key encrypted it."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable() from None


def under_first_key(token: str) -> bool:
    """True when ``token`` is encrypted with the first (current) key."""
    first = Fernet(_keys(current_app.config)[0])
    try:
        first.decrypt(token.encode())
    except InvalidToken:
        return False
    return True


@dataclass(frozen=True)
class Survey:
    """What the stored secrets look like under the configured keys."""

    total: int
    unreadable: int  # no configured key decrypts them
    behind: int  # readable, but not under the first key yet


def survey() -> Survey:
    """Count the stored secrets that are unreadable or still under an older key (no change)."""
    unreadable = behind = 0
    tokens = db.session.scalars(select(TotpFactor.secret)).all()
    for token in tokens:
        if under_first_key(token):
            continue
        try:
            decrypt(token)
        except SecretUnreadable:
            unreadable += 1
        else:
            behind += 1
    return Survey(total=len(tokens), unreadable=unreadable, behind=behind)


def reencrypt_all() -> Survey:
    """Encrypt every readable secret again with the first key, in one transaction.

    Returns the survey as it was before: ``behind`` secrets were moved to the first key,
    ``unreadable`` ones were left as they are (their key is gone: those people enrol again).
    """
    before = survey()
    fernet = _fernet()
    for row in db.session.scalars(select(TotpFactor)):
        try:
            row.secret = fernet.rotate(row.secret.encode()).decode()
        except InvalidToken:
            continue
    db.session.commit()
    return before
