"""The account page: profile, password change, and the user's own signed-in devices."""

from __future__ import annotations

import pytest

from acs_auth import messages
from tests.support.browser import post_multipart, sessions_of, signed_in, update_user, user_state
from tests.support.config import STRONG_PASSWORD
from tests.support.web import AuthActions

NEW_PASSWORD = "a brand new passphrase for ada 2024"


@pytest.fixture
def ada(app, auth, make_user):
    """Ada, signed in on the default client; returns her user id."""
    user_id = make_user()
    auth.login(
        "ada@example.org", headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}
    )
    return user_id


def _profile(auth, **fields):
    data = {"first_name": "Augusta Ada", "last_name": "King", "username": "", **fields}
    return auth.post("/account/profile", data, form_url="/account")


def _change(auth, current=STRONG_PASSWORD, new=NEW_PASSWORD, confirm=None):
    data = {
        "current_password": current,
        "new_password": new,
        "confirm_password": new if confirm is None else confirm,
    }
    return auth.post("/account/password", data, form_url="/account")


# ---------------------------------------------------------------- access


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/account"),
        ("post", "/account/profile"),
        ("post", "/account/password"),
        ("post", "/account/sessions/abc/revoke"),
        ("post", "/account/sessions/revoke-others"),
    ],
)
def test_account_pages_need_sign_in(auth, client, method, url):
    data = {"csrf_token": auth.csrf("/login")} if method == "post" else None
    response = getattr(client, method)(url, data=data)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_account_page_shows_profile_password_and_devices(client, ada):
    page = client.get("/account").get_data(as_text=True)
    assert "ada@example.org" in page
    assert 'value="Ada"' in page and 'value="Lovelace"' in page
    assert 'name="current_password"' in page and 'name="confirm_password"' in page
    assert "Firefox on Linux" in page
    assert "this device" in page
    assert "127.0.0.1" in page
    assert "Sign out all other devices" in page


# ---------------------------------------------------------------- profile


def test_profile_update_ignores_email_and_role(app, auth, client, ada):
    response = _profile(
        auth,
        username="ada_k",
        email="mallory@example.org",
        role="admin",
        is_active="0",
        is_admin="1",
    )
    assert response.status_code == 302
    assert messages.PROFILE_UPDATED in client.get("/account").get_data(as_text=True)
    state = user_state(app, ada)
    assert (state["first_name"], state["last_name"], state["username"]) == (
        "Augusta Ada",
        "King",
        "ada_k",
    )
    assert state["email"] == "ada@example.org"
    assert state["role"] == "user"
    assert state["is_active"] is True


def test_username_taken_is_shown_beside_the_field(app, auth, make_user, ada):
    grace = make_user("grace@example.org", last_name="Hopper", first_name="Grace")
    update_user(app, grace, username="grace", username_key="grace")
    response = _profile(auth, username="GRACE")
    assert response.status_code == 200
    assert messages.USERNAME_TAKEN in response.get_data(as_text=True)
    assert user_state(app, ada)["username"] is None


@pytest.mark.parametrize("username", ["grace@example.org", "a", "no spaces", "x" * 65, "-dash"])
def test_malformed_username_is_refused(app, auth, ada, username):
    response = _profile(auth, username=username)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert messages.USERNAME_INVALID in body or messages.FIELD_TOO_LONG in body
    assert user_state(app, ada)["username"] is None


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"first_name": ""}, messages.FIELD_REQUIRED),
        ({"last_name": "   "}, messages.FIELD_REQUIRED),
        ({"first_name": "x" * 1_000_000}, messages.FIELD_TOO_LONG),
        ({"last_name": "x" * 101}, messages.FIELD_TOO_LONG),
        ({"first_name": "Ada\x00"}, messages.FIELD_INVALID_CHARACTERS),
    ],
)
def test_profile_bad_input_gets_a_form_error(app, auth, ada, fields, expected):
    response = _profile(auth, **fields)
    assert response.status_code == 200
    assert expected in response.get_data(as_text=True)
    assert user_state(app, ada)["first_name"] == "Ada"


def test_profile_oversized_multipart_field_gets_the_413_page(app, auth, ada):
    fields = {"csrf_token": auth.csrf("/account"), "first_name": "x" * 1_000_000, "last_name": "K"}
    response = post_multipart(auth.client, "/account/profile", fields)
    assert response.status_code == 413
    assert messages.TOO_LARGE in response.get_data(as_text=True)
    assert user_state(app, ada)["first_name"] == "Ada"


# ---------------------------------------------------------------- password change


def test_wrong_current_password_is_refused(app, auth, ada):
    before = user_state(app, ada)["password_hash"]
    response = _change(auth, current="not my password at all")
    assert response.status_code == 200
    assert messages.CURRENT_PASSWORD_WRONG in response.get_data(as_text=True)
    assert user_state(app, ada)["password_hash"] == before


@pytest.mark.parametrize(
    ("new", "reason"),
    [
        ("password1234", messages.PASSWORD_TOO_WEAK),
        ("short", messages.PASSWORD_TOO_SHORT.format(n=12)),
        ("x" * 129, messages.PASSWORD_TOO_LONG.format(n=128)),
        (STRONG_PASSWORD, messages.PASSWORD_REUSED),
    ],
)
def test_policy_refusal_shows_the_reason(app, auth, ada, new, reason):
    before = user_state(app, ada)["password_hash"]
    response = _change(auth, new=new)
    assert response.status_code == 200
    assert reason in response.get_data(as_text=True)
    assert user_state(app, ada)["password_hash"] == before


