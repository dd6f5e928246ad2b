"""The password policy on every page that sets a password: registration, reset and setup."""

from __future__ import annotations

import html

import pytest
from test_password_reset import can_sign_in, password_hash
from test_registration import count, post_form, text

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import AuthSession, User
from acs_auth.services.accounts import passwords
from tests.support.db import read_db

EMAIL = "ada.lovelace@example.org"
OLD_PASSWORD = "correct horse battery staple 42"
EMOJI_11 = "😀🎉🐍🚀🌈🍕🎸📚🧠🔥🌍"
EMOJI_12 = EMOJI_11 + "💡"
EMOJI_100 = "".join(chr(0x1F300 + (i * 37) % 700) for i in range(100))
BYTES_73 = "the quick onyx goblin jumps over seven lazy dwarves while humming 4 tunes"
PATHS = ["register-link", "register-session", "reset", "setup"]


class PasswordPage:
    """Opens the password form of one path for Ada and submits candidate passwords to it."""

    def __init__(self, app, client, outbox, make_user, make_entry, path):
        self.app, self.client, self.path = app, client, path
        self.user_id = None
        if path.startswith("register"):
            make_entry(email=EMAIL, last_name="Lovelace", first_name="Ada")
        else:
            self.user_id = make_user(
                email=EMAIL,
                first_name="Ada",
                last_name="Lovelace",
                password=OLD_PASSWORD if path == "reset" else None,
            )
        self.before = password_hash(app, self.user_id) if self.user_id else None
        if path == "register-session":
            app.config["REGISTRATION_EMAIL_CONFIRMATION"] = False
            post_form(client, "/register", {"last_name": "Lovelace", "email": EMAIL})
            self.url = "/register/password"
        elif path == "register-link":
            post_form(client, "/register", {"last_name": "Lovelace", "email": EMAIL})
            self.url = outbox.link(EMAIL, "/register/password/")
        elif path == "reset":
            post_form(client, "/forgot-password", {"email": EMAIL})
            self.url = outbox.link(EMAIL, "/reset-password/")
        else:
            post_form(client, "/first-time-password", {"last_name": "Lovelace", "email": EMAIL})
            self.url = outbox.link(EMAIL, "/setup-password/")

    def submit(self, password: str):
        data = {"password": password, "confirm": password}
        return post_form(self.client, self.url, data)

    def unchanged(self) -> bool:
        """Nothing was written: no account created, no password changed, no session opened."""
        if count(self.app, AuthSession) != 0:
            return False
        if self.user_id is None:
            return count(self.app, User) == 0
        return password_hash(self.app, self.user_id) == self.before


@pytest.fixture(params=PATHS)
def page(request, app, client, outbox, make_user, make_entry):
    return PasswordPage(app, client, outbox, make_user, make_entry, request.param)


def refused(page, password: str, reason: str) -> None:
    response = page.submit(password)
    assert response.status_code == 200, page.path
    body = html.unescape(text(response))
    assert reason in body, (page.path, password)
    assert 'id="password-error"' in body
    assert page.unchanged(), page.path


def accepted(page, password: str) -> None:
    response = page.submit(password)
    assert response.status_code == 302, html.unescape(text(response))
    # Registration and setup sign in; a completed reset leads to /login (no automatic sign-in).
    landing = "/login" if page.path == "reset" else "/programs"
    assert response.headers["Location"].startswith(landing)
    assert can_sign_in(page.app, EMAIL, password)


def test_eleven_characters_are_too_short(page):
    refused(page, "tugboat sky", messages.PASSWORD_TOO_SHORT.format(n=12))


def test_length_counts_code_points_eleven_emoji_are_too_short(page):
    assert len(EMOJI_11.encode()) == 44  # far more than 12 bytes, still 11 characters
    refused(page, EMOJI_11, messages.PASSWORD_TOO_SHORT.format(n=12))


def test_twelve_unrelated_emoji_are_accepted(page):
    accepted(page, EMOJI_12)


def test_more_than_128_characters_are_refused(page):
    refused(
        page, "violet marmalade tugboat " * 5 + "abcd", messages.PASSWORD_TOO_LONG.format(n=128)
    )


def test_a_common_password_is_refused_with_the_reason(page):
    refused(page, "password1234", messages.PASSWORD_TOO_WEAK)
    refused(page, "password1234", "This is a very common password.")


