"""SECRET_KEY rotation: what the old key signed works while it is a fallback, and not after.

Three deployments of one database stand for the three moments of the runbook: before the
rotation (old key), during it (new key, old key in SECRET_KEY_FALLBACKS) and after it (new key
alone). Each test carries a browser's cookies, or an emailed link, from one to the next.
"""

from __future__ import annotations

import pytest

from acs_auth import key_rotation
from acs_auth.checks import UnsafeConfiguration
from acs_auth.services.mail import link_requests
from tests.support.browser import cookie_value, signed_in
from tests.support.config import STRONG_PASSWORD
from tests.support.web import AuthActions, csrf_from

OLD_KEY = "old-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
NEW_KEY = "new-secret-key-9876543210-zyxwvutsrqponmlkjihgfedcba"
NEW_PASSWORD = "violet marmalade tugboat 1923"


@pytest.fixture
def moments(app, make_app):
    """(before, during, after) apps: old key; new key + old fallback; new key alone."""
    return (
        make_app(SECRET_KEY=OLD_KEY),
        make_app(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=OLD_KEY),
        make_app(SECRET_KEY=NEW_KEY),
    )


def queue_links(app) -> None:
    """Let ``app`` turn the waiting link requests into mail: it signs the links."""
    with app.app_context():
        link_requests.process_pending(10)


def carry(source, target, *names: str):
    """A client of ``target`` holding the named cookies of ``source``."""
    client = target.test_client()
    for name in names:
        value = cookie_value(source, name)
        if value is not None:
            client.set_cookie(name, value)
    return client


def test_fallbacks_are_read_from_a_comma_separated_setting(make_app):
    app = make_app(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=f" {OLD_KEY}, older-key ")
    assert app.config["SECRET_KEY_FALLBACKS"] == [OLD_KEY, "older-key"]
    assert key_rotation.signing_keys(app) == [OLD_KEY, "older-key", NEW_KEY]


def test_production_refuses_a_weak_fallback(make_app):
    app = make_app(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS="changeme")
    app.config["ENV_NAME"] = "production"
    with pytest.raises(UnsafeConfiguration, match="SECRET_KEY_FALLBACKS"):
        key_rotation.init_app(app)


def test_a_session_cookie_survives_the_rotation_until_the_fallback_goes(moments, make_user):
    before, during, after = moments
    make_user()
    browser = before.test_client()
    AuthActions(browser).login("ada@example.org")
    assert signed_in(browser)
    name = before.config["SESSION_COOKIE_NAME"]

    assert signed_in(carry(browser, during, name))
    assert not signed_in(carry(browser, after, name))


def test_a_csrf_token_survives_the_rotation_until_the_fallback_goes(moments, make_user):
    before, during, after = moments
    make_user()
    browser = before.test_client()
    token = csrf_from(browser.get("/login").get_data(as_text=True))
    name = before.config["SESSION_COOKIE_NAME"]
    form = {"csrf_token": token, "email": "ada@example.org", "password": STRONG_PASSWORD}

    accepted = carry(browser, during, name).post("/login", data=form)
    assert accepted.status_code == 302, accepted.get_data(as_text=True)
    refused = carry(browser, after, name).post("/login", data=form)
    assert refused.status_code in (200, 400)
    assert not signed_in(carry(browser, after, name))


def test_a_remember_me_cookie_survives_and_is_signed_again_with_the_new_key(moments, make_user):
    before, during, after = moments
    make_user()
    browser = before.test_client()
    AuthActions(browser).login("ada@example.org", remember=True)
    name = before.config["REMEMBER_COOKIE_NAME"]
    old_cookie = cookie_value(browser, name)
    assert old_cookie

    assert not signed_in(carry(browser, after, name))
    returning = carry(browser, during, name)
    assert signed_in(returning)
    renewed = cookie_value(returning, name)
    assert renewed and renewed != old_cookie
    # The cookie written during the rotation needs no fallback any more.
    assert signed_in(carry(returning, after, name))


def test_an_emailed_link_survives_the_rotation_until_the_fallback_goes(
    moments, smtp, outbox, make_user
):
    before, during, after = moments
    make_user()
    browser = AuthActions(before.test_client())
    browser.post("/forgot-password", {"email": "ada@example.org"})
    queue_links(before)  # the process that signs the link still has only the old key
    link = outbox.link("ada@example.org", "/reset-password/")

    assert after.test_client().get(link).status_code != 200
    visitor = AuthActions(during.test_client())
    assert visitor.client.get(link).status_code == 200
    data = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    done = visitor.post(link, data, form_url="/forgot-password")
    assert done.status_code == 302, done.get_data(as_text=True)
    assert (
        AuthActions(after.test_client()).login("ada@example.org", NEW_PASSWORD).status_code == 302
    )


def test_new_links_are_signed_with_the_new_key(moments, smtp, outbox, make_user):
    _before, during, after = moments
    make_user()
    AuthActions(during.test_client()).post("/forgot-password", {"email": "ada@example.org"})
    queue_links(during)
    link = outbox.link("ada@example.org", "/reset-password/")
    assert after.test_client().get(link).status_code == 200
