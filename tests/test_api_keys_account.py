"""API keys are credentials of the account, not of the moment (issue 12, security item 2).

Driven from outside: a stolen access token cannot mint a key without the password, keys
expire, the owner is emailed, /account and the admin user page list and revoke them, a reset
and an administrator's "sign out everywhere" revoke them, a password change offers to, and only
an ``admin``-scoped key of a current administrator reaches /api/admin.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from test_api_support import NEW_PASSWORD, assert_problem

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import ApiKey, AuditEvent, AuthSession, Role, User, utcnow
from tests.support.config import STRONG_PASSWORD
from tests.support.db import read_db
from tests.support.web import csrf_from

# The `api` fixture (a client whose answers are checked against the OpenAPI document).
pytest_plugins = ("test_api_support",)

ADA = "ada@example.org"
THIRD_PASSWORD = "quiet lantern orchard ferry 58"


def key_works(api, key: str) -> bool:
    """Whether ``key`` authenticates a request now (200) or is refused (401)."""
    status = api.get("/api/auth/me", key=key).status_code
    assert status in (200, 401), status
    return status == 200


def events(app, name: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.event == name).order_by(AuditEvent.id)
    return read_db(app, lambda: db.session.scalars(query).all())


def key_rows(app) -> list[ApiKey]:
    return read_db(app, lambda: db.session.scalars(select(ApiKey)).all())


def post_form(client, page_url: str, action_url: str, data: dict | None = None):
    """POST ``data`` to ``action_url`` with the CSRF token of ``page_url``'s form."""
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(action_url, data={"csrf_token": token, **(data or {})})


# --- minting needs the current password ----------------------------------------------------------


def test_a_stolen_access_token_alone_cannot_mint_a_key(app, api, make_user):
    user_id = make_user()
    stolen = api.token()
    missing = api.post("/api/auth/api-keys", token=stolen, json={"name": "backdoor"})
    assert list(assert_problem(missing, 422)["errors"]) == ["current_password"]
    body = {"name": "backdoor", "scope": "full", "current_password": "a guess at the password"}
    wrong = api.post("/api/auth/api-keys", token=stolen, json=body)
    assert_problem(wrong, 403, messages.API_KEY_PASSWORD_WRONG)
    assert key_rows(app) == []
    # The wrong guess counts toward the account's lockout, like a failed sign-in.
    assert read_db(app, lambda: db.session.get(User, user_id).failed_login_count) == 1
    assert [e.details["reason"] for e in events(app, "api_key.create_failed")] == ["password"]
    assert api.new_key(stolen, password=STRONG_PASSWORD)["key"]


def test_wrong_passwords_at_minting_lock_the_account_and_end_the_session(app, api, make_user):
    make_user()
    token = api.token()
    body = {"name": "k", "current_password": "not the password at all"}
    for _ in range(app.config["MAX_LOGIN_ATTEMPTS"]):
        assert_problem(api.post("/api/auth/api-keys", token=token, json=body), 403)
    assert events(app, "account.locked")
    # The guessing session is over, and the lock holds even for the right password.
    assert_problem(api.get("/api/auth/me", token=token), 401)
    assert_problem(
        api.post("/api/auth/login", json={"email": ADA, "password": STRONG_PASSWORD}), 401
    )


def test_a_locked_account_cannot_mint_even_with_the_right_password(app, api, make_user):
    user_id = make_user()
    token = api.token()

    def lock():
        db.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(failed_login_count=5, locked_until=utcnow() + timedelta(minutes=30))
        )
        db.session.commit()

    read_db(app, lock)
    body = {"name": "k", "current_password": STRONG_PASSWORD}
    response = api.post("/api/auth/api-keys", token=token, json=body)
    assert_problem(response, 403, messages.API_KEY_PASSWORD_WRONG)
    assert key_rows(app) == []


# --- expiry -------------------------------------------------------------------------------------