def test_a_recent_password_cannot_come_back(app, auth, ada):
    assert _change(auth).status_code == 302
    response = _change(auth, current=NEW_PASSWORD, new=STRONG_PASSWORD)
    assert messages.PASSWORD_REUSED in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"confirm": "a different passphrase 2024"}, messages.PASSWORD_MISMATCH),
        ({"current": ""}, messages.FIELD_REQUIRED),
        ({"new": "", "confirm": ""}, messages.FIELD_REQUIRED),
        ({"new": "n" * 1_000_000}, messages.FIELD_TOO_LONG),
    ],
)
def test_password_form_bad_input(app, auth, ada, fields, expected):
    before = user_state(app, ada)["password_hash"]
    response = _change(auth, **fields)
    assert response.status_code == 200
    assert expected in response.get_data(as_text=True)
    assert user_state(app, ada)["password_hash"] == before


def test_password_change_keeps_this_device_ends_others_and_sends_a_notice(
    app, auth, client, outbox, ada
):
    other = AuthActions(app.test_client())
    other.login("ada@example.org")
    response = _change(auth)
    assert response.status_code == 302
    assert messages.PASSWORD_CHANGED in client.get("/account").get_data(as_text=True)
    assert signed_in(client)
    assert not signed_in(other.client)

    notice = outbox.last_to("ada@example.org")
    assert "password" in notice["Subject"].lower()
    assert NEW_PASSWORD not in outbox.text(notice)

    third = AuthActions(app.test_client())
    assert third.login("ada@example.org", STRONG_PASSWORD).status_code == 200
    assert third.login("ada@example.org", NEW_PASSWORD).status_code == 302


# ---------------------------------------------------------------- devices


def _second_device(app):
    other = AuthActions(app.test_client())
    other.login("ada@example.org")
    return other


def test_sign_out_one_device(app, auth, client, ada):
    other = _second_device(app)
    target = sessions_of(app, ada)[-1]["public_id"]
    assert target in client.get("/account").get_data(as_text=True)
    response = auth.post(f"/account/sessions/{target}/revoke", {}, form_url="/account")
    assert response.headers["Location"] == "/account"
    assert messages.SESSION_REVOKED in client.get("/account").get_data(as_text=True)
    assert not signed_in(other.client)
    assert signed_in(client)


def test_signing_out_this_device_signs_you_out(app, auth, client, ada):
    current = sessions_of(app, ada)[0]["public_id"]
    response = auth.post(f"/account/sessions/{current}/revoke", {}, form_url="/account")
    assert response.headers["Location"] == "/login"
    assert messages.SESSION_ENDED in client.get("/login").get_data(as_text=True)
    assert not signed_in(client)
    assert sessions_of(app, ada)[0]["revoked_at"] is not None


def test_sign_out_all_other_devices(app, auth, client, ada):
    others = [_second_device(app), _second_device(app)]
    response = auth.post("/account/sessions/revoke-others", {}, form_url="/account")
    assert response.headers["Location"] == "/account"
    assert messages.OTHER_SESSIONS_REVOKED in client.get("/account").get_data(as_text=True)
    assert signed_in(client)
    assert not any(signed_in(o.client) for o in others)


@pytest.mark.parametrize("kind", ["another user's", "unknown", "oversized"])
def test_a_session_that_is_not_yours_answers_404(app, auth, make_user, ada, kind):
    grace = make_user("grace@example.org", last_name="Hopper", first_name="Grace")
    grace_client = AuthActions(app.test_client())
    grace_client.login("grace@example.org")
    public_id = {
        "another user's": sessions_of(app, grace)[0]["public_id"],
        "unknown": "no-such-session",
        "oversized": "s" * 5000,
    }[kind]
    response = auth.post(f"/account/sessions/{public_id}/revoke", {}, form_url="/account")
    assert response.status_code == 404
    assert messages.NOT_FOUND in response.get_data(as_text=True)
    assert signed_in(grace_client.client)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"username": "grace@example.org"}, "username"),
        ({"username": "ab"}, "username"),
        ({"first_name": "x" * 101}, "first_name"),
        ({"last_name": "Line\nbreak"}, "last_name"),
    ],
)
def test_the_profile_service_enforces_the_rules_for_every_caller(app, make_user, fields, field):
    """The API calls the same service: its checks must hold without the HTML form's."""
    from acs_auth.extensions import db
    from acs_auth.models import User
    from acs_auth.services.accounts import accounts

    user_id = make_user()
    values = {"first_name": "Ada", "last_name": "Lovelace", "username": None, **fields}
    with app.test_request_context():
        user = db.session.get(User, user_id)
        with pytest.raises(accounts.ProfileInvalid) as caught:
            accounts.update_profile(user, **values)
        assert caught.value.field == field
        db.session.rollback()
    assert user_state(app, user_id)["username"] is None
    assert user_state(app, user_id)["first_name"] == "Ada"
