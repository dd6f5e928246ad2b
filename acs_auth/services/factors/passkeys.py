"""Passkeys (WebAuthn, through py_webauthn): the ceremonies, and the credentials they leave.

Only policy lives here; the protocol (CBOR, COSE keys, attestation "none", signatures, the
origin, RP id and sign-count checks) is py_webauthn's. The relying party is derived from
APP_URL: its host is the RP id and its scheme://host[:port] the one accepted origin, so a
response made for another site, or on another address of this one, is refused.

Every ceremony has a challenge that is single use, bound to the browser session and short
lived: the session holds the challenge, the database only its SHA-256 and expiry, and a
response is checked only after that row has been deleted by it (so the same response, or the
same session cookie replayed, finds nothing the second time).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request
from sqlalchemy import delete, select
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import AuthSession, Passkey, PasskeyChallenge, User, utcnow
from acs_auth.services import audit
from acs_auth.services.mail import outbox
from acs_auth.services.signin import authentication
from acs_auth.services.text.characters import has_control_characters

# How long a browser has to answer a ceremony (issue 15: the pending state lives 5 minutes).
CHALLENGE_LIFETIME = timedelta(minutes=5)
REGISTER = "register"
SECOND_FACTOR = "second-factor"
SIGN_IN = "sign-in"
NAME_MAX = 100
# A credential JSON larger than this is no authenticator's answer (ids are at most 1023 bytes).
RESPONSE_MAX = 64 * 1024
_KNOWN_TRANSPORTS = {t.value for t in AuthenticatorTransport}


class PasskeyError(ValueError):
    """A ceremony was refused; ``str()`` is the message for the person."""


class CeremonyExpired(PasskeyError):
    """No live challenge for this session: expired, used already, or never asked for."""

    def __init__(self) -> None:
        super().__init__(messages.PASSKEY_CEREMONY_EXPIRED)


class PasskeyRejected(PasskeyError):
    """The browser's answer did not verify (wrong site, bad signature, replayed...).

    ``owner`` is the account the failure counts against, when one is known.
    """

    def __init__(self, message: str, owner: User | None = None) -> None:
        super().__init__(message)
        self.owner = owner


class PasskeyNotFound(LookupError):
    """No such passkey for this account."""


@dataclass(frozen=True)
class Ceremony:
    """What the browser is given (``options``, JSON) and what its session keeps (``state``)."""

    options: str
    state: dict[str, Any]


@dataclass(frozen=True)
class Assertion:
    """A verified assertion: the passkey used and the amr value it stands for."""

    passkey: Passkey
    user: User

    @property
    def amr(self) -> str:
        return self.passkey.amr


def relying_party() -> tuple[str, str]:
    """(RP id, origin) from APP_URL: the host, and scheme://host[:port] as browsers send it."""
    parts = urlsplit(current_app.config["APP_URL"])
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    return (parts.hostname or "").lower(), origin


def list_for(user: User) -> list[Passkey]:
    """The person's passkeys, oldest first."""
    stmt = select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.id)
    return list(db.session.scalars(stmt))


def clean_name(value: object) -> str:
    """A passkey's name as kept: trimmed, 1-100 characters, no control characters."""
    if not isinstance(value, str) or has_control_characters(value):
        raise PasskeyError(messages.PASSKEY_NAME_INVALID)
    name = value.strip()
    if not name or len(name) > NAME_MAX:
        raise PasskeyError(messages.PASSKEY_NAME_INVALID)
    return name


# --- challenges -----------------------------------------------------------------------------


