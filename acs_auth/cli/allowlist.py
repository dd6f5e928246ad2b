"""`flask allowlist …` commands: import with a preview, and export."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from acs_auth import messages
from acs_auth.cli.mail import deliver_if_background
from acs_auth.services.allowlist import entries, imports
from acs_auth.services.allowlist.csvfile import CsvRejected, human_size
from acs_auth.services.allowlist.imports import ImportBlocked, Preview

group = AppGroup("allowlist", help="Import the allowlist from CSV (with a preview), export it.")

# Below this many changes the import is instant and a progress bar would only flicker.
PROGRESS_FROM = 2000
SHOWN = 20


def _print_preview(preview: Preview) -> None:
    click.echo(
        messages.CLI_ALLOWLIST_PREVIEW.format(
            file=preview.file_name,
            rows=preview.parsed.total_lines,
            mode=preview.mode,
            **preview.counts,
            errors=len(preview.errors),
        )
    )
    for row in preview.to_add[:SHOWN]:
        click.echo(f"  + {row.email}  {row.last_name}  [{row.lo_root_ids}]")
    for change in preview.to_change[:SHOWN]:
        fields = "; ".join(f"{label}: {old!r} -> {new!r}" for label, old, new in change.fields)
        click.echo(f"  ~ {change.row.email}  {fields}")
    for removal in preview.to_remove[:SHOWN]:
        click.echo(f"  - {removal.email}  {removal.last_name}")
    for item in preview.edited[:SHOWN]:
        hand, in_file = ";".join(item.by_hand), ";".join(item.in_file)
        click.echo(f"  ! {item.email}  programs set by hand [{hand}], file [{in_file}]")
    hidden = sum(max(len(s) - SHOWN, 0) for s in (preview.to_add, preview.to_change))
    hidden += max(len(preview.to_remove) - SHOWN, 0)
    if hidden:
        click.echo(f"  … and {hidden} more changes.")
    if preview.uncatalogued:
        ids = ", ".join(preview.uncatalogued[:20])
        click.echo(
            messages.PROGRAMS_UNKNOWN_WARNING.format(count=len(preview.uncatalogued), ids=ids),
            err=True,
        )
    for line, problem in preview.errors[:100]:
        click.echo(f"  line {line}: {problem}", err=True)
    if len(preview.errors) > 100:
        click.echo(f"  … and {len(preview.errors) - 100} more invalid rows.", err=True)


def _blocked(preview: Preview, reason: str) -> str:
    if reason == "errors":
        return messages.CLI_ALLOWLIST_BLOCKED_ERRORS.format(count=len(preview.errors))
    return messages.CLI_ALLOWLIST_BLOCKED_REMOVAL.format(
        count=len(preview.to_remove),
        total=preview.active_before,
        percent=f"{preview.removal_fraction:.0%}",
        limit=f"{current_app.config['ALLOWLIST_MAX_REMOVAL_FRACTION']:.0%}",
    )


def _apply(preview: Preview, skip_invalid: bool, remove_many: bool, edited: str):
    total = len(preview.to_add) + len(preview.to_change) + len(preview.to_remove)
    options = {"skip_invalid": skip_invalid, "confirm_mass_removal": remove_many, "edited": edited}
    if total < PROGRESS_FROM:
        return imports.apply(preview, **options)
    with click.progressbar(length=total, label="Applying", file=sys.stderr) as bar:
        return imports.apply(preview, progress=bar.update, **options)


def _invite(preview: Preview) -> None:
    keys = [row.key for row in preview.to_add]
    sent = skipped = 0
    batch = entries.INVITE_BATCH
    with click.progressbar(length=len(keys), label="Inviting", file=sys.stderr) as bar:
        for start in range(0, len(keys), batch):
            chunk = keys[start : start + batch]
            result = entries.invite(None, keys=chunk, limit=len(chunk))
            sent, skipped = sent + result.sent, skipped + result.skipped
            bar.update(len(chunk))
    click.echo(messages.CLI_ALLOWLIST_INVITED.format(sent=sent, skipped=skipped))
    deliver_if_background()


@group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="The file is the whole list: remove the others.")
@click.option("--dry-run", is_flag=True, help="Print the preview only; change nothing.")
@click.option("--invite", is_flag=True, help="Email a registration link to the people added.")
@click.option("--skip-invalid", is_flag=True, help="Import the valid rows even if some are bad.")
@click.option(
    "--yes-remove-many",
    is_flag=True,
    help="Confirm a replace that removes more than ALLOWLIST_MAX_REMOVAL_FRACTION of entries.",
)
@click.option(
    "--edited",
    type=click.Choice(["keep", "file"]),
    default="keep",
    show_default=True,
    help="Programs an administrator set by hand that the file changes (listed with !): keep "
    "them, or take the file's value.",
)
def import_command(
    file: Path,
    replace: bool,
    dry_run: bool,
    invite: bool,
    skip_invalid: bool,
    yes_remove_many: bool,
    edited: str,
) -> None:
    """Preview, then apply FILE in one transaction; exit code 1 when rows are bad."""
    cap = current_app.config["ALLOWLIST_MAX_BYTES"]
    try:
        if file.stat().st_size > cap:  # refuse before reading a huge file into memory
            raise CsvRejected(messages.CSV_TOO_LARGE.format(limit=human_size(cap)))
        preview = imports.preview_bytes(
            file.read_bytes(), file_name=file.name, mode="replace" if replace else "merge"
        )
    except CsvRejected as exc:
        click.echo(messages.CLI_ALLOWLIST_REJECTED.format(reason=exc), err=True)
        sys.exit(1)
    _print_preview(preview)
    if dry_run:
        click.echo(messages.CLI_ALLOWLIST_DRY_RUN)
        sys.exit(1 if preview.errors else 0)
    try:
        batch = _apply(preview, skip_invalid, yes_remove_many, edited)
    except ImportBlocked as exc:
        click.echo(_blocked(preview, exc.reason), err=True)
        sys.exit(1)
    except imports.ImportConflict:
        click.echo(messages.CLI_ALLOWLIST_CONFLICT, err=True)
        sys.exit(1)
    click.echo(
        messages.CLI_ALLOWLIST_APPLIED.format(
            added=batch.added,
            changed=batch.changed,
            unchanged=batch.unchanged,
            removed=batch.removed,
            skipped=batch.skipped,
        )
    )
    if invite and preview.to_add:
        _invite(preview)


@group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
def export_command(file: Path) -> None:
    """Write the allowlist to FILE ("-" for standard output) as CSV that re-imports unchanged."""
    text = entries.export_csv(None)
    count = max(text.count("\r\n") - 1, 0)
    if str(file) == "-":
        click.echo(text, nl=False)
        return
    file.write_text(text, encoding="utf-8", newline="")
    click.echo(messages.CLI_ALLOWLIST_EXPORTED.format(count=count, file=file))
