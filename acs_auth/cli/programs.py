"""`flask programs …` commands: list, import and export the program catalogue."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from acs_auth import messages
from acs_auth.services.allowlist.csvfile import CsvRejected
from acs_auth.services.programs import catalogue

group = AppGroup("programs", help="The program catalogue: list, import and export as CSV.")


@group.command("list")
def list_programs() -> None:
    """Print every program: LO Root ID, active flag, name and launch URL."""
    for p in catalogue.all_programs():
        state = "active" if p.active else "inactive"
        click.echo(f"{p.lo_root_id}\t{state}\t{p.name}\t{p.launch_url or '-'}")


@group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Report what would change, change nothing.")
def import_programs(file: Path, dry_run: bool) -> None:
    """Add or update programs from FILE (lo_root_id, name, description, launch_url, active)."""
    try:
        result = catalogue.import_csv(file.read_bytes(), actor=None, dry_run=dry_run)
    except CsvRejected as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    for line, problem in result.errors[:100]:
        click.echo(f"  line {line}: {problem}", err=True)
    if result.errors:
        click.echo(messages.CLI_PROGRAMS_ERRORS.format(count=len(result.errors)), err=True)
        sys.exit(1)
    click.echo(
        messages.CLI_PROGRAMS_IMPORTED.format(
            added=len(result.added), changed=len(result.changed), unchanged=result.unchanged
        )
    )


@group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def export_programs(file: Path) -> None:
    """Write the catalogue to FILE as CSV (it re-imports unchanged)."""
    text = catalogue.export_csv()
    file.write_text(text, encoding="utf-8")
    click.echo(
        messages.CLI_PROGRAMS_EXPORTED.format(count=len(catalogue.all_programs()), file=file)
    )
