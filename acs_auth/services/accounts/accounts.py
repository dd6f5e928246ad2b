"""Account self-service and account administration shared by pages, API and CLI."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import AuthSession, Role, Source, User, UserProgram, utcnow
from acs_auth.services import audit
from acs_auth.services.accounts import passwords
from acs_auth.services.mail import letters, outbox
from acs_auth.services.signin import api_keys, sessions

# change_password raises these two; callers catch them as accounts.<name>.
from acs_auth.services.signin.authentication import CurrentPasswordWrong as CurrentPasswordWrong
from acs_auth.services.signin.authentication import SignedOutByLock as SignedOutByLock
from acs_auth.services.signin.authentication import confirm_password
from acs_auth.services.text.addresses import email_key, validate_address
from acs_auth.services.text.characters import has_control_characters
from acs_auth.services.text.identifiers import USERNAME_PATTERN, program_list
from acs_auth.services.text.names import NAME_MAX


class AccountExists(ValueError):
    """An account with this email (or username) already exists."""


class ProfileInvalid(ValueError):
    """A profile value breaks the rules: ``field`` names it, ``str(exc)`` is the reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


def _clean_name(field: str, value: str | None) -> str | None:
    value = (value or "").strip()
    if len(value) > NAME_MAX:
        raise ProfileInvalid(field, messages.FIELD_TOO_LONG)
    if has_control_characters(value):
        raise ProfileInvalid(field, messages.FIELD_INVALID_CHARACTERS)
    return value or None


def _clean_username(value: str | None) -> str | None:
    value = (value or "").strip()
    if value and not USERNAME_PATTERN.fullmatch(value):
        raise ProfileInvalid("username", messages.USERNAME_INVALID)
    return value or None


def change_password(
    user: User,
    current: str,
    new: str,
    keep: AuthSession | None,
    asking: AuthSession | None = None,
    revoke_keys: bool = False,
) -> None:
    """Change the password after checking the current one; other sessions end (one commit).

    A wrong current password counts toward the lockout and, once the account is locked, ends
    the session ``asking`` (``keep`` when not given): CurrentPasswordWrong / SignedOutByLock.
    ``revoke_keys`` also revokes every API key of the account (the person's choice).
    """
    confirm_password(user, current, asking or keep, "password.change_failed")
    try:
        passwords.apply_new_password(user, new)
    except passwords.PasswordStateChanged:
        db.session.rollback()
        raise CurrentPasswordWrong() from None
    sessions.revoke_all(user, reason="password_changed", keep=keep)
    keys = api_keys.revoke_all(user) if revoke_keys else 0
    outbox.queue("password_changed", user.email, user=user, when=utcnow())
    audit.record("password.changed", actor=user, target=user, api_keys_revoked=keys)
    db.session.commit()


def update_profile(
    user: User, *, first_name: str | None, last_name: str | None, username: str | None
) -> None:
    """Update the names and username a person may change themselves (one commit).

    Only these three fields exist here: email, role and activity are never self-service.
    Raises ProfileInvalid for a bad value and AccountExists("username") for a taken username.
    """
    first, last = _clean_name("first_name", first_name), _clean_name("last_name", last_name)
    username = _clean_username(username)
    user.first_name, user.last_name = first, last
    user.username = username
    user.username_key = username.lower() if username else None
    audit.record("account.profile_updated", actor=user, target=user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise AccountExists("username") from None


def add_new_user(user: User) -> None:
    """Add ``user`` and flush (no commit); AccountExists when its email is already taken.

    The unique email key decides, so two requests creating one account race safely.
    """
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise AccountExists("email") from None


def create_user(
    email: str,
    *,
    role: str = Role.USER.value,
    actor: User | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    programs: list[str] | None = None,
    source: Source = Source.ADMIN,
    send_setup: bool = True,
) -> User:
    """Create an account without a password and queue its setup email (one commit)."""
    address = validate_address(email)
    user = User(
        email=address,
        email_key=email_key(address),
        role=Role(role).value,
        first_name=first_name,
        last_name=last_name,
        source=source.value,
    )
    user.programs = [UserProgram(lo_root_id=p) for p in program_list(programs or [])]
    add_new_user(user)
    audit.record("user.created", actor=actor, target=user, role=user.role)
    if send_setup and not user.is_service_account:  # a machine identity has no password
        letters.send_setup_link(user, actor=actor, welcome=True)
    db.session.commit()
    return user


def unlock(user: User, actor: User | None = None) -> None:
    """Clear the failed-sign-in counter and lock (one commit)."""
    user.failed_login_count = 0
    user.locked_until = None
    audit.record("account.unlocked", actor=actor, target=user)
    db.session.commit()


def sign_out(row: AuthSession) -> None:
    """End one session (logout) (one commit)."""
    sessions.revoke(row, "logout")
    audit.record("logout", actor=row.user, target=row.user)
    db.session.commit()


def sign_out_session(user: User, public_id: str) -> bool:
    """End one of the user's own sessions; False when it is not theirs or not live."""
    row = sessions.find_own(user, public_id)
    if row is None:
        return False
    sessions.revoke(row, "signed_out_by_user")
    audit.record("session.revoked", actor=user, target=user)
    db.session.commit()
    return True


def sign_out_everywhere(
    user: User,
    actor: User | None = None,
    keep: AuthSession | None = None,
    revoke_keys: bool = False,
) -> int:
    """End all of the user's sessions (all but ``keep``), browser and API alike (one commit).

    ``revoke_keys`` revokes the account's API keys too: an administrator's "sign out
    everywhere" does, a person's "sign out all other devices" ends sessions only.
    """
    count = sessions.revoke_all(user, reason="signed_out_everywhere", keep=keep)
    keys = api_keys.revoke_all(user) if revoke_keys else 0
    audit.record(
        "session.revoked_all", actor=actor or user, target=user, count=count, api_keys_revoked=keys
    )
    db.session.commit()
    return count
