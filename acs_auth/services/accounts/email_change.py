"""Changing an account's email address: the new address confirms by link, the old one is told.

``request_change(user, new_address, by=...)`` emails a confirmation link to the new address
(itsdangerous, a salt of its own, bound to the account's current email and password state, so
the link dies when either changes or once it is used); ``confirm_change(token)`` applies it.
Both are used by the person on /account and can be used by an administrator (``by=admin``).

An address already used by another account or by another person's allowlist entry is refused
without the requester learning which, or even that it is in use: the page answers the same as
for a free address, and the mailbox of that address receives a "this address cannot be used"
email instead of a link. Only whoever reads that mailbox learns it is known here. The same
check runs again at confirmation, so an address taken meanwhile is refused then.

When the change is confirmed, the allowlist entry of the account follows (its email changes
with the account's), so the export and the next import see the new address; the change is
recorded in the audit log with both addresses (``account.email_changed`` on the person and
``allowlist.entry_email_changed`` for the entry), where the admin sees it in the person's
history and in the audit log.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from acs_auth.extensions import db
from acs_auth.models import AllowlistEntry, User, utcnow
from acs_auth.services import audit
from acs_auth.services.accounts.passwords import fingerprint
from acs_auth.services.mail import outbox
from acs_auth.services.mail.letters import app_link
from acs_auth.services.text.addresses import InvalidEmail, email_key, validate_address

SALT = "acs-auth.email-change"
MAX_TOKEN_LENGTH = 1024


class EmailChangeInvalid(ValueError):
    """The new address is malformed, or is already the account's own address."""


class ChangeLinkInvalid(RuntimeError):
    """The confirmation link is malformed, expired, used, or the address was taken meanwhile."""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _state(user: User) -> str:
    """What a link is bound to: the account's current address and password state."""
    return fingerprint(f"email-change\n{user.email_key}\n{user.password_hash or '<none>'}")


def _hours() -> int:
    return int(current_app.config["EMAIL_CHANGE_TOKEN_HOURS"])


def _own_entry(user: User) -> AllowlistEntry | None:
    return db.session.scalar(
        select(AllowlistEntry).where(AllowlistEntry.email_key == user.email_key)
    )


def address_in_use(user: User, key: str) -> bool:
    """True when another account or an allowlist entry (necessarily someone else's) has ``key``."""
    other_user = db.session.scalar(
        select(User.id).where(User.email_key == key, User.id != user.id).limit(1)
    )
    entry = db.session.scalar(select(AllowlistEntry.id).where(AllowlistEntry.email_key == key))
    return other_user is not None or entry is not None


def request_change(user: User, new_address: str, by: User | None = None) -> str:
    """Email a confirmation link to ``new_address`` (or, if it is in use, a refusal); commits.

    Returns the normalized new address. Raises EmailChangeInvalid when the address is
    malformed or already the account's own; an address in use is not an error (see above).
    """
    try:
        address = validate_address(new_address)
    except InvalidEmail as exc:
        raise EmailChangeInvalid(str(exc)) from None
    key = email_key(address)
    if key == user.email_key:
        raise EmailChangeInvalid("This is already your email address.")
    by_admin = by is not None and by.id != user.id
    context = {"user": user, "address": address, "by_admin": by_admin}
    if address_in_use(user, key):
        outbox.queue("email_change_unavailable", address, **context)
        audit.record("account.email_change_refused", actor=by or user, target=user)
    else:
        token = _serializer().dumps(
            {"u": user.id, "f": _state(user), "n": address, "b": by.id if by else user.id}
        )
        link = app_link("/account/email/confirm/" + token)
        outbox.queue("email_change_confirm", address, link=link, hours=_hours(), **context)
        audit.record("account.email_change_requested", actor=by or user, target=user, to=address)
    db.session.commit()
    return address


def _load(token: str) -> tuple[User, str, User | None]:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise ChangeLinkInvalid()
    try:
        payload = _serializer().loads(token, max_age=_hours() * 3600)
    except BadData:
        raise ChangeLinkInvalid() from None
    user_id, address = payload.get("u"), payload.get("n")
    if type(user_id) is not int or not 0 < user_id < 2**63 or not isinstance(address, str):
        raise ChangeLinkInvalid()
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or payload.get("f") != _state(user):
        raise ChangeLinkInvalid()
    by_id = payload.get("b")
    by = db.session.get(User, by_id) if type(by_id) is int and 0 < by_id < 2**63 else None
    return user, address, by


def pending_address(token: str) -> str | None:
    """The new address a still-valid link would set (and that is still free), or None."""
    try:
        user, address, _ = _load(token)
    except ChangeLinkInvalid:
        return None
    return None if address_in_use(user, email_key(address)) else address


def user_id_of(token: str) -> int | None:
    """The id of the account a still-valid link is for."""
    try:
        return _load(token)[0].id
    except ChangeLinkInvalid:
        return None


def confirm_change(token: str) -> User:
    """Apply the change a link confirms (one commit); raises ChangeLinkInvalid.

    The account and its allowlist entry take the new address, the address counts as verified
    (the link proved the mailbox), the old address is told (without a link), and the change is
    audited with both addresses.
    """
    user, address, by = _load(token)
    key = email_key(address)
    if address_in_use(user, key):
        raise ChangeLinkInvalid()
    old_address = user.email
    entry = _own_entry(user)
    user.email, user.email_key = address, key
    user.email_verified_at = utcnow()
    if entry is not None:
        entry.email, entry.email_key = address, key
        audit.record(
            "allowlist.entry_email_changed",
            actor=by or user,
            target_label=address,
            entry_id=entry.id,
            old=old_address,
            new=address,
        )
    audit.record(
        "account.email_changed", actor=by or user, target=user, old=old_address, new=address
    )
    outbox.queue("email_changed", old_address, user=user, old=old_address, address=address)
    try:
        db.session.commit()
    except IntegrityError:  # taken by a parallel change or import
        db.session.rollback()
        raise ChangeLinkInvalid() from None
    return user
