"""Password policy, hashing and history: one implementation for every path that sets a password."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete, select, update

from acs_auth import messages
from acs_auth.extensions import bcrypt, db
from acs_auth.models import PasswordHistory, User, utcnow
from acs_auth.services.accounts import password_strength

# Hash of a random string, computed once per process: unknown accounts are checked against it
# so that a sign-in for an unknown email costs the same bcrypt work as a real one.
_dummy_hash: str | None = None


class PasswordRejected(ValueError):
    """The password does not meet the policy; ``str(exc)`` is the reason to show."""


@dataclass(frozen=True)
class PolicyContext:
    """Words zxcvbn should treat as guessable for this person."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None

    def words(self) -> list[str]:
        """The person's email, its parts and their names, lower-cased, longest first."""
        words: set[str] = set()
        if self.email:
            local, _, domain = self.email.partition("@")
            words |= {self.email, local, domain.split(".")[0], *_WORD_SPLIT.split(local)}
        for name in (self.first_name, self.last_name):
            if name:
                words |= {name, *_WORD_SPLIT.split(name)}
        words.add(current_app.config["APP_NAME"])
        words |= set(_WORD_SPLIT.split(current_app.config["APP_NAME"]))
        kept = {w.strip().lower() for w in words if len(w.strip()) >= _MIN_WORD}
        return sorted(kept, key=lambda w: (-len(w), w))

    @classmethod
    def of(cls, user: User) -> PolicyContext:
        """The context of an existing (or about to be created) account."""
        return cls(email=user.email, first_name=user.first_name, last_name=user.last_name)


# Parts of an email or a name: "ada.lovelace+x@example.org" -> "ada", "lovelace", "x" ...
_WORD_SPLIT = re.compile(r"[\s._+\-@']+")
# Shorter fragments match inside too many unrelated words to say anything about a password.
_MIN_WORD = 3


def _score(password: str, words: list[str]) -> password_strength.Strength:
    # zxcvbn itself costs seconds on some 128-character passwords (issue 12); the estimate
    # bounds what it looks at and how many l33t readings it tries (password_strength).
    return password_strength.estimate(password, words, current_app.config["PASSWORD_MIN_SCORE"])


def _without_personal_words(password: str, words: list[str]) -> str:
    """``password`` with every occurrence of the person's words removed (case-insensitively)."""
    remainder = password
    for _ in range(len(words)):
        before = remainder
        for word in words:
            remainder = re.sub(re.escape(word), "", remainder, flags=re.IGNORECASE)
        if remainder == before:
            break
    return remainder


def check_policy(password: str, context: PolicyContext | None = None) -> None:
    """Raise PasswordRejected with the reason when ``password`` breaks the policy."""
    cfg = current_app.config
    if not isinstance(password, str) or not _encodable(password):
        raise PasswordRejected(messages.PASSWORD_INVALID_CHARACTERS)
    length = len(password)  # Python counts code points, which is what the policy means.
    if length < cfg["PASSWORD_MIN_LENGTH"]:
        raise PasswordRejected(messages.PASSWORD_TOO_SHORT.format(n=cfg["PASSWORD_MIN_LENGTH"]))
    if length > cfg["PASSWORD_MAX_LENGTH"]:
        raise PasswordRejected(messages.PASSWORD_TOO_LONG.format(n=cfg["PASSWORD_MAX_LENGTH"]))
    if cfg["PASSWORD_REQUIRE_CHARACTER_CLASSES"] and not (
        any(c.islower() for c in password)
        and any(c.isupper() for c in password)
        and any(c.isdigit() for c in password)
    ):
        raise PasswordRejected(messages.PASSWORD_NEEDS_CLASSES)
    words = (context or PolicyContext()).words()
    strength = _score(password, words)
    if strength.score < cfg["PASSWORD_MIN_SCORE"]:
        reason = [messages.PASSWORD_TOO_WEAK, strength.warning]
        raise PasswordRejected(" ".join(filter(None, reason)))
    # NIST SP 800-63B: context words (names, the email, the service's name) add no strength.
    # zxcvbn only discounts them as dictionary words, so "AdaLovelace2024!" still scores 3;
    # what is left once they are removed must be strong enough on its own.
    remainder = _without_personal_words(password, words)
    if remainder != password and _score(remainder, words).score < cfg["PASSWORD_MIN_SCORE"]:
        raise PasswordRejected(messages.PASSWORD_PERSONAL)


def _encodable(password: str) -> bool:
    """False for lone surrogates (possible through JSON), which bcrypt cannot hash."""
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def hash_password(password: str) -> str:
    """bcrypt hash; Flask-Bcrypt pre-hashes with SHA-256 so long passwords are never truncated."""
    return bcrypt.generate_password_hash(password).decode("ascii")


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password`` against ``password_hash``; a missing hash still costs one bcrypt check."""
    if not password or not isinstance(password, str) or not _encodable(password):
        password, password_hash = "\0", None  # never matches, still pays one bcrypt check
    if password_hash is None:
        bcrypt.check_password_hash(_dummy(), password)
        return False
    return bcrypt.check_password_hash(password_hash, password)


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password("dummy password for timing equality")
    return _dummy_hash


def was_used_recently(user: User, password: str) -> bool:
    """True when ``password`` is the current one or one of the last PASSWORD_HISTORY ones."""
    hashes = [user.password_hash] if user.password_hash else []
    hashes += db.session.scalars(
        select(PasswordHistory.password_hash)
        .where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.id.desc())
        .limit(current_app.config["PASSWORD_HISTORY"])
    ).all()
    return any(bcrypt.check_password_hash(h, password) for h in hashes)


class PasswordStateChanged(RuntimeError):
    """Another request changed this password first (a link used twice in parallel)."""


def apply_new_password(user: User, password: str) -> None:
    """Validate and set ``password`` on ``user`` in the current transaction (no commit).

    The hash is swapped with a compare-and-set UPDATE against the hash the caller saw, so of
    two requests racing with one emailed link exactly one wins (PasswordStateChanged for the
    other). Keeps the old hash in the history, clears any lock, bumps password_changed_at; the
    new hash also invalidates every emailed token bound to the old one.
    """
    check_policy(password, PolicyContext.of(user))
    if was_used_recently(user, password):
        raise PasswordRejected(messages.PASSWORD_REUSED)
    old = user.password_hash
    new = hash_password(password)
    now = utcnow()
    same_state = User.password_hash.is_(None) if old is None else User.password_hash == old
    swapped = db.session.execute(
        update(User)
        .where(User.id == user.id, same_state)
        .values(
            password_hash=new,
            password_changed_at=now,
            updated_at=now,
            failed_login_count=0,
            locked_until=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if swapped != 1:
        raise PasswordStateChanged()
    if old:
        db.session.add(PasswordHistory(user_id=user.id, password_hash=old))
        _trim_history(user)
    db.session.refresh(
        user, ["password_hash", "password_changed_at", "failed_login_count", "locked_until"]
    )


def _trim_history(user: User) -> None:
    keep = current_app.config["PASSWORD_HISTORY"]
    db.session.flush()
    ids = db.session.scalars(
        select(PasswordHistory.id)
        .where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.id.desc())
        .offset(keep)
    ).all()
    if ids:
        db.session.execute(delete(PasswordHistory).where(PasswordHistory.id.in_(ids)))


def fingerprint(password_hash: str | None, key: str | None = None) -> str:
    """A short digest of the password state that emailed tokens are bound to (SECRET_KEY)."""
    secret = (key or current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, (password_hash or "<none>").encode(), "sha256").hexdigest()[:24]
