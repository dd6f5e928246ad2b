"""`flask users …` commands: create administrators and users, unlock accounts."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from acs_auth import messages
from acs_auth.cli.mail import deliver_if_background
from acs_auth.models import Role
from acs_auth.services.accounts import accounts, passwords
from acs_auth.services.operations import maintenance
from acs_auth.services.text.addresses import EMAIL_MAX, InvalidEmail, validate_address
from acs_auth.services.text.identifiers import is_program_id
from acs_auth.services.text.names import NAME_MAX

group = AppGroup("users", help="Create administrators and users, unlock accounts.")


def _address(ctx, param, value: str) -> str:
    try:
        return validate_address(value)
    except InvalidEmail as exc:
        raise click.BadParameter(str(exc)) from None


def _name(ctx, param, value: str | None) -> str | None:
    value = (value or "").strip() or None
    if value is not None and len(value) > NAME_MAX:
        raise click.BadParameter(f"at most {NAME_MAX} characters")
    return value


def _programs(ctx, param, values: tuple[str, ...]) -> list[str]:
    ids = [value.strip() for value in values]
    bad = [value for value in ids if not is_program_id(value)]
    if bad:
        raise click.BadParameter(f"not a valid LO Root ID: {bad[0][:64]!r}")
    return ids


def _policy_checked(email: str):
    def check(password: str) -> str:
        try:
            passwords.check_policy(password, passwords.PolicyContext(email=email))
        except passwords.PasswordRejected as exc:
            raise click.BadParameter(str(exc)) from None  # click asks again
        return password

    return check


@group.command("create-admin")
@click.option("--email", required=True, callback=_address, help="The administrator's email.")
@click.option(
    "--password-prompt", is_flag=True, help="Type the password (twice) instead of generating one."
)
def create_admin(email: str, password_prompt: bool) -> None:
    """Create an administrator; prints a generated password once (or prompts for one)."""
    if maintenance.account_exists(email):
        raise click.ClickException(messages.CLI_ACCOUNT_EXISTS.format(email=email))
    if password_prompt:
        password = click.prompt(
            "Password",
            hide_input=True,
            confirmation_prompt=True,
            value_proc=_policy_checked(email),
        )
    else:
        password = maintenance.generate_password(email)
    try:
        maintenance.create_admin(email, password)
    except accounts.AccountExists:
        raise click.ClickException(messages.CLI_ACCOUNT_EXISTS.format(email=email)) from None
    except passwords.PasswordRejected as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(messages.CLI_ADMIN_CREATED.format(email=email))
    if not password_prompt:
        click.echo(messages.CLI_PASSWORD_ONCE.format(password=password))


@group.command("create")
@click.option("--email", required=True, callback=_address, help="The person's email.")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.USER.value,
    show_default=True,
)
@click.option("--first-name", default=None, callback=_name)
@click.option("--last-name", default=None, callback=_name)
@click.option(
    "--program", "programs", multiple=True, callback=_programs, help="An LO Root ID (repeat)."
)
def create(
    email: str, role: str, first_name: str | None, last_name: str | None, programs: list[str]
) -> None:
    """Create an account without a password and email its setup link."""
    try:
        accounts.create_user(
            email, role=role, first_name=first_name, last_name=last_name, programs=programs
        )
    except accounts.AccountExists:
        raise click.ClickException(messages.CLI_ACCOUNT_EXISTS.format(email=email)) from None
    click.echo(messages.CLI_USER_CREATED.format(email=email, role=role))
    deliver_if_background()


@group.command("unlock")
@click.argument("email")
def unlock(email: str) -> None:
    """Clear the failed sign-in counter and lock of an account."""
    user = maintenance.find_account(email)
    if user is None:
        raise click.ClickException(messages.CLI_NO_ACCOUNT.format(email=email[:EMAIL_MAX]))
    accounts.unlock(user)
    click.echo(messages.CLI_UNLOCKED.format(email=user.email))
