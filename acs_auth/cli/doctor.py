"""`flask doctor`: one report on configuration, database, Redis, SMTP and key files."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from acs_auth import doctor, messages


@click.command("doctor")
@with_appcontext
def command() -> None:
    """Check the deployment as production would; exit 1 when any check fails."""
    findings = doctor.run(current_app._get_current_object())
    width = max(len(f.name) for f in findings)
    for finding in findings:
        mark = "ok  " if finding.ok else "FAIL"
        click.echo(f"{mark} {finding.name.ljust(width)}  {finding.detail}")
    failed = sum(not f.ok for f in findings)
    if failed:
        click.echo(messages.CLI_DOCTOR_FAILED.format(count=failed), err=True)
        raise SystemExit(1)
    click.echo(messages.CLI_DOCTOR_OK)
