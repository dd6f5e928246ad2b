"""Roles mean something: service accounts are machine identities, guests mint no API keys."""

from __future__ import annotations

from sqlalchemy import select
from test_api_support import assert_problem

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import ApiKey, AuditEvent, AuthSession, Role, User
from tests.support.config import STRONG_PASSWORD
from tests.support.db import read_db
from tests.support.web import csrf_from

pytest_plugins = ("test_api_support",)


def reasons(app, event: str) -> list:
    return read_db(
        app,
        lambda: [
            e.details.get("reason")
            for e in db.session.scalars(select(AuditEvent).where(AuditEvent.event == event))
        ],
    )


def test_a_service_account_never_signs_in_even_with_a_password(app, client, auth, api, make_user):
    # Even an account made a service account while it had a password gets the same page and
    # the same 401 as any wrong password, and no session.
    bot = make_user(email="bot@example.org", role=Role.SERVICE_ACCOUNT.value)
    page = auth.login("bot@example.org")
    assert page.status_code == 200 and messages.LOGIN_FAILED in page.get_data(as_text=True)
    wrong = auth.login("bot@example.org", "not the password at all")
    assert wrong.get_data(as_text=True).count(messages.LOGIN_FAILED) == 1
    response = api.post(
        "/api/auth/login", json={"email": "bot@example.org", "password": STRONG_PASSWORD}
    )
    assert response.status_code == 401
    sessions = read_db(
        app, lambda: db.session.scalars(select(AuthSession).where(AuthSession.user_id == bot)).all()
    )
    assert sessions == []
    assert "service_account" in reasons(app, "login.failed")


def test_a_service_account_gets_no_password_emails(app, client, outbox, make_user):
    make_user(email="bot@example.org", role=Role.SERVICE_ACCOUNT.value, password=None)
    token = csrf_from(client.get("/forgot-password").get_data(as_text=True))
    client.post("/forgot-password", data={"csrf_token": token, "email": "bot@example.org"})
    assert outbox.to("bot@example.org") == []


def post(client, page: str, action: str, data: dict | None = None):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **(data or {})})


def test_admin_creates_a_service_account_without_setup_email_then_its_key(
    app, client, admin, outbox, api
):
    response = post(
        client,
        "/admin/users/new",
        "/admin/users/new",
        {"email": "bot@example.org", "role": "service_account", "last_name": "Bot"},
    )
    assert response.status_code == 302
    bot = read_db(
        app, lambda: db.session.scalar(select(User.id).where(User.email == "bot@example.org"))
    )
    assert outbox.to("bot@example.org") == []  # no password to set up

    page = f"/admin/users/{bot}"
    created = post(client, page, f"{page}/api-keys", {"name": "ci", "scope": "full"})
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    html = created.get_data(as_text=True)
    secret = html.split('<code id="new-key">')[1].split("</code>")[0]
    assert api.get("/api/auth/me", key=secret).get_json()["email"] == "bot@example.org"
    assert secret not in client.get(page).get_data(as_text=True)  # shown once
    (event,) = [
        e
        for e in read_db(app, lambda: db.session.scalars(select(AuditEvent)).all())
        if e.event == "api_key.created"
    ]
    assert event.actor_label == "root@example.org"


def test_admin_keys_only_for_service_accounts(app, client, admin, make_user):
    ada = make_user()
    page = f"/admin/users/{ada}"
    response = post(client, page, f"{page}/api-keys", {"name": "x", "scope": "read"})
    assert response.status_code == 302
    assert messages.ADMIN_KEYS_FOR_SERVICE_ONLY in client.get(page).get_data(as_text=True)
    assert read_db(app, lambda: db.session.scalars(select(ApiKey)).all()) == []


def test_making_someone_a_service_account_ends_their_password_and_sessions(
    app, client, admin, make_user, login_as
):
    ada = make_user()
    theirs = app.test_client()
    login_as(ada, on=theirs)
    page = f"/admin/users/{ada}"
    data = {"role": "service_account", "programs": "PROG-1", "active": "y"}
    assert post(client, page, page, data).status_code == 302
    assert read_db(app, lambda: db.session.get(User, ada).password_hash) is None
    assert theirs.get("/account").status_code == 302


def test_api_admin_creates_a_service_key_and_refuses_one_for_a_person(api, make_user):
    make_user(email="root@example.org", role=Role.ADMIN.value)
    token = api.token("root@example.org")
    bot = make_user(email="bot@example.org", role=Role.SERVICE_ACCOUNT.value, password=None)
    ada = make_user()
    response = api.post(f"/api/admin/users/{bot}/api-keys", token=token, json={"name": "ci"})
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    assert api.get("/api/programs", key=response.get_json()["key"]).status_code == 200
    assert_problem(
        api.post(f"/api/admin/users/{ada}/api-keys", token=token, json={"name": "x"}),
        409,
        messages.ADMIN_KEYS_FOR_SERVICE_ONLY,
    )
    refused = api.post(
        f"/api/admin/users/{bot}/api-keys", token=token, json={"name": "x", "scope": "admin"}
    )
    assert refused.status_code == 422


def test_a_guest_signs_in_and_uses_programs_but_mints_no_key(api, make_user):
    make_user(role=Role.GUEST.value)
    token = api.token()
    assert api.get("/api/programs", token=token).status_code == 200
    body = {"name": "script", "scope": "read", "current_password": STRONG_PASSWORD}
    assert_problem(
        api.post("/api/auth/api-keys", token=token, json=body), 403, messages.API_KEY_GUEST_REFUSED
    )
