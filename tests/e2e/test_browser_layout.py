"""Every page at a desktop and a phone width, as a visitor, a person and an admin.

Each page must fit a 390x844 phone without sideways scrolling (tables become stacked rows),
pass axe-core without any violation (not only the serious ones), label its progress bars, tie
each form error to its field, and show flash messages without bullets. The skip link shows
when focused and the focus ring stands out in the light and the dark scheme.
With E2E_SCREENSHOTS set, phone-width screenshots are saved there too.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import expect
from werkzeug.exceptions import HTTPException

from acs_auth import messages
from tests.support.config import write_private_key
from tests.support.e2e import STRONG_PASSWORD, unique_email
from tests.support.layout import DESKTOP, FOCUS_RING, PHONE, contrast, luminance, problems
from tests.support.watched import Watched, path_of, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADMIN_EMAIL = "admin@example.org"
# Long unbroken words are what push a phone page sideways: addresses, user agents, hashes.
PERSON_EMAIL = "maximiliane.oberhausen-wittgenstein@verwaltung.example.org"
SAVE_SHOTS = bool(os.environ.get("E2E_SCREENSHOTS"))
# The phone-width screenshots README shows (docs/screenshots/phone-<name>.png).
PHONE_SHOTS = {
    ("person", "programs"),
    ("person", "account"),
    ("admin", "admin-users"),
    ("admin", "admin-preview"),
}


# GET routes that are not pages: redirects, downloads, probes, the JSON API, the static files.
# A signing key, so the provider's pages (off in production without one) are served.
KEY_DIR = Path(tempfile.mkdtemp(prefix="acs-layout-"))
PORTAL_SETTINGS = {"OIDC_PRIVATE_KEY_FILE": write_private_key(KEY_DIR / "oidc.pem")}
NOT_PAGES = {
    "static",
    "auth.home",
    "auth.legacy_login",
    "admin.export_allowlist",
    "registration.password_in_session",
    "health.healthz",
    "health.readyz",
    # Not HTML pages: CSV downloads, the Prometheus scrape, the OIDC userinfo JSON.
    "admin.export_programs",
    "admin.export_dormant",
    "admin.export_audit",
    "metrics.scrape",
    "oidc.userinfo",
}
ROSTER = "\n".join(
    ["last_name,first_name,email,lo_root_ids"]
    + [f"Person{i},Test,person{i}@example.org,PROG-{i};SHARED-1" for i in range(8)]
    + ["García Márquez,Gabriela,gabriela.garcia.marquez.longname@universidad.example.org,LIT-1"]
).encode()


@pytest.fixture(scope="module")
def site(deployment, portal, browser, workdir):
    """The accounts, allowlist, import and emailed links that make every page show something."""
    roster = workdir / "roster-2026-12-05-from-the-records-office.csv"
    roster.write_bytes(ROSTER)
    done = deployment.flask("allowlist", "import", str(roster))
    assert done.returncode == 0, done.stdout + done.stderr
    admin_password = deployment.create_admin(ADMIN_EMAIL)
    deployment.make_user(PERSON_EMAIL, programs=("PROG-1", "CHEMISTRY-ADVANCED-2026"))
    reset_email, setup_email = unique_email("reset"), unique_email("setup")
    deployment.make_user(reset_email)
    setup_id = deployment.make_user(setup_email, password=None)

    catalogue = workdir / "programs.csv"
    catalogue.write_text(
        "lo_root_id,name,description,launch_url,active\n"
        "PROG-1,Programme one,The first programme,https://chat.example.org/p1,true\n"
    )
    done = deployment.flask("programs", "import", str(catalogue))
    assert done.returncode == 0, done.stdout + done.stderr
    done = deployment.flask(
        "clients",
        "create",
        "--name",
        "Chatbot",
        "--redirect-uri",
        "https://chat.example.org/callback",
        "--program",
        "PROG-1",
        "--json",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    client_id = json.loads(done.stdout)["client_id"]

    context = browser.new_context(base_url=portal.url)
    page = context.new_page()
    for url, fields in [
        ("/forgot-password", {"Email or username": reset_email}),
        ("/first-time-password", {"Last name": "Lovelace", "Email": setup_email}),
        ("/register", {"Last name": "Person3", "Email": "person3@example.org"}),
    ]:
        page.goto(url)
        for label, value in fields.items():
            page.get_by_label(label, exact=True).fill(value)
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state("load")
    context.close()
    return {
        "admin_password": admin_password,
        "client_id": client_id,
        "setup_id": setup_id,
        "reset": deployment.mail.link(reset_email, "/reset-password/"),
        "setup": deployment.mail.link(setup_email, "/setup-password/"),
        "register": deployment.mail.link("person3@example.org", "/register/password/"),
    }


class Tour:
    """One browser at one width: visits pages, checks each, remembers which routes it saw."""

    def __init__(self, w: Watched, app, size: str, shots: Path, who: str):
        self.w, self.page, self.size, self.shots, self.who = w, w.page, size, shots, who
        self.adapter = app.url_map.bind("localhost")
        self.seen: set[str] = set()
        self.failures: list[str] = []

    def visit(self, path: str | None, name: str, status: int = 200) -> None:
        """Open ``path`` (or stay on the current page) and check it."""
        if path is not None:
            response = self.page.goto(path)
            assert response.status == status, f"{path}: {response.status}"
        self.inspect(name)

    def inspect(self, name: str) -> None:
        self.page.wait_for_load_state("load")
        key = f"{name} @ {self.size}"
        self.w.check(key)
        for violation in self.w.report[key]:  # moderate and minor ones count here too
            self.failures.append(f"{key}: axe {violation['id']} ({violation['impact']})")
        found = problems(self.page, phone=self.size == "phone")
        self.failures += [f"{key}: {problem}" for problem in found]
        try:
            endpoint, _ = self.adapter.match(path_of(self.w).split("?", 1)[0], method="GET")
            self.seen.add(endpoint)
        except HTTPException:  # the 404 page, or the answer to a POST-only URL
            pass
        if SAVE_SHOTS and self.size == "phone" and (self.who, name) in PHONE_SHOTS:
            self.w.shot(self.shots, f"phone-{name}")

    def submit(self, button: str, name: str) -> None:
        """Send a form; the browser's own checks are off, so the server's errors show."""
        self.page.evaluate("document.querySelectorAll('form').forEach(f => f.noValidate = true)")
        self.page.get_by_role("button", name=button).click()
        self.page.wait_for_load_state("load")
        if name.endswith("-errors"):
            assert self.page.locator("[aria-invalid=true]").count(), f"{name}: no field in error"
        self.inspect(name)


def visitor_pages(t: Tour, links: dict) -> None:
    page = t.page
    t.visit("/login", "login")
    sign_in(t.w, PERSON_EMAIL, "not the password at all")
    expect(page.get_by_text(messages.LOGIN_FAILED)).to_be_visible()
    t.inspect("login-failed")
    t.visit("/register", "register")
    t.submit("Continue", "register-errors")
    t.visit("/forgot-password", "forgot-password")
    page.get_by_label("Email").fill(unique_email("nobody"))
    t.submit("Email me a link", "forgot-password-sent")
    t.visit("/first-time-password", "first-time-password")
    t.submit("Email me a link", "first-time-password-errors")
    t.visit(links["register"], "register-password")
    t.submit("Create my account", "register-password-errors")
    t.visit(links["reset"], "reset-password")
    t.visit(links["setup"], "setup-password")
    t.visit("/reset-password/not-a-token", "link-invalid", status=400)
    t.visit("/no-such-page", "not-found", status=404)
    t.visit("/api/docs", "api-docs")
    t.visit("/api/problems/token-expired", "api-problem")


def two_step_pages(t: Tour, deployment) -> None:
    """Set up an authenticator app (reading its key from the page), then sign in with it."""
    email = unique_email("two-step")
    # Two programs: with one whose catalogue entry has a launch URL, /programs would leave the
    # site straight after the sign-in form, which the CSP's form-action 'self' stops.
    deployment.make_user(email, programs=("PROG-1", "PROG-2"))
    page = t.page
    page.goto("/login")
    sign_in(t.w, email)
    t.visit("/account/two-step", "two-step")
    page.get_by_role("button", name="Set up an authenticator app").click()
    t.inspect("two-step-enrol")
    t.submit("Turn on two-step sign-in", "two-step-enrol-errors")
    key = page.get_by_label("Key (if you cannot scan)").input_value().replace(" ", "")
    page.get_by_label("Code from your app").fill(pyotp.TOTP(key).now())
    t.submit("Turn on two-step sign-in", "two-step-codes")
    t.visit("/account/two-step", "two-step-on")
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_load_state("load")
    sign_in(t.w, email)
    t.inspect("second-factor")
    t.submit("Continue", "second-factor-errors")
    page.get_by_role("button", name="Cancel and sign in again").click()
    page.wait_for_load_state("load")


def change_email_pages(t: Tour, mail) -> None:
    """Ask for a change of address, then open the confirmation page of the emailed link."""
    new_email = unique_email("moved")
    t.page.goto("/account")
    t.page.locator("#new_email").fill(new_email)
    t.page.locator("#email_password").fill(STRONG_PASSWORD)
    t.page.get_by_role("button", name="Send confirmation link").click()
    t.page.wait_for_load_state("load")
    t.visit(mail.link(new_email, "/account/email/confirm/"), "email-confirm")


def person_pages(t: Tour, admin: bool) -> None:
    t.visit("/programs", "programs")
    t.visit("/programs/PROG-1", "program")
    t.visit("/account", "account")
    t.submit("Change password", "account-errors")
    t.page.get_by_role("button", name="Save profile").click()
    t.inspect("account-saved")  # a flash message
    t.visit("/account/apps", "account-apps")
    t.visit("/account/passkeys", "account-passkeys")
    t.visit("/oauth/authorize", "authorize-invalid", status=400)
    t.visit("/oauth/logout", "end-session")
    if not admin:
        t.visit("/admin/", "forbidden", status=403)


def admin_pages(t: Tour, setup_id: int, client_id: str) -> None:
    page = t.page
    t.visit("/admin/", "admin-dashboard")
    t.visit("/admin/users", "admin-users")
    t.visit("/admin/users?q=person", "admin-users-search")
    t.visit("/admin/users/new", "admin-user-new")
    t.submit("Create and send the setup email", "admin-user-new-errors")
    t.visit(f"/admin/users/{setup_id}", "admin-user")
    t.visit(f"/admin/users/{setup_id}/delete", "admin-user-delete")
    t.submit("Delete the account", "admin-user-delete-errors")
    t.visit("/admin/allowlist", "admin-allowlist")
    page.get_by_role("link", name="Remove…").first.click()
    t.inspect("admin-entry-remove")
    t.visit("/admin/allowlist/upload", "admin-upload")
    t.submit("Upload and preview", "admin-upload-errors")
    changed = ROSTER.replace(b"PROG-1;", b"PROG-1;PROG-9;").rsplit(b"\n", 2)[0]
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "roster.csv", "mimeType": "text/csv", "buffer": changed + b"\nBad,,x,\n"}]
    )
    page.get_by_label("Replace", exact=False).check()
    t.submit("Upload and preview", "admin-preview")
    t.submit("Apply these changes", "admin-preview-blocked")
    page.get_by_role("button", name="Discard this upload").click()
    t.visit("/admin/allowlist/imports", "admin-imports")
    t.visit("/admin/audit", "admin-audit")
    t.visit("/admin/security", "admin-security")
    t.visit("/admin/outbox", "admin-outbox")
    t.visit("/admin/programs", "admin-programs")
    t.visit("/admin/programs/new", "admin-program-new")
    t.visit("/admin/programs/PROG-1/edit", "admin-program")
    t.visit("/admin/clients", "admin-clients")
    t.visit("/admin/clients/new", "admin-client-new")
    t.visit(f"/admin/clients/{client_id}", "admin-client")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_every_page_fits_and_passes_axe(deployment, site, open_page, screenshots, size):
    viewport = PHONE if size == "phone" else DESKTOP
    tours = {}
    for who in ("visitor", "person", "admin"):
        w = open_page()
        w.page.set_viewport_size(viewport)
        tours[who] = Tour(w, deployment.app, size, screenshots, who)
    visitor_pages(tours["visitor"], site)
    two_step_pages(tours["visitor"], deployment)
    for who, email, password in [
        ("person", PERSON_EMAIL, None),
        ("admin", ADMIN_EMAIL, site["admin_password"]),
    ]:
        t = tours[who]
        t.page.goto("/login")
        sign_in(t.w, email, *([password] if password else []))
        person_pages(t, admin=who == "admin")
        if who == "person":
            change_email_pages(t, deployment.mail)
    admin_pages(tours["admin"], site["setup_id"], site["client_id"])

    failures = [f for t in tours.values() for f in t.failures]
    assert not failures, "\n".join(failures)
    pages = {
        rule.endpoint
        for rule in deployment.app.url_map.iter_rules()
        if "GET" in rule.methods
        and (
            not rule.rule.startswith(("/api/", "/.well-known/"))
            or rule.endpoint.startswith("api_reference.")  # the API's pages for people
        )
    }
    missed = pages - NOT_PAGES - set().union(*(t.seen for t in tours.values()))
    assert not missed, f"pages this test never visited: {sorted(missed)}"
    for t in tours.values():
        t.w.assert_clean()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_skip_link_shows_when_focused_and_leads_to_the_content(open_page, size):
    w = open_page()
    w.page.set_viewport_size(PHONE if size == "phone" else DESKTOP)
    w.goto("/login")
    link = w.page.get_by_role("link", name="Skip to content")
    hidden = link.bounding_box()
    assert hidden["width"] <= 1 and hidden["height"] <= 1  # out of sight until focused

    w.page.keyboard.press("Tab")
    expect(link).to_be_focused()
    shown = link.bounding_box()
    assert shown["width"] > 40 and shown["height"] > 16, shown
    viewport = w.page.viewport_size
    assert shown["x"] >= 0 and shown["x"] + shown["width"] <= viewport["width"]
    assert shown["y"] >= 0 and shown["y"] + shown["height"] <= viewport["height"]
    w.page.keyboard.press("Enter")
    expect(w.page).to_have_url(re.compile(r"#main$"))
    w.assert_clean()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_focus_rings_stand_out_in_light_and_dark_mode(deployment, site, open_page, scheme):
    w = open_page(color_scheme=scheme)
    checked = []
    for path in ("/login", "/admin/users", "/account"):
        w.goto(path)
        body = w.page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        assert (luminance(body) < 0.1) == (scheme == "dark"), body  # the scheme took effect
        for _ in range(14):  # links, buttons, fields, a checkbox, a select
            w.page.keyboard.press("Tab")
            ring = w.page.evaluate(FOCUS_RING)
            if ring["tag"].startswith("body"):  # past the last control
                break
            checked.append(ring["tag"])
            assert ring["style"] not in ("none", "hidden") and ring["width"] >= 2, ring
            ratio = contrast(ring["color"], ring["background"])
            assert ratio >= 3, f"{path} {ring}: contrast {ratio:.2f}"
        if path == "/login":
            sign_in(w, ADMIN_EMAIL, site["admin_password"])
    assert any(tag.startswith("input") for tag in checked)
    assert any(tag.startswith("button") for tag in checked)
    w.assert_clean()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_an_expired_form_keeps_what_was_typed_but_not_the_password(open_page, size):
    w = open_page()
    w.page.set_viewport_size(PHONE if size == "phone" else DESKTOP)
    w.goto("/login")
    w.page.get_by_label("Email or username").fill("typed.in.a.browser@example.org")
    w.page.get_by_label("Password").fill("a secret typed before the form expired")
    # The form sat open past its session's token: the token no longer matches.
    # (the sign-in form's own token: the passkey block on /login carries one too)
    sign_in_form = w.page.locator("form:has(input[name=password])")
    sign_in_form.locator("input[name=csrf_token]").evaluate("input => input.value = 'expired'")
    w.page.get_by_role("button", name="Sign in").click()

    expect(w.page.get_by_text(messages.CSRF_FAILED)).to_be_visible()
    assert problems(w.page, phone=size == "phone") == []
    w.check(f"/login (expired form) @ {size}")
    assert w.report[f"/login (expired form) @ {size}"] == []  # not even a minor violation
    w.page.get_by_role("link", name=messages.KEPT_FORM_BACK).click()
    assert path_of(w) == "/login"
    expect(w.page.get_by_label("Email or username")).to_have_value("typed.in.a.browser@example.org")
    expect(w.page.get_by_label("Password")).to_have_value("")
    w.assert_clean()
