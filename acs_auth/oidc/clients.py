"""Client registration by administrators: the checks, the one-time secret, the audit rows."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import OAuthClient, User
from acs_auth.oidc.store import digest
from acs_auth.services import audit
from acs_auth.services.programs import catalogue
from acs_auth.services.text.characters import has_control_characters
from acs_auth.services.text.identifiers import is_program_id, program_list

MAX_URIS = 20

CLIENT_NAME_MAX = 100


class ClientInvalid(ValueError):
    """The registration is not acceptable; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class Registered:
    """A new client and its secret (None for a public client), shown once."""

    client: OAuthClient
    secret: str | None


def check_uri(value: str) -> str:
    """An absolute http(s) URI without fragment or credentials (matched exactly later)."""
    value = (value or "").strip()
    parts = urlsplit(value)
    if (
        len(value) > 2000
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.fragment
        or parts.username
        or any(ord(c) < 33 or c == "\\" for c in value)
    ):
        raise ValueError(value)
    return value


def _uris(values, field: str, errors: dict) -> list[str]:
    out = []
    for value in [v for v in (values or []) if v and v.strip()][:MAX_URIS]:
        try:
            out.append(check_uri(value))
        except ValueError:
            errors[field] = messages.OIDC_URI_INVALID.format(uri=value[:80])
    return out


def _fields(name, redirect_uris, post_logout_redirect_uris, backchannel_uri, programs) -> dict:
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name or len(name) > CLIENT_NAME_MAX or has_control_characters(name):
        errors["name"] = messages.PROGRAM_NAME_INVALID
    redirects = _uris(redirect_uris, "redirect_uris", errors)
    if not redirects and "redirect_uris" not in errors:
        errors["redirect_uris"] = messages.OIDC_REDIRECT_REQUIRED
    post_logout = _uris(post_logout_redirect_uris, "post_logout_redirect_uris", errors)
    backchannel = _uris(
        [backchannel_uri] if backchannel_uri else [], "backchannel_logout_uri", errors
    )
    programs = program_list(programs or [])
    bad = [p for p in programs if not is_program_id(p)]
    if bad:
        errors["programs"] = messages.ADMIN_PROGRAMS_INVALID.format(value=bad[0][:40])
    unknown = [] if bad else catalogue.unknown_ids(programs)
    if unknown:
        errors["programs"] = messages.PROGRAMS_UNKNOWN.format(ids=", ".join(unknown[:10]))
    if errors:
        raise ClientInvalid(errors)
    return {
        "name": name,
        "redirect_uris": redirects,
        "post_logout_redirect_uris": post_logout,
        "backchannel_logout_uri": backchannel[0] if backchannel else None,
        "programs": programs,
    }


def register(
    name: str,
    *,
    redirect_uris: list[str],
    post_logout_redirect_uris: list[str] = (),
    backchannel_logout_uri: str | None = None,
    programs: list[str] = (),
    first_party: bool = False,
    public: bool = False,
    actor: User | None = None,
) -> Registered:
    """Register a client (one commit); the secret is returned here and never again."""
    fields = _fields(
        name, redirect_uris, post_logout_redirect_uris, backchannel_logout_uri, programs
    )
    secret = None if public else secrets.token_urlsafe(32)
    client = OAuthClient(
        client_id=secrets.token_urlsafe(16),
        secret_hash=digest(secret) if secret else None,
        first_party=bool(first_party),
        **fields,
    )
    db.session.add(client)
    audit.record(
        "oidc.client_registered",
        actor=actor,
        client=client.client_id,
        name=client.name,
        public=public,
        first_party=bool(first_party),
    )
    db.session.commit()
    return Registered(client, secret)


def update(client: OAuthClient, *, actor: User | None, active: bool | None = None, **changes):
    """Change a client's registration (same checks as register); one commit."""
    current = {
        "name": client.name,
        "redirect_uris": client.redirect_uris,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "backchannel_uri": client.backchannel_logout_uri,
        "programs": client.programs,
    }
    if "backchannel_logout_uri" in changes:
        changes["backchannel_uri"] = changes.pop("backchannel_logout_uri")
    current.update({k: v for k, v in changes.items() if k in current})
    fields = _fields(**current)
    for key, value in fields.items():
        setattr(client, key, value)
    if "first_party" in changes:
        client.first_party = bool(changes["first_party"])
    if active is not None:
        client.active = bool(active)
    audit.record("oidc.client_updated", actor=actor, client=client.client_id)
    db.session.commit()
    return client


def rotate_secret(client: OAuthClient, *, actor: User | None) -> str:
    """A new secret for a confidential client (the old one stops working); one commit."""
    secret = secrets.token_urlsafe(32)
    client.secret_hash = digest(secret)
    audit.record("oidc.client_secret_rotated", actor=actor, client=client.client_id)
    db.session.commit()
    return secret


def all_clients() -> list[OAuthClient]:
    """Every registered client, by name."""
    return list(db.session.scalars(select(OAuthClient).order_by(OAuthClient.name)))


def get(client_id: str) -> OAuthClient | None:
    """The client with ``client_id`` (active or not), or None."""
    if not isinstance(client_id, str) or len(client_id) > 64:
        return None
    return db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