def _challenge_hash(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


def _issue(purpose: str, user: User | None) -> bytes:
    """A fresh challenge row for ``purpose`` (expired rows of anyone are swept first)."""
    now = utcnow()
    db.session.execute(delete(PasskeyChallenge).where(PasskeyChallenge.expires_at <= now))
    challenge = secrets.token_bytes(32)
    db.session.add(
        PasskeyChallenge(
            challenge_hash=_challenge_hash(challenge),
            purpose=purpose,
            user_id=user.id if user is not None else None,
            expires_at=now + CHALLENGE_LIFETIME,
        )
    )
    return challenge


def _consume(state: object, purpose: str, user: User | None) -> dict[str, Any]:
    """Delete the live challenge ``state`` names; CeremonyExpired when there is none (no commit).

    The row must be for this purpose and this account, so a challenge issued to add a passkey
    cannot answer a sign-in, nor one issued to another person's second step.
    """
    if not isinstance(state, dict) or state.get("purpose") != purpose:
        raise CeremonyExpired()
    try:
        challenge = base64url_to_bytes(state["challenge"])
    except (KeyError, TypeError, ValueError):
        raise CeremonyExpired() from None
    stmt = delete(PasskeyChallenge).where(
        PasskeyChallenge.challenge_hash == _challenge_hash(challenge),
        PasskeyChallenge.purpose == purpose,
        PasskeyChallenge.expires_at > utcnow(),
        PasskeyChallenge.user_id.is_(None) if user is None else PasskeyChallenge.user_id == user.id,
    )
    if db.session.execute(stmt).rowcount != 1:
        raise CeremonyExpired()
    return {**state, "challenge": challenge}


def _response(raw: object) -> dict[str, Any]:
    """The browser's credential as a JSON object, or PasskeyRejected."""
    if isinstance(raw, str):
        if len(raw) > RESPONSE_MAX:
            raise PasskeyRejected(messages.PASSKEY_REJECTED)
        try:
            raw = json.loads(raw)
        except ValueError:
            raise PasskeyRejected(messages.PASSKEY_REJECTED) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise PasskeyRejected(messages.PASSKEY_REJECTED)
    return raw


def _descriptor(row: Passkey) -> PublicKeyCredentialDescriptor:
    transports = [AuthenticatorTransport(t) for t in row.transports if t in _KNOWN_TRANSPORTS]
    return PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(row.credential_id), transports=transports or None
    )


# --- registration ---------------------------------------------------------------------------


def start_registration(
    user: User, password: str, asking: AuthSession | None, name: object
) -> Ceremony:
    """Options for navigator.credentials.create(): a discoverable credential, no attestation.

    The current password is confirmed first, counting toward the lockout like any other
    check of it: a stolen session alone must not add a lasting way in. The person's existing
    passkeys are excluded, so one authenticator is not registered twice; all of a person's
    passkeys share one random user handle. Raises CurrentPasswordWrong, SignedOutByLock or
    PasskeyError.
    """
    label = clean_name(name)
    authentication.confirm_password(user, password, asking, "passkey.password_failed")
    rp_id, _origin = relying_party()
    existing = list_for(user)
    handle = existing[0].user_handle if existing else bytes_to_base64url(secrets.token_bytes(32))
    challenge = _issue(REGISTER, user)
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=current_app.config["APP_NAME"],
        user_name=user.email,
        user_id=base64url_to_bytes(handle),
        user_display_name=" ".join(filter(None, (user.first_name, user.last_name))) or user.email,
        challenge=challenge,
        timeout=int(CHALLENGE_LIFETIME.total_seconds() * 1000),
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[_descriptor(row) for row in existing],
    )
    db.session.commit()
    state = {
        "purpose": REGISTER,
        "challenge": bytes_to_base64url(challenge),
        "handle": handle,
        "name": label,
    }
    return Ceremony(options_to_json(options), state)


def finish_registration(user: User, state: object, credential: object) -> Passkey:
    """Verify the new credential and keep it under the name given at the start; audited and
    mailed (one commit). The challenge is used up whatever the outcome, so a refused answer
    cannot be retried.
    """
    try:
        data = _consume(state, REGISTER, user)
        label = clean_name(data.get("name"))
        response = _response(credential)
        rp_id, origin = relying_party()
        verified = verify_registration_response(
            credential=response,
            expected_challenge=data["challenge"],
            expected_rp_id=rp_id,
            expected_origin=origin,
        )
    except PasskeyError:
        db.session.commit()
        raise
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        audit.record("passkey.add_failed", actor=user, target=user, reason=_reason(exc))
        db.session.commit()
        raise PasskeyRejected(messages.PASSKEY_REJECTED) from None
    credential_id = bytes_to_base64url(verified.credential_id)
    taken = db.session.scalar(select(Passkey.id).where(Passkey.credential_id == credential_id))
    if taken is not None:
        audit.record("passkey.add_failed", actor=user, target=user, reason="already registered")
        db.session.commit()
        raise PasskeyRejected(messages.PASSKEY_ALREADY_REGISTERED)
    row = Passkey(
        public_id=secrets.token_urlsafe(16),
        user=user,
        credential_id=credential_id,
        user_handle=str(data.get("handle") or ""),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=_transports(response),
        device_type=str(verified.credential_device_type.value),
        backed_up=verified.credential_backed_up,
        aaguid=verified.aaguid,
        name=label,
    )
    db.session.add(row)
    db.session.flush()
    audit.record("passkey.added", actor=user, target=user, passkey=row.public_id, name=label)
    notify(user, "passkey_added", row)
    db.session.commit()
    return row


