"""First-time password setup: the request page, the welcome email and the setup link."""

from __future__ import annotations

import pytest
from test_password_reset import can_sign_in, password_hash
from test_registration import count, post_form, signed_in_user, text

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import AuthSession, OutboxMessage, User
from acs_auth.services.accounts import accounts
from tests.support.db import read_db
from tests.support.web import csrf_from

NEW_PASSWORD = "violet marmalade tugboat 1923"


def ask_setup(client, last_name: str, email: str):
    return post_form(client, "/first-time-password", {"last_name": last_name, "email": email})


def choose(client, link: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    data = {"password": password, "confirm": confirm if confirm is not None else password}
    return post_form(client, link, data, form_url="/first-time-password")


def test_setup_end_to_end(app, client, outbox, make_user):
    user_id = make_user(email="Ada@example.org", password=None)

    answer = ask_setup(client, " LOVELACE", "ada@EXAMPLE.org")

    assert answer.status_code == 200 and messages.SETUP_EMAIL_SENT in text(answer)
    msg = outbox.last_to("ada@example.org")
    assert msg["To"] == "Ada@example.org"
    assert "Set up your password" in msg["Subject"]
    link = outbox.link("ada@example.org", "/setup-password/")
    page = client.get(link)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in page.headers["Cache-Control"]

    done = choose(client, link)

    assert done.status_code == 302 and done.headers["Location"].startswith("/programs")
    assert signed_in_user(app, client) == user_id
    assert can_sign_in(app, "ada@example.org", NEW_PASSWORD)
    verified = read_db(app, lambda: db.session.get(User, user_id).email_verified_at)
    assert verified is not None


def test_setup_link_dies_once_used(app, client, outbox, make_user):
    user_id = make_user(password=None)
    ask_setup(client, "Lovelace", "ada@example.org")
    link = outbox.link("ada@example.org", "/setup-password/")
    assert choose(client, link).status_code == 302
    after = password_hash(app, user_id)

    other = app.test_client()
    assert other.get(link).status_code == 400
    refused = choose(other, link, "some other long phrase 99")
    assert refused.status_code == 400 and messages.LINK_INVALID in text(refused)
    assert password_hash(app, user_id) == after


def test_an_older_setup_link_dies_when_a_newer_one_is_used(app, client, outbox, make_user):
    make_user(password=None)
    ask_setup(client, "Lovelace", "ada@example.org")
    first = outbox.link("ada@example.org", "/setup-password/")
    ask_setup(client, "Lovelace", "ada@example.org")
    second = outbox.link("ada@example.org", "/setup-password/")

    assert choose(client, second).status_code == 302
    assert app.test_client().get(first).status_code == 400


def test_admin_created_account_gets_the_welcome_email(app, client, outbox, make_user):
    admin_id = make_user(email="root@example.org", role="admin")

    def create():
        with app.test_request_context():
            admin = db.session.get(User, admin_id)
            accounts.create_user("New.Person@Example.org", actor=admin, last_name="Person")

    read_db(app, create)

    msg = outbox.last_to("new.person@example.org")
    assert msg["To"] == "New.Person@example.org"
    assert "Your account is ready" in msg["Subject"]
    assert "An account has been created for you" in outbox.text(msg)
    link = outbox.link("new.person@example.org", "/setup-password/")
    assert choose(client, link).status_code == 302
    assert can_sign_in(app, "new.person@example.org", NEW_PASSWORD)


def test_every_case_answers_the_same(app, client, outbox, make_user, make_entry):
    make_user(email="ada@example.org", password=None)
    make_user(email="has@example.org", last_name="Password")
    make_user(email="off@example.org", password=None, active=False)
    make_entry(email="grace@example.org", last_name="Hopper")

    answers = [
        ask_setup(app.test_client(), *case)
        for case in [
            ("Lovelace", "ada@example.org"),  # setup link
            ("Password", "has@example.org"),  # already registered
            ("Hopper", "grace@example.org"),  # allowlisted, no account: registration link
            ("Wrong", "ada@example.org"),  # wrong last name: nothing
            ("Lovelace", "off@example.org"),  # deactivated: nothing
            ("Nobody", "nobody@example.org"),  # unknown: nothing
        ]
    ]

    assert {a.status_code for a in answers} == {200}
    assert len({text(a) for a in answers}) == 1
    sent = {m["To"]: m["Subject"] for m in outbox.messages}
    assert set(sent) == {"ada@example.org", "has@example.org", "grace@example.org"}
    assert "Set up your password" in sent["ada@example.org"]
    assert "You already have an account" in sent["has@example.org"]
    assert "Finish your registration" in sent["grace@example.org"]


def test_account_without_a_last_name_matches_through_its_allowlist_entry(
    app, client, outbox, make_user, make_entry
):
    make_user(email="ada@example.org", password=None, last_name=None)
    make_entry(email="ada@example.org", last_name="Lovelace")
    ask_setup(client, "lovelace", "ada@example.org")
    assert outbox.link("ada@example.org", "/setup-password/")


def test_setup_link_for_an_account_that_got_a_password_is_refused(app, client, outbox, make_user):
    user_id = make_user(password=None)
    ask_setup(client, "Lovelace", "ada@example.org")
    link = outbox.link("ada@example.org", "/setup-password/")

    def set_password():
        from acs_auth.services.accounts import passwords

        user = db.session.get(User, user_id)
        passwords.apply_new_password(user, "set elsewhere meanwhile 31")
        db.session.commit()

    read_db(app, set_password)
    assert client.get(link).status_code == 400


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last_name", "email", "error"),
    [
        ("", "", messages.FIELD_REQUIRED),
        ("Lovelace", "", messages.FIELD_REQUIRED),
        ("", "ada@example.org", messages.FIELD_REQUIRED),
        ("Lovelace", "ada at example.org", messages.EMAIL_INVALID),
        ("L" * 101, "ada@example.org", messages.FIELD_TOO_LONG),
    ],
)
def test_first_time_bad_input(app, client, outbox, make_user, last_name, email, error):
    make_user(password=None)
    response = ask_setup(client, last_name, email)
    assert response.status_code == 200
    assert error in text(response)
    assert count(app, OutboxMessage) == 0


