"""/api/auth sign-in, registration, logout, passwords and rate limits, through the JSON API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from test_api_support import NEW_PASSWORD, assert_problem

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import AuthSession, Source, User, utcnow
from tests.support.config import STRONG_PASSWORD
from tests.support.db import read_db

# The `api` fixture (a client whose answers are checked against the OpenAPI document).
pytest_plugins = ("test_api_support",)

USER_FIELDS = {
    "id",
    "email",
    "username",
    "first_name",
    "last_name",
    "role",
    "programs",
    "email_verified",
    "created_at",
    "last_login_at",
}


def api_sessions(app, email="ada@example.org"):
    def query():
        user = db.session.scalar(select(User).where(User.email_key == email))
        rows = db.session.scalars(
            select(AuthSession).where(AuthSession.user_id == user.id).order_by(AuthSession.id)
        ).all()
        return [
            {
                "kind": r.kind,
                "live": r.is_live(),
                "hash": r.refresh_token_hash,
                "expires_at": r.expires_at,
                "created_at": r.created_at,
                "reason": r.revoked_reason,
            }
            for r in rows
        ]

    return read_db(app, query)


def set_user(app, email="ada@example.org", **values):
    def change():
        db.session.execute(update(User).where(User.email_key == email).values(**values))
        db.session.commit()

    read_db(app, change)


# --- login -------------------------------------------------------------------------------------


def test_login_answers_a_token_pair_and_opens_an_api_session(app, api, make_user):
    make_user()
    response = api.post(
        "/api/auth/login", json={"email": "ADA@example.org", "password": STRONG_PASSWORD}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in", "user"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 30 * 60
    assert set(body["user"]) == USER_FIELDS
    assert body["user"]["email"] == "ada@example.org"
    assert body["user"]["programs"] == ["PROG-1"]
    [row] = api_sessions(app)
    assert row["kind"] == "api" and row["live"]
    # Only a digest of the refresh token is stored.
    assert row["hash"] and len(row["hash"]) == 64 and row["hash"] not in body["refresh_token"]
    assert row["expires_at"] - row["created_at"] == timedelta(days=7)
    me = api.get("/api/auth/me", token=body["access_token"])
    assert me.status_code == 200 and me.get_json()["email"] == "ada@example.org"


def test_the_login_answer_shows_the_account_as_this_sign_in_left_it(app, api, make_user):
    """The answer is built before the commit: it must still show this visit, not the last one."""
    make_user(programs=("PROG-2", "PROG-10", "PROG-1"))
    set_user(app, last_login_at=utcnow() - timedelta(days=400), failed_login_count=2)
    body = api.login()
    stored = read_db(
        app, lambda: db.session.scalar(select(User).where(User.email_key == "ada@example.org"))
    )
    shown = body["user"]["last_login_at"]
    assert shown == stored.last_login_at.isoformat(timespec="seconds").replace("+00:00", "Z")
    assert stored.last_login_at > utcnow() - timedelta(minutes=1)
    assert stored.failed_login_count == 0 and stored.visit_count == 1
    assert body["user"]["programs"] == ["PROG-1", "PROG-10", "PROG-2"]
    me = api.get("/api/auth/me", token=body["access_token"]).get_json()
    assert me == body["user"]


def test_login_by_username_with_remember_me_lasts_thirty_days(app, api, make_user):
    make_user()
    set_user(app, username="ada", username_key="ada")
    response = api.post(
        "/api/auth/login",
        json={"username": "ADA", "password": STRONG_PASSWORD, "remember_me": True},
    )
    assert response.status_code == 200
    [row] = api_sessions(app)
    assert row["expires_at"] - row["created_at"] == timedelta(days=30)


@pytest.mark.parametrize("case", ["unknown", "wrong_password", "locked", "inactive", "no_password"])
def test_every_login_failure_answers_the_same_401(app, api, make_user, case):
    make_user()
    password = STRONG_PASSWORD
    email = "ada@example.org"
    if case == "unknown":
        email = "nobody@example.org"
    elif case == "wrong_password":
        password = "not the password at all 99"
    elif case == "locked":
        set_user(app, locked_until=utcnow() + timedelta(minutes=30))
    elif case == "inactive":
        set_user(app, is_active_flag=False)
    elif case == "no_password":
        set_user(app, password_hash=None)
    response = api.post("/api/auth/login", json={"email": email, "password": password})
    body = assert_problem(response, 401, messages.LOGIN_FAILED)
    assert set(body) == {"type", "title", "status", "detail"}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_lockout_after_max_attempts_never_answers_423(app, api, make_user):
    make_user()
    for _ in range(app.config["MAX_LOGIN_ATTEMPTS"]):
        wrong = api.post("/api/auth/login", json={"email": "ada@example.org", "password": "nope"})
        assert_problem(wrong, 401, messages.LOGIN_FAILED)
    right = api.post(
        "/api/auth/login", json={"email": "ada@example.org", "password": STRONG_PASSWORD}
    )
    assert right.get_json() == wrong.get_json()
    assert right.status_code == 401
    locked = read_db(app, lambda: db.session.scalar(select(User.locked_until)))
    assert locked is not None and locked > utcnow()


@pytest.mark.parametrize(
    "body",
    [
        {"password": STRONG_PASSWORD},
        {"email": "ada@example.org", "username": "ada", "password": STRONG_PASSWORD},
    ],
)
def test_login_needs_exactly_one_identifier(api, make_user, body):
    make_user()
    response = api.post("/api/auth/login", json=body)
    problem = assert_problem(response, 422)
    assert problem["errors"]["email"] == [messages.API_LOGIN_IDENTIFIER]


# --- registration -----------------------------------------------------------------------------


def test_register_emails_the_link_and_the_account_waits_for_it(app, api, auth, make_entry, outbox):
    make_entry()
    response = api.post(
        "/api/auth/register",
        json={"email": "Grace@Example.org", "last_name": "hopper", "password": "ignored 1"},
    )
    assert response.status_code == 202
    assert response.get_json() == {"status": "accepted", "detail": messages.REGISTRATION_EMAIL_SENT}
    assert read_db(app, lambda: db.session.scalar(select(User.id))) is None  # still pending
    link = outbox.link("grace@example.org", "/register/password/")
    page = auth.post(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert page.status_code == 302
    user = read_db(app, lambda: db.session.scalar(select(User)))
    assert user.email == "grace@example.org" and user.email_verified_at is not None
    pair = api.login("grace@example.org", NEW_PASSWORD)
    assert pair["user"]["programs"] == ["PROG-1", "PROG-2"]


def test_register_answers_the_same_for_strangers_and_members(api, make_entry, make_user, outbox):
    make_entry()
    make_entry(email="ada@example.org", last_name="Lovelace")
    make_user()
    answers = [
        api.post("/api/auth/register", json={"email": email, "last_name": name}).get_json()
        for email, name in [
            ("stranger@example.org", "Nobody"),
            ("grace@example.org", "Wrong Name"),
            ("ada@example.org", "Lovelace"),
            ("grace@example.org", "Hopper"),
        ]
    ]
    assert all(answer == answers[0] for answer in answers)
    # Issue 16: a miss gets a "not recognised" notice, never a link.
    stranger = outbox.to("stranger@example.org")
    assert [outbox.text(m).count("/register/password/") for m in stranger] == [0]
    links = [m for m in outbox.to("grace@example.org") if "/register/password/" in outbox.text(m)]
    assert len(links) == 1  # only for the matching last name
    assert "already have an account" in outbox.text(outbox.last_to("ada@example.org"))


@pytest.mark.parametrize("app_overrides", [{"REGISTRATION_EMAIL_CONFIRMATION": False}])
def test_register_without_email_confirmation_signs_in_at_once(app, api, make_entry):
    make_entry()
    body = {"email": "grace@example.org", "last_name": "Hopper", "password": NEW_PASSWORD}
    response = api.post("/api/auth/register", json=body)
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    pair = response.get_json()
    assert pair["user"]["programs"] == ["PROG-1", "PROG-2"]
    assert api.get("/api/auth/me", token=pair["access_token"]).status_code == 200
    user = read_db(app, lambda: db.session.scalar(select(User)))
    assert user.source == Source.API.value and user.email_verified_at is None
    again = api.post("/api/auth/register", json=body)
    assert_problem(again, 409, messages.ACCOUNT_EXISTS)


@pytest.mark.parametrize("app_overrides", [{"REGISTRATION_EMAIL_CONFIRMATION": False}])
def test_register_without_confirmation_refuses_bad_requests(app, api, make_entry):
    make_entry()
    stranger = {"email": "x@example.org", "last_name": "Hopper", "password": NEW_PASSWORD}
    assert_problem(
        api.post("/api/auth/register", json=stranger), 403, messages.REGISTRATION_NOT_FOUND
    )
    missing = api.post(
        "/api/auth/register", json={"email": "grace@example.org", "last_name": "Hopper"}
    )
    assert assert_problem(missing, 422)["errors"] == {"password": [messages.FIELD_REQUIRED]}
    weak = {"email": "grace@example.org", "last_name": "Hopper", "password": "password"}
    errors = assert_problem(api.post("/api/auth/register", json=weak), 422)["errors"]
    assert list(errors) == ["password"]
    assert read_db(app, lambda: db.session.scalar(select(User.id))) is None


# --- logout, verify-token ---------------------------------------------------------------------


def test_logout_ends_the_session_and_both_tokens(app, api, make_user):
    make_user()
    pair = api.login()
    assert api.post("/api/auth/logout", token=pair["access_token"]).status_code == 204
    assert_problem(api.get("/api/auth/me", token=pair["access_token"]), 401)
    refresh = api.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert_problem(refresh, 401, messages.API_REFRESH_INVALID)
    assert api_sessions(app)[0]["reason"] == "logout"


def test_verify_token_names_the_user_of_a_live_access_token(api, make_user):
    make_user()
    pair = api.login()
    response = api.post("/api/auth/verify-token", json={"token": pair["access_token"]})
    assert response.status_code == 200
    body = response.get_json()
    assert body["valid"] is True and body["user"]["email"] == "ada@example.org"
    for token in (pair["refresh_token"], "x.y.z", pair["access_token"] + "x"):
        refused = api.post("/api/auth/verify-token", json={"token": token})
        assert_problem(refused, 401, messages.API_TOKEN_INVALID)
    api.post("/api/auth/logout", token=pair["access_token"])
    after = api.post("/api/auth/verify-token", json={"token": pair["access_token"]})
    assert_problem(after, 401, messages.API_TOKEN_INVALID)


# --- passwords --------------------------------------------------------------------------------


def test_change_password_ends_every_session_and_returns_a_new_pair(
    app, api, auth, make_user, outbox
):
    make_user()
    auth.login("ada@example.org")
    old = api.login()
    body = {"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD}
    response = api.post("/api/auth/change-password", token=old["access_token"], json=body)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    new = response.get_json()
    assert_problem(api.get("/api/auth/me", token=old["access_token"]), 401)
    refresh = api.post("/api/auth/refresh", json={"refresh_token": old["refresh_token"]})
    assert refresh.status_code == 401
    assert api.get("/api/auth/me", token=new["access_token"]).status_code == 200
    assert auth.client.get("/account").status_code == 302  # the browser was signed out too
    assert [s["live"] for s in api_sessions(app)] == [False, False, True]
    assert "changed" in outbox.last_to("ada@example.org")["Subject"]
    api.login(password=NEW_PASSWORD)


def test_change_password_explains_what_is_wrong(api, make_user):
    make_user()
    token = api.token()
    wrong = {"current_password": "not it at all", "new_password": NEW_PASSWORD}
    response = api.post("/api/auth/change-password", token=token, json=wrong)
    errors = assert_problem(response, 422)["errors"]
    assert errors == {"current_password": [messages.CURRENT_PASSWORD_WRONG]}
    weak = {"current_password": STRONG_PASSWORD, "new_password": "short"}
    errors = assert_problem(api.post("/api/auth/change-password", token=token, json=weak), 422)
    assert list(errors["errors"]) == ["new_password"]
    reused = {"current_password": STRONG_PASSWORD, "new_password": STRONG_PASSWORD}
    errors = assert_problem(api.post("/api/auth/change-password", token=token, json=reused), 422)
    assert errors["errors"] == {"new_password": [messages.PASSWORD_REUSED]}
    assert api.get("/api/auth/me", token=token).status_code == 200  # nothing changed


def test_request_password_reset_answers_the_same_whoever_asks(api, make_user, outbox):
    make_user()
    known = api.post("/api/auth/request-password-reset", json={"email": "ada@example.org"})
    unknown = api.post("/api/auth/request-password-reset", json={"email": "who@example.org"})
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()
    assert known.get_json()["detail"] == messages.RESET_EMAIL_SENT
    assert outbox.to("who@example.org") == []
    assert outbox.link("ada@example.org", "/reset-password/")


def test_reset_password_with_the_emailed_token(app, api, make_user, outbox):
    make_user()
    old = api.login()
    api.post("/api/auth/request-password-reset", json={"email": "ada@example.org"})
    token = outbox.link("ada@example.org", "/reset-password/").rsplit("/", 1)[1]
    weak = api.post("/api/auth/reset-password", json={"token": token, "password": "weak"})
    assert list(assert_problem(weak, 422)["errors"]) == ["password"]
    response = api.post("/api/auth/reset-password", json={"token": token, "password": NEW_PASSWORD})
    # No automatic sign-in (OWASP): no tokens, no session; the client signs in afresh.
    assert response.status_code == 204 and response.data == b""
    assert "no-store" in response.headers["Cache-Control"]
    assert (
        read_db(
            app,
            lambda: db.session.scalar(
                select(func.count(AuthSession.id)).where(AuthSession.revoked_at.is_(None))
            ),
        )
        == 0
    )
    assert_problem(api.get("/api/auth/me", token=old["access_token"]), 401)
    again = api.post("/api/auth/reset-password", json={"token": token, "password": NEW_PASSWORD})
    assert assert_problem(again, 422)["errors"] == {"token": [messages.LINK_INVALID]}
    forged = api.post("/api/auth/reset-password", json={"token": "abc", "password": NEW_PASSWORD})
    assert assert_problem(forged, 422)["errors"] == {"token": [messages.LINK_INVALID]}
    api.login(password=NEW_PASSWORD)


def test_reset_works_for_a_locked_account(app, api, make_user, outbox):
    make_user()
    set_user(app, locked_until=utcnow() + timedelta(minutes=30), failed_login_count=5)
    api.post("/api/auth/request-password-reset", json={"email": "ada@example.org"})
    token = outbox.link("ada@example.org", "/reset-password/").rsplit("/", 1)[1]
    response = api.post("/api/auth/reset-password", json={"token": token, "password": NEW_PASSWORD})
    assert response.status_code == 204
    api.login(password=NEW_PASSWORD)


# --- rate limits ------------------------------------------------------------------------------


def limits(per_ip: str, per_identifier: str) -> dict:
    """The same two limits for every budget (each budget still counts on its own)."""
    return {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_PER_IP": per_ip,
        "RATELIMIT_REFRESH_PER_IP": per_ip,
        "RATELIMIT_PER_IDENTIFIER": per_identifier,
        "RATELIMIT_PASSWORD_PER_ACCOUNT": per_identifier,
        "RATELIMIT_REFRESH_PER_SESSION": per_identifier,
    }


@pytest.mark.parametrize("app_overrides", [limits("100 per minute", "3 per minute")])
def test_login_limit_is_shared_with_the_browser_and_answers_problem_429(app, api, auth, make_user):
    make_user()
    for _ in range(2):
        assert auth.login("ada@example.org", "wrong password here").status_code == 200
    wrong = {"email": "Ada@Example.org", "password": "wrong password here"}
    assert api.post("/api/auth/login", json=wrong).status_code == 401
    response = api.post("/api/auth/login", json=wrong)
    body = assert_problem(response, 429, messages.RATE_LIMITED)
    assert "per" not in body["detail"]  # the configured limit is not disclosed
    assert 0 < int(response.headers["Retry-After"]) <= 60
    other = api.post("/api/auth/login", json={"email": "grace@example.org", "password": "x"})
    assert other.status_code == 401


@pytest.mark.parametrize("app_overrides", [limits("2 per minute", "100 per minute")])
@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/auth/register", {"email": "a@example.org", "last_name": "A"}),
        ("/api/auth/request-password-reset", {"email": "a@example.org"}),
        ("/api/auth/reset-password", {"token": "t", "password": "p"}),
        ("/api/auth/refresh", {"refresh_token": "t"}),
    ],
)
def test_other_sensitive_endpoints_are_limited_per_ip(api, path, body):
    codes = [api.post(path, json=body).status_code for _ in range(3)]
    assert codes[2] == 429 and 429 not in codes[:2]


@pytest.mark.parametrize("app_overrides", [limits("2 per minute", "100 per minute")])
def test_guessing_the_current_password_with_a_token_is_limited(api, make_user):
    make_user()
    token = api.token()  # sign-in has a per-address budget of its own
    body = {"current_password": "guess number one", "new_password": NEW_PASSWORD}
    for _ in range(2):
        assert_problem(api.post("/api/auth/change-password", token=token, json=body), 422)
    response = api.post("/api/auth/change-password", token=token, json=body)
    assert_problem(response, 429, messages.RATE_LIMITED)
    assert int(response.headers["Retry-After"]) > 0
