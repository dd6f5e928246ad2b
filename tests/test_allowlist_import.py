"""Allowlist imports: one transaction, export round trip, the lifecycle, the mass-removal guard."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from acs_auth.extensions import db
from acs_auth.models import (
    AllowlistEntry,
    AllowlistImport,
    ApiKey,
    AuditEvent,
    AuthSession,
    User,
    UserProgram,
)
from acs_auth.services.allowlist import entries as allowlist_entries
from acs_auth.services.allowlist import imports, lifecycle
from acs_auth.services.signin import api_keys, sessions
from tests.support.allowlist import HEADER, csv_of, people
from tests.support.db import read_db


def snapshot(app) -> dict:
    """Every row of the tables an import touches, in a comparable form."""

    def dump():
        tables = {}
        for model in (AllowlistEntry, AllowlistImport, User, UserProgram, AuthSession, ApiKey):
            rows = db.session.execute(select(model.__table__)).all()
            tables[model.__tablename__] = sorted(tuple(map(repr, r)) for r in rows)
        tables["audit_events"] = db.session.query(AuditEvent).count()
        return tables

    return read_db(app, dump)


def run_import(app, data: bytes, **kwargs) -> imports.ImportResult:
    with app.test_request_context():
        actor = kwargs.pop("actor_id", None)
        if actor is not None:
            kwargs["actor"] = db.session.get(User, actor)
        return imports.import_file(data, file_name="people.csv", **kwargs)


def test_a_fresh_import_adds_everyone_and_records_history(app, make_user):
    admin_id = make_user(email="root@example.org", role="admin")
    result = run_import(app, csv_of(*people(30)), actor_id=admin_id)
    assert (result.added, result.changed, result.unchanged, result.removed) == (30, 0, 0, 0)
    assert result.applied and result.batch is not None

    def check():
        entries = db.session.scalars(select(AllowlistEntry)).all()
        assert len(entries) == 30 and all(e.active for e in entries)
        assert {e.last_name_key for e in entries} == {f"last{i}" for i in range(30)}
        batch = db.session.scalars(select(AllowlistImport)).one()
        assert (batch.file_name, batch.mode, batch.added, batch.actor_label) == (
            "people.csv",
            "merge",
            30,
            "root@example.org",
        )
        assert len(batch.sha256) == 64
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.event == "allowlist.imported")
        ).one()
        assert event.details["added"] == 30 and event.actor_label == "root@example.org"

    read_db(app, check)


def test_a_bad_row_near_the_end_of_a_large_file_changes_nothing(app):
    run_import(app, csv_of(*people(500, ids="OLD")))
    before = snapshot(app)
    rows = people(3000, ids="NEW")  # 500 changes, 2500 additions...
    rows.insert(2990, ("Broken", "Row", "not-an-email", "P1"))  # ...and one bad row, line 2992
    result = run_import(app, csv_of(*rows), mode="replace")
    assert not result.applied and result.blocked == "errors"
    assert result.errors == [(2992, "“not-an-email” is not a valid email address.")]
    assert snapshot(app) == before


def test_a_failure_while_applying_rolls_everything_back(app, monkeypatch):
    run_import(app, csv_of(*people(200, ids="OLD")))
    before = snapshot(app)

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    # Entries are already inserted and updated when the lifecycle step fails.
    monkeypatch.setattr(lifecycle, "after_import", explode)
    with pytest.raises(RuntimeError):
        run_import(app, csv_of(*people(400, ids="NEW")), mode="replace")
    assert snapshot(app) == before


def test_dry_run_changes_nothing(app):
    before = snapshot(app)
    result = run_import(app, csv_of(*people(10)), dry_run=True)
    assert result.added == 10 and not result.applied
    assert snapshot(app) == before


def test_export_then_import_changes_nothing(app, make_user):
    tricky = [
        ("=HYPERLINK(1)", "+Eve", "eve@example.org", "P1"),
        ('"Smith, Jr."', '"Bob ""B"""', "Bob@Example.org", "-P1;P2"),
        ("Ōta", "", "yuki@example.org", "P3|P4"),
        ("O'Brien", "@home", "sean@example.org", "P5"),
    ]
    run_import(app, csv_of(*tricky, *people(50)))
    run_import(app, csv_of(*people(103, start=100)))  # merge: three more people
    admin_id = make_user(email="root@example.org", role="admin")

    def export():
        return allowlist_entries.export_csv(db.session.get(User, admin_id))

    text = read_db(app, export)
    assert text.startswith("\ufefflast_name,first_name,email,lo_root_ids\r\n")
    assert "'=HYPERLINK(1)" in text and "'+Eve" in text and "'@home" in text
    before = snapshot(app)
    for mode in ("merge", "replace"):
        result = run_import(app, text.encode("utf-8"), mode=mode)
        assert (result.added, result.changed, result.removed, result.errors) == (0, 0, 0, [])
        assert result.unchanged == 57
    after = snapshot(app)
    # Only the import history and its audit rows grew.
    for table in ("allowlist_entries", "users", "user_programs", "auth_sessions", "api_keys"):
        assert after[table] == before[table], table
    assert len(after["allowlist_imports"]) == len(before["allowlist_imports"]) + 2


