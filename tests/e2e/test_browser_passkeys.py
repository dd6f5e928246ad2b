"""Passkeys in a real browser: Debian's chromium with its virtual authenticator (issue 15).

Chromium's DevTools WebAuthn domain, reached through Playwright's CDP session, gives the page
a platform authenticator (CTAP2, internal transport, resident keys, user verification) that
answers navigator.credentials.create()/get() as a phone or laptop would, with real keys and
signatures; static/js/passkeys.js and py_webauthn do the rest, unchanged.

WebAuthn needs a secure context and a domain as RP id (an IP address is refused), so this
module's portal is a development one whose APP_URL is http://localhost:<port>, and the browser
goes there by that name (localhost is a secure context without TLS).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from acs_auth import messages
from tests.support.e2e import STRONG_PASSWORD
from tests.support.watched import VIEWPORT, Watched

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PORTAL_SETTINGS = {"ACS_CONFIG": "development", "APP_URL": "http://localhost:{port}"}
HEADER = "last_name,first_name,email,lo_root_ids\n"


@pytest.fixture
def open_passkey_page(browser, portal, deployment, a11y_report):
    """A page on APP_URL (localhost) with a virtual authenticator attached to it."""
    contexts = []

    def factory() -> tuple[Watched, object]:
        context = browser.new_context(base_url=deployment.app_url, viewport=VIEWPORT)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable", {"enableUI": False})
        found = cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                    "automaticPresenceSimulation": True,
                }
            },
        )
        return Watched(page, a11y_report), (cdp, found["authenticatorId"])

    yield factory
    for context in contexts:
        context.close()


def path_of(w: Watched) -> str:
    return "/" + w.page.url.split("://", 1)[1].split("/", 1)[1]


def sign_in_with_password(w: Watched, email: str) -> None:
    w.goto("/login")
    w.page.get_by_label("Email or username").fill(email)
    w.page.get_by_label("Password", exact=True).fill(STRONG_PASSWORD)
    w.page.get_by_role("button", name="Sign in").click()
    w.page.wait_for_load_state("load")


def sign_out(w: Watched) -> None:
    nav = w.page.get_by_role("navigation", name="Main")
    nav.get_by_role("button", name="Sign out").click()
    w.page.wait_for_load_state("load")


def add_passkey(w: Watched, name: str) -> None:
    """From /account: follow the link, name the passkey, confirm the password, create it."""
    w.goto("/account")
    w.page.get_by_role("link", name="Manage your passkeys").click()
    w.page.wait_for_load_state("load")
    w.check()
    w.page.get_by_label("Name").fill(name)
    w.page.get_by_label("Current password").fill(STRONG_PASSWORD)
    w.page.get_by_role("button", name="Add a passkey").click()
    expect(w.page.get_by_text(messages.PASSKEY_ADDED.format(name=name))).to_be_visible()
    expect(w.page.get_by_role("cell", name=name, exact=True)).to_be_visible()
    w.check("/account/passkeys (one passkey)")


def test_a_passkey_added_on_account_signs_in_alone_until_removed_from_the_allowlist(
    deployment, open_passkey_page, workdir
):
    email = "ada.passkey@example.org"
    deployment.make_entry(email, "Lovelace", programs=("PROG-1",))
    deployment.make_user(email)
    w, (cdp, authenticator) = open_passkey_page()

    sign_in_with_password(w, email)
    add_passkey(w, "This laptop")
    [credential] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})[
        "credentials"
    ]
    assert credential["isResidentCredential"] is True
    sign_out(w)

    # First factor: no email, no password; the authenticator offers the key it holds.
    w.goto("/login")
    w.page.get_by_role("button", name="Use a passkey").click()
    w.page.wait_for_url("**/programs/PROG-1")  # straight through: Ada has one program
    sign_out(w)

    # Ada leaves the allowlist: the same passkey, in the same browser, opens nothing.
    listed = workdir / "without-ada.csv"
    listed.write_text(HEADER + "Hopper,Grace,grace.other@example.org,PROG-1\n")
    done = deployment.flask("allowlist", "import", str(listed), "--replace", "--yes-remove-many")
    assert done.returncode == 0, done.stdout + done.stderr
    w.goto("/login")
    w.page.get_by_role("button", name="Use a passkey").click()
    expect(w.page.get_by_text(messages.PASSKEY_SIGN_IN_FAILED)).to_be_visible()
    assert path_of(w).startswith("/login")
    w.check("/login (passkey refused)")
    w.assert_clean()


def test_a_passkey_stands_in_for_the_second_step_after_the_password(deployment, open_passkey_page):
    email = "grace.second.step@example.org"
    deployment.make_user(email)
    w, _ = open_passkey_page()
    sign_in_with_password(w, email)
    add_passkey(w, "Security key")
    sign_out(w)

    # With a passkey on the account the password alone no longer signs in: a second step.
    sign_in_with_password(w, email)
    assert path_of(w) == "/login/second-factor"
    w.check("/login/second-factor (passkey)")
    w.page.get_by_role("button", name="Use a passkey").click()
    w.page.wait_for_url("**/programs/PROG-1")
    w.assert_clean()


def test_without_javascript_the_pages_say_why_and_the_password_still_works(
    deployment, browser, portal
):
    """No script, no passkeys: a message instead of the buttons (axe needs script: not run)."""
    email = "no.script@example.org"
    deployment.make_user(email)
    context = browser.new_context(
        base_url=deployment.app_url, viewport=VIEWPORT, java_script_enabled=False
    )
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        page.goto("/login")
        expect(page.get_by_text(messages.PASSKEY_UNSUPPORTED)).to_be_visible()
        expect(page.get_by_role("button", name="Use a passkey")).to_be_hidden()
        page.get_by_label("Email or username").fill(email)
        page.get_by_label("Password", exact=True).fill(STRONG_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/programs/PROG-1")
        page.goto("/account/passkeys")
        expect(page.get_by_text(messages.PASSKEY_UNSUPPORTED)).to_be_visible()
        expect(page.get_by_role("button", name="Add a passkey")).to_be_hidden()
    finally:
        context.close()
