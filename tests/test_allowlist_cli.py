"""`flask allowlist import|export`: the preview, exit codes, caps, progress and the round trip."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from acs_auth.extensions import db
from acs_auth.models import AllowlistEntry, AllowlistImport
from tests.support.allowlist import HEADER, people
from tests.support.db import read_db


def csv_file(tmp_path, name: str, rows, header: str = HEADER):
    path = tmp_path / name
    path.write_text(header + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    return path


def count(app, active_only: bool = True) -> int:
    def read():
        stmt = select(func.count(AllowlistEntry.id))
        if active_only:
            stmt = stmt.where(AllowlistEntry.active.is_(True))
        return db.session.scalar(stmt)

    return read_db(app, read)


def run(runner, *args):
    return runner.invoke(args=["allowlist", *map(str, args)])


def test_import_prints_the_preview_and_a_summary(app, runner, tmp_path):
    path = csv_file(tmp_path, "staff.csv", people(3))
    result = run(runner, "import", path)
    assert result.exit_code == 0, result.output
    assert "staff.csv: 3 data rows (merge mode). To add: 3" in result.output
    assert "  + person0@example.org  Last0  [P1]" in result.output
    assert "Imported: 3 added, 0 changed, 0 unchanged, 0 removed, 0 invalid row(s) skipped." in (
        result.output
    )
    assert count(app) == 3
    batch = read_db(app, lambda: db.session.scalars(select(AllowlistImport)).one())
    assert (batch.actor_label, batch.file_name, batch.added) == ("cli", "staff.csv", 3)


def test_dry_run_changes_nothing(app, runner, tmp_path):
    result = run(runner, "import", csv_file(tmp_path, "a.csv", people(3)), "--dry-run")
    assert result.exit_code == 0 and "Dry run: nothing was changed." in result.output
    assert count(app) == 0
    bad = csv_file(tmp_path, "b.csv", [*people(2), ("X", "Y", "nope", "P1")])
    result = run(runner, "import", bad, "--dry-run")
    assert result.exit_code == 1 and "line 4: “nope” is not a valid email address." in result.output


def test_bad_rows_exit_1_unless_skipped(app, runner, tmp_path):
    path = csv_file(tmp_path, "a.csv", [*people(5), ("X", "Y", "nope", "P1")])
    result = run(runner, "import", path)
    assert result.exit_code == 1
    assert "Nothing was imported because 1 row(s) are invalid." in result.output
    assert count(app) == 0
    result = run(runner, "import", path, "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert "5 added" in result.output and "1 invalid row(s) skipped" in result.output
    assert count(app) == 5


def test_replace_and_the_mass_removal_guard(app, runner, tmp_path):
    run(runner, "import", csv_file(tmp_path, "all.csv", people(20)))
    few = csv_file(tmp_path, "few.csv", people(20, start=18))
    result = run(runner, "import", few, "--replace")
    assert result.exit_code == 1
    assert (
        "removes 18 of 20 entries (90%)" in result.output and "--yes-remove-many" in result.output
    )
    assert count(app) == 20
    result = run(runner, "import", few, "--replace", "--yes-remove-many")
    assert result.exit_code == 0, result.output
    assert "18 removed" in result.output and "  - person0@example.org  Last0" in result.output
    assert count(app) == 2 and count(app, active_only=False) == 20
    # Removing 2 of 20 is exactly 10 %: allowed without confirmation.
    run(runner, "import", csv_file(tmp_path, "all.csv", people(20)))
    result = run(runner, "import", csv_file(tmp_path, "most.csv", people(20, start=2)), "--replace")
    assert result.exit_code == 0, result.output
    assert count(app) == 18


@pytest.mark.parametrize("app_overrides", [{"ALLOWLIST_MAX_BYTES": 100}])
def test_file_level_problems_exit_1(app, runner, tmp_path):
    big = csv_file(tmp_path, "big.csv", people(5))
    result = run(runner, "import", big)
    assert result.exit_code == 1
    assert "The file was not imported: The file is larger than the limit of 100 bytes." in (
        result.output
    )
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = run(runner, "import", empty)
    assert result.exit_code == 1 and "The file is empty." in result.output
    assert run(runner, "import", tmp_path / "missing.csv").exit_code == 2


def test_large_files_show_progress(app, runner, tmp_path):
    result = run(runner, "import", csv_file(tmp_path, "big.csv", people(2500)))
    assert result.exit_code == 0, result.output
    assert "Applying" in result.output and "… and 2480 more changes." in result.output
    assert count(app) == 2500


def test_invite_queues_registration_links(app, runner, tmp_path, outbox):
    result = run(runner, "import", csv_file(tmp_path, "a.csv", people(2)), "--invite")
    assert result.exit_code == 0, result.output
    assert "Invitations queued: 2 (0 skipped)." in result.output
    assert outbox.link("person1@example.org", "/register/password/")


def test_export_then_import_changes_nothing(app, runner, tmp_path):
    rows = [("=cmd", "+x", "eve@example.org", "P1;P2"), *people(5)]
    run(runner, "import", csv_file(tmp_path, "a.csv", rows))
    out = tmp_path / "out.csv"
    result = run(runner, "export", out)
    assert result.exit_code == 0 and "Exported 6 entries" in result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbflast_name,first_name,email,lo_root_ids\r\n")
    assert "'=cmd,'+x,eve@example.org,P1;P2" in out.read_text(encoding="utf-8-sig")
    result = run(runner, "import", out, "--replace")
    assert result.exit_code == 0
    assert "To add: 0, to change: 0, unchanged: 6, to remove: 0, invalid rows: 0." in result.output
    stdout = run(runner, "export", "-")
    assert stdout.exit_code == 0 and "person4@example.org" in stdout.output
