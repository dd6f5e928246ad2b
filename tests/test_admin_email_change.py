"""An administrator changes a person's email address: the same confirmation rules as their own.

The new address gets a link; the person opens it signed in to their own account; the old
address is told; the allowlist entry follows; the audit log names the administrator. An
address in use answers exactly like a free one, from the user page and from /api/admin.
"""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select
from test_api_support import assert_problem

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import AllowlistEntry, AuditEvent, Role, User
from tests.support.config import STRONG_PASSWORD
from tests.support.db import read_db
from tests.support.web import AuthActions, csrf_from

pytest_plugins = ("test_api_support",)

NEW = "ada.new@example.net"
LINK = "/account/email/confirm/"


@pytest.fixture
def admin(app, make_user):
    """An administrator's id and a client signed in as them (the default client stays free)."""
    admin_id = make_user(email="root@example.org", role=Role.ADMIN.value, last_name="Root")
    return admin_id


@pytest.fixture
def admin_client(app, admin, login_as):
    other = app.test_client()
    login_as(admin, on=other)
    return other


def change(admin_client, user_id: int, new_email: str):
    page = admin_client.get(f"/admin/users/{user_id}")
    token = csrf_from(page.get_data(as_text=True))
    return admin_client.post(
        f"/admin/users/{user_id}/email", data={"csrf_token": token, "new_email": new_email}
    )


def flashed(admin_client, user_id: int) -> str:
    body = admin_client.get(f"/admin/users/{user_id}").get_data(as_text=True)
    return html.unescape(body)


def email_of(app, user_id: int) -> str:
    return read_db(app, lambda: db.session.get(User, user_id).email)


def audit(app, event: str) -> list[tuple]:
    return read_db(
        app,
        lambda: [
            (row.actor_id, row.target_id, row.details)
            for row in db.session.scalars(select(AuditEvent).where(AuditEvent.event == event))
        ],
    )


def confirm_as_the_person(client, link: str):
    page = client.get(link)
    assert page.status_code == 200, page.headers.get("Location")
    return client.post(link, data={"csrf_token": csrf_from(page.get_data(as_text=True))})


def test_the_new_address_confirms_and_everything_follows(
    app, client, admin, admin_client, outbox, make_user, make_entry
):
    ada = make_user(programs=("PROG-1",))
    make_entry(email="ada@example.org", last_name="Lovelace", programs=("PROG-1",))

    answer = change(admin_client, ada, "  Ada.New@EXAMPLE.net ")
    assert answer.status_code == 302 and answer.headers["Location"] == f"/admin/users/{ada}"
    sent = messages.ADMIN_EMAIL_CHANGE_SENT.format(
        address="Ada.New@example.net", email="ada@example.org"
    )
    assert sent in flashed(admin_client, ada)
    assert email_of(app, ada) == "ada@example.org"  # nothing changes before the link
    mail = outbox.last_to("Ada.New@example.net")
    assert "An administrator asked" in outbox.text(mail)
    link = outbox.link("Ada.New@example.net", LINK)
    assert outbox.to("ada@example.org") == []

    # The administrator's own session cannot confirm it: the person must, signed in.
    admin_client.get(link)
    assert email_of(app, ada) == "ada@example.org"
    AuthActions(client).login("ada@example.org")
    assert confirm_as_the_person(client, link).status_code == 302
    assert email_of(app, ada) == "Ada.New@example.net"
    assert "http" not in outbox.text(outbox.last_to("ada@example.org"))  # told, without a link

    entries = read_db(app, lambda: list(db.session.scalars(select(AllowlistEntry.email))))
    assert entries == ["Ada.New@example.net"]
    assert audit(app, "account.email_change_requested") == [
        (admin, ada, {"to": "Ada.New@example.net"})
    ]
    changed = audit(app, "account.email_changed")
    assert changed == [(admin, ada, {"old": "ada@example.org", "new": "Ada.New@example.net"})]
    assert len(audit(app, "allowlist.entry_email_changed")) == 1
    history = flashed(admin_client, ada)
    assert "account.email_changed" in history and "account.email_change_requested" in history
    exported = admin_client.get("/admin/allowlist/export.csv").get_data(as_text=True)
    assert "Ada.New@example.net" in exported and "ada@example.org" not in exported


def _answer_page(admin_client, user_id: int, address: str) -> str:
    """The page after the answer, without the audit trail (which stays truthful for admins)."""
    page = flashed(admin_client, user_id).split('<h2 id="events-heading">')[0]
    page = re.sub(r'name="csrf_token" value="[^"]+"', "", page)
    return page.replace(address, "NEW")


