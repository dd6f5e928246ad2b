"""Wrong current passwords count (issue 12, item 4), driven over HTTP.

A wrong current password on change-password, in the browser or through the API, is one more
failed sign-in on the account's one counter; once the account is locked, the session that
guessed ends: the browser is signed out and sent to /login, the API answers 401 and its
tokens stop working.
"""

from __future__ import annotations

import pytest
from test_api_support import NEW_PASSWORD, assert_problem

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import AuthSession
from tests.support.browser import signed_in, user_state
from tests.support.config import STRONG_PASSWORD
from tests.support.db import read_db
from tests.support.web import AuthActions

pytest_plugins = ("test_api_support",)

LOCK_AFTER_THREE = {"MAX_LOGIN_ATTEMPTS": 3}


def session_row(app, public_id: str) -> dict:
    def load():
        row = db.session.scalar(db.select(AuthSession).where(AuthSession.public_id == public_id))
        return {"revoked_at": row.revoked_at, "reason": row.revoked_reason}

    return read_db(app, load)


def change_in_browser(client, current: str):
    data = {
        "current_password": current,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }
    return AuthActions(client).post("/account/password", data, "/account")


@pytest.mark.parametrize("app_overrides", [LOCK_AFTER_THREE])
def test_wrong_current_passwords_in_the_browser_lock_and_sign_out(app, client, make_user, login_as):
    user_id = make_user()
    # One failed sign-in elsewhere and two wrong current passwords: one counter.
    assert (
        AuthActions(app.test_client()).login("ada@example.org", "wrong guess 1").status_code == 200
    )
    public_id = login_as(user_id)
    response = change_in_browser(client, "wrong guess 2")
    assert response.status_code == 200
    assert messages.CURRENT_PASSWORD_WRONG in response.get_data(as_text=True)
    assert user_state(app, user_id)["failed_login_count"] == 2
    assert signed_in(client)

    response = change_in_browser(client, "wrong guess 3")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert messages.SIGNED_OUT_AFTER_WRONG_PASSWORDS in page
    assert not signed_in(client)
    assert session_row(app, public_id)["revoked_at"] is not None
    state = user_state(app, user_id)
    assert state["locked_until"] is not None
    assert state["password_hash"] is not None
    # Locked: even the right password does not sign in now.
    fresh = AuthActions(app.test_client())
    assert fresh.login("ada@example.org").status_code == 200


@pytest.mark.parametrize("app_overrides", [LOCK_AFTER_THREE])
def test_wrong_current_passwords_through_the_api_lock_and_revoke_the_session(app, api, make_user):
    user_id = make_user()
    pair = api.login()
    body = {"current_password": "wrong guess", "new_password": NEW_PASSWORD}
    for count in (1, 2):
        response = api.post("/api/auth/change-password", token=pair["access_token"], json=body)
        assert_problem(response, 422)
        assert user_state(app, user_id)["failed_login_count"] == count
    assert api.get("/api/auth/me", token=pair["access_token"]).status_code == 200

    response = api.post("/api/auth/change-password", token=pair["access_token"], json=body)
    assert_problem(response, 401, messages.SIGNED_OUT_AFTER_WRONG_PASSWORDS)
    assert user_state(app, user_id)["locked_until"] is not None
    assert api.get("/api/auth/me", token=pair["access_token"]).status_code == 401
    again = api.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 401
    locked = api.post(
        "/api/auth/login", json={"email": "ada@example.org", "password": STRONG_PASSWORD}
    )
    assert locked.status_code == 401


@pytest.mark.parametrize("app_overrides", [LOCK_AFTER_THREE])
def test_a_right_current_password_short_of_the_lock_still_changes_it(app, api, make_user):
    user_id = make_user()
    token = api.token()
    wrong = {"current_password": "wrong guess", "new_password": NEW_PASSWORD}
    for _ in range(2):
        api.post("/api/auth/change-password", token=token, json=wrong)
    right = {"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD}
    assert api.post("/api/auth/change-password", token=token, json=right).status_code == 200
    assert user_state(app, user_id)["locked_until"] is None


@pytest.mark.parametrize("app_overrides", [LOCK_AFTER_THREE])
def test_a_wrong_guess_while_locked_ends_the_session_and_a_right_one_still_works(
    app, client, make_user, login_as
):
    """A lock from guesses at /login: the signed-in owner may still change the password."""
    user_id = make_user()
    owner = app.test_client()
    login_as(user_id, on=owner)
    login_as(user_id)
    guesser = AuthActions(app.test_client())
    for number in range(3):
        guesser.login("ada@example.org", f"wrong guess {number}")
    locked_until = user_state(app, user_id)["locked_until"]
    assert locked_until is not None

    response = change_in_browser(client, "one more wrong guess")
    assert response.status_code == 302 and not signed_in(client)
    assert user_state(app, user_id)["locked_until"] == locked_until  # not extended

    response = change_in_browser(owner, STRONG_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert signed_in(owner)
