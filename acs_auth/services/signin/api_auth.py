"""Who is calling the API: a Bearer access token or an X-API-Key, resolved in one query.

Only these two headers are read. The browser's session cookie is never consulted (so the API
needs no CSRF protection), and credentials in the URL are never looked at.

The lookup is one SELECT (session or key, account and programs) whose rows become a read-only
``Caller``: reading endpoints (me, programs) answer from it without a second query. Views that
change something ask the Principal for the ORM ``user`` / ``session``, loaded on first use.
The statements are plain Core ``select()``s; ``credential_lookup.lookup`` runs them (the fast
way and what it gains: that module, and docs/performance.md, "JSON API").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import request
from sqlalchemy import Select, bindparam, func, literal_column, or_, select

from acs_auth.extensions import db
from acs_auth.models import ApiKey, AuthSession, Role, SessionKind, User, UserProgram, utcnow
from acs_auth.services.signin import api_keys, credential_lookup, jwt_tokens, sessions
from acs_auth.services.text.identifiers import split_joined_programs

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_USER_COLUMNS = (
    User.id,
    User.email,
    User.username,
    User.first_name,
    User.last_name,
    User.role,
    User.email_verified_at,
    User.created_at,
    User.last_login_at,
)
# The account's LO Root IDs in one column, so the lookup is one row whatever the number of
# programs (IDs never contain whitespace: identifiers.PROGRAM_ID_PATTERN guards every way in).
PROGRAMS_SEPARATOR = " "
_SEPARATOR_SQL = literal_column(f"'{PROGRAMS_SEPARATOR}'")
_PROGRAMS = (
    # The separator is written into the SQL: given as a str, SQLAlchemy would make it a
    # render-at-execution parameter, which credential_lookup's PreparedSelect does not take.
    select(func.aggregate_strings(UserProgram.lo_root_id, _SEPARATOR_SQL))
    .where(UserProgram.user_id == User.id)
    .scalar_subquery()
    .label("programs")
)
_SESSION_LOOKUP = (
    select(
        AuthSession.id.label("credential_id"),
        AuthSession.remember,
        AuthSession.last_used_at,
        *_USER_COLUMNS,
        _PROGRAMS,
    )
    .join(User, User.id == AuthSession.user_id)
    .where(
        AuthSession.public_id == bindparam("sid"),
        AuthSession.user_id == bindparam("uid"),
        AuthSession.kind == SessionKind.API.value,
        *sessions.live_filter(bindparam("now")),
        User.is_active_flag.is_(True),
    )
)
_KEY_LOOKUP = (
    select(
        ApiKey.id.label("credential_id"),
        ApiKey.scopes,
        ApiKey.last_used_at,
        *_USER_COLUMNS,
        _PROGRAMS,
    )
    .join(User, User.id == ApiKey.user_id)
    .where(
        ApiKey.key_hash == bindparam("digest"),
        ApiKey.revoked_at.is_(None),
        or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > bindparam("now")),
        User.is_active_flag.is_(True),
    )
)


class Unauthenticated(Exception):
    """No usable credential; ``str(exc)`` is a short reason for the log, never for the client.

    ``kind``: "missing" (no credential), "expired" (an access token past its lifetime), "ended"
    (its session was revoked) or "invalid"; the API names it in the problem's type.
    """

    def __init__(self, reason: str, kind: str = "invalid"):
        super().__init__(reason)
        self.kind = kind


@dataclass(frozen=True)
class Caller:
    """A read-only snapshot of the calling account (an Account, models.account), with the
    attributes serializers read."""

    id: int
    email: str
    username: str | None
    first_name: str | None
    last_name: str | None
    role: str
    email_verified_at: datetime | None
    created_at: datetime
    last_login_at: datetime | None
    program_ids: list[str] = field(default_factory=list)
    # Only an active account's credentials resolve, so a Caller is always active (an Account).
    is_active: bool = True

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value


def snapshot(user: User, programs: list[str] | None = None) -> Caller:
    """The Caller of an ORM account; its programs are read unless given."""
    values = {c.key: getattr(user, c.key) for c in _USER_COLUMNS}
    return Caller(**values, program_ids=user.program_ids if programs is None else programs)


@dataclass
class Principal:
    """The authenticated caller: their account, and either their API session or their key."""

    caller: Caller
    session_id: int | None = None
    session_public_id: str | None = None
    remember: bool = False
    key_id: int | None = None
    key_scopes: tuple[str, ...] = ()
    claims: dict | None = None
    _user: User | None = None

    @property
    def via_key(self) -> bool:
        return self.key_id is not None

    @property
    def scope(self) -> str:
        """``full`` for a bearer token; the key's scope (``read``, ``full`` or ``admin``)."""
        if not self.via_key:
            return "full"
        return api_keys.scope_of(self.key_scopes)

    def may(self, method: str) -> bool:
        """True when this credential's scope allows a request with ``method``."""
        return self.scope != "read" or method in SAFE_METHODS

    @property
    def may_administer(self) -> bool:
        """True when this credential may reach /api/admin (the role is checked apart).

        A bearer token may; an API key only with the admin scope, so the read or full key of
        an administrator's script is not a way into account administration.
        """
        return not self.via_key or self.scope == "admin"

    @property
    def user(self) -> User:
        """The ORM account, for services that change it (loaded on first use)."""
        if self._user is None:
            self._user = db.session.get(User, self.caller.id)
        return self._user

    @property
    def session(self) -> AuthSession | None:
        """The ORM session row of a bearer token (None for an API key)."""
        return db.session.get(AuthSession, self.session_id) if self.session_id else None