def test_a_key_expires_after_the_default_unless_asked_for_less(app, api, make_user):
    make_user()
    token = api.token()
    default = api.new_key(token)
    short = api.new_key(token, expires_in_days=7)
    explicit_null = api.new_key(token, expires_in_days=None)
    rows = {row.public_id: row for row in key_rows(app)}
    for created, days in ((default, 90), (short, 7), (explicit_null, 90)):
        row = rows[created["id"]]
        lived = row.expires_at - row.created_at
        assert timedelta(days=days) - timedelta(minutes=1) < lived <= timedelta(days=days)
        assert created["expires_at"] is not None
    longest = api.new_key(token, expires_in_days=365)
    assert longest["expires_at"]
    too_long = api.post(
        "/api/auth/api-keys",
        token=token,
        json={"name": "k", "current_password": STRONG_PASSWORD, "expires_in_days": 366},
    )
    errors = assert_problem(too_long, 422)["errors"]
    assert errors == {"expires_in_days": [messages.API_KEY_EXPIRY_TOO_LONG.format(days=365)]}


@pytest.mark.parametrize(
    "app_overrides",
    [{"API_KEY_DEFAULT_EXPIRE_DAYS": 3, "API_KEY_MAX_EXPIRE_DAYS": 10}],
    indirect=True,
)
def test_the_expiry_settings_are_honoured(app, api, make_user):
    make_user()
    token = api.token()
    created = api.new_key(token)
    (row,) = key_rows(app)
    assert row.expires_at - row.created_at <= timedelta(days=3)
    assert created["expires_at"]
    body = {"name": "k", "current_password": STRONG_PASSWORD, "expires_in_days": 11}
    assert_problem(api.post("/api/auth/api-keys", token=token, json=body), 422)


