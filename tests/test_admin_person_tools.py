"""Admin tools on a person: see and end their sessions, send a password reset (page and API)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from test_api_support import assert_problem

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import AuditEvent, AuthSession, Role
from tests.support.db import read_db
from tests.support.web import csrf_from

pytest_plugins = ("test_api_support",)


def post(client, page: str, action: str):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token})


def live_ids(app, user_id: int) -> list[str]:
    return read_db(
        app,
        lambda: db.session.scalars(
            select(AuthSession.public_id).where(
                AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
            )
        ).all(),
    )


def events(app, name: str) -> list[AuditEvent]:
    return read_db(
        app,
        lambda: db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)).all(),
    )


def test_the_user_page_lists_sessions_and_ends_one(app, client, admin, make_user, login_as):
    ada = make_user()
    phone, laptop = app.test_client(), app.test_client()
    kept = login_as(ada, on=phone)
    ended = login_as(ada, on=laptop)
    page = f"/admin/users/{ada}"
    html = client.get(page).get_data(as_text=True)
    assert f"/sessions/{kept}/revoke" in html and f"/sessions/{ended}/revoke" in html

    response = post(client, page, f"{page}/sessions/{ended}/revoke")
    assert response.status_code == 302 and response.headers["Location"] == page
    assert live_ids(app, ada) == [kept]
    assert laptop.get("/account").status_code == 302  # that browser is signed out
    assert phone.get("/account").status_code == 200  # the other one is not
    assert messages.ADMIN_SESSION_REVOKED in client.get(page).get_data(as_text=True)
    (event,) = events(app, "session.revoked")
    assert (event.actor_label, event.target_label) == ("root@example.org", "ada@example.org")


def test_ending_a_session_needs_csrf_and_the_right_account(app, client, admin, make_user, login_as):
    ada = make_user()
    grace = make_user(email="grace@example.org")
    session_id = login_as(ada, on=app.test_client())
    assert client.post(f"/admin/users/{ada}/sessions/{session_id}/revoke").status_code == 400
    # Another account's URL cannot end Ada's session.
    page = f"/admin/users/{grace}"
    assert post(client, page, f"{page}/sessions/{session_id}/revoke").status_code == 404
    assert live_ids(app, ada) == [session_id]


def test_send_password_reset_emails_the_person_only(app, client, admin, make_user, outbox):
    ada = make_user()
    page = f"/admin/users/{ada}"
    response = post(client, page, f"{page}/send-reset")
    assert response.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert messages.ADMIN_RESET_SENT.format(email="ada@example.org") in html
    link = outbox.link("ada@example.org", "/reset-password/")
    assert link.split("/reset-password/")[1] not in html  # the admin never sees the token
    (event,) = events(app, "password.reset_link_sent")
    assert event.actor_label == "root@example.org"

    pending = make_user(email="new@example.org", password=None)
    post(client, f"/admin/users/{pending}", f"/admin/users/{pending}/send-reset")
    assert outbox.link("new@example.org", "/setup-password/")


def test_send_password_reset_refuses_an_inactive_account(app, client, admin, make_user, outbox):
    ada = make_user(active=False)
    page = f"/admin/users/{ada}"
    post(client, page, f"{page}/send-reset")
    assert messages.ADMIN_ACCOUNT_INACTIVE in client.get(page).get_data(as_text=True)
    assert events(app, "password.reset_link_sent") == []


@pytest.fixture
def admin_token(api, make_user):
    make_user(email="root@example.org", role=Role.ADMIN.value)
    return api.token("root@example.org")


def test_api_lists_and_ends_a_persons_sessions(app, api, admin_token, make_user):
    ada = make_user()
    ada_token = api.token("ada@example.org")
    listed = api.get(f"/api/admin/users/{ada}/sessions", token=admin_token)
    assert listed.status_code == 200
    (row,) = listed.get_json()["sessions"]
    assert row["kind"] == "api"

    assert_problem(
        api.call("DELETE", f"/api/admin/users/{ada}/sessions/nope", token=admin_token),
        404,
        messages.API_SESSION_NOT_FOUND,
    )
    response = api.call("DELETE", f"/api/admin/users/{ada}/sessions/{row['id']}", token=admin_token)
    assert response.status_code == 204
    assert api.get("/api/auth/me", token=ada_token).status_code == 401
    assert api.get(f"/api/admin/users/{ada}/sessions", token=admin_token).get_json() == {
        "sessions": []
    }


def test_api_lists_and_revokes_a_persons_api_keys(app, api, admin_token, make_user):
    ada = make_user()
    ada_token = api.token("ada@example.org")
    created = api.new_key(ada_token, scope="read")
    secret, key_id = created["key"], created["id"]
    keys = api.get(f"/api/admin/users/{ada}/api-keys", token=admin_token).get_json()
    (listed,) = keys["api_keys"]
    assert listed["id"] == key_id and "key" not in listed
    assert api.get("/api/auth/me", key=secret).status_code == 200

    path = f"/api/admin/users/{ada}/api-keys/{key_id}"
    assert api.call("DELETE", path, token=admin_token).status_code == 204
    assert api.get("/api/auth/me", key=secret).status_code == 401
    assert_problem(api.call("DELETE", path, token=admin_token), 404, messages.API_API_KEY_NOT_FOUND)


def test_api_sends_a_password_reset(app, api, admin_token, make_user, outbox):
    ada = make_user()
    response = api.post(f"/api/admin/users/{ada}/password-reset", token=admin_token)
    assert response.status_code == 202 and response.get_json() == {"sent": "reset"}
    assert "reset-password" not in response.get_data(as_text=True)
    assert outbox.link("ada@example.org", "/reset-password/")
    assert_problem(api.post("/api/admin/users/999/password-reset", token=admin_token), 404)
    gone = make_user(email="gone@example.org", active=False)
    assert_problem(
        api.post(f"/api/admin/users/{gone}/password-reset", token=admin_token),
        409,
        messages.ADMIN_ACCOUNT_INACTIVE,
    )
