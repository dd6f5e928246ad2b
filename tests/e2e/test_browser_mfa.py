"""Two-step sign-in in Debian's chromium, as a person uses it.

Set up an authenticator app by reading the key from the page and computing its codes with
pyotp (what the phone app does), sign out, sign in with a code, and use a recovery code (which
works once). Every page is checked by axe and watched for server errors and CSP refusals.
"""

from __future__ import annotations

import time
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import expect

from acs_auth import messages
from tests.support.e2e import STRONG_PASSWORD, unique_email
from tests.support.watched import Watched, path_of, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def fresh_code(totp: pyotp.TOTP, after: str | None = None) -> str:
    """The app's current code; a new one once ``after`` (already used) has gone by."""
    code = totp.now()
    while code == after:
        time.sleep(1)
        code = totp.now()
    return code


def enrol(w: Watched) -> tuple[pyotp.TOTP, list[str], str]:
    """Set up the app from /account as a person does: (the app, recovery codes, code used)."""
    page = w.page
    w.goto("/account")
    page.get_by_role("link", name="Manage two-step sign-in").click()
    page.get_by_role("button", name="Set up an authenticator app").click()
    page.wait_for_load_state("load")
    w.check()
    expect(page.locator("figure.qr svg")).to_be_visible()
    key = page.get_by_label("Key (if you cannot scan)").input_value().replace(" ", "")
    totp = pyotp.TOTP(key)
    code = totp.now()
    page.get_by_label("Code from your app").fill(code)
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    page.wait_for_load_state("load")
    w.check()
    expect(page.get_by_text(messages.MFA_TOTP_ENABLED)).to_be_visible()
    codes = page.get_by_label("Recovery codes").input_value().split()
    assert len(codes) == 10
    with page.expect_download() as download:
        page.get_by_role("button", name="Download as a text file").click()
    saved = download.value
    assert saved.suggested_filename == "recovery-codes.txt"
    text = Path(saved.path()).read_text(encoding="utf-8")
    assert all(code in text for code in codes)
    return totp, codes, code


def sign_out(w: Watched) -> None:
    w.page.get_by_role("button", name="Sign out", exact=True).click()
    w.page.wait_for_load_state("load")


def second_step(w: Watched, code: str) -> None:
    expect(w.page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    w.check()
    w.page.get_by_label("Code").fill(code)
    w.page.get_by_role("button", name="Continue").click()
    w.page.wait_for_load_state("load")


def test_enrol_then_sign_in_with_a_code_and_a_recovery_code_once(deployment, open_page):
    email = unique_email("otp")
    deployment.make_user(email)
    w = open_page()
    w.goto("/login")
    sign_in(w, email)
    totp, codes, used = enrol(w)
    sign_out(w)

    # The password alone no longer signs in: the second step is asked for.
    w.goto("/login")
    sign_in(w, email)
    assert path_of(w) == "/login/second-factor"
    assert w.page.goto("/account").url.endswith("/login?next=%2Faccount")  # not signed in
    w.goto("/login")
    sign_in(w, email)
    second_step(w, "000000" if fresh_code(totp) != "000000" else "111111")
    expect(w.page.get_by_text(messages.MFA_CODE_WRONG)).to_be_visible()
    second_step(w, fresh_code(totp, after=used))
    assert path_of(w).startswith("/programs")
    sign_out(w)

    # A recovery code signs in once; the same code a second time is refused.
    for attempt in range(2):
        w.goto("/login")
        sign_in(w, email)
        second_step(w, codes[0])
        if attempt == 0:
            assert path_of(w).startswith("/programs")
            w.goto("/account")
            expect(w.page.get_by_text("9 unused recovery code(s)")).to_be_visible()
            sign_out(w)
        else:
            assert path_of(w) == "/login/second-factor"
            expect(w.page.get_by_text(messages.MFA_CODE_WRONG)).to_be_visible()
    subjects = [m["Subject"] for m in deployment.mail.wait_for(email, count=2)]
    assert any("A recovery code was used to sign in" in s for s in subjects)
    w.assert_clean()


def test_a_password_only_person_is_not_asked_for_a_code(deployment, open_page):
    email = unique_email("plain")
    deployment.make_user(email, password=STRONG_PASSWORD)
    w = open_page()
    w.goto("/login")
    sign_in(w, email)
    assert path_of(w).startswith("/programs")
    w.assert_clean()
