"""A person changes their email address on /account: link to the new one, notice to the old."""

from __future__ import annotations

from sqlalchemy import select

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import AllowlistEntry, AuditEvent, Role, User
from acs_auth.services.accounts import email_change
from tests.support.browser import normalised, update_user
from tests.support.config import STRONG_PASSWORD
from tests.support.db import read_db
from tests.support.web import AuthActions, csrf_from

NEW = "ada.new@example.net"


def ask(client, new_email: str, password: str = STRONG_PASSWORD):
    page = client.get("/account").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "new_email": new_email, "email_password": password}
    return client.post("/account/email", data=data)


def confirm(client, link: str):
    page = client.get(link)
    assert page.status_code == 200, page.headers.get("Location")
    token = csrf_from(page.get_data(as_text=True))
    return client.post(link, data={"csrf_token": token})


def account(app, user_id: int) -> dict:
    def find():
        user = db.session.get(User, user_id)
        return {"email": user.email, "key": user.email_key, "verified": user.email_verified_at}

    return read_db(app, find)


def entry_emails(app) -> list[str]:
    return read_db(app, lambda: sorted(db.session.scalars(select(AllowlistEntry.email))))


def events(app, name: str) -> list[dict]:
    rows = read_db(
        app,
        lambda: [
            (r.actor_id, r.target_id, r.details)
            for r in db.session.scalars(select(AuditEvent).where(AuditEvent.event == name))
        ],
    )
    return [{"actor": a, "target": t, "details": d} for a, t, d in rows]


def test_the_new_address_confirms_by_link_and_the_old_one_is_told(
    app, client, outbox, make_user, make_entry, login_as
):
    user_id = make_user()
    make_entry(email="ada@example.org", last_name="Lovelace", programs=("PROG-1",))
    login_as(user_id)

    answer = ask(client, "  Ada.New@EXAMPLE.net ")
    assert answer.status_code == 302
    page = client.get("/account").get_data(as_text=True)
    assert "Ada.New@example.net" in page and "confirmation link" in page
    assert account(app, user_id)["email"] == "ada@example.org"  # nothing changes before the link
    link = outbox.link("Ada.New@example.net", "/account/email/confirm/")
    assert outbox.to("ada@example.org") == []

    done = confirm(client, link)
    assert done.status_code == 302
    assert account(app, user_id)["email"] == "Ada.New@example.net"
    assert account(app, user_id)["verified"] is not None
    assert entry_emails(app) == ["Ada.New@example.net"]  # the allowlist entry follows

    told = outbox.last_to("ada@example.org")
    assert told["Subject"].endswith("Your email address was changed")
    assert "http" not in outbox.text(told)  # no link to the old address

    # The change is on the record for the admin, and the export carries the new address.
    changed = events(app, "account.email_changed")
    assert changed == [
        {
            "actor": user_id,
            "target": user_id,
            "details": {"old": "ada@example.org", "new": "Ada.New@example.net"},
        }
    ]
    assert len(events(app, "allowlist.entry_email_changed")) == 1
    admin = make_user("root@example.org", role=Role.ADMIN.value)
    admin_client = app.test_client()
    login_as(admin, on=admin_client)
    exported = admin_client.get("/admin/allowlist/export.csv").get_data(as_text=True)
    assert "Ada.New@example.net" in exported and "ada@example.org" not in exported

    # The old address no longer signs in; the new one does; the link is spent.
    fresh = AuthActions(app.test_client())
    assert fresh.login("ada@example.org").status_code == 200
    assert AuthActions(app.test_client()).login("ada.new@example.net").status_code == 302
    again = client.get(link)
    assert again.status_code == 302
    assert messages.EMAIL_CHANGE_LINK_INVALID in client.get("/account").get_data(as_text=True)


