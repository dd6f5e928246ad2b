"""Maintenance commands: cleanup and demo seeding."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from acs_auth import messages
from acs_auth.services.allowlist.csvfile import CsvRejected
from acs_auth.services.allowlist.imports import ImportResult
from acs_auth.services.operations import demo, maintenance


@click.command("cleanup")
@click.option(
    "--days",
    type=click.IntRange(min=0, max=36500),
    default=30,
    show_default=True,
    help="Keep what ended or was sent within this many days.",
)
@with_appcontext
def cleanup(days: int) -> None:
    """Delete ended (expired or revoked) sessions and sent mail older than --days."""
    done = maintenance.cleanup(days)
    click.echo(messages.CLI_CLEANUP_DONE.format(sessions=done.sessions, mail=done.mail, days=days))
    retention = current_app.config["AUDIT_RETENTION_DAYS"]
    if retention > 0:
        click.echo(messages.CLI_AUDIT_PRUNED.format(count=done.audit, days=retention))


@click.command("seed-demo")
@click.option(
    "--file",
    "csv_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=demo.DEMO_ALLOWLIST,
    show_default=True,
    help="The allowlist CSV to merge.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Merge the file even though the allowlist was imported into before.",
)
@with_appcontext
def seed_demo(csv_path: Path, force: bool) -> None:
    """Load the demo allowlist once and create the demo administrator (safe to run again)."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException(messages.CLI_SEED_PRODUCTION)
    try:
        result = demo.seed(csv_path, force=force)
    except CsvRejected as exc:
        raise click.ClickException(f"{messages.CLI_SEED_IMPORT_FAILED} {exc}") from None
    if result.imported is None:
        click.echo(messages.CLI_SEED_ALLOWLIST_KEPT)
    else:
        _echo_import(result.imported)
    if result.admin_password is None:
        click.echo(messages.CLI_SEED_ADMIN_EXISTS.format(email=result.admin_email))
    else:
        click.echo(messages.CLI_ADMIN_CREATED.format(email=result.admin_email))
        click.echo(messages.CLI_PASSWORD_ONCE.format(password=result.admin_password))
    if result.imported is not None and result.imported.errors:
        raise SystemExit(1)  # after the password: an admin that was created must be shown


def _echo_import(imported: ImportResult) -> None:
    if not imported.errors:
        counts = {k: getattr(imported, k) for k in ("added", "changed", "unchanged", "removed")}
        click.echo(messages.CLI_SEED_IMPORTED.format(**counts))
        return
    click.echo(messages.CLI_SEED_IMPORT_FAILED, err=True)
    for line, problem in imported.errors[:20]:
        click.echo(f"  line {line}: {problem}", err=True)


commands = [cleanup, seed_demo]