def test_an_expired_key_is_refused(app, api, make_user):
    make_user()
    key = api.new_key(api.token())["key"]
    assert key_works(api, key)

    def run_out():
        db.session.execute(update(ApiKey).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()

    read_db(app, run_out)
    assert not key_works(api, key)


# --- the owner is told ----------------------------------------------------------------------------


def test_the_owner_is_emailed_without_the_secret(app, api, make_user, outbox):
    make_user()
    created = api.new_key(api.token(), scope="read", name="nightly export", expires_in_days=30)
    message = outbox.last_to(ADA)
    assert message["Subject"] == f"{app.config['APP_NAME']}: A new API key was created"
    text = outbox.text(message)
    html = message.get_body(preferencelist=("html",)).get_content()
    for body in (text, html):
        assert "nightly export" in body
        assert created["prefix"] in body
        assert created["expires_at"][:10] in body
        assert "127.0.0.1" in body
        assert created["key"] not in body
        assert created["key"][len(created["prefix"]) :] not in body
    (row,) = key_rows(app)
    assert row.key_hash not in text + html


# --- revocation: reset, sign out everywhere, password change ------------------------------------


def _reset_link(api, outbox) -> str:
    api.post("/api/auth/request-password-reset", json={"email": ADA})
    return outbox.link(ADA, "/reset-password/")


def test_an_api_password_reset_revokes_every_key(app, api, make_user, outbox):
    make_user()
    keys = [api.new_key(api.token(), scope=s)["key"] for s in ("read", "full")]
    token = _reset_link(api, outbox).rsplit("/", 1)[1]
    done = api.post("/api/auth/reset-password", json={"token": token, "password": NEW_PASSWORD})
    assert done.status_code in (200, 204), done.get_json()
    for key in keys:
        assert_problem(api.get("/api/auth/me", key=key), 401)


def test_a_browser_password_reset_revokes_every_key(app, api, client, make_user, outbox):
    make_user()
    key = api.new_key(api.token())["key"]
    link = _reset_link(api, outbox)
    data = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert post_form(client, "/forgot-password", link, data).status_code == 302
    assert not key_works(api, key)


def test_an_admins_sign_out_everywhere_revokes_keys(app, api, client, admin, make_user):
    user_id = make_user()
    key = api.new_key(api.token())["key"]
    page = f"/admin/users/{user_id}"
    response = post_form(client, page, f"{page}/sign-out")
    assert response.status_code == 302
    assert not key_works(api, key)
    (event,) = events(app, "session.revoked_all")
    assert event.details["api_keys_revoked"] == 1 and event.actor_id == admin


def test_signing_out_other_devices_ends_sessions_but_keeps_keys(
    app, api, client, make_user, login_as
):
    user_id = make_user()
    token = api.token()
    key = api.new_key(token)["key"]
    login_as(user_id)
    assert post_form(client, "/account", "/account/sessions/revoke-others").status_code == 302
    assert_problem(api.get("/api/auth/me", token=token), 401)
    assert key_works(api, key)


def test_an_api_password_change_revokes_keys_only_when_asked(app, api, make_user):
    make_user()
    token = api.token()
    kept = api.new_key(token)["key"]
    change = {"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD}
    pair = api.post("/api/auth/change-password", token=token, json=change).get_json()
    assert key_works(api, kept)
    revoked = api.new_key(pair["access_token"], password=NEW_PASSWORD)["key"]
    back = {"current_password": NEW_PASSWORD, "new_password": THIRD_PASSWORD}
    response = api.post(
        "/api/auth/change-password",
        token=pair["access_token"],
        json={**back, "revoke_api_keys": True},
    )
    assert response.status_code == 200
    assert not key_works(api, kept) and not key_works(api, revoked)


def test_a_browser_password_change_revokes_keys_when_ticked(app, api, client, make_user, login_as):
    user_id = make_user()
    key = api.new_key(api.token())["key"]
    login_as(user_id)
    page = client.get("/account").get_data(as_text=True)
    assert 'name="revoke_api_keys"' in page
    data = {
        "current_password": STRONG_PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }
    assert post_form(client, "/account", "/account/password", data).status_code == 302
    assert key_works(api, key)
    back = {
        "current_password": NEW_PASSWORD,
        "new_password": THIRD_PASSWORD,
        "confirm_password": THIRD_PASSWORD,
        "revoke_api_keys": "y",
    }
    assert post_form(client, "/account", "/account/password", back).status_code == 302
    assert not key_works(api, key)


# --- /account and the admin user page list and revoke -------------------------------------------


def test_the_account_page_lists_and_revokes_keys(app, api, client, make_user, login_as):
    user_id = make_user()
    make_user(email="grace@example.org")
    created = api.new_key(api.token(), name="laptop script")
    other = api.new_key(api.token("grace@example.org"))
    login_as(user_id)
    page = client.get("/account").get_data(as_text=True)
    assert "laptop script" in page and created["prefix"] in page
    assert created["key"] not in page and other["prefix"] not in page
    action = f"/account/api-keys/{created['id']}/revoke"
    assert client.post(action).status_code == 400  # no CSRF token
    assert key_works(api, created["key"])
    response = post_form(client, "/account", action)
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    flashed = client.get("/account").get_data(as_text=True)
    assert messages.API_KEY_REVOKED.format(prefix=created["prefix"]) in flashed
    assert not key_works(api, created["key"])
    # Another person's key answers 404 and keeps working.
    assert (
        post_form(client, "/account", f"/account/api-keys/{other['id']}/revoke").status_code == 404
    )
    assert key_works(api, other["key"])
    (event,) = events(app, "api_key.revoked")
    assert event.actor_id == user_id and event.details["prefix"] == created["prefix"]


def test_an_admin_lists_and_revokes_a_persons_keys(app, api, client, admin, make_user):
    user_id = make_user()
    created = api.new_key(api.token(), name="chatbot back end")
    page = f"/admin/users/{user_id}"
    body = client.get(page).get_data(as_text=True)
    assert "chatbot back end" in body and created["prefix"] in body
    assert created["key"] not in body
    action = f"{page}/api-keys/{created['id']}/revoke"
    assert client.post(action).status_code == 400  # no CSRF token
    response = post_form(client, page, action)
    assert response.status_code == 302 and response.headers["Location"] == page
    assert not key_works(api, created["key"])
    (event,) = events(app, "api_key.revoked")
    assert (event.actor_id, event.target_id) == (admin, user_id)
    # A key id of another account answers 404 on this account's page.
    make_user(email="grace@example.org")
    foreign = api.new_key(api.token("grace@example.org"))
    assert post_form(client, page, f"{page}/api-keys/{foreign['id']}/revoke").status_code == 404
    assert key_works(api, foreign["key"])


def test_a_person_who_is_not_an_admin_cannot_use_the_admin_revoke(
    app, api, client, make_user, login_as
):
    user_id = make_user()
    created = api.new_key(api.token())
    login_as(make_user(email="grace@example.org"))
    action = f"/admin/users/{user_id}/api-keys/{created['id']}/revoke"
    assert post_form(client, "/account", action).status_code in (403, 404)
    assert key_works(api, created["key"])


# --- /api/admin needs the admin scope -----------------------------------------------------------


def test_only_an_admin_scoped_key_reaches_the_admin_api(app, api, make_user):
    make_user(role=Role.ADMIN.value)
    token = api.token()
    read_key = api.new_key(token, scope="read")["key"]
    full_key = api.new_key(token, scope="full")["key"]
    admin_key = api.new_key(token, scope="admin")
    assert admin_key["scope"] == "admin"
    for key in (read_key, full_key):
        assert_problem(api.get("/api/admin/stats", key=key), 403, messages.API_KEY_NOT_ADMIN)
        assert_problem(api.get("/api/admin/users", key=key), 403, messages.API_KEY_NOT_ADMIN)
    assert api.get("/api/admin/stats", key=admin_key["key"]).status_code == 200
    assert api.get("/api/admin/stats", token=token).status_code == 200
    # Outside /api/admin an admin key is a full key; it still cannot manage credentials.
    assert (
        api.patch("/api/auth/me", key=admin_key["key"], json={"first_name": "A"}).status_code == 200
    )
    assert_problem(
        api.get("/api/auth/api-keys", key=admin_key["key"]), 403, messages.API_KEY_NOT_ALLOWED
    )


def test_only_an_admin_can_mint_the_admin_scope(app, api, make_user):
    make_user()
    body = {"name": "k", "scope": "admin", "current_password": STRONG_PASSWORD}
    response = api.post("/api/auth/api-keys", token=api.token(), json=body)
    assert_problem(response, 403, messages.API_KEY_SCOPE_REFUSED)
    assert key_rows(app) == []


def test_an_admin_key_stops_at_the_admin_api_once_its_owner_is_demoted(app, api, make_user):
    make_user(role=Role.ADMIN.value)
    key = api.new_key(api.token(), scope="admin")["key"]
    assert api.get("/api/admin/users", key=key).status_code == 200

    def demote():
        db.session.execute(update(User).values(role=Role.USER.value))
        db.session.commit()

    read_db(app, demote)
    assert_problem(api.get("/api/admin/users", key=key), 403, messages.API_ADMIN_ONLY)


def test_an_api_logout_ends_its_session_but_not_the_accounts_keys(app, api, make_user):
    """Keys are revoked by the account's events, never by closing an unrelated API session."""
    make_user()
    token = api.token()
    key = api.new_key(token)["key"]
    assert api.post("/api/auth/logout", token=token).status_code == 204
    assert key_works(api, key)
    live = read_db(
        app,
        lambda: db.session.scalars(
            select(AuthSession).where(AuthSession.revoked_at.is_(None))
        ).all(),
    )
    assert live == []