def test_an_address_in_use_answers_the_same_and_gets_no_link(
    app, client, outbox, make_user, make_entry, login_as
):
    user_id = make_user()
    make_user("bob@example.org", last_name="Builder")
    make_entry(email="grace@example.org")
    login_as(user_id)

    pages = []
    for address in ("bob@example.org", "grace@example.org", NEW):
        assert ask(client, address).status_code == 302
        page = client.get("/account").get_data(as_text=True)
        assert messages.EMAIL_CHANGE_SENT.format(address=address) in page
        pages.append(normalised(page).replace(address, "NEW"))
    assert pages[0] == pages[1] == pages[2]  # the same answer, taken or free

    for taken in ("bob@example.org", "grace@example.org"):
        msgs = outbox.to(taken)
        assert [m["Subject"].split(": ", 1)[1] for m in msgs] == [
            "This email address cannot be used"
        ]
        assert "/account/email/confirm/" not in outbox.text(msgs[0])
        assert "Lovelace" not in outbox.text(msgs[0]) and "ada@" not in outbox.text(msgs[0])
    assert account(app, user_id)["email"] == "ada@example.org"


def test_an_address_taken_after_the_link_was_sent_is_refused(
    app, client, outbox, make_user, make_entry, login_as
):
    user_id = make_user()
    login_as(user_id)
    ask(client, NEW)
    link = outbox.link(NEW, "/account/email/confirm/")
    make_entry(email=NEW, last_name="Someone")
    assert client.get(link).status_code == 302
    token = csrf_from(client.get("/account").get_data(as_text=True))
    assert client.post(link, data={"csrf_token": token}).status_code == 302
    assert account(app, user_id)["email"] == "ada@example.org"


def test_the_link_dies_when_the_password_changes(app, client, outbox, make_user, login_as):
    user_id = make_user()
    login_as(user_id)
    ask(client, NEW)
    link = outbox.link(NEW, "/account/email/confirm/")
    update_user(app, user_id, password_hash="$2b$04$" + "x" * 53)
    login_as(user_id)
    assert client.get(link).status_code == 302
    assert account(app, user_id)["email"] == "ada@example.org"


def test_the_link_works_only_for_its_own_account(app, client, outbox, make_user, login_as):
    user_id = make_user()
    other = make_user("bob@example.org", last_name="Builder")
    login_as(user_id)
    ask(client, NEW)
    link = outbox.link(NEW, "/account/email/confirm/")
    intruder = app.test_client()
    login_as(other, on=intruder)
    assert intruder.get(link).status_code == 302
    assert intruder.post(link, data={}).status_code in (302, 400)
    assert account(app, other)["email"] == "bob@example.org"
    assert account(app, user_id)["email"] == "ada@example.org"
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    assert client.get(tampered).status_code == 302


def test_a_wrong_password_or_bad_address_changes_nothing(app, client, outbox, make_user, login_as):
    user_id = make_user()
    login_as(user_id)
    wrong = ask(client, NEW, password="not my password at all")
    assert wrong.status_code == 200
    assert messages.CURRENT_PASSWORD_WRONG in wrong.get_data(as_text=True)
    bad = ask(client, "not an address")
    assert bad.status_code == 200 and "@-sign" in bad.get_data(as_text=True)
    same = ask(client, "ADA@example.org")
    assert same.status_code == 200 and "already your email" in same.get_data(as_text=True)
    assert outbox.messages == []
    assert read_db(app, lambda: db.session.get(User, user_id).failed_login_count) == 1


def test_an_admin_can_use_the_service_for_a_person(app, outbox, make_user):
    user_id = make_user()
    admin_id = make_user("root@example.org", role=Role.ADMIN.value)
    with app.test_request_context():
        user, admin = db.session.get(User, user_id), db.session.get(User, admin_id)
        email_change.request_change(user, NEW, by=admin)
        db.session.remove()
    text = outbox.text(outbox.last_to(NEW))
    assert "An administrator asked" in text
    token = outbox.link(NEW, "/account/email/confirm/").rsplit("/", 1)[1]
    with app.test_request_context():
        email_change.confirm_change(token)
        db.session.remove()
    assert account(app, user_id)["email"] == NEW
    assert events(app, "account.email_changed")[0]["actor"] == admin_id
