"""Command-line interface: `flask --app wsgi <group> <command>`."""

import click
from flask import Flask
from flask.cli import ScriptInfo

from acs_auth.cli import allowlist, doctor, mail, maintenance, mfa, oidc, programs, users
from acs_auth.extensions import init_migrations


def init_app(app: Flask) -> None:
    """Register every command group on ``app``."""
    for group in (users.group, allowlist.group, mail.group, programs.group, mfa.group):
        app.cli.add_command(group)
    for command in maintenance.commands:
        app.cli.add_command(command)
    app.cli.add_command(migrations)
    app.cli.add_command(doctor.command)
    app.cli.add_command(oidc.clients_group)
    app.cli.add_command(oidc.oidc_group)


@click.command(
    "db",
    # Every argument, --help included, goes to Flask-Migrate's own command group.
    context_settings={
        "ignore_unknown_options": True,
        "allow_extra_args": True,
        "help_option_names": [],
    },
    help="Database migrations: Flask-Migrate's commands (upgrade, downgrade, current, …).",
)
@click.pass_context
def migrations(ctx: click.Context) -> None:
    """``flask db ...``, with Flask-Migrate (and Alembic) imported only when it runs."""
    init_migrations(ctx.ensure_object(ScriptInfo).load_app())
    # Lazy on purpose: only `flask db` loads Flask-Migrate (performance.md, "Worker memory").
    from flask_migrate.cli import db  # noqa: PLC0415

    db.main(args=ctx.args, prog_name=ctx.command_path, obj=ctx.obj)
