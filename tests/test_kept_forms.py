"""The expired-form and 429 pages: how long to wait, and what was typed kept (never a password)."""

from __future__ import annotations

import pytest
from test_ratelimits import limits, said_wait

from acs_auth import messages
from acs_auth.kept_forms import KEY, wait_phrase
from tests.support.web import AuthActions, csrf_from

SECRET = "a very secret passphrase 9281"
BACK = messages.KEPT_FORM_BACK.replace("'", "&#39;")


def text(response) -> str:
    return response.get_data(as_text=True)


def kept(client) -> dict | None:
    with client.session_transaction() as sess:
        return sess.get(KEY)


def expired_post(client, url: str, data: dict, form_url: str | None = None, **kwargs):
    """POST ``data`` with a CSRF token that does not match, after opening the form."""
    client.get(form_url or url)
    return client.post(url, data={"csrf_token": "expired", **data}, **kwargs)


@pytest.mark.parametrize(
    ("seconds", "phrase"),
    [
        (1, "a second"),
        (45, "45 seconds"),
        (60, "a minute"),
        (61, "2 minutes"),
        (3600, "60 minutes"),
        (3601, "2 hours"),
    ],
)
def test_wait_is_said_in_words_rounded_up(seconds, phrase):
    assert wait_phrase(seconds) == phrase


@pytest.mark.parametrize("app_overrides", [limits("2 per minute", "100 per minute")])
def test_429_says_how_long_and_keeps_the_email_but_not_the_password(client):
    auth = AuthActions(client)
    for i in range(2):
        assert auth.login(f"p{i}@example.org", SECRET).status_code == 200

    limited = auth.post("/login", {"email": "ada.typed@example.org", "password": SECRET})

    assert limited.status_code == 429
    assert said_wait(text(limited), int(limited.headers["Retry-After"]))
    assert f'<a href="/login">{BACK}</a>' in text(limited)
    assert kept(client) == {"path": "/login", "fields": {"email": "ada.typed@example.org"}}
    form = client.get("/login")
    assert 'value="ada.typed@example.org"' in text(form)
    assert SECRET not in text(limited) + text(form)
    # Shown once: the next visit is a fresh form.
    assert kept(client) is None
    assert "ada.typed@example.org" not in text(client.get("/login"))


def test_expired_form_keeps_what_was_typed_for_the_form(client, outbox):
    typed = {"last_name": "Hopper-Typed", "email": "grace.typed@example.org"}

    response = expired_post(client, "/register", typed)

    assert response.status_code == 400
    assert messages.CSRF_FAILED in text(response)
    assert f'<a href="/register">{BACK}</a>' in text(response)
    form = text(client.get("/register"))
    assert 'value="Hopper-Typed"' in form and 'value="grace.typed@example.org"' in form
    assert outbox.messages == []  # nothing was sent: the form still has to be sent again


def test_passwords_and_confirmations_are_never_kept(client, auth, make_user):
    make_user()
    auth.login("ada@example.org")
    typed = {
        "current_password": SECRET,
        "new_password": SECRET + "1",
        "confirm_password": SECRET + "1",
        "confirm": "y",
        "first_name": "Ada Typed",
    }

    response = expired_post(
        client,
        "/account/password",
        typed,
        form_url="/account",
        headers={"Referer": "http://localhost/account"},
    )

    assert response.status_code == 400
    assert f'<a href="/account">{BACK}</a>' in text(response)
    assert kept(client) == {"path": "/account", "fields": {"first_name": "Ada Typed"}}
    page = text(client.get("/account"))
    assert 'value="Ada Typed"' in page
    assert SECRET not in page


def test_a_post_without_the_session_cookie_keeps_nothing(app):
    """A cross-site POST arrives without the (SameSite=Lax) cookie: the session is not touched."""
    stranger = app.test_client()
    response = stranger.post("/register", data={"last_name": "X", "email": "x@example.org"})

    assert response.status_code == 400
    assert BACK not in text(response)
    assert not any("acs_session" in v for v in response.headers.getlist("Set-Cookie"))


@pytest.mark.parametrize(
    "referrer", ["https://evil.example/elsewhere", "http://localhost//evil.example/elsewhere"]
)
def test_a_referrer_from_another_site_is_not_followed(client, referrer):
    response = expired_post(
        client,
        "/register",
        {"last_name": "Hopper", "email": "grace@example.org"},
        headers={"Referer": referrer},
    )
    assert f'<a href="/register">{BACK}</a>' in text(response)  # this site's own form


def test_the_kept_values_stay_on_their_own_page(client):
    expired_post(client, "/register", {"last_name": "Hopper", "email": "grace.kept@example.org"})

    other = text(client.get("/forgot-password"))

    assert "grace.kept@example.org" not in other
    assert 'value="grace.kept@example.org"' in text(client.get("/register"))


def test_csrf_token_of_the_kept_form_works(client, outbox, make_entry):
    make_entry(email="grace@example.org", last_name="Hopper")
    expired_post(client, "/register", {"last_name": "Hopper", "email": "grace@example.org"})
    page = text(client.get("/register"))

    again = client.post(
        "/register",
        data={"csrf_token": csrf_from(page), "last_name": "Hopper", "email": "grace@example.org"},
    )

    assert again.status_code == 200
    assert outbox.link("grace@example.org", "/register/password/")
