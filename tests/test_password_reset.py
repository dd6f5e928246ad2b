"""Forgotten password: request, emailed link, new password, and everything a link must refuse."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select
from test_registration import count, post_form, signed_in_user, text

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import AuthSession, OutboxMessage, User, utcnow
from acs_auth.services.accounts import accounts
from acs_auth.services.signin import seam, sessions
from tests.support.config import STRONG_PASSWORD
from tests.support.db import read_db
from tests.support.web import csrf_from

NEW_PASSWORD = "violet marmalade tugboat 1923"


def can_sign_in(app, email: str, password: str) -> bool:
    """Whether the sign-in service accepts these credentials now."""
    with app.test_request_context():
        try:
            return seam.sign_in(email, password, seam.Channel.BROWSER).signed_in is not None
        finally:
            db.session.remove()


def request_reset(client, email: str):
    return post_form(client, "/forgot-password", {"email": email})


def reset_link(client, outbox, email: str = "ada@example.org") -> str:
    request_reset(client, email)
    return outbox.link(email, "/reset-password/")


def choose(client, link: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    data = {"password": password, "confirm": confirm or password}
    return post_form(client, link, data, form_url="/forgot-password")


def password_hash(app, user_id: int) -> str | None:
    return read_db(app, lambda: db.session.get(User, user_id).password_hash)


def test_reset_end_to_end(app, client, outbox, make_user):
    user_id = make_user()

    answer = request_reset(client, "ada@example.org")
    assert answer.status_code == 200 and messages.RESET_EMAIL_SENT in text(answer)
    link = outbox.link("ada@example.org", "/reset-password/")
    assert client.get(link).status_code == 200
    done = choose(client, link)

    # No automatic sign-in (OWASP): the reset leads to /login and opens no session.
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert signed_in_user(app, client) is None
    assert live_sessions(app, user_id) == 0
    landing = client.get(done.headers["Location"], follow_redirects=True)
    assert landing.status_code == 200
    assert messages.PASSWORD_RESET_DONE in text(landing)
    assert client.get("/programs").status_code == 302  # still signed out
    assert not can_sign_in(app, "ada@example.org", STRONG_PASSWORD)
    assert can_sign_in(app, "ada@example.org", NEW_PASSWORD)


def live_sessions(app, user_id: int) -> int:
    """How many unrevoked auth sessions ``user_id`` has."""
    return read_db(
        app,
        lambda: db.session.scalar(
            select(func.count())
            .select_from(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        ),
    )


def test_a_reset_signs_out_the_browser_that_used_the_link(app, client, outbox, make_user, login_as):
    user_id = make_user()
    login_as(user_id, remember=True)
    link = reset_link(client, outbox)

    done = choose(client, link)

    assert done.headers["Location"] == "/login"
    assert signed_in_user(app, client) is None
    assert live_sessions(app, user_id) == 0


def test_mail_goes_to_the_stored_address_not_the_typed_one(app, client, outbox, make_user):
    make_user(email="Ada.Lovelace@example.org")

    request_reset(client, "  ada.lovelace@EXAMPLE.ORG ")

    sent = outbox.messages
    assert [m["To"] for m in sent] == ["Ada.Lovelace@example.org"]


def test_unknown_or_inactive_email_answers_the_same_and_sends_nothing(
    app, client, outbox, make_user
):
    make_user(email="ada@example.org")
    make_user(email="gone@example.org", active=False)
    known = request_reset(client, "ada@example.org")
    unknown = request_reset(app.test_client(), "nobody@example.org")
    inactive = request_reset(app.test_client(), "gone@example.org")

    assert known.status_code == unknown.status_code == inactive.status_code == 200
    assert text(known) == text(unknown) == text(inactive)
    assert [m["To"] for m in outbox.messages] == ["ada@example.org"]


def test_account_without_password_gets_a_setup_link(app, client, outbox, make_user):
    make_user(password=None)
    request_reset(client, "ada@example.org")
    link = outbox.link("ada@example.org", "/setup-password/")
    assert client.get(link).status_code == 200


def test_link_is_built_from_app_url_not_the_host_header(app, outbox, make_user):
    make_user()
    evil = app.test_client()
    page = evil.get("/forgot-password", base_url="http://evil.example")
    token = csrf_from(text(page))
    evil.post(
        "/forgot-password",
        data={"csrf_token": token, "email": "ada@example.org"},
        base_url="http://evil.example",
        headers={"X-Forwarded-Host": "evil.example"},
    )

    body = outbox.text(outbox.last_to("ada@example.org"))
    assert "evil.example" not in body
    assert "http://portal.test/reset-password/" in body


def test_get_does_not_consume_and_a_used_link_is_refused(app, client, outbox, make_user):
    user_id = make_user()
    link = reset_link(client, outbox)
    for _ in range(3):
        assert client.get(link).status_code == 200
    assert choose(client, link).status_code == 302
    changed = password_hash(app, user_id)

    other = app.test_client()
    assert other.get(link).status_code == 400
    token = csrf_from(text(other.get("/forgot-password")))
    replay = other.post(
        link, data={"csrf_token": token, "password": "another fine pass 77", "confirm": "another"}
    )
    assert replay.status_code == 400
    replay = other.post(
        link,
        data={
            "csrf_token": token,
            "password": "another fine pass 77",
            "confirm": "another fine pass 77",
        },
    )
    assert replay.status_code == 400
    assert messages.LINK_INVALID in text(replay)
    assert password_hash(app, user_id) == changed


def test_link_dies_when_the_password_changes_another_way(app, client, outbox, make_user):
    user_id = make_user()
    link = reset_link(client, outbox)

    def change():
        with app.test_request_context():
            user = db.session.get(User, user_id)
            accounts.change_password(user, STRONG_PASSWORD, "a wholly different secret 55", None)

    read_db(app, change)

    assert client.get(link).status_code == 400
    refused = choose(client, link)
    assert refused.status_code == 400
    assert can_sign_in(app, "ada@example.org", "a wholly different secret 55")


def test_link_dies_when_the_address_changes(app, client, outbox, make_user):
    user_id = make_user()
    link = reset_link(client, outbox)

    def move():
        user = db.session.get(User, user_id)
        user.email, user.email_key = "ada@new.example.org", "ada@new.example.org"
        db.session.commit()

    read_db(app, move)
    assert client.get(link).status_code == 400


def test_a_reset_token_is_no_setup_or_registration_token(app, client, outbox, make_user):
    make_user()
    link = reset_link(client, outbox)
    token = link.rsplit("/", 1)[1]

    assert client.get(f"/setup-password/{token}").status_code == 400
    assert client.get(f"/register/password/{token}").status_code == 400
    refused = post_form(
        client,
        f"/setup-password/{token}",
        {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        form_url="/forgot-password",
    )
    assert refused.status_code == 400
    assert client.get(link).status_code == 200  # and the reset link itself still works


def test_a_setup_token_is_no_reset_token(app, client, outbox, make_user):
    make_user(password=None)
    post_form(client, "/first-time-password", {"last_name": "Lovelace", "email": "ada@example.org"})
    token = outbox.link("ada@example.org", "/setup-password/").rsplit("/", 1)[1]
    assert client.get(f"/reset-password/{token}").status_code == 400


def tampered(token: str) -> list[str]:
    payload, stamp, signature = token.split(".")
    flip = {"A": "B", "B": "A"}
    return [
        f"{payload}.{stamp}.{signature[:-2]}{flip.get(signature[-2], 'A')}{signature[-1]}",
        f"{payload[:-1]}{flip.get(payload[-1], 'A')}.{stamp}.{signature}",
        f"{payload}.{stamp}",
        f"{payload}.{stamp}.{signature}.x",
        token[:-5],
        "A" * 5000,
    ]


def test_tampered_tokens_are_refused(app, client, outbox, make_user):
    user_id = make_user()
    link = reset_link(client, outbox)
    token = link.rsplit("/", 1)[1]

    for bad in tampered(token):
        response = client.get(f"/reset-password/{bad}")
        assert response.status_code == 400, bad
        assert messages.LINK_INVALID in text(response)
        assert choose(client, f"/reset-password/{bad}").status_code == 400, bad
    assert can_sign_in(app, "ada@example.org", STRONG_PASSWORD)
    assert password_hash(app, user_id) is not None


def test_expired_link_is_refused(app, client, outbox, make_user, monkeypatch):
    make_user()
    link = reset_link(client, outbox)
    now = int(time.time())

    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + 3500)
    assert client.get(link).status_code == 200  # within the hour
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + 3602)
    assert client.get(link).status_code == 400
    assert choose(client, link).status_code == 400
    monkeypatch.undo()
    assert can_sign_in(app, "ada@example.org", STRONG_PASSWORD)


def test_reset_works_for_a_locked_account_and_clears_the_lock(app, client, outbox, make_user):
    user_id = make_user()

    def lock():
        user = db.session.get(User, user_id)
        user.failed_login_count = 5
        user.locked_until = utcnow() + timedelta(minutes=30)
        db.session.commit()

    read_db(app, lock)
    assert not can_sign_in(app, "ada@example.org", STRONG_PASSWORD)

    assert choose(client, reset_link(client, outbox)).status_code == 302

    state = read_db(app, lambda: db.session.get(User, user_id))
    assert state.failed_login_count == 0 and state.locked_until is None
    assert can_sign_in(app, "ada@example.org", NEW_PASSWORD)


def test_reset_ends_every_other_session(app, client, outbox, make_user, login_as):
    user_id = make_user()
    other_browser = app.test_client()
    browser_id = login_as(user_id, remember=True, on=other_browser)

    def open_api_session():
        with app.test_request_context():
            row = sessions.open_session(db.session.get(User, user_id), "api")
            db.session.commit()
            return row.public_id

    api_id = read_db(app, open_api_session)

    choose(client, reset_link(client, outbox))

    assert read_db(app, lambda: sessions.load_live(browser_id)) is None
    assert read_db(app, lambda: sessions.load_live(api_id)) is None
    assert signed_in_user(app, other_browser) is None
    assert signed_in_user(app, client) is None


def test_password_changed_notice_carries_no_link_or_secret(app, client, outbox, make_user):
    make_user()
    link = reset_link(client, outbox)
    token = link.rsplit("/", 1)[1]
    choose(client, link)

    notice = outbox.last_to("ada@example.org")
    assert "Your password was changed" in notice["Subject"]
    for part in (outbox.text(notice), notice.get_body(preferencelist=("html",)).get_content()):
        assert token not in part
        assert NEW_PASSWORD not in part
        assert "http" not in part and "href" not in part
        assert "/reset-password" not in part


def test_reset_page_headers(app, client, outbox, make_user):
    make_user()
    link = reset_link(client, outbox)
    for url in (link, "/reset-password/not-a-token"):
        response = client.get(url)
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "no-store" in response.headers["Cache-Control"]


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "error"),
    [
        ("", messages.FIELD_REQUIRED),
        ("   ", messages.FIELD_REQUIRED),
        # "not-an-email" is a username since issue 16 (tests/test_reset_by_username.py)
        ("ada@", messages.EMAIL_INVALID),
        ("x" * 300 + "@example.org", messages.FIELD_TOO_LONG),
    ],
)
def test_forgot_password_bad_input(app, client, outbox, make_user, email, error):
    make_user()
    response = request_reset(client, email)
    assert response.status_code == 200
    assert error in text(response)
    assert count(app, OutboxMessage) == 0


@pytest.mark.parametrize(
    ("password", "confirm", "error"),
    [
        ("", "", messages.FIELD_REQUIRED),
        (NEW_PASSWORD, "something else entirely", messages.PASSWORD_MISMATCH),
        (NEW_PASSWORD, "", messages.FIELD_REQUIRED),
    ],
)
def test_reset_form_bad_input_changes_nothing(
    app, client, outbox, make_user, password, confirm, error
):
    user_id = make_user()
    link = reset_link(client, outbox)
    before = password_hash(app, user_id)

    response = post_form(client, link, {"password": password, "confirm": confirm})

    assert response.status_code == 200
    assert error in text(response)
    assert password_hash(app, user_id) == before
    assert count(app, AuthSession) == 0
    assert client.get(link).status_code == 200  # the link still works


@pytest.mark.parametrize("url", ["/forgot-password", "LINK"])
def test_one_megabyte_fields_are_refused_without_a_500(app, client, outbox, make_user, url):
    user_id = make_user()
    if url == "LINK":
        url = reset_link(client, outbox)
    before = password_hash(app, user_id)
    token = csrf_from(text(client.get(url)))
    big = "p" * (1024 * 1024)
    response = client.post(
        url, data={"csrf_token": token, "email": big, "password": big, "confirm": big}
    )
    assert response.status_code in (200, 400, 413)
    assert password_hash(app, user_id) == before


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/forgot-password", {"email": "ada@example.org"}),
        ("/register", {"last_name": "Lovelace", "email": "ada@example.org"}),
        ("/first-time-password", {"last_name": "Lovelace", "email": "ada@example.org"}),
    ],
)
def test_request_pages_are_rate_limited_per_identifier(make_app, outbox, url, data):
    limited = make_app(RATELIMIT_ENABLED=True, RATELIMIT_PER_IDENTIFIER="2 per minute")
    client = limited.test_client()
    answers = [post_form(client, url, data) for _ in range(3)]
    other = post_form(client, url, {**data, "email": "someone.else@example.org"})

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2].headers["Retry-After"]) > 0
    assert other.status_code == 200  # another identifier has its own budget
    big = client.post(url, data={"email": "x" * (1024 * 1024)})
    assert big.status_code in (400, 413, 429)
