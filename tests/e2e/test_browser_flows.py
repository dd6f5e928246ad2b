"""A person in a real browser (Debian's chromium) against gunicorn and a real SMTP server."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from acs_auth import messages
from tests.support.e2e import CHROMIUM, CHROMIUM_ARGS, STRONG_PASSWORD, launch, unique_email
from tests.support.watched import VIEWPORT, Watched, path_of, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NEW_PASSWORD = "violet tractor moonlight 7 harbour"


def choose_password(w: Watched, password: str, button: str) -> None:
    page = w.page
    page.get_by_label("New password", exact=True).fill(password)
    page.get_by_label("Confirm the new password").fill(password)
    page.get_by_role("button", name=button).click()
    page.wait_for_load_state("load")


def nav_sign_out(w: Watched) -> None:
    nav = w.page.get_by_role("navigation", name="Main")
    nav.get_by_role("button", name="Sign out").click()
    w.page.wait_for_load_state("load")


def test_registration_through_the_emailed_link_reaches_the_program_page(
    deployment, open_page, screenshots
):
    email = "grace.hopper@example.org"  # readable in the screenshots; one test uses it
    deployment.make_entry(email, "Hopper", programs=("ALPHA-1", "BETA-2"))
    w = open_page()
    page = w.page

    w.goto("/register")
    w.shot(screenshots, "register")
    page.get_by_label("Last name").fill("  HOPPER ")
    page.get_by_label("Email").fill(email.upper())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text(messages.REGISTRATION_EMAIL_SENT)).to_be_visible()
    w.check()

    link = deployment.mail.link(email, "/register/password/")
    w.goto(link)
    expect(page.get_by_text(email)).to_be_visible()
    choose_password(w, "password1234", "Create my account")
    # A guessable password is refused beside its field, and nothing is created.
    expect(page.locator(".field-error").first).to_be_visible()
    assert page.get_by_label("New password", exact=True).get_attribute("aria-invalid") == "true"
    w.check("/register/password/<token> (refused)")
    assert deployment.user(email) is None

    choose_password(w, NEW_PASSWORD, "Create my account")
    assert path_of(w) == "/programs"
    expect(page.get_by_text(messages.REGISTRATION_DONE)).to_be_visible()
    w.check()
    w.shot(screenshots, "programs")

    page.get_by_role("button", name="Open BETA-2").click()  # no catalogue entry: its own page
    assert path_of(w) == "/programs/BETA-2"
    expect(page.get_by_role("heading", name="BETA-2")).to_be_visible()
    w.check()
    assert deployment.user(email)["programs"] == ["ALPHA-1", "BETA-2"]

    # The link is spent: opening it again explains that, it never signs anyone in.
    response = w.goto(link)
    assert response.status == 400
    expect(page.get_by_text(messages.LINK_INVALID)).to_be_visible()
    w.assert_clean()


def test_sign_in_and_sign_out(deployment, open_page, screenshots):
    email = "ada.lovelace@example.org"  # readable in the screenshots; one test uses it
    deployment.make_user(email, programs=("PROG-1",))
    w = open_page()
    page = w.page

    w.goto("/login")
    w.shot(screenshots, "login")
    sign_in(w, email, "not the password at all")
    expect(page.get_by_text(messages.LOGIN_FAILED)).to_be_visible()
    w.check("/login (failed)")

    sign_in(w, email)
    # One program: straight through to it.
    assert path_of(w) == "/programs/PROG-1"
    w.check()
    w.goto("/account")
    expect(page.get_by_text(f"Signed in as {email}")).to_be_visible()
    w.shot(screenshots, "account")

    nav_sign_out(w)
    assert path_of(w) == "/login"
    expect(page.get_by_text(messages.LOGGED_OUT)).to_be_visible()
    assert all(row["revoked_at"] is not None for row in deployment.sessions(email))
    page.goto("/account")
    assert path_of(w).startswith("/login")
    expect(page.get_by_text(messages.LOGIN_REQUIRED)).to_be_visible()
    w.check("/login (sign-in required)")
    w.assert_clean()


def test_forgot_and_reset(deployment, open_page):
    email = unique_email("reset")
    stranger = unique_email("stranger")
    deployment.make_user(email, programs=("PROG-1", "PROG-2"))
    w = open_page()
    page = w.page

    for address in (stranger, email):
        w.goto("/login")
        page.get_by_role("link", name="Forgot your password?").click()
        assert path_of(w) == "/forgot-password"
        w.check()
        page.get_by_label("Email").fill(address)
        page.get_by_role("button", name="Email me a link").click()
        # The same answer whether or not an account exists.
        expect(page.get_by_text(messages.RESET_EMAIL_SENT)).to_be_visible()
        w.check("/forgot-password (sent)")

    link = deployment.mail.link(email, "/reset-password/")
    assert deployment.mail.to(stranger) == []
    w.goto(link)
    choose_password(w, NEW_PASSWORD, "Reset my password")
    # No automatic sign-in after a reset: the sign-in page, with the message.
    assert path_of(w) == "/login"
    expect(page.get_by_text(messages.PASSWORD_RESET_DONE)).to_be_visible()
    deployment.mail.wait_for(email, count=2)  # the reset link, then "your password was changed"

    sign_in(w, email, STRONG_PASSWORD)
    expect(page.get_by_text(messages.LOGIN_FAILED)).to_be_visible()
    sign_in(w, email, NEW_PASSWORD)
    assert path_of(w) == "/programs"
    # The link died with the password it was bound to.
    assert w.goto(link).status == 400
    w.assert_clean()


def _persistent(playwright, profile, portal, a11y_report) -> tuple:
    """A browser with a profile on disk: closing and relaunching it is a browser restart."""
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
        base_url=portal.url,
        viewport=VIEWPORT,
    )
    context.set_default_timeout(15_000)
    page = context.pages[0] if context.pages else context.new_page()
    return context, Watched(page, a11y_report)


def _signed_in_after_restart(playwright, portal, a11y_report, tmp_path, email, remember: bool):
    """Sign in, quit the browser, start it again on the same profile: still signed in?"""
    profile = tmp_path / f"profile-{remember}"
    context, w = _persistent(playwright, profile, portal, a11y_report)
    w.goto("/login")
    sign_in(w, email, remember=remember)
    assert path_of(w).startswith("/programs")
    context.close()

    context, w = _persistent(playwright, profile, portal, a11y_report)
    w.page.goto("/account")
    return context, w


def test_remember_me_survives_a_browser_restart_until_sign_out_everywhere(
    playwright, deployment, portal, open_page, a11y_report, tmp_path
):
    email = unique_email("remember")
    deployment.make_user(email)

    # Without "keep me signed in" a restart ends the session: the control that makes this fail.
    context, w = _signed_in_after_restart(playwright, portal, a11y_report, tmp_path, email, False)
    assert path_of(w).startswith("/login")
    context.close()

    context, w = _signed_in_after_restart(playwright, portal, a11y_report, tmp_path, email, True)
    try:
        assert path_of(w) == "/account"
        expect(w.page.get_by_text(f"Signed in as {email}")).to_be_visible()
        names = {c["name"] for c in context.cookies()}
        assert "acs_remember" in names

        # Another device signs out all the others from its account page.
        other = open_page()
        other.goto("/login")
        sign_in(other, email)
        other.goto("/account")
        other.page.get_by_role("button", name="Sign out all other devices").click()
        expect(other.page.get_by_text(messages.OTHER_SESSIONS_REVOKED)).to_be_visible()
        other.check("/account (others signed out)")

        w.page.reload()
        assert path_of(w).startswith("/login")
        w.page.goto("/programs")
        assert path_of(w).startswith("/login"), "the remember-me cookie signed the browser in again"
        # The device that pressed the button is still signed in.
        other.page.goto("/account")
        assert path_of(other) == "/account"
        w.assert_clean()
        other.assert_clean()
    finally:
        context.close()


def test_admin_sign_out_everywhere_ends_a_remembered_browser(
    playwright, deployment, portal, open_page, a11y_report, tmp_path
):
    email = unique_email("remembered")
    user_id = deployment.make_user(email)
    admin_email = unique_email("admin")
    admin_password = deployment.create_admin(admin_email)

    context, w = _signed_in_after_restart(playwright, portal, a11y_report, tmp_path, email, True)
    try:
        assert path_of(w) == "/account"
        admin = open_page()
        admin.goto("/login")
        sign_in(admin, admin_email, admin_password)
        admin.goto(f"/admin/users/{user_id}")
        admin.page.get_by_role("button", name="Sign out everywhere").click()
        expect(admin.page.get_by_text("Signed out everywhere")).to_be_visible()
        admin.check("/admin/users/<id> (signed out)")

        w.page.reload()
        assert path_of(w).startswith("/login")
        w.assert_clean()
        admin.assert_clean()
    finally:
        context.close()


def test_a_second_chromium_can_be_started(playwright):
    """The launch itself (flags, executable) as a quick, separate diagnosis."""
    browser = launch(playwright)
    try:
        assert browser.version.split(".")[0].isdigit()
    finally:
        browser.close()
