"""Command-line interface: `flask --app wsgi <group> <command>`."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register every command group on ``app``."""
    from acs_auth.cli import allowlist, mail, maintenance, users

    for group in (users.group, allowlist.group, mail.group):
        app.cli.add_command(group)
    for command in maintenance.commands:
        app.cli.add_command(command)