def _account_with_credentials(app, make_user, login_as, email="person1@example.org"):
    """An active account with a browser session, an API session and an API key."""
    user_id = make_user(email=email, programs=("P1",))
    login_as(user_id)
    with app.test_request_context():
        user = db.session.get(User, user_id)
        sessions.open_session(user, "api")
        db.session.commit()
        _row, raw_key = api_keys.create(user, name="script", scope="full")
    return user_id, raw_key


def _credentials(app, user_id):
    def read():
        user = db.session.get(User, user_id)
        live = db.session.scalars(
            select(AuthSession).where(
                AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
            )
        ).all()
        keys = db.session.scalars(
            select(ApiKey).where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
        ).all()
        return user.is_active, user.inactive_reason, len(live), len(keys), user.program_ids

    return read_db(app, read)


def test_replace_removal_deactivates_and_revokes_and_re_adding_reactivates(
    app, client, make_user, login_as
):
    run_import(app, csv_of(*people(20)))
    user_id, _key = _account_with_credentials(app, make_user, login_as)
    assert client.get("/account").status_code == 200
    assert _credentials(app, user_id) == (True, None, 2, 1, ["P1"])

    rows = [r for r in people(20) if r[2] != "person1@example.org"]
    result = run_import(app, csv_of(*rows), mode="replace")
    assert result.applied and result.removed == 1
    assert _credentials(app, user_id) == (False, "allowlist", 0, 0, ["P1"])
    # The browser's cookie is dead at once: the next request is a visitor's.
    response = client.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]

    result = run_import(app, csv_of(("Last1", "First1", "person1@example.org", "P7;P8")))
    assert result.applied and result.changed == 1
    # Back on the list: active again, with the new programs; old credentials stay revoked.
    assert _credentials(app, user_id) == (True, None, 0, 0, ["P7", "P8"])

    def events():
        return [
            e.event
            for e in db.session.scalars(
                select(AuditEvent).where(AuditEvent.target_id == user_id).order_by(AuditEvent.id)
            )
        ]

    # The new programs are in the account's history too (issue 16), after the reactivation.
    assert read_db(app, events)[-3:] == [
        "account.deactivated",
        "account.reactivated",
        "user.updated",
    ]


def test_an_account_an_admin_deactivated_stays_closed_when_re_added(app, make_user):
    run_import(app, csv_of(*people(3)))
    user_id = make_user(email="person0@example.org")

    def close():
        user = db.session.get(User, user_id)
        user.is_active_flag = False
        user.inactive_reason = lifecycle.REASON_ADMIN
        db.session.commit()

    read_db(app, close)
    run_import(app, csv_of(*people(3)[1:]), mode="replace", confirm_mass_removal=True)
    run_import(app, csv_of(*people(3)))
    assert _credentials(app, user_id)[:2] == (False, "admin")


def test_changed_ids_change_the_programs_at_once(app, make_user):
    run_import(app, csv_of(("Lovelace", "Ada", "ada@example.org", "P1")))
    user_id = make_user(email="ada@example.org", programs=("P1",))
    result = run_import(app, csv_of(("Lovelace", "Ada", "ada@example.org", "P2;P3")))
    assert result.changed == 1
    assert _credentials(app, user_id)[4] == ["P2", "P3"]
    # A name-only change leaves programs an admin may have adjusted alone.
    read_db(app, lambda: _set_programs(user_id, ["P2", "P3", "EXTRA"]))
    run_import(app, csv_of(("Lovelace", "Augusta Ada", "ada@example.org", "P2;P3")))
    assert _credentials(app, user_id)[4] == ["EXTRA", "P2", "P3"]


