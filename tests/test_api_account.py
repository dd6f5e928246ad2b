"""/api/auth/me, sessions and API keys: the caller's own account through the JSON API."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from test_api_support import NEW_PASSWORD, assert_problem

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import ApiKey, AuthSession, Role, User, utcnow
from tests.support.config import STRONG_PASSWORD
from tests.support.db import read_db

# The `api` fixture (a client whose answers are checked against the OpenAPI document).
pytest_plugins = ("test_api_support",)

# --- me -------------------------------------------------------------------------------------------


def test_me_shows_the_account_without_secrets(api, make_user):
    make_user()
    response = api.get("/api/auth/me", token=api.token())
    body = response.get_json()
    assert body["email"] == "ada@example.org" and body["role"] == "user"
    text = response.get_data(as_text=True)
    for secret in ("password", "hash", "failed_login", "locked"):
        assert secret not in text


def test_patch_me_changes_names_and_username(app, api, make_user):
    make_user()
    token = api.token()
    response = api.patch(
        "/api/auth/me", token=token, json={"first_name": " Augusta ", "username": "ada.l"}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["first_name"] == "Augusta" and body["username"] == "ada.l"
    assert body["last_name"] == "Lovelace"  # untouched fields stay
    api.login(password="correct horse battery staple 42", email="ADA.L")
    cleared = api.patch("/api/auth/me", token=token, json={"username": None}).get_json()
    assert cleared["username"] is None and cleared["first_name"] == "Augusta"


@pytest.mark.parametrize(
    "field, value",
    [
        ("role", "admin"),
        ("is_admin", True),
        ("is_active", False),
        ("email", "mallory@example.org"),
        ("programs", ["PROG-9"]),
        ("password_hash", "x"),
        ("id", 2),
    ],
)
def test_patch_me_refuses_every_other_field(app, api, make_user, field, value):
    make_user()
    token = api.token()
    response = api.patch("/api/auth/me", token=token, json={"first_name": "A", field: value})
    problem = assert_problem(response, 422)
    accepted = messages.API_FIELD_UNKNOWN.format(fields="first_name, last_name, username")
    assert problem["errors"] == {field: [accepted]}
    user = read_db(app, lambda: db.session.scalar(select(User)))
    assert (user.role, user.email, user.is_active, user.first_name) == (
        "user",
        "ada@example.org",
        True,
        "Ada",
    )


def test_patch_me_reports_bad_and_taken_usernames(api, make_user):
    make_user()
    make_user(email="grace@example.org")
    other = api.token("grace@example.org")
    assert api.patch("/api/auth/me", token=other, json={"username": "taken"}).status_code == 200
    token = api.token()
    taken = api.patch("/api/auth/me", token=token, json={"username": "TAKEN"})
    assert_problem(taken, 409, messages.USERNAME_TAKEN)
    for bad in ("a@b", "x", "has space", "ü" * 5):
        problem = assert_problem(
            api.patch("/api/auth/me", token=token, json={"username": bad}), 422
        )
        assert list(problem["errors"]) == ["username"]
    long_name = api.patch("/api/auth/me", token=token, json={"last_name": "x" * 101})
    assert assert_problem(long_name, 422)["errors"] == {"last_name": [messages.FIELD_TOO_LONG]}


# --- sessions -----------------------------------------------------------------------------------


def test_sessions_lists_browser_and_api_sign_ins_and_marks_the_current_one(
    api, make_user, login_as
):
    user_id = make_user()
    login_as(user_id)
    token = api.token()
    response = api.get("/api/auth/sessions", token=token, headers={"User-Agent": "curl/8.0"})
    sessions = response.get_json()["sessions"]
    assert sorted(s["kind"] for s in sessions) == ["api", "browser"]
    assert [s["current"] for s in sessions if s["kind"] == "api"] == [True]
    assert all("hash" not in str(s) for s in sessions)


def test_delete_session_ends_that_sign_in_only(app, api, make_user, login_as):
    user_id = make_user()
    browser_id = login_as(user_id)
    token = api.token()
    assert api.client.get("/account").status_code == 200
    assert api.delete(f"/api/auth/sessions/{browser_id}", token=token).status_code == 204
    assert api.client.get("/account").status_code == 302  # the browser is signed out
    assert api.get("/api/auth/me", token=token).status_code == 200
    again = api.delete(f"/api/auth/sessions/{browser_id}", token=token)
    assert_problem(again, 404, messages.API_SESSION_NOT_FOUND)


def test_another_users_session_answers_404(app, api, make_user, login_as):
    make_user()
    other_id = make_user(email="grace@example.org")
    other_session = login_as(other_id)
    token = api.token()
    assert_problem(api.delete(f"/api/auth/sessions/{other_session}", token=token), 404)
    assert_problem(api.delete(f"/api/auth/sessions/{'x' * 500}", token=token), 404)
    live = read_db(
        app,
        lambda: db.session.scalar(
            select(AuthSession.revoked_at).where(AuthSession.public_id == other_session)
        ),
    )
    assert live is None


# --- API keys -----------------------------------------------------------------------------------


def test_api_key_is_shown_once_stored_hashed_and_listed_by_prefix(app, api, make_user):
    make_user()
    token = api.token()
    created = api.new_key(token, scope="read", expires_in_days=30)
    secret = created["key"]
    assert secret.startswith("acsk_") and len(secret) >= 5 + 43  # 256 random bits
    assert created["prefix"] == secret[:12] and created["scope"] == "read"
    row = read_db(app, lambda: db.session.scalar(select(ApiKey)))
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(row.__dict__)
    expires = row.expires_at - row.created_at
    assert timedelta(days=29, hours=23) < expires <= timedelta(days=30)
    listed = api.get("/api/auth/api-keys", token=token).get_json()["api_keys"]
    assert [k["prefix"] for k in listed] == [created["prefix"]]
    assert secret not in str(listed) and "key" not in listed[0]
    me = api.get("/api/auth/me", key=secret)
    assert me.status_code == 200 and me.get_json()["email"] == "ada@example.org"
    used = read_db(app, lambda: db.session.scalar(select(ApiKey.last_used_at)))
    assert used is not None and utcnow() - used < timedelta(minutes=1)


def test_a_read_key_only_reads_and_a_full_key_cannot_manage_credentials(api, make_user):
    make_user()
    token = api.token()
    read_key = api.new_key(token, scope="read")["key"]
    full_key = api.new_key(token, scope="full")["key"]
    assert api.get("/api/programs", key=read_key).status_code == 200
    refused = api.patch("/api/auth/me", key=read_key, json={"first_name": "A"})
    assert_problem(refused, 403, messages.API_KEY_READ_ONLY)
    assert api.patch("/api/auth/me", key=full_key, json={"first_name": "A"}).status_code == 200
    change = {"current_password": "correct horse battery staple 42", "new_password": NEW_PASSWORD}
    for method, path, body in [
        ("POST", "/api/auth/change-password", change),
        ("POST", "/api/auth/api-keys", {"name": "more"}),
        ("GET", "/api/auth/api-keys", None),
        ("DELETE", "/api/auth/api-keys/whatever", None),
        ("GET", "/api/auth/sessions", None),
        ("DELETE", "/api/auth/sessions/whatever", None),
        ("POST", "/api/auth/logout", None),
    ]:
        response = api.call(method, path, key=full_key, json=body)
        assert_problem(response, 403, messages.API_KEY_NOT_ALLOWED)
    api.login()  # the password did not change


def test_revoked_and_expired_keys_stop_at_once(app, api, make_user):
    make_user()
    token = api.token()
    created = api.new_key(token)
    assert api.delete(f"/api/auth/api-keys/{created['id']}", token=token).status_code == 204
    assert_problem(api.get("/api/auth/me", key=created["key"]), 401)
    assert api.get("/api/auth/api-keys", token=token).get_json() == {"api_keys": []}
    assert_problem(api.delete(f"/api/auth/api-keys/{created['id']}", token=token), 404)
    second = api.new_key(token, expires_in_days=1)

    def expire():
        db.session.execute(update(ApiKey).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()

    read_db(app, expire)
    assert_problem(api.get("/api/auth/me", key=second["key"]), 401)
    listed = api.get("/api/auth/api-keys", token=token).get_json()["api_keys"]
    assert [k["expired"] for k in listed] == [True]


def test_keys_die_with_the_account_and_belong_to_their_owner(app, api, make_user):
    make_user()
    make_user(email="grace@example.org")
    key = api.new_key(api.token())
    other = api.token("grace@example.org")
    assert_problem(api.delete(f"/api/auth/api-keys/{key['id']}", token=other), 404)
    assert api.get("/api/auth/me", key=key["key"]).status_code == 200

    def deactivate():
        db.session.execute(
            update(User).where(User.email_key == "ada@example.org").values(is_active_flag=False)
        )
        db.session.commit()

    read_db(app, deactivate)
    assert_problem(api.get("/api/auth/me", key=key["key"]), 401)


@pytest.mark.parametrize(
    "value",
    [
        "",
        " ",
        "null",
        "acsk_",
        "acsk_" + "A" * 43,
        "acsk_" + "A" * 42,
        "acsk_" + "A" * 44,
        "ACSK_" + "A" * 43,
        "%",
        "x" * 5000,
    ],
)
def test_empty_or_malformed_keys_never_match(api, make_user, value):
    make_user()
    api.new_key(api.token())
    assert_problem(api.get("/api/auth/me", key=value), 401)


def test_a_key_together_with_a_bearer_token_is_refused(api, make_user):
    make_user()
    token = api.token()
    key = api.new_key(token)["key"]
    assert_problem(api.get("/api/auth/me", token=token, key=key), 401)


def test_api_key_creation_checks_its_fields(api, make_user):
    make_user()
    token = api.token()
    password = {"current_password": STRONG_PASSWORD}
    for body, field in [
        ({**password}, "name"),
        ({"name": "", **password}, "name"),
        ({"name": "k"}, "current_password"),
        ({"name": "x" * 101, **password}, "name"),
        ({"name": "k", "scope": "root", **password}, "scope"),
        ({"name": "k", "expires_in_days": 0, **password}, "expires_in_days"),
        ({"name": "k", "expires_in_days": True, **password}, "expires_in_days"),
        ({"name": "k", "expires_in_days": "7", **password}, "expires_in_days"),
        ({"name": "k", "role": "admin", **password}, "role"),
    ]:
        response = api.post("/api/auth/api-keys", token=token, json=body)
        assert list(assert_problem(response, 422)["errors"]) == [field], body


def test_a_user_cannot_hold_unlimited_keys(api, make_user, monkeypatch):
    from acs_auth.services.signin import api_keys

    monkeypatch.setattr(api_keys, "MAX_ACTIVE_KEYS", 2)
    make_user()
    token = api.token()
    api.new_key(token)
    api.new_key(token)
    body = {"name": "third", "current_password": STRONG_PASSWORD}
    response = api.post("/api/auth/api-keys", token=token, json=body)
    assert_problem(response, 409, messages.API_TOO_MANY_KEYS)


def test_admin_role_through_a_key_follows_the_account(app, api, make_user):
    make_user(role=Role.ADMIN.value)
    key = api.new_key(api.token(), scope="admin")["key"]
    assert api.get("/api/admin/stats", key=key).status_code == 200

    def demote():
        db.session.execute(update(User).values(role=Role.USER.value))
        db.session.commit()

    read_db(app, demote)
    assert_problem(api.get("/api/admin/stats", key=key), 403, messages.API_ADMIN_ONLY)