def test_an_address_in_use_answers_like_a_free_one_and_gets_no_link(
    app, admin_client, outbox, make_user, make_entry
):
    ada = make_user()
    make_user("bob@example.org", last_name="Builder")
    make_entry(email="grace@example.org")
    pages = []
    for address in ("bob@example.org", "grace@example.org", "BOB@Example.org", NEW):
        answer = change(admin_client, ada, address)
        assert answer.status_code == 302
        normalized = address.replace("Example.org", "example.org")
        pages.append(_answer_page(admin_client, ada, normalized))
    assert pages[0] == pages[1] == pages[2] == pages[3]  # taken or free: the same answer
    for taken in ("bob@example.org", "grace@example.org", "BOB@example.org"):
        msgs = outbox.to(taken)
        assert msgs, taken
        assert all(LINK not in outbox.text(m) for m in msgs)
        assert all("Lovelace" not in outbox.text(m) for m in msgs)
    assert email_of(app, ada) == "ada@example.org"
    assert len(audit(app, "account.email_change_refused")) == 3


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("\u212aate@example.org", messages.EMAIL_LOOKALIKE),  # Kelvin sign
        ("kate@ex\uff41mple.org", messages.EMAIL_LOOKALIKE),  # full-width a in the domain
        ("ADA@EXAMPLE.ORG", messages.ADMIN_EMAIL_CHANGE_SAME),  # the domain is compared folded
        ("not-an-address", None),
        ("two@@example.org", None),
        ("", messages.FIELD_REQUIRED),
        ("a\x00b@example.org", messages.FIELD_INVALID_CHARACTERS),
        ("x" * 250 + "@example.org", messages.FIELD_TOO_LONG),
    ],
)
def test_bad_addresses_are_form_errors_and_send_nothing(
    app, admin_client, outbox, make_user, typed, message
):
    ada = make_user(email="ada@EXAMPLE.org")
    answer = change(admin_client, ada, typed)
    assert answer.status_code == 400
    body = html.unescape(answer.get_data(as_text=True))
    assert 'aria-invalid="true"' in body
    if message:
        assert message in body
    assert outbox.messages == []
    assert email_of(app, ada) == "ada@example.org"
    assert audit(app, "account.email_change_requested") == []


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("no_password", messages.ADMIN_EMAIL_CHANGE_NO_PASSWORD),
        ("service", messages.ADMIN_EMAIL_CHANGE_SERVICE),
        ("inactive", messages.ADMIN_ACCOUNT_INACTIVE),
    ],
)
def test_an_account_that_could_not_confirm_is_refused_with_the_way_out(
    app, admin_client, outbox, make_user, kind, message
):
    user_id = make_user(
        password=None if kind != "inactive" else STRONG_PASSWORD,
        role=Role.SERVICE_ACCOUNT.value if kind == "service" else Role.USER.value,
        active=kind != "inactive",
    )
    answer = change(admin_client, user_id, NEW)
    assert answer.status_code == 400
    assert message in html.unescape(answer.get_data(as_text=True))
    assert outbox.messages == []


def test_the_form_needs_csrf_and_an_existing_account(app, admin_client, make_user):
    ada = make_user()
    no_token = admin_client.post(f"/admin/users/{ada}/email", data={"new_email": NEW})
    assert no_token.status_code == 400
    assert email_of(app, ada) == "ada@example.org"
    assert change(admin_client, 999_999, NEW).status_code == 404


def test_a_person_cannot_use_the_admin_form(app, client, make_user, login_as):
    ada = make_user()
    bob = make_user("bob@example.org", last_name="Builder")
    login_as(bob)
    page = client.get("/account").get_data(as_text=True)
    answer = client.post(
        f"/admin/users/{ada}/email", data={"csrf_token": csrf_from(page), "new_email": NEW}
    )
    assert answer.status_code == 403


# --- /api/admin ---------------------------------------------------------------------------


def test_api_sends_the_link_and_answers_the_same_for_a_taken_address(
    app, api, admin_token, make_user, outbox
):
    ada = make_user()
    make_user("bob@example.org", last_name="Builder")
    free = api.post(f"/api/admin/users/{ada}/email", token=admin_token, json={"email": NEW})
    taken = api.post(
        f"/api/admin/users/{ada}/email", token=admin_token, json={"email": "bob@example.org"}
    )
    assert free.status_code == taken.status_code == 202
    assert free.get_json() == {"sent_to": NEW}
    assert taken.get_json() == {"sent_to": "bob@example.org"}
    assert LINK in outbox.text(outbox.last_to(NEW))
    assert all(LINK not in outbox.text(m) for m in outbox.to("bob@example.org"))
    assert email_of(app, ada) == "ada@example.org"


def test_api_refuses_bad_input_with_problem_details(app, api, admin_token, make_user, outbox):
    ada = make_user()
    no_password = make_user("pending@example.org", password=None)
    url = f"/api/admin/users/{ada}/email"
    cases = [
        ({"email": "\u212aate@example.org"}, messages.EMAIL_LOOKALIKE),
        ({"email": "ADA@example.org"}, messages.ADMIN_EMAIL_CHANGE_SAME),
        ({"email": "nope"}, messages.EMAIL_INVALID),
        ({"email": 42}, None),
        ({}, None),
    ]
    for body, message in cases:
        problem = assert_problem(api.post(url, token=admin_token, json=body), 422)
        if message:
            assert problem["errors"]["email"] == [message], body
    extra = api.post(url, token=admin_token, json={"email": NEW, "role": "admin"})
    assert_problem(extra, 422)
    assert_problem(
        api.post(f"/api/admin/users/{no_password}/email", token=admin_token, json={"email": NEW}),
        409,
        messages.ADMIN_EMAIL_CHANGE_NO_PASSWORD,
    )
    missing = api.post("/api/admin/users/999999/email", token=admin_token, json={"email": NEW})
    assert_problem(missing, 404, messages.API_USER_NOT_FOUND)
    assert outbox.messages == []
    person = api.token("ada@example.org")
    assert_problem(api.post(url, token=person, json={"email": NEW}), 403, messages.API_ADMIN_ONLY)
