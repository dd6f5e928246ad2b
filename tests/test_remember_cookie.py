"""The remember-me cookie is deleted with the attributes a browser needs to honour it."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from test_registration import post_form

from acs_auth.extensions import db
from acs_auth.models import AllowlistEntry, User
from acs_auth.services.accounts import tokens
from acs_auth.services.signin import sessions
from tests.support.browser import signed_in
from tests.support.config import STRONG_PASSWORD
from tests.support.db import read_db
from tests.support.web import AuthActions

# `production_app`: production settings (SESSION_COOKIE_SECURE, `__Host-` names) over https.
pytest_plugins = ("test_security_browser",)

REMEMBER = "__Host-acs_remember"
NEW_PASSWORD = "violet marmalade tugboat 1923"


def set_cookies(response, name: str) -> list[list[str]]:
    """The attributes (lower-cased) of every Set-Cookie of ``response`` for ``name``."""
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    return [[part.strip().lower() for part in header.split(";")] for header in headers]


def assert_deletes_a_host_cookie(response, name: str) -> None:
    """A deletion a browser accepts for a ``__Host-`` name: Secure, Path=/, no Domain."""
    deletions = [a for a in set_cookies(response, name) if "max-age=0" in a]
    assert deletions, response.headers.getlist("Set-Cookie")
    for attributes in deletions:
        assert attributes[0] == name.lower() + "="
        assert "secure" in attributes
        assert "path=/" in attributes
        assert "samesite=lax" in attributes
        assert "httponly" in attributes
        assert not any(a.startswith("domain=") for a in attributes)


@pytest.fixture
def remembered(production_app, make_user):
    """A production browser signed in with remember-me."""
    make_user()
    client = production_app.test_client()
    auth = AuthActions(client)
    response = auth.login("ada@example.org", remember=True)
    assert set_cookies(response, REMEMBER), "remember-me cookie set"
    return auth


def test_sign_out_deletes_the_remember_cookie_with_secure(remembered):
    response = remembered.logout()
    assert response.status_code == 302
    assert_deletes_a_host_cookie(response, REMEMBER)
    assert not signed_in(remembered.client)


def test_signing_in_again_without_remember_deletes_the_old_cookie_with_secure(
    remembered, production_app
):
    # The session ended on the server (signed out elsewhere): the browser still holds the
    # cookie, and the next sign-in without remember-me must make it forget it.
    def revoke():
        sessions.revoke_all(db.session.scalar(select(User)), reason="test")
        db.session.commit()

    read_db(production_app, revoke)
    client = remembered.client
    assert not signed_in(client)
    response = remembered.login("ada@example.org", remember=False)
    assert response.headers["Location"] == "/programs"
    assert_deletes_a_host_cookie(response, REMEMBER)


def test_outside_production_the_deletion_matches_the_insecure_cookie(auth, client, make_user):
    make_user()
    auth.login("ada@example.org", remember=True)
    deletion = [a for a in set_cookies(auth.logout(), "acs_remember") if "max-age=0" in a]
    assert deletion and "secure" not in deletion[0] and "path=/" in deletion[0]


# --- a new person signing in through an emailed link in a browser someone remembered ----------


def link_for(app, flow: str) -> str:
    """The emailed link of ``flow`` for Grace, a person other than the one remembered."""

    def make() -> str:
        if flow == "registration":
            entry = db.session.scalar(select(AllowlistEntry))
            return "/register/password/" + tokens.for_entry(entry)
        grace = db.session.scalar(select(User).where(User.email_key == "grace@example.org"))
        purpose = tokens.Purpose.RESET if flow == "reset" else tokens.Purpose.SETUP
        prefix = "/reset-password/" if flow == "reset" else "/setup-password/"
        return prefix + tokens.for_user(purpose, grace)

    return read_db(app, make)


@pytest.mark.parametrize("flow", ["reset", "setup", "registration"])
def test_an_earlier_persons_remember_me_cookie_does_not_outlive_a_link_sign_in(
    app, auth, client, make_user, make_entry, flow
):
    make_user()  # Ada, who ticked "keep me signed in" on this browser earlier
    if flow == "registration":
        make_entry()
    else:
        make_user(
            "grace@example.org",
            last_name="Hopper",
            password=None if flow == "setup" else STRONG_PASSWORD,
        )
    assert set_cookies(auth.login("ada@example.org", remember=True), "acs_remember")
    link = link_for(app, flow)

    done = post_form(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert done.status_code == 302, done.get_data(as_text=True)
    deletions = [a for a in set_cookies(done, "acs_remember") if "max-age=0" in a]
    assert deletions, done.headers.getlist("Set-Cookie")
    # The browser is closed and opened again: only a remember-me cookie could sign anyone in.
    client.delete_cookie("acs_session")
    assert client.get_cookie("acs_remember") is None
    assert not signed_in(client)
