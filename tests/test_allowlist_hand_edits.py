"""An administrator's hand edit to a person's programs is never silently undone by an import.

The admin sets programs on the user page; the next upload whose row for that person changes
the IDs lists them under "Programs set by hand" with a choice per person (keep the hand edit,
or take the file's value), applied by the import and recorded in the person's history. The CLI
and the API decide once for all (keep by default) and list the same people.
"""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select
from test_allowlist_admin import apply, csv_of, preview_url, upload
from test_api_support import assert_problem

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import AllowlistEntry, AuditEvent, Role, User
from tests.support.db import read_db
from tests.support.web import csrf_from

pytest_plugins = ("test_api_support",)

ADA = ("Lovelace", "Ada", "ada@example.org")


@pytest.fixture
def admin(make_user, login_as):
    admin_id = make_user(email="root@example.org", role=Role.ADMIN.value, programs=())
    login_as(admin_id)
    return admin_id


@pytest.fixture
def ada(make_user, make_entry):
    """Ada, on the allowlist with P1 and holding P1; returns her account id."""
    make_entry(email="ada@example.org", last_name="Lovelace", first_name="Ada", programs=("P1",))
    return make_user(email="ada@example.org", programs=("P1",))


def edit_programs(client, user_id: int, programs: str):
    page = client.get(f"/admin/users/{user_id}").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "role": "user", "programs": programs, "active": "y"}
    answer = client.post(f"/admin/users/{user_id}", data=data)
    assert answer.status_code == 302, answer.get_data(as_text=True)[-1500:]


def programs_of(app, user_id: int) -> tuple[list[str], object]:
    def read():
        user = db.session.get(User, user_id)
        return user.program_ids, user.programs_edited_at

    return read_db(app, read)


def entry_ids(app) -> str:
    return read_db(app, lambda: db.session.scalar(select(AllowlistEntry.lo_root_ids).limit(1)))


def history(app, user_id: int, event: str) -> list[dict]:
    return read_db(
        app,
        lambda: [
            row.details
            for row in db.session.scalars(
                select(AuditEvent).where(AuditEvent.event == event, AuditEvent.target_id == user_id)
            )
        ],
    )


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_preview_shows_the_hand_edit_and_keeping_it_is_recorded(app, client, admin, ada):
    edit_programs(client, ada, "P1;HAND")
    assert programs_of(app, ada)[1] is not None
    assert "set by hand" in text(client.get(f"/admin/users/{ada}"))

    preview = preview_url(upload(client, csv_of((*ADA, "P1;P2")), name="march.csv"))
    page = text(client.get(preview))
    section = page.split('id="edited-heading"')[1].split("</section>")[0]
    assert "ada@example.org" in section
    assert "HAND;P1" in section and "P1;P2" in section  # set by hand, and in the file
    assert f'name="edited-{ada}" value="keep" checked' in section
    assert f'name="edited-{ada}" value="file"' in section

    assert apply(client, preview).status_code == 302  # the preselected choice: keep
    assert programs_of(app, ada)[0] == ["HAND", "P1"]
    assert programs_of(app, ada)[1] is not None  # still marked: the next change asks again
    assert entry_ids(app) == "P1;P2"  # the entry (and so the export) follows the file
    kept = history(app, ada, "user.programs_edit_kept")
    assert len(kept) == 1
    assert kept[0]["kept"] == ["HAND", "P1"] and kept[0]["file"] == ["P1", "P2"]
    assert kept[0]["import_file"] == "march.csv" and kept[0]["import_id"]
    assert history(app, ada, "user.updated")[-1]["changes"]["programs"][1] == ["HAND", "P1"]
    assert "user.programs_edit_kept" in text(client.get(f"/admin/users/{ada}"))

    again = text(client.get(preview_url(upload(client, csv_of((*ADA, "P1;P2"))))))
    assert 'id="edited-heading"' not in again  # the same file again: nothing to ask


def test_taking_the_files_value_replaces_the_programs_and_clears_the_mark(app, client, admin, ada):
    edit_programs(client, ada, "HAND")
    preview = preview_url(upload(client, csv_of((*ADA, "P2;P3")), name="april.csv"))
    assert apply(client, preview, **{f"edited-{ada}": "file"}).status_code == 302
    assert programs_of(app, ada) == (["P2", "P3"], None)
    changed = history(app, ada, "user.updated")[-1]
    assert changed["changes"]["programs"] == [["HAND"], ["P2", "P3"]]
    assert changed["import_file"] == "april.csv"
    assert history(app, ada, "user.programs_edit_kept") == []


