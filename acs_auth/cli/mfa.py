"""`flask mfa …`: operate the second factors (re-encrypt their secrets after a key rotation)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from acs_auth import messages
from acs_auth.services.factors import crypto

group = AppGroup("mfa", help="Second factors: encryption key rotation.")


@group.command("rotate-key")
def rotate_key() -> None:
    """Encrypt every stored authenticator secret with the first MFA_ENCRYPTION_KEYS key.

    Exit 1 when some secret is readable with none of the keys (nothing of it is changed).
    """
    before = crypto.reencrypt_all()
    click.echo(messages.CLI_MFA_ROTATED.format(moved=before.behind, total=before.total))
    if before.unreadable:
        click.echo(messages.CLI_MFA_UNREADABLE.format(count=before.unreadable), err=True)
        raise SystemExit(1)