def authenticate() -> Principal:
    """Resolve the request's credential to a Principal or raise Unauthenticated."""
    header = request.headers.get("Authorization")
    key = request.headers.get("X-API-Key")
    if header is not None and key is not None:
        raise Unauthenticated("both a bearer token and an API key")
    if key is not None:
        return from_api_key(key.strip())
    if header is None:
        raise Unauthenticated("no credential", "missing")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthenticated("not a bearer credential")
    return from_access_token(value.strip())


def _lookup(query: Select, params: dict):
    """Run one lookup; the caller and the credential's row."""
    rows = credential_lookup.lookup(query, params)
    if not rows:
        return None
    (row,) = rows  # session ids and key digests are unique
    programs = split_joined_programs(row.programs, PROGRAMS_SEPARATOR)
    values = {c.key: getattr(row, c.key) for c in _USER_COLUMNS}
    return Caller(**values, program_ids=programs), row


def from_access_token(token: str) -> Principal:
    """Verify an access token and load its live session, account and programs in one query.

    The session row decides, not the token alone: logout, a password change, deactivation and
    an admin's "sign out everywhere" revoke the row, so the token dies on the next request, and
    the role is read from the database every time.
    """
    try:
        claims = jwt_tokens.decode(token, jwt_tokens.ACCESS)
    except jwt_tokens.InvalidToken as exc:
        raise Unauthenticated(f"invalid token: {exc}", exc.kind) from None
    params = {"sid": claims["sid"], "uid": int(claims["sub"]), "now": utcnow()}
    found = _lookup(_SESSION_LOOKUP, params)
    if found is None:
        raise Unauthenticated("session ended", "ended")
    caller, row = found
    sessions.touch(AuthSession, row.credential_id, row.last_used_at)
    return Principal(
        caller,
        session_id=row.credential_id,
        session_public_id=claims["sid"],
        remember=bool(row.remember),
        claims=claims,
    )


def from_api_key(raw: str) -> Principal:
    """Look up a live key of an active account by its SHA-256, in one query."""
    if not api_keys.well_formed(raw):
        raise Unauthenticated("malformed API key")
    found = _lookup(_KEY_LOOKUP, {"digest": api_keys.digest(raw), "now": utcnow()})
    if found is None:
        raise Unauthenticated("unknown, revoked or expired API key")
    caller, row = found
    sessions.touch(ApiKey, row.credential_id, row.last_used_at)
    return Principal(caller, key_id=row.credential_id, key_scopes=tuple(row.scopes or ()))
