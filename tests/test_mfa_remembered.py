"""Remember this browser: a signed cookie that skips the second step, until anything changes.

Each person enrols an authenticator through the pages (confirmed with the previous time
step's code), so a test has the current and the next step's codes for two sign-ins.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import AuditEvent, RememberedBrowser, Role, utcnow
from acs_auth.services.signin import browser
from tests.support.config import STRONG_PASSWORD
from tests.support.db import read_db
from tests.support.mfa import code_for, enrol
from tests.support.web import AuthActions, csrf_from

# production_app: a production-configured app (Secure, __Host- cookies) on the test database.
pytest_plugins = ("test_security_browser",)

SECOND_STEP = browser.SECOND_FACTOR_PATH
COOKIE = "acs_mfa_browser"
NEW_PASSWORD = "a brand new passphrase 77"


def enrolled(client, make_user, email="ada@example.org") -> tuple[int, str]:
    """A person with an authenticator, signed out again on ``client``: (id, key)."""
    user_id = make_user(email=email)
    auth = AuthActions(client)
    auth.login(email)
    key, _codes = enrol(client)
    auth.logout()
    return user_id, key


def second_step(client, code: str, remember: bool = False):
    token = csrf_from(client.get(SECOND_STEP).get_data(as_text=True))
    data = {"csrf_token": token, "code": code}
    if remember:
        data["remember_browser"] = "y"
    return client.post(SECOND_STEP, data=data)


def asks_second_step(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].endswith(SECOND_STEP)


def set_cookie(response) -> str | None:
    found = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE + "=")]
    return found[-1] if found else None


def remember_here(client, email: str, key: str, steps: int = 0):
    """Sign in with a code and tick "remember this browser"; the answer of the second step."""
    auth = AuthActions(client)
    assert asks_second_step(auth.login(email))
    done = second_step(client, code_for(key, steps), remember=True)
    assert done.status_code == 302 and not asks_second_step(done), done.get_data(as_text=True)
    return done


def rows(app) -> list[RememberedBrowser]:
    return read_db(app, lambda: db.session.scalars(select(RememberedBrowser)).all())


def test_a_remembered_browser_skips_the_second_step_until_the_password_changes(
    app, client, auth, make_user
):
    _user_id, key = enrolled(client, make_user)
    done = remember_here(client, "ada@example.org", key)
    header = set_cookie(done)
    attributes = [part.strip().lower() for part in header.split(";")]
    assert "httponly" in attributes and "samesite=lax" in attributes and "path=/" in attributes
    assert f"max-age={30 * 86400}" in attributes
    (row,) = rows(app)
    assert row.revoked_at is None and (row.expires_at - row.created_at).days == 30
    account = client.get("/account").get_data(as_text=True)
    assert "Browsers that skip the second step" in account
    auth.logout()

    # The password is still asked; the code is not.
    again = auth.login("ada@example.org")
    assert again.status_code == 302 and not asks_second_step(again)
    assert client.get("/account").status_code == 200
    used = read_db(app, lambda: db.session.scalars(select(AuditEvent.event)).all())
    assert "mfa.remembered_browser_used" in used

    # A password change voids the cookie this browser still holds (a replay).
    token = csrf_from(client.get("/account").get_data(as_text=True))
    changed = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": STRONG_PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302, changed.get_data(as_text=True)
    assert "Browsers that skip the second step" not in client.get("/account").get_data(as_text=True)
    auth.logout()
    assert client.get_cookie(COOKIE) is not None  # the browser kept it: it is replayed
    assert asks_second_step(auth.login("ada@example.org", NEW_PASSWORD))


def test_a_cookie_from_another_account_is_refused(app, client, auth, make_user):
    other = app.test_client()
    enrolled(other, make_user, email="bob@example.org")
    _ada, ada_key = enrolled(client, make_user)
    remember_here(client, "ada@example.org", ada_key)
    auth.logout()
    assert client.get_cookie(COOKIE) is not None
    # Bob signs in on Ada's browser: her cookie does not stand in for his code.
    assert asks_second_step(auth.login("bob@example.org"))


def test_a_tampered_or_expired_cookie_is_refused(app, client, auth, make_user):
    _user_id, key = enrolled(client, make_user)
    remember_here(client, "ada@example.org", key)
    auth.logout()
    value = client.get_cookie(COOKIE).value

    def signs_in_without_code(cookie: str) -> bool:
        browser_ = app.test_client()
        browser_.set_cookie(COOKIE, cookie)
        return not asks_second_step(AuthActions(browser_).login("ada@example.org"))

    assert signs_in_without_code(value)  # the cookie itself works from any cookie jar
    assert not signs_in_without_code(value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert not signs_in_without_code("not a cookie")

    def expire():
        db.session.execute(update(RememberedBrowser).values(expires_at=utcnow()))
        db.session.commit()

    read_db(app, expire)
    assert not signs_in_without_code(value)


def test_forgetting_a_browser_on_the_account_page_makes_it_ask_again(
    app, client, auth, make_user, login_as
):
    _user_id, key = enrolled(client, make_user)
    remember_here(client, "ada@example.org", key)
    (row,) = rows(app)
    token = csrf_from(client.get("/account").get_data(as_text=True))
    # Someone else's browser answers 404, and nothing changes.
    stranger = app.test_client()
    login_as(make_user(email="eve@example.org"), on=stranger)
    eve_token = csrf_from(stranger.get("/account").get_data(as_text=True))
    url = f"/account/remembered-browsers/{row.public_id}/forget"
    assert stranger.post(url, data={"csrf_token": eve_token}).status_code == 404
    assert client.post(url, data={}).status_code in (302, 400)  # no CSRF token: refused
    assert rows(app)[0].revoked_at is None
    done = client.post(url, data={"csrf_token": token}, follow_redirects=True)
    assert messages.REMEMBERED_BROWSER_REVOKED in done.get_data(as_text=True)
    assert rows(app)[0].revoked_at is not None
    auth.logout()
    assert asks_second_step(auth.login("ada@example.org"))


@pytest.mark.parametrize("how", ["sign_out_everywhere", "admin", "reset"])
def test_sign_out_everywhere_and_a_reset_forget_every_browser(
    app, client, auth, make_user, login_as, outbox, how
):
    user_id, key = enrolled(client, make_user)
    remember_here(client, "ada@example.org", key)
    if how == "sign_out_everywhere":
        token = csrf_from(client.get("/account").get_data(as_text=True))
        client.post("/account/sessions/revoke-others", data={"csrf_token": token})
    elif how == "admin":
        admin = app.test_client()
        login_as(make_user(email="root@example.org", role=Role.ADMIN.value), on=admin)
        token = csrf_from(admin.get(f"/admin/users/{user_id}").get_data(as_text=True))
        admin.post(f"/admin/users/{user_id}/sign-out", data={"csrf_token": token})
    else:
        visitor = app.test_client()
        token = csrf_from(visitor.get("/forgot-password").get_data(as_text=True))
        visitor.post("/forgot-password", data={"csrf_token": token, "email": "ada@example.org"})
        link = outbox.link("ada@example.org", "/reset-password/")
        token = csrf_from(visitor.get(link).get_data(as_text=True))
        done = visitor.post(
            link, data={"csrf_token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        )
        assert done.status_code == 302, done.get_data(as_text=True)
    (row,) = rows(app)
    assert row.revoked_at is not None, how


def test_the_api_never_reads_the_cookie(app, client, make_user):
    _user_id, key = enrolled(client, make_user)
    remember_here(client, "ada@example.org", key)
    response = client.post(
        "/api/auth/login", json={"email": "ada@example.org", "password": STRONG_PASSWORD}
    )
    assert response.status_code == 401
    assert response.get_json()["type"].endswith("mfa-required")


@pytest.mark.parametrize("app_overrides", [{"MFA_REMEMBER_DAYS": 0}], indirect=True)
def test_zero_days_turns_remembering_off(app, client, auth, make_user):
    _user_id, key = enrolled(client, make_user)
    assert asks_second_step(auth.login("ada@example.org"))
    assert "remember_browser" not in client.get(SECOND_STEP).get_data(as_text=True)
    done = second_step(client, code_for(key), remember=True)
    assert done.status_code == 302 and set_cookie(done) is None
    assert rows(app) == []


def test_production_cookie_is_secure_and_host_only(production_app, make_user):
    client = production_app.test_client()
    assert production_app.config["MFA_REMEMBER_COOKIE_NAME"] == "__Host-" + COOKIE
    _user_id, key = enrolled(client, make_user)
    auth = AuthActions(client)
    assert asks_second_step(auth.login("ada@example.org"))
    done = second_step(client, code_for(key), remember=True)
    assert done.status_code == 302
    found = [h for h in done.headers.getlist("Set-Cookie") if h.startswith("__Host-" + COOKIE)]
    assert found, done.headers.getlist("Set-Cookie")
    attributes = [part.strip().lower() for part in found[-1].split(";")]
    assert {"secure", "httponly", "samesite=lax", "path=/"} <= set(attributes)
    assert not any(a.startswith("domain=") for a in attributes)
    auth.logout()
    again = auth.login("ada@example.org")
    assert again.status_code == 302 and not asks_second_step(again)