def test_no_question_without_a_hand_edit_or_when_the_file_agrees(
    app, client, admin, ada, make_user, make_entry
):
    make_entry(email="bob@example.org", last_name="Builder", programs=("P1",))
    bob = make_user(email="bob@example.org", last_name="Builder", programs=("P1",))
    edit_programs(client, ada, "P1;P2")  # the file will agree with this one
    rows = csv_of((*ADA, "P1;P2"), ("Builder", "Bob", "bob@example.org", "P9"))
    preview = preview_url(upload(client, rows))
    assert 'id="edited-heading"' not in text(client.get(preview))
    assert apply(client, preview).status_code == 302
    assert programs_of(app, bob)[0] == ["P9"]  # not edited by hand: follows the file
    assert history(app, bob, "user.updated")[-1]["import_id"]


def test_a_hand_edit_after_the_preview_makes_it_outdated(app, client, admin, ada):
    edit_programs(client, ada, "HAND")
    preview = preview_url(upload(client, csv_of((*ADA, "P2"))))
    page = client.get(preview).get_data(as_text=True)
    digest = re.search(r'name="digest" type="hidden" value="([0-9a-f]{64})"', page).group(1)
    edit_programs(client, ada, "HAND;OTHER")
    answer = client.post(
        preview + "/apply",
        data={"csrf_token": csrf_from(page), "digest": digest, f"edited-{ada}": "file"},
    )
    assert answer.status_code == 409
    assert messages.ADMIN_PREVIEW_OUTDATED in text(answer)
    assert programs_of(app, ada)[0] == ["HAND", "OTHER"]


@pytest.mark.parametrize(
    "fields",
    [
        {"edited-{ada}": "evil"},
        {"edited-abc": "file"},
        {"edited-{ada}x": "file"},
        {"edited-99999999999999999999": "file"},
        {"edited-{ada}": "file\x00"},
    ],
)
def test_unreadable_choices_keep_the_hand_edit(app, client, admin, ada, fields):
    edit_programs(client, ada, "HAND")
    preview = preview_url(upload(client, csv_of((*ADA, "P2"))))
    data = {name.format(ada=ada): value for name, value in fields.items()}
    assert apply(client, preview, **data).status_code == 302
    assert programs_of(app, ada)[0] == ["HAND"]


def test_the_cli_lists_them_and_keeps_or_takes_as_told(app, client, admin, ada, runner, tmp_path):
    edit_programs(client, ada, "HAND")
    march = tmp_path / "march.csv"
    march.write_bytes(csv_of((*ADA, "P2")))
    shown = runner.invoke(args=["allowlist", "import", str(march), "--dry-run"])
    assert "! ada@example.org  programs set by hand [HAND], file [P2]" in shown.output
    kept = runner.invoke(args=["allowlist", "import", str(march)])
    assert kept.exit_code == 0, kept.output
    assert programs_of(app, ada)[0] == ["HAND"]
    april = tmp_path / "april.csv"
    april.write_bytes(csv_of((*ADA, "P3")))
    taken = runner.invoke(args=["allowlist", "import", str(april), "--edited", "file"])
    assert taken.exit_code == 0, taken.output
    assert programs_of(app, ada) == (["P3"], None)
    bad = runner.invoke(args=["allowlist", "import", str(april), "--edited", "maybe"])
    assert bad.exit_code == 2


def test_the_api_lists_them_in_the_dry_run_and_applies_the_choice(app, api, make_user, ada):
    make_user(email="root@example.org", role=Role.ADMIN.value, programs=())
    token = api.token("root@example.org")
    patched = api.patch(f"/api/admin/users/{ada}", token=token, json={"programs": ["HAND"]})
    assert patched.status_code == 200
    body = csv_of((*ADA, "P2"))
    url = "/api/admin/allowlist"
    headers = {"Content-Type": "text/csv"}
    dry = api.post(url + "?dry_run=true", token=token, data=body, headers=headers)
    assert dry.status_code == 200, dry.get_data(as_text=True)
    assert dry.get_json()["preview"]["edited_by_hand"] == [
        {"email": "ada@example.org", "by_hand": ["HAND"], "in_file": ["P2"]}
    ]
    bad = api.post(url + "?edited=maybe", token=token, data=body, headers=headers)
    assert_problem(bad, 422)
    taken = api.post(url + "?edited=file", token=token, data=body, headers=headers)
    assert taken.status_code == 200, taken.get_data(as_text=True)
    assert programs_of(app, ada) == (["P2"], None)


def test_restoring_a_removed_person_keeps_programs_set_by_hand(app, client, admin, ada):
    edit_programs(client, ada, "HAND")
    entry_id = read_db(app, lambda: db.session.scalar(select(AllowlistEntry.id)))
    url = f"/admin/allowlist/{entry_id}/remove"
    page = client.get(url).get_data(as_text=True)
    client.post(url, data={"csrf_token": csrf_from(page), "confirm": "y"})
    page = client.get("/admin/allowlist").get_data(as_text=True)
    client.post(f"/admin/allowlist/{entry_id}/restore", data={"csrf_token": csrf_from(page)})
    assert read_db(app, lambda: db.session.get(User, ada).is_active) is True
    assert programs_of(app, ada)[0] == ["HAND"]  # the entry says P1; the hand edit stays
