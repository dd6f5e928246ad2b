"""Browser sign-in: success, equal failures, dummy bcrypt, lockout, next=, long passwords."""

from __future__ import annotations

from datetime import timedelta

import bcrypt as bcrypt_module
import pytest

from acs_auth import messages
from acs_auth.models import User, utcnow
from acs_auth.services.signin import seam
from tests.support.browser import (
    normalised,
    post_multipart,
    sessions_of,
    signed_in,
    update_user,
    user_state,
)
from tests.support.config import STRONG_PASSWORD


def test_login_goes_to_programs_then_straight_to_the_single_program(auth, client, make_user):
    make_user(programs=("PROG-1",))
    response = auth.login("ada@example.org")
    assert response.status_code == 302
    assert response.headers["Location"] == "/programs"
    response = client.get("/programs")
    assert response.status_code == 302
    assert response.headers["Location"] == "/programs/PROG-1"
    page = client.get("/programs/PROG-1").get_data(as_text=True)
    assert "PROG-1" in page


def test_login_records_the_visit(app, auth, make_user):
    user_id = make_user()
    before = user_state(app, user_id)
    started = utcnow()
    auth.login("ada@example.org", environ_base={"REMOTE_ADDR": "203.0.113.7"})
    after = user_state(app, user_id)
    assert after["visit_count"] == before["visit_count"] + 1
    assert after["last_login_at"] is not None and after["last_login_at"] >= started - timedelta(
        seconds=1
    )
    assert after["last_login_ip"] == "203.0.113.7"
    rows = sessions_of(app, user_id)
    assert len(rows) == 1 and rows[0]["revoked_at"] is None  # one auth session per sign-in


def test_each_sign_in_opens_its_own_session(app, auth, make_user):
    user_id = make_user()
    auth.login("ada@example.org")
    auth.logout()
    auth.login("ada@example.org")
    rows = sessions_of(app, user_id)
    assert len(rows) == 2
    assert rows[0]["revoked_at"] is not None and rows[1]["revoked_at"] is None


def test_login_with_username(app, auth, client, make_user):
    user_id = make_user()
    update_user(app, user_id, username="ada_l", username_key="ada_l")
    response = auth.login("ADA_L")
    assert response.headers["Location"] == "/programs"
    assert signed_in(client)


