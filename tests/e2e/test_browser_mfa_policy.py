"""The second-factor policy in a real browser: an administrator without one enrols first.

The deployment runs production settings with MFA_REQUIRED_ROLES at its default (admin); the
other suites turn it off (tests/e2e/deployment.py).
"""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import expect

from acs_auth import messages

from .test_browser_flows import choose_password, nav_sign_out, path_of, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PORTAL_SETTINGS = {"MFA_REQUIRED_ROLES": "admin"}
ADMIN_EMAIL = "first.admin@example.org"
ENROLMENT = "/account/two-step"
COOKIE = "acs_mfa_browser"
NEW_PASSWORD = "another long passphrase 31"


def enrol_authenticator(w) -> pyotp.TOTP:
    """Set up an authenticator from the enrolment page, reading the key as a person would."""
    page = w.page
    page.get_by_role("button", name="Set up an authenticator app").click()
    page.wait_for_load_state("load")
    w.check()
    key = page.get_by_label("Key (if you cannot scan)").input_value().replace(" ", "")
    totp = pyotp.TOTP(key)
    page.get_by_label("Code from your app").fill(totp.now())
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    return totp


def test_an_admin_without_a_factor_is_made_to_enrol_first(deployment, portal, open_page):
    password = deployment.create_admin(ADMIN_EMAIL)
    w = open_page()
    page = w.page
    w.goto("/login")
    sign_in(w, ADMIN_EMAIL, password)
    assert path_of(w) == ENROLMENT
    expect(page.get_by_text(messages.MFA_ENROL_REQUIRED)).to_be_visible()
    w.check()

    # The console, the account page and the programs all lead back to enrolment.
    for target in ("/admin/", "/admin/users", "/account", "/programs"):
        w.goto(target)
        assert path_of(w) == ENROLMENT, target

    enrol_authenticator(w)
    w.goto("/admin/")
    assert path_of(w) == "/admin/"
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_text(messages.MFA_ENROL_REQUIRED)).to_have_count(0)
    w.assert_clean()
    assert re.search(r"/admin/$", page.url)


def test_remember_this_browser_skips_the_code_until_the_password_changes(
    deployment, portal, open_page
):
    email = "remembering.admin@example.org"
    password = deployment.create_admin(email)
    w = open_page()
    page = w.page
    w.goto("/login")
    sign_in(w, email, password)
    totp = enrol_authenticator(w)
    nav_sign_out(w)

    # The second step, with the box ticked. The code is the next step's: the one that
    # confirmed the enrolment may not be used again.
    w.goto("/login")
    sign_in(w, email, password)
    assert path_of(w) == "/login/second-factor"
    w.check()
    page.get_by_label("Code").fill(totp.at(time.time() + totp.interval))
    page.get_by_label(re.compile("Remember this browser")).check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state("load")
    assert path_of(w) != "/login/second-factor"
    cookie = next(c for c in page.context.cookies() if c["name"] == COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    w.goto("/account")
    expect(page.get_by_role("heading", name="Browsers that skip the second step")).to_be_visible()
    w.check()
    nav_sign_out(w)

    # Password only: straight in.
    w.goto("/login")
    sign_in(w, email, password)
    assert path_of(w) not in ("/login/second-factor", "/login")

    # A new password voids the remembered browser: the code is asked again.
    w.goto("/account")
    form = page.locator("section", has=page.get_by_role("heading", name="Change password"))
    form.get_by_label("Current password").fill(password)
    choose_password(w, NEW_PASSWORD, "Change password")
    nav_sign_out(w)
    assert any(c["name"] == COOKIE for c in page.context.cookies())  # still held: replayed
    w.goto("/login")
    sign_in(w, email, NEW_PASSWORD)
    assert path_of(w) == "/login/second-factor"
    w.assert_clean()