@pytest.mark.parametrize(
    ("password", "confirm", "error"),
    [
        ("", "", messages.FIELD_REQUIRED),
        (NEW_PASSWORD, NEW_PASSWORD + "!", messages.PASSWORD_MISMATCH),
        ("short", "short", messages.PASSWORD_TOO_SHORT.format(n=12)),
    ],
)
def test_setup_form_bad_input_changes_nothing(
    app, client, outbox, make_user, password, confirm, error
):
    user_id = make_user(password=None)
    ask_setup(client, "Lovelace", "ada@example.org")
    link = outbox.link("ada@example.org", "/setup-password/")

    response = choose(client, link, password, confirm)

    assert response.status_code == 200 and error in text(response)
    assert password_hash(app, user_id) is None
    assert count(app, AuthSession) == 0


def test_oversized_input_and_token_never_reach_a_500(app, client, outbox, make_user):
    user_id = make_user(password=None)
    token = csrf_from(text(client.get("/first-time-password")))
    big = "z" * (1024 * 1024)
    response = client.post(
        "/first-time-password", data={"csrf_token": token, "last_name": big, "email": big}
    )
    assert response.status_code in (200, 400, 413)
    long_token = client.get("/setup-password/" + "B" * 5000)
    assert long_token.status_code == 400 and messages.LINK_INVALID in text(long_token)
    posted = choose(client, "/setup-password/" + "B" * 5000)
    assert posted.status_code == 400
    assert password_hash(app, user_id) is None
    assert count(app, OutboxMessage) == 0