def _set_programs(user_id, ids):
    user = db.session.get(User, user_id)
    user.programs = [UserProgram(lo_root_id=p) for p in ids]
    db.session.commit()


def test_the_mass_removal_guard(app):
    run_import(app, csv_of(*people(20)))
    # Removing 2 of 20 (10 %) is within ALLOWLIST_MAX_REMOVAL_FRACTION; 3 of 20 is not.
    result = run_import(app, csv_of(*people(20, start=2)), mode="replace", dry_run=True)
    assert result.removed == 2 and not result.preview.needs_removal_confirmation()
    before = snapshot(app)
    result = run_import(app, csv_of(*people(20, start=3)), mode="replace")
    assert result.blocked == "mass_removal" and not result.applied
    assert snapshot(app) == before
    result = run_import(app, HEADER.encode(), mode="replace")
    assert result.blocked == "mass_removal" and result.removed == 20
    assert snapshot(app) == before
    result = run_import(
        app, csv_of(*people(20, start=3)), mode="replace", confirm_mass_removal=True
    )
    assert result.applied and result.removed == 3
    count = read_db(app, lambda: allowlist_entries.active_count())
    assert count == 17


def test_skipping_bad_rows_applies_the_rest_and_keeps_their_people(app):
    run_import(app, csv_of(*people(10)))
    rows = people(10)
    rows[4] = ("Last4", "First4", "person4@example.org", "not valid!")  # a bad row for a member
    result = run_import(
        app,
        csv_of(*rows, ("New", "Person", "new@example.org", "P1")),
        mode="replace",
        skip_invalid=True,
    )
    assert result.applied and result.added == 1 and result.removed == 0
    assert result.preview.kept_invalid == 1
    skipped = read_db(app, lambda: db.session.scalars(select(AllowlistImport.skipped)).all())
    assert skipped == [0, 1]

    def active(email):
        return db.session.scalar(select(AllowlistEntry.active).where(AllowlistEntry.email == email))

    assert read_db(app, lambda: active("person4@example.org")) is True


def test_people_with_conflicting_names_are_neither_added_nor_removed(app):
    run_import(app, csv_of(("Doe", "Jane", "jane@example.org", "P1"), *people(10)))
    data = csv_of(
        ("Doe", "Jane", "jane@example.org", "P2"),
        ("Roe", "Jane", "jane@example.org", "P3"),
        *people(10),
    )
    result = run_import(app, data, mode="replace", skip_invalid=True)
    assert result.applied and result.removed == 0 and result.changed == 0
    assert result.errors[0][0] == 3 and "on line 2" in result.errors[0][1]


def test_the_acting_admin_is_never_deactivated_by_their_own_import(app, make_user):
    run_import(app, csv_of(("Root", "Admin", "root@example.org", "P1"), *people(20)))
    admin_id = make_user(email="root@example.org", role="admin")
    with app.app_context():
        sessions.open_session(db.session.get(User, admin_id), "browser")
        db.session.commit()
    result = run_import(app, csv_of(*people(20)), mode="replace", actor_id=admin_id)
    assert result.applied and result.removed == 1
    assert _credentials(app, admin_id)[:3] == (True, None, 1)


def test_a_concurrent_import_of_the_same_people_rolls_back_whole(app):
    run_import(app, csv_of(*people(5)))
    with app.app_context():
        preview = imports.preview_bytes(csv_of(*people(10)), file_name="late.csv")
        # Another import adds person7 between this preview and its apply.
        db.session.add(
            AllowlistEntry(
                email="person7@example.org", email_key="person7@example.org", last_name="X"
            )
        )
        db.session.commit()
        before = snapshot(app)
        with pytest.raises(imports.ImportConflict):
            imports.apply(preview)
    assert snapshot(app) == before
    result = run_import(app, csv_of(*people(10)))
    assert result.applied and result.added == 4 and result.changed == 1
