"""Browser sessions: remember-me, logout on the server, revocation from elsewhere, fixation."""

from __future__ import annotations

from acs_auth import messages
from tests.support.browser import cookie_value, revoke_sessions, sessions_of, signed_in, update_user
from tests.support.config import STRONG_PASSWORD
from tests.support.web import AuthActions

NEW_PASSWORD = "a brand new passphrase for ada 2024"


def _remember_only(app, client) -> None:
    """Drop the session cookie, as a browser does when it restarts; keep remember-me."""
    client.delete_cookie(app.config["SESSION_COOKIE_NAME"])


def test_remember_cookie_alone_signs_in(app, auth, client, make_user):
    make_user()
    auth.login("ada@example.org", remember=True)
    assert cookie_value(client, app.config["REMEMBER_COOKIE_NAME"])
    _remember_only(app, client)
    assert cookie_value(client, app.config["SESSION_COOKIE_NAME"]) is None
    assert signed_in(client)


def test_without_remember_me_a_restarted_browser_is_signed_out(app, auth, client, make_user):
    make_user()
    auth.login("ada@example.org")
    assert cookie_value(client, app.config["REMEMBER_COOKIE_NAME"]) is None
    _remember_only(app, client)
    assert not signed_in(client)


def test_signing_out_other_devices_kills_their_remember_cookie(app, auth, client, make_user):
    make_user()
    auth.login("ada@example.org", remember=True)
    other = AuthActions(app.test_client())
    other.login("ada@example.org")
    response = other.post("/account/sessions/revoke-others", {}, form_url="/account")
    assert response.status_code == 302
    _remember_only(app, client)
    assert not signed_in(client)
    assert signed_in(other.client)


def test_a_password_change_elsewhere_kills_the_remember_cookie(app, auth, client, make_user):
    make_user()
    auth.login("ada@example.org", remember=True)
    other = AuthActions(app.test_client())
    other.login("ada@example.org")
    response = other.post(
        "/account/password",
        {
            "current_password": STRONG_PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
        form_url="/account",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    _remember_only(app, client)
    assert not signed_in(client)
    assert signed_in(other.client)


def test_a_session_cookie_captured_before_logout_is_refused_after(app, auth, client, make_user):
    user_id = make_user()
    auth.login("ada@example.org", remember=True)
    name = app.config["SESSION_COOKIE_NAME"]
    remember_name = app.config["REMEMBER_COOKIE_NAME"]
    captured = cookie_value(client, name)
    captured_remember = cookie_value(client, remember_name)
    response = auth.logout()
    assert response.headers["Location"] == "/login"
    assert messages.LOGGED_OUT in client.get("/login").get_data(as_text=True)
    assert cookie_value(client, remember_name) is None  # the browser is told to forget it
    assert all(row["revoked_at"] is not None for row in sessions_of(app, user_id))

    client.set_cookie(name, captured)
    client.set_cookie(remember_name, captured_remember)
    response = client.get("/programs")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_logout_is_post_only(auth, client, make_user):
    make_user()
    auth.login("ada@example.org")
    response = client.get("/logout")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert messages.METHOD_NOT_ALLOWED in response.get_data(as_text=True)
    assert signed_in(client)


def test_anonymous_logout_just_goes_to_login(auth, client):
    token = auth.csrf("/login")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


def test_sign_in_starts_a_fresh_session(app, auth, client, make_user):
    make_user()
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
        sess["_user_id"] = "not-a-real-session-id"
    auth.login("ada@example.org")
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["_user_id"] != "not-a-real-session-id"
    assert signed_in(client)


def test_an_earlier_remember_cookie_is_dropped_by_a_plain_sign_in(app, auth, client, make_user):
    make_user()
    grace = make_user("grace@example.org", last_name="Hopper", first_name="Grace")
    auth.login("grace@example.org", remember=True)
    # Grace is signed out everywhere by an administrator; her browser still holds the cookie.
    revoke_sessions(app, grace)
    assert cookie_value(client, app.config["REMEMBER_COOKIE_NAME"])
    auth.login("ada@example.org")
    assert cookie_value(client, app.config["REMEMBER_COOKIE_NAME"]) is None
    assert signed_in(client)


def test_deactivation_ends_the_session_on_the_next_request(app, auth, client, make_user):
    user_id = make_user()
    auth.login("ada@example.org", remember=True)
    update_user(app, user_id, is_active_flag=False)
    assert not signed_in(client)
    _ = client.get("/login")
    client.delete_cookie(app.config["SESSION_COOKIE_NAME"])
    assert not signed_in(client)


def test_a_revoked_session_is_refused_by_another_instance(app, make_app, make_user):
    make_user()
    other_app = make_app()
    first = AuthActions(app.test_client())
    second = AuthActions(other_app.test_client())
    first.login("ada@example.org")
    second.login("ada@example.org")
    second.post("/account/sessions/revoke-others", {}, form_url="/account")
    assert not signed_in(first.client)
    assert signed_in(second.client)
