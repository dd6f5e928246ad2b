"""Admin console: allowlist upload → preview → apply, the entries page, invitations, export."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import (
    AllowlistEntry,
    AllowlistImport,
    AllowlistUpload,
    AuditEvent,
    AuthSession,
    Role,
    User,
    utcnow,
)
from tests.support.allowlist import csv_of, entries, people
from tests.support.db import read_db
from tests.support.web import csrf_from


def token_of(client, url="/admin/allowlist/upload") -> str:
    return csrf_from(client.get(url).get_data(as_text=True))


def upload(client, data: bytes, mode="merge", name="people.csv", **extra):
    form = {"csrf_token": token_of(client), "mode": mode, **extra}
    if data is not None:
        form["file"] = (io.BytesIO(data), name)
    return client.post("/admin/allowlist/upload", data=form, content_type="multipart/form-data")


def preview_url(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    location = response.headers["Location"]
    assert location.startswith("/admin/allowlist/uploads/")
    return location


def apply(client, preview: str, **fields):
    body = client.get(preview).get_data(as_text=True)
    digest = re.search(r'name="digest" type="hidden" value="([0-9a-f]{64})"', body).group(1)
    data = {"csrf_token": csrf_from(body), "digest": digest, **fields}
    return client.post(preview + "/apply", data=data)


def import_all(client, data: bytes, mode="merge", **fields):
    response = apply(client, preview_url(upload(client, data, mode)), **fields)
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    return response


def test_upload_preview_apply_and_history(app, client, admin):
    response = upload(client, csv_of(*people(3)), name="C:\\exports\\staff.csv")
    preview = preview_url(response)
    body = client.get(preview).get_data(as_text=True)
    assert "To add (3)" in body and "person2@example.org" in body
    assert "Nothing has been changed yet" in body
    assert entries(app) == {}
    response = apply(client, preview)
    assert response.headers["Location"] == "/admin/allowlist/imports"
    assert set(entries(app)) == {f"person{i}@example.org" for i in range(3)}
    history = client.get("/admin/allowlist/imports").get_data(as_text=True)
    assert "staff.csv" in history and "root@example.org" in history and "merge" in history
    assert "Import applied: 3 added, 0 changed, 0 unchanged, 0 removed." in html.unescape(history)

    def batch():
        return db.session.scalars(select(AllowlistImport)).one()

    assert len(read_db(app, batch).sha256) == 64
    assert read_db(app, lambda: db.session.scalar(select(func.count(AllowlistUpload.id)))) == 0
    # The upload is used up: applying it again says so and changes nothing.
    again = client.post(
        preview + "/apply", data={"csrf_token": token_of(client), "digest": "0" * 64}
    )
    assert again.headers["Location"] == "/admin/allowlist/upload"
    assert messages.ADMIN_UPLOAD_EXPIRED in client.get("/admin/allowlist/upload").get_data(True)


def test_preview_lists_changes_with_old_and_new_values_and_removals(app, client, admin):
    import_all(client, csv_of(*people(30)))
    rows = people(30, start=1)
    rows[0] = ("Last1", "First1", "person1@example.org", "P1;P9")
    rows.append(("Bad", "Row", "nope", "P1"))
    preview = preview_url(upload(client, csv_of(*rows), mode="replace"))
    body = html.unescape(client.get(preview).get_data(as_text=True))
    assert "To change (1)" in body and "<del>P1</del>" in body and "<ins>P1;P9</ins>" in body
    assert "To remove (1 of 30, 3%)" in body and "person0@example.org" in body
    assert "Invalid rows (1)" in body
    assert (
        '<td data-label="Line">31</td><td data-label="Problem">“nope” is not a valid email' in body
    )
    assert "Unchanged" in body
    # Bad rows block the import until the admin ticks "skip".
    response = apply(client, preview)
    assert response.status_code == 400
    assert messages.ADMIN_IMPORT_HAS_ERRORS in response.get_data(as_text=True)
    assert entries(app)["person0@example.org"][2] is True
    response = apply(client, preview, skip_invalid="y")
    assert response.status_code == 302
    state = entries(app)
    assert state["person0@example.org"][2] is False and state["person1@example.org"][1] == "P1;P9"


def test_mass_removal_needs_its_own_confirmation(app, client, admin):
    import_all(client, csv_of(*people(10)))
    preview = preview_url(upload(client, csv_of(*people(10, start=5)), mode="replace"))
    body = client.get(preview).get_data(as_text=True)
    assert "removes more than 10% of the allowlist" in body
    response = apply(client, preview)
    assert response.status_code == 400
    text = html.unescape(response.get_data(as_text=True))
    assert "removes 5 of 10 entries (50%), more than the 10% allowed" in text
    assert sum(1 for v in entries(app).values() if v[2]) == 10
    assert apply(client, preview, confirm_mass_removal="y").status_code == 302
    assert sum(1 for v in entries(app).values() if v[2]) == 5


def test_a_preview_made_stale_by_another_change_must_be_reviewed_again(app, client, admin):
    import_all(client, csv_of(*people(5)))
    preview = preview_url(upload(client, csv_of(*people(6))))
    body = client.get(preview).get_data(as_text=True)
    digest = re.search(r'name="digest" type="hidden" value="([0-9a-f]{64})"', body).group(1)
    with app.app_context():  # someone else adds person5 meanwhile
        db.session.add(
            AllowlistEntry(
                email="person5@example.org", email_key="person5@example.org", last_name="X"
            )
        )
        db.session.commit()
    data = {"csrf_token": csrf_from(body), "digest": digest}
    response = client.post(preview + "/apply", data=data)
    assert response.status_code == 409
    assert messages.ADMIN_PREVIEW_OUTDATED in response.get_data(as_text=True)
    assert entries(app)["person5@example.org"][0] == "X"
    tampered = client.post(preview + "/apply", data={**data, "digest": "f" * 64})
    assert tampered.status_code == 409
    assert apply(client, preview).status_code == 302
    assert entries(app)["person5@example.org"][0] == "Last5"


def test_an_upload_belongs_to_the_admin_who_made_it(app, client, admin, make_user, login_as):
    preview = preview_url(upload(client, csv_of(*people(2))))
    other = app.test_client()
    login_as(make_user(email="other@example.org", role=Role.ADMIN.value), on=other)
    assert other.get(preview).headers["Location"] == "/admin/allowlist/upload"
    token = csrf_from(other.get("/admin/allowlist/upload").get_data(as_text=True))
    response = other.post(preview + "/apply", data={"csrf_token": token, "digest": "0" * 64})
    assert response.headers["Location"] == "/admin/allowlist/upload"
    assert client.get("/admin/allowlist/uploads/not-a-real-token").status_code == 302
    assert entries(app) == {}
    response = client.post(preview + "/discard", data={"csrf_token": token_of(client)})
    assert response.headers["Location"] == "/admin/allowlist/upload"
    assert client.get(preview).headers["Location"] == "/admin/allowlist/upload"


def test_an_expired_upload_cannot_be_applied(app, client, admin):
    preview = preview_url(upload(client, csv_of(*people(2))))
    with app.app_context():
        row = db.session.scalars(select(AllowlistUpload)).one()
        row.created_at = utcnow() - timedelta(hours=2)
        db.session.commit()
    assert client.get(preview).headers["Location"] == "/admin/allowlist/upload"


@pytest.mark.parametrize(
    ("data", "extra", "message"),
    [
        (None, {}, messages.ADMIN_FILE_REQUIRED),
        (b"", {}, messages.CSV_EMPTY),
        (b"\x89PNG\r\n\x1a\n\x00\x81\x8d\x90", {}, messages.CSV_BAD_ENCODING),
        (b"name,mail\nA,a@example.org\n", {}, "Missing required column(s): last_name"),
        (csv_of(*people(1)), {"mode": "everything"}, messages.ADMIN_CHOICE_INVALID),
        (csv_of(*people(4)), {}, "The file has more than 3 rows"),
    ],
)
@pytest.mark.parametrize("app_overrides", [{"ALLOWLIST_MAX_ROWS": 3}])
def test_bad_uploads_answer_on_the_form(app, client, admin, data, extra, message):
    mode = extra.pop("mode", "merge")
    response = upload(client, data, mode=mode, **extra)
    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))
    assert read_db(app, lambda: db.session.scalar(select(func.count(AllowlistUpload.id)))) == 0


@pytest.mark.parametrize(
    "app_overrides", [{"ALLOWLIST_MAX_BYTES": 2000, "MAX_CONTENT_LENGTH": 1000}]
)
def test_size_caps(app, client, admin):
    data = csv_of(*people(40))[:2000]
    data = data[: data.rfind(b"\n") + 1]
    data += b"#" * (2000 - len(data))  # exactly at ALLOWLIST_MAX_BYTES
    # Above the app-wide MAX_CONTENT_LENGTH, within the allowlist cap: an admin may upload it.
    assert upload(client, data).status_code == 302
    response = upload(client, data + b"#")
    assert response.status_code == 400
    assert "The file is larger than the limit of 2000 bytes." in response.get_data(True)
    response = upload(client, data * 60)  # beyond the request cap itself
    assert response.status_code == 413
    assert "The file is larger than the limit of" in response.get_data(as_text=True)


def test_entry_statuses_search_and_filter(app, client, admin, make_user, make_entry):
    for name in ("fresh", "invited", "expired", "registered", "pending", "locked", "closed"):
        make_entry(email=f"{name}@example.org", last_name=name.capitalize())
    make_entry(email="removed@example.org", last_name="Removed", active=False)
    make_user(email="registered@example.org")
    make_user(email="pending@example.org", password=None)
    locked = make_user(email="locked@example.org")
    make_user(email="closed@example.org", active=False)
    with app.app_context():
        db.session.get(User, locked).locked_until = utcnow() + timedelta(minutes=5)
        for email, ago in (("invited", 1), ("expired", 30)):
            entry = db.session.scalars(
                select(AllowlistEntry).where(AllowlistEntry.email == f"{email}@example.org")
            ).one()
            entry.invited_at = utcnow() - timedelta(hours=ago)
        db.session.commit()
    body = client.get("/admin/allowlist").get_data(as_text=True)
    rows = dict(
        re.findall(r'<label for="entry-\d+">([^<]+)</label>.*?badge[^>]*>([^<]+)<', body, re.S)
    )
    assert rows == {
        "closed@example.org": "Account inactive",
        "expired@example.org": "Link expired",
        "fresh@example.org": "Not registered",
        "invited@example.org": "Link sent",
        "locked@example.org": "Locked",
        "pending@example.org": "Password not set",
        "registered@example.org": "Registered",
        "removed@example.org": "Removed from the list",
    }
    assert "link expires" in body

    def shown(**query):
        page = client.get("/admin/allowlist", query_string=query).get_data(as_text=True)
        return re.findall(r'<label for="entry-\d+">([^<]+)</label>', page)

    assert shown(status="not_registered") == [
        "expired@example.org",
        "fresh@example.org",
        "invited@example.org",
    ]
    assert shown(status="invited") == ["invited@example.org"]
    assert shown(status="removed") == ["removed@example.org"]
    assert shown(q="REG") == ["registered@example.org"]
    assert shown(q="lock") == ["locked@example.org"]
    assert client.get("/admin/allowlist?status=bogus&q=%00").status_code == 200


def test_bulk_invitations_go_through_the_outbox_and_are_throttled(
    app, client, admin, make_user, make_entry, outbox
):
    ids = [make_entry(email=f"p{i}@example.org", last_name=f"P{i}") for i in range(4)]
    make_entry(email="has.account@example.org", last_name="Account")
    make_user(email="has.account@example.org")
    make_entry(email="setup@example.org", last_name="Setup")
    make_user(email="setup@example.org", password=None)

    def invite(**data):
        token = token_of(client, "/admin/allowlist")
        return client.post("/admin/allowlist/invite", data={"csrf_token": token, **data})

    response = invite(scope="selected", entry_ids=[str(ids[0]), str(ids[1])])
    assert response.headers["Location"] == "/admin/allowlist"
    assert outbox.link("p0@example.org", "/register/password/")
    assert outbox.link("p1@example.org", "/register/password/")
    assert outbox.to("p2@example.org") == []
    page = html.unescape(client.get("/admin/allowlist").get_data(as_text=True))
    assert "2 invitation(s) queued; 0 skipped" in page
    invite(scope="selected", entry_ids=[str(ids[0])])  # again at once: throttled
    assert len(outbox.to("p0@example.org")) == 1
    assert "0 invitation(s) queued; 1 skipped" in html.unescape(
        client.get("/admin/allowlist").get_data(as_text=True)
    )
    invite(scope="all")
    assert len(outbox.to("p0@example.org")) == 1  # still throttled
    assert outbox.link("p3@example.org", "/register/password/")
    assert outbox.link("setup@example.org", "/setup-password/")
    assert outbox.to("has.account@example.org") == []  # registered: never spammed
    for bad in ({"scope": "selected"}, {"scope": "mine", "entry_ids": "x"}, {}):
        assert invite(**bad).status_code == 302
    assert messages.ADMIN_INVITE_NONE_SELECTED in html.unescape(
        client.get("/admin/allowlist").get_data(as_text=True)
    )


def test_removing_an_entry_closes_the_account_and_restoring_reopens_it(
    app, client, admin, make_user, make_entry, login_as
):
    entry_id = make_entry(email="ada@example.org", last_name="Lovelace", programs=("P1",))
    user_id = make_user(email="ada@example.org")
    browser = app.test_client()
    login_as(user_id, on=browser)
    assert browser.get("/account").status_code == 200
    url = f"/admin/allowlist/{entry_id}/remove"
    response = client.post(url, data={"csrf_token": token_of(client, url)})
    assert response.status_code == 400
    assert messages.ADMIN_CONFIRM_REQUIRED in response.get_data(as_text=True)
    response = client.post(url, data={"csrf_token": token_of(client, url), "confirm": "y"})
    assert response.headers["Location"] == "/admin/allowlist"
    assert entries(app)["ada@example.org"][2] is False
    user = read_db(app, lambda: db.session.get(User, user_id))
    assert (user.is_active, user.inactive_reason) == (False, "allowlist")
    assert browser.get("/account").status_code == 302

    def live():
        return db.session.scalar(
            select(func.count()).where(
                AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
            )
        )

    assert read_db(app, live) == 0
    token = token_of(client, "/admin/allowlist")
    client.post(f"/admin/allowlist/{entry_id}/restore", data={"csrf_token": token})
    assert entries(app)["ada@example.org"][2] is True
    assert read_db(app, lambda: db.session.get(User, user_id).is_active) is True
    events = read_db(app, lambda: [e.event for e in db.session.scalars(select(AuditEvent))])
    assert {"allowlist.entry_removed", "account.deactivated", "account.reactivated"} <= set(events)


def test_the_download_is_neutralised_and_re_imports_to_nothing(app, client, admin):
    tricky = [
        ("=SUM(A1)", "+Eve", "eve@example.org", "P1"),
        ('"Smith, Jr."', "@b", "b@example.org", "-P2"),
    ]
    import_all(client, csv_of(*tricky, *people(20)))
    response = client.get("/admin/allowlist/export.csv")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="allowlist-')
    text = response.get_data(as_text=True)
    assert "'=SUM(A1)" in text and "'+Eve" in text and "'@b" in text and "'-P2" in text
    before = entries(app)
    preview = preview_url(upload(client, response.get_data(), mode="replace", name="back.csv"))
    body = client.get(preview).get_data(as_text=True)
    assert "To add (" not in body and "To change (" not in body and "To remove (" not in body
    assert "Record this import (no changes)" in body
    assert apply(client, preview).status_code == 302
    assert entries(app) == before
    assert messages.ADMIN_IMPORT_NOTHING in client.get("/admin/allowlist/imports").get_data(True)


@pytest.mark.parametrize("app_overrides", [{"ALLOWLIST_INVITE_BATCH": 2}])
def test_apply_can_invite_the_people_added_in_batches(app, client, admin, outbox):
    response = import_all(client, csv_of(*people(3)), invite="y")
    assert response.headers["Location"] == "/admin/allowlist/imports"
    page = html.unescape(client.get("/admin/allowlist/imports").get_data(as_text=True))
    assert "2 invitation(s) queued; 0 skipped" in page
    assert "1 more people are waiting for an invitation" in page
    assert outbox.link("person0@example.org", "/register/password/")
    assert outbox.link("person1@example.org", "/register/password/")
    assert outbox.to("person2@example.org") == []