def _transports(response: dict[str, Any]) -> list[str]:
    found = (response.get("response") or {}).get("transports") or []
    return [t for t in found if isinstance(t, str) and t in _KNOWN_TRANSPORTS][:8]


def _reason(exc: Exception) -> str:
    """A short reason for the audit log (py_webauthn's message, without any input echoed)."""
    text = str(exc) if isinstance(exc, WebAuthnException) else type(exc).__name__
    return text.split('"', 1)[0].strip()[:120] or "invalid"


def notify(user: User, kind: str, row: Passkey) -> None:
    """Tell the owner a passkey was added or removed (no commit)."""
    outbox.queue(
        kind,
        user.email,
        user=user,
        passkey=row,
        when=utcnow(),
        ip=request.remote_addr if has_request_context() else None,
    )


# --- assertions -----------------------------------------------------------------------------


def start_assertion(user: User | None) -> Ceremony:
    """Options for navigator.credentials.get().

    ``user`` None: the passwordless first factor, with discoverable credentials (the
    authenticator offers the passkeys it holds for this site) and user verification required,
    since the passkey is the whole sign-in. With ``user``: the second step after the password,
    limited to that person's passkeys.
    """
    rp_id, _origin = relying_party()
    purpose = SIGN_IN if user is None else SECOND_FACTOR
    challenge = _issue(purpose, user)
    options = generate_authentication_options(
        rp_id=rp_id,
        challenge=challenge,
        timeout=int(CHALLENGE_LIFETIME.total_seconds() * 1000),
        allow_credentials=[_descriptor(row) for row in list_for(user)] if user else [],
        user_verification=UserVerificationRequirement.REQUIRED
        if user is None
        else UserVerificationRequirement.PREFERRED,
    )
    db.session.commit()
    state = {"purpose": purpose, "challenge": bytes_to_base64url(challenge)}
    return Ceremony(options_to_json(options), state)


def finish_assertion(state: object, credential: object, user: User | None = None) -> Assertion:
    """Verify an assertion; the passkey's sign count and last use are updated (no commit).

    Raises CeremonyExpired, or PasskeyRejected naming (``owner``) the account a failure
    counts against: the passkey's owner, or ``user`` in a second step. The caller counts it
    and commits (the challenge is gone either way). Whether the account may sign in at all is
    the sign-in seam's to judge.
    """
    purpose = SIGN_IN if user is None else SECOND_FACTOR
    data = _consume(state, purpose, user)
    response = _response(credential)
    row = db.session.scalar(select(Passkey).where(Passkey.credential_id == response["id"]))
    if row is None or (user is not None and row.user_id != user.id):
        # An unknown or removed credential: only a second step has an account to count against.
        audit.record("passkey.unknown", target=user, step=purpose)
        raise PasskeyRejected(messages.PASSKEY_REJECTED, owner=user)
    rp_id, origin = relying_party()
    try:
        _check_user_handle(response, row)
        verified = verify_authentication_response(
            credential=response,
            expected_challenge=data["challenge"],
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=row.public_key,
            credential_current_sign_count=row.sign_count,
            require_user_verification=user is None,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        audit.record("passkey.refused", target=row.user, passkey=row.public_id, reason=_reason(exc))
        raise PasskeyRejected(messages.PASSKEY_REJECTED, owner=row.user) from None
    row.sign_count = verified.new_sign_count
    row.backed_up = verified.credential_backed_up
    row.last_used_at = utcnow()
    return Assertion(passkey=row, user=row.user)


def _check_user_handle(response: dict[str, Any], row: Passkey) -> None:
    """A discoverable credential names its account; it must be the one the key belongs to."""
    handle = (response.get("response") or {}).get("userHandle")
    if handle and handle != row.user_handle:
        raise PasskeyRejected("user handle does not match")