def test_signed_in_visitor_at_login_goes_to_programs(auth, client, make_user):
    make_user()
    auth.login("ada@example.org")
    response = client.get("/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/programs"


def test_root_redirects_by_sign_in_state(auth, client, make_user):
    make_user()
    assert client.get("/").headers["Location"] == "/login"
    auth.login("ada@example.org")
    assert client.get("/").headers["Location"] == "/programs"


@pytest.mark.parametrize("old_url", ["/login/last-name", "/login-lastname"])
def test_legacy_last_name_login_urls_move_to_login(client, old_url):
    response = client.get(old_url)
    assert response.status_code == 301
    assert response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert messages.LEGACY_LOGIN_MOVED in page


# ---------------------------------------------------------------- failures look the same


def _failure_page(auth, email: str, password: str):
    response = auth.login(email, password)
    body = response.get_data(as_text=True)
    assert messages.LOGIN_FAILED in body
    return response.status_code, normalised(body, email)


def test_every_failure_answers_with_the_same_status_and_body(app, auth, make_user):
    make_user("ada@example.org")
    locked = make_user("locked@example.org")
    update_user(app, locked, locked_until=utcnow() + timedelta(minutes=30), failed_login_count=5)
    make_user("inactive@example.org", active=False)
    make_user("nopassword@example.org", password=None)

    cases = {
        "unknown email": ("nobody@example.org", STRONG_PASSWORD),
        "wrong password": ("ada@example.org", "wrong password for ada 1234"),
        "locked, right password": ("locked@example.org", STRONG_PASSWORD),
        "inactive, right password": ("inactive@example.org", STRONG_PASSWORD),
        "no password yet": ("nopassword@example.org", STRONG_PASSWORD),
    }
    answers = {reason: _failure_page(auth, *args) for reason, args in cases.items()}
    reference = answers.pop("unknown email")
    for reason, answer in answers.items():
        assert answer[0] == reference[0], reason
        assert answer[1] == reference[1], reason
    assert not signed_in(auth.client)


def test_unknown_email_still_pays_a_bcrypt_check(auth, make_user, monkeypatch):
    make_user()
    auth.login("warm-up@example.org", "warm-up password 1234")  # the dummy hash now exists
    calls = []
    for name in ("hashpw", "checkpw"):
        real = getattr(bcrypt_module, name)

        def spy(*args, _real=real, _name=name):
            calls.append(_name)
            return _real(*args)

        monkeypatch.setattr(bcrypt_module, name, spy)

    auth.login("nobody@example.org", "some password 1234")
    unknown = len(calls)
    calls.clear()
    auth.login("ada@example.org", "wrong password 1234")
    known = len(calls)
    assert unknown == known == 1


# ---------------------------------------------------------------- lockout


def _client_pair(app, make_app):
    """Two app instances on one database, like two workers behind a load balancer."""
    from tests.support.web import AuthActions

    other = make_app()
    return AuthActions(app.test_client()), AuthActions(other.test_client())


def _fail(pair, attempts: int, email="ada@example.org"):
    for i in range(attempts):
        response = pair[i % 2].login(email, f"wrong guess number {i}")
        assert messages.LOGIN_FAILED in response.get_data(as_text=True)


def test_lockout_is_shared_by_instances_and_locks_at_exactly_the_limit(app, make_app, make_user):
    user_id = make_user()
    limit = app.config["MAX_LOGIN_ATTEMPTS"]
    pair = _client_pair(app, make_app)

    _fail(pair, limit - 1)
    assert user_state(app, user_id)["failed_login_count"] == limit - 1
    assert pair[1].login("ada@example.org").status_code == 302  # one short: still open
    assert user_state(app, user_id)["failed_login_count"] == 0
    pair[1].logout()

    _fail(pair, limit)
    state = user_state(app, user_id)
    assert state["failed_login_count"] == limit
    assert state["locked_until"] > utcnow() + timedelta(minutes=29)
    status, body = _failure_page(pair[0], "ada@example.org", STRONG_PASSWORD)
    wrong = _failure_page(pair[1], "ada@example.org", "yet another wrong guess")
    assert (status, body) == wrong  # a lock answers exactly like a wrong password
    assert not signed_in(pair[0].client)


def test_a_lock_set_while_the_password_was_checked_still_wins(app, make_user, monkeypatch):
    """Another worker locks the account after this request read the row as unlocked."""
    user_id = make_user()
    update_user(app, user_id, failed_login_count=5, locked_until=utcnow() + timedelta(minutes=30))
    monkeypatch.setattr(User, "is_locked", lambda self, now=None: False)  # the stale read
    with app.test_request_context():
        attempt = seam.sign_in("ada@example.org", STRONG_PASSWORD, seam.Channel.BROWSER)
        assert attempt.signed_in is None
    assert user_state(app, user_id)["visit_count"] == 0
    assert sessions_of(app, user_id) == []


def test_a_username_never_shadows_an_email(app, auth, make_user):
    """Even a username equal to someone's email (stored before the rules existed) loses."""
    ada = make_user()
    mallory = make_user("mallory@example.org", password="mallory's own passphrase 99")
    update_user(app, mallory, username="ada@example.org", username_key="ada@example.org")
    assert auth.login("ada@example.org").headers["Location"] == "/programs"
    assert user_state(app, ada)["visit_count"] == 1
    assert user_state(app, mallory)["failed_login_count"] == 0


def test_an_expired_lock_lets_the_right_password_in(app, auth, make_user):
    user_id = make_user()
    update_user(app, user_id, failed_login_count=5, locked_until=utcnow() - timedelta(seconds=1))
    assert auth.login("ada@example.org").headers["Location"] == "/programs"
    state = user_state(app, user_id)
    assert state["failed_login_count"] == 0 and state["locked_until"] is None


def test_an_expired_lock_restarts_the_count(app, auth, make_user):
    user_id = make_user()
    update_user(app, user_id, failed_login_count=5, locked_until=utcnow() - timedelta(seconds=1))
    auth.login("ada@example.org", "wrong guess after expiry")
    state = user_state(app, user_id)
    assert state["failed_login_count"] == 1 and state["locked_until"] is None


def test_the_counter_covers_every_spelling_of_the_email(app, auth, make_user):
    user_id = make_user("Ada@Example.org")
    spellings = [
        "ada@example.org",
        "ADA@EXAMPLE.ORG",
        "Ada@example.ORG",
        " ada@Example.org ",
        "aDa@exAmple.org",
    ]
    for i, spelling in enumerate(spellings):
        auth.login(spelling, f"wrong guess {i}")
    assert user_state(app, user_id)["failed_login_count"] == len(spellings)
    assert user_state(app, user_id)["locked_until"] is not None
    assert auth.login("ada@example.org").status_code == 200
    assert not signed_in(auth.client)


# ---------------------------------------------------------------- next=


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "/\t/evil.example",  # sent as /%09/evil.example
        "/%09/evil.example",  # sent double-encoded
        "/%2F/evil.example",
        "https://evil.example",
        "javascript:alert(1)",
        "",
    ],
)
def test_next_refuses_anything_but_a_local_path(auth, make_user, target):
    make_user()
    response = auth.login("ada@example.org", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/programs"


def test_next_keeps_a_local_path(auth, client, make_user):
    make_user()
    response = client.get("/account")
    assert response.headers["Location"] == "/login?next=%2Faccount"
    response = auth.login("ada@example.org", query_string={"next": "/account"})
    assert response.headers["Location"] == "/account"


# ---------------------------------------------------------------- long passwords


@pytest.mark.parametrize(
    ("password", "truncated"),
    [
        ("a" * 60 + "long tail 73!", "a" * 60 + "long tail 73"),  # 73 bytes vs the first 72
        ("🔑🐍🚀🌍🎉" * 20, "🔑🐍🚀🌍🎉" * 10),  # 100 emoji (400 bytes) vs the first 50
    ],
)
def test_long_passwords_work_and_are_not_truncated(auth, make_user, password, truncated):
    assert len(password.encode()) > 72
    make_user(password=password)
    assert auth.login("ada@example.org", truncated).status_code == 200
    assert not signed_in(auth.client)
    assert auth.login("ada@example.org", password).headers["Location"] == "/programs"


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("email", "password", "expected"),
    [
        ("", STRONG_PASSWORD, messages.FIELD_REQUIRED),
        ("ada@example.org", "", messages.FIELD_REQUIRED),
        ("not an email", STRONG_PASSWORD, messages.LOGIN_FAILED),
        ("@@", STRONG_PASSWORD, messages.LOGIN_FAILED),
        ("x" * 1_000_000, STRONG_PASSWORD, messages.FIELD_TOO_LONG),
        ("ada@example.org", "p" * 1_000_000, messages.FIELD_TOO_LONG),
    ],
)
def test_login_bad_input_gets_a_form_error(auth, make_user, email, password, expected):
    make_user()
    response = auth.login(email, password)
    assert response.status_code == 200
    assert expected in response.get_data(as_text=True)
    assert not signed_in(auth.client)


def test_login_oversized_multipart_field_gets_the_413_page(auth, make_user):
    make_user()
    data = {"csrf_token": auth.csrf(), "email": "ada@example.org", "password": "p" * 1_000_000}
    response = post_multipart(auth.client, "/login", data)
    assert response.status_code == 413
    assert messages.TOO_LARGE in response.get_data(as_text=True)


def test_login_body_over_max_content_length_gets_the_413_page(app, auth):
    data = {"csrf_token": auth.csrf(), "email": "x" * (app.config["MAX_CONTENT_LENGTH"] + 10)}
    response = auth.client.post("/login", data=data)
    assert response.status_code == 413
    assert messages.TOO_LARGE in response.get_data(as_text=True)
