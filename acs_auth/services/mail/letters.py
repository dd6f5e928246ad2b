"""Which email fits which person, and the links it carries: every emailed link starts here.

A person who asks for a link, or whom an administrator invites, gets the one letter that fits
their state, always at the address stored on their account or allowlist entry:

- an allowlisted person without an account: the registration link;
- an account without a password: the setup link (also for "forgot password");
- an account with a password: the reset link ("forgot password", an administrator's reset)
  or the "you already have an account" letter (registration, first-time setup);
- a deactivated account: nothing (an administrator closed it).

Links are built from APP_URL only, never from the request's Host header, which the client
chooses: a poisoned Host would otherwise send a victim's token to the attacker's server
(CVE-2025-43930). Each sender queues one message in the caller's transaction (mail.outbox)
and records it in the audit trail; none commits. Imports the outbox, the audit trail and the
account tokens; the account flows (recovery, registration, administration) import this.
"""

from __future__ import annotations

from flask import current_app

from acs_auth.models import Account, AllowlistEntry, User, utcnow
from acs_auth.services import audit
from acs_auth.services.accounts import tokens
from acs_auth.services.mail import outbox


def app_link(path: str) -> str:
    """An absolute link for emails, built from APP_URL (never from the Host header)."""
    return current_app.config["APP_URL"].rstrip("/") + path


def reset_link(user: User) -> str:
    """An absolute password-reset link for ``user`` (also mailed with a lock notice)."""
    return app_link("/reset-password/" + tokens.for_user(tokens.Purpose.RESET, user))


def send_setup_link(user: User, actor: Account | None = None, welcome: bool = False) -> None:
    """The password-setup letter for an account without a password."""
    outbox.queue(
        "password_setup",
        user.email,
        user=user,
        link=app_link("/setup-password/" + tokens.for_user(tokens.Purpose.SETUP, user)),
        welcome=welcome,
        hours=current_app.config["SETUP_TOKEN_HOURS"],
    )
    audit.record("password.setup_link_sent", actor=actor, target=user, welcome=welcome)


def send_reset_link(user: User, actor: Account | None = None) -> None:
    """The password-reset letter; ``actor`` is the administrator who sent it, if any."""
    outbox.queue(
        "password_reset",
        user.email,
        user=user,
        link=reset_link(user),
        hours=current_app.config["RESET_TOKEN_HOURS"],
    )
    audit.record("password.reset_link_sent", actor=actor, target=user)


def send_already_registered(user: User) -> None:
    """The "you already have an account: sign in or reset your password" letter."""
    outbox.queue(
        "already_registered",
        user.email,
        user=user,
        login_url=app_link("/login"),
        reset_url=app_link("/forgot-password"),
    )
    audit.record("registration.already_registered", target=user)


def send_password_link(user: User, actor: Account | None = None) -> str:
    """A forgotten or administrator-reset password: the setup link when none is set yet,
    else the reset link. Returns "setup" or "reset"."""
    if user.password_hash is None:
        send_setup_link(user, actor=actor)
        return "setup"
    send_reset_link(user, actor=actor)
    return "reset"


def send_account_letter(user: User, actor: Account | None = None) -> None:
    """Someone registering or setting up an account that exists: the setup link when it has
    no password yet, else "you already have an account"."""
    if user.password_hash is None:
        send_setup_link(user, actor=actor)
    else:
        send_already_registered(user)


def send_registration_link(
    entry: AllowlistEntry, account: User | None, actor: Account | None = None
) -> None:
    """The letter that fits an allowlisted person: the registration link while ``account``
    (theirs, if any) does not exist, nothing for a deactivated account, else
    ``send_account_letter``."""
    if account is None:
        outbox.queue(
            "registration_link",
            entry.email,
            entry=entry,
            link=app_link(f"/register/password/{tokens.for_entry(entry)}"),
            hours=current_app.config["REGISTRATION_TOKEN_HOURS"],
        )
        entry.invited_at = utcnow()
        audit.record("registration.link_sent", actor=actor, target_label=entry.email)
    elif not account.is_active:
        audit.record("registration.account_inactive", actor=actor, target=account)
    else:
        send_account_letter(account, actor=actor)