@pytest.mark.parametrize(
    "personal", ["ada.lovelace@example.org", "AdaLovelace2024!", "Lovelace.Ada.1815"]
)
def test_a_password_made_of_the_persons_email_or_name_is_weak(page, personal):
    response = page.submit(personal)
    assert response.status_code == 200
    body = html.unescape(text(response))
    assert messages.PASSWORD_PERSONAL in body or messages.PASSWORD_TOO_WEAK in body
    assert page.unchanged()


def test_character_classes_when_required(page):
    page.app.config["PASSWORD_REQUIRE_CHARACTER_CLASSES"] = True
    refused(page, "violet marmalade tugboat sky", messages.PASSWORD_NEEDS_CLASSES)
    accepted(page, "Violet marmalade tugboat 1923")


def test_no_composition_rule_by_default(page):
    accepted(page, "violet marmalade tugboat sky")


def test_a_long_passphrase_containing_a_name_is_still_fine(page):
    accepted(page, "lovelace violet marmalade tugboat")


# --- reuse, long passwords -----------------------------------------------------------------


def reset_to(app, client, outbox, password: str):
    post_form(client, "/forgot-password", {"email": EMAIL})
    link = outbox.link(EMAIL, "/reset-password/")
    return post_form(client, link, {"password": password, "confirm": password})


def test_the_last_three_passwords_cannot_be_reused(app, client, outbox, make_user):
    make_user(email=EMAIL, password=OLD_PASSWORD)
    history = [OLD_PASSWORD, "second violet tugboat 22", "third marmalade orbit 33"]
    for password in history[1:]:
        assert reset_to(app, client, outbox, password).status_code == 302
    current = "fourth lantern quarry 44"
    assert reset_to(app, client, outbox, current).status_code == 302

    for old in [current, *history]:
        response = reset_to(app, client, outbox, old)
        assert response.status_code == 200, old
        assert messages.PASSWORD_REUSED in html.unescape(text(response))
    assert can_sign_in(app, EMAIL, current)

    # Older than the history: allowed again.
    assert reset_to(app, client, outbox, "fifth gravel kite 55").status_code == 302
    assert reset_to(app, client, outbox, OLD_PASSWORD).status_code == 302


@pytest.mark.parametrize("password", [BYTES_73, EMOJI_100], ids=["73-bytes", "100-emoji"])
def test_long_passwords_set_through_reset_sign_in_and_are_not_truncated(
    app, client, outbox, make_user, password
):
    make_user(email=EMAIL, password=OLD_PASSWORD)

    assert reset_to(app, client, outbox, password).status_code == 302

    assert can_sign_in(app, EMAIL, password)
    assert not can_sign_in(app, EMAIL, password[:-1])
    prefix_72_bytes = password.encode()[:72].decode(errors="ignore")
    assert not can_sign_in(app, EMAIL, prefix_72_bytes)
    assert not can_sign_in(app, EMAIL, prefix_72_bytes + "x")


# --- the service itself (also used by the API and the CLI) -------------------------------------


def policy_reason(app, password, **context) -> str | None:
    with app.app_context():
        try:
            passwords.check_policy(password, passwords.PolicyContext(**context))
        except passwords.PasswordRejected as exc:
            return str(exc)
    return None


def test_check_policy_edge_cases(app):
    assert policy_reason(app, "\ud800 violet marmalade tugboat") == (
        messages.PASSWORD_INVALID_CHARACTERS
    )
    assert policy_reason(app, None) == messages.PASSWORD_INVALID_CHARACTERS
    assert policy_reason(app, "a" * 128) is not None  # zxcvbn sees all 128 without error
    assert policy_reason(app, "x" * 10_000) == messages.PASSWORD_TOO_LONG.format(n=128)
    assert policy_reason(app, "violet marmalade tugboat 1923") is None
    assert policy_reason(app, "acs portal 2024!") is not None  # the service's own name
    app.config["PASSWORD_MIN_LENGTH"] = 16
    assert policy_reason(app, "violet tugboat 9") is None
    assert policy_reason(app, "violet tugboat9") == messages.PASSWORD_TOO_SHORT.format(n=16)


def test_verify_password_never_raises(app, make_user):
    user_id = make_user()

    def check():
        stored = db.session.get(User, user_id).password_hash
        return [
            passwords.verify_password(stored, value)
            for value in ("", None, "\ud800", "\0", "x" * 100_000, OLD_PASSWORD)
        ]

    assert read_db(app, check) == [False, False, False, False, False, True]
