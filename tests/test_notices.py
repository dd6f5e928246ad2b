"""No silent dead ends: lock, inactive and not-recognised notices, over HTTP with real SMTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import AuditEvent, utcnow
from tests.support.browser import normalised, update_user, user_state
from tests.support.config import STRONG_PASSWORD
from tests.support.db import read_db
from tests.support.web import csrf_from

CONTACT = {"ADMIN_CONTACT": "it-help@example.org"}


def subjects(sent) -> list[str]:
    return [m["Subject"].split(": ", 1)[1] for m in sent]


def register(client, last_name, email, ip="198.51.100.1"):
    page = client.get("/register").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "last_name": last_name, "email": email}
    return client.post("/register", data=data, environ_base={"REMOTE_ADDR": ip})


# --- a lock --------------------------------------------------------------------------------------


def test_a_lock_emails_its_owner_once_with_its_end_and_a_reset_link(
    app, auth, client, outbox, make_user
):
    user_id = make_user()
    limit = app.config["MAX_LOGIN_ATTEMPTS"]
    for i in range(limit - 1):
        auth.login("ada@example.org", f"wrong guess {i}")
    assert outbox.to("ada@example.org") == []  # failures short of a lock send nothing

    auth.login("ada@example.org", "the locking guess")
    for i in range(3):  # guesses against the locked account: no further email
        auth.login("ada@example.org", f"more guesses {i}")
    auth.login("ada@example.org", STRONG_PASSWORD)  # the right password while locked: none either

    sent = outbox.to("ada@example.org")
    assert subjects(sent) == ["Your account is locked for now"]
    body = outbox.text(sent[0])
    until = user_state(app, user_id)["locked_until"]
    assert until.strftime("%Y-%m-%d at %H:%M UTC") in body
    assert STRONG_PASSWORD not in body and "the locking guess" not in body

    # The link is a working reset link, and the reset ends the lock.
    link = outbox.link("ada@example.org", "/reset-password/")
    page = client.get(link).get_data(as_text=True)
    new = "a completely new passphrase 77"
    client.post(link, data={"csrf_token": csrf_from(page), "password": new, "confirm": new})
    assert user_state(app, user_id)["locked_until"] is None


def test_a_second_lock_sends_a_second_notice(app, auth, outbox, make_user):
    user_id = make_user()
    limit = app.config["MAX_LOGIN_ATTEMPTS"]
    for i in range(limit):
        auth.login("ada@example.org", f"wrong guess {i}")
    update_user(app, user_id, locked_until=utcnow() - timedelta(seconds=1))  # the lock ran out
    for i in range(limit):
        auth.login("ada@example.org", f"second round {i}")
    assert subjects(outbox.to("ada@example.org")) == ["Your account is locked for now"] * 2


def test_a_lock_through_the_api_sends_the_notice_too(app, client, outbox, make_user):
    make_user()
    for i in range(app.config["MAX_LOGIN_ATTEMPTS"] + 2):
        response = client.post(
            "/api/auth/login", json={"email": "ada@example.org", "password": f"wrong {i}"}
        )
        assert response.status_code == 401
    assert subjects(outbox.to("ada@example.org")) == ["Your account is locked for now"]


def test_a_locked_inactive_account_gets_no_reset_link(app, auth, outbox, make_user):
    make_user(active=False)
    for i in range(app.config["MAX_LOGIN_ATTEMPTS"]):
        auth.login("ada@example.org", f"wrong guess {i}")
    assert outbox.to("ada@example.org") == []


# --- a deactivated account -----------------------------------------------------------------------


@pytest.mark.parametrize("app_overrides", [CONTACT], indirect=True)
def test_the_right_password_of_an_inactive_account_answers_the_same_and_emails_once(
    app, auth, outbox, make_user
):
    make_user(active=False)
    make_user("bob@example.org")

    wrong = auth.login("ada@example.org", "not the password at all")
    assert outbox.to("ada@example.org") == []  # a wrong password tells the owner nothing
    right = auth.login("ada@example.org", STRONG_PASSWORD)
    other = auth.login("bob@example.org", "not the password at all")
    assert messages.LOGIN_FAILED in right.get_data(as_text=True)
    assert right.status_code == wrong.status_code == other.status_code == 200
    pages = [
        normalised(r.get_data(as_text=True), e)
        for r, e in [
            (right, "ada@example.org"),
            (wrong, "ada@example.org"),
            (other, "bob@example.org"),
        ]
    ]
    assert pages[0] == pages[1] == pages[2]

    sent = outbox.to("ada@example.org")
    assert subjects(sent) == ["Your account is inactive"]
    assert "it-help@example.org" in outbox.text(sent[0])
    assert "http" not in outbox.text(sent[0])  # no link: only an administrator can reopen it

    auth.login("ada@example.org", STRONG_PASSWORD)  # again within the window: no second email
    assert len(outbox.to("ada@example.org")) == 1


def test_the_inactive_notice_comes_again_after_its_window(app, auth, outbox, make_user):
    make_user(active=False)
    auth.login("ada@example.org", STRONG_PASSWORD)

    def age_notices():
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.event == "account.inactive_notice_sent")
        )
        for row in rows:
            row.at = utcnow() - timedelta(hours=app.config["NOTICE_INACTIVE_HOURS"], minutes=1)
        db.session.commit()

    read_db(app, age_notices)
    auth.login("ada@example.org", STRONG_PASSWORD)
    assert subjects(outbox.to("ada@example.org")) == ["Your account is inactive"] * 2


# --- registration that matches nothing -----------------------------------------------------------


@pytest.mark.parametrize("app_overrides", [CONTACT], indirect=True)
def test_a_miss_answers_byte_identically_and_emails_the_typed_address(
    app, outbox, make_entry, make_user
):
    make_entry(email="grace@example.org", last_name="Hopper")
    make_user("ada@example.org")
    answers = [
        register(app.test_client(), name, email)
        for name, email in [
            ("Hopper", "grace@example.org"),  # match: registration link
            ("Lovelace", "ada@example.org"),  # an account without an entry: a miss
            ("Nobody", "Stranger@Example.ORG"),  # nobody at all: a miss
            ("Wrong", "grace@example.org"),  # the entry's address with a wrong name: a miss
        ]
    ]
    bodies = {(r.status_code, normalised(r.get_data(as_text=True))) for r in answers}
    assert len(bodies) == 1  # the same status and bytes, apart from the CSRF token

    stranger = outbox.to("stranger@example.org")
    assert subjects(stranger) == ["We could not recognise your details"]
    assert stranger[0]["To"] == "Stranger@example.org"  # the typed address, normalized
    text = outbox.text(stranger[0])
    assert "it-help@example.org" in text
    assert "/register/password/" not in text and "Hopper" not in text
    # Nothing the page does not say: the notice names no account or entry.
    for address in ("ada@example.org", "grace@example.org"):
        for msg in outbox.to(address):
            if subjects([msg]) == ["We could not recognise your details"]:
                assert outbox.text(msg) == text.replace(
                    "Stranger@example.org", address
                ) or "already" not in outbox.text(msg)
    assert subjects(outbox.to("ada@example.org")) == ["We could not recognise your details"]
    assert sorted(subjects(outbox.to("grace@example.org"))) == [
        "Finish your registration",
        "We could not recognise your details",
    ]


def test_the_notice_without_admin_contact_names_a_generic_contact(app, outbox):
    register(app.test_client(), "Nobody", "stranger@example.org")
    text = outbox.text(outbox.last_to("stranger@example.org"))
    assert "the administrator who gave you access" in text


@pytest.mark.parametrize(
    "app_overrides",
    [{"NOTICE_NO_MATCH_PER_ADDRESS": "2 per day", "NOTICE_NO_MATCH_PER_IP": "100 per day"}],
    indirect=True,
)
def test_misses_are_emailed_at_most_n_per_address(app, outbox):
    answers = [
        register(app.test_client(), "Nobody", spelling, ip=f"198.51.100.{i}")
        for i, spelling in enumerate(
            ["stranger@example.org", "STRANGER@example.org", " stranger@EXAMPLE.org", "x@y.org"]
        )
    ]
    assert len({normalised(r.get_data(as_text=True)) for r in answers}) == 1
    assert len(outbox.to("stranger@example.org")) == 2  # all spellings share one budget
    assert len(outbox.to("x@y.org")) == 1


@pytest.mark.parametrize(
    "app_overrides",
    [{"NOTICE_NO_MATCH_PER_ADDRESS": "100 per day", "NOTICE_NO_MATCH_PER_IP": "2 per day"}],
    indirect=True,
)
def test_misses_are_emailed_at_most_n_per_requesting_ip(app, outbox):
    for i in range(4):
        register(app.test_client(), "Nobody", f"victim{i}@example.org", ip="203.0.113.9")
    register(app.test_client(), "Nobody", "elsewhere@example.org", ip="203.0.113.10")
    assert len([m for m in outbox.messages if "victim" in m["To"]]) == 2
    assert len(outbox.to("elsewhere@example.org")) == 1
