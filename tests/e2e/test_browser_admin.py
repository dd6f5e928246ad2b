"""An administrator in a real browser: the console, and the allowlist upload → preview → apply."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from acs_auth import messages
from tests.support.watched import path_of, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADMIN_EMAIL = "admin@example.org"
# Line 2 names a person twice (merged), line 5 is invalid, line 6 starts with a formula.
ROSTER = (
    b"Last Name;First Name;E-mail;LO Root IDs\r\n"
    b"Curie;Marie;marie.curie@example.org;PHYS-1\r\n"
    b"Noether;Emmy;emmy.noether@example.org;MATH-1|MATH-2\r\n"
    b"Curie;Marie;Marie.Curie@EXAMPLE.org;CHEM-1\r\n"
    b"Nobody;;not-an-address;MATH-1\r\n"
    b"=HYPERLINK(1);Eve;eve.formula@example.org;SEC-1\r\n"
)


@pytest.fixture(scope="module")
def admin_password(deployment):
    return deployment.create_admin(ADMIN_EMAIL)


def card(page, label: str):
    """The figure shown under a preview or dashboard card's header."""
    return page.locator("article", has=page.locator("header", has_text=label)).locator("p")


def test_admin_uploads_previews_confirms_and_downloads(
    deployment, admin_password, open_page, screenshots
):
    w = open_page()
    page = w.page
    w.goto("/login")
    sign_in(w, ADMIN_EMAIL, admin_password)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    assert path_of(w) == "/admin/"
    w.check()
    admin_nav = page.get_by_role("navigation", name="Administration")
    admin_nav.get_by_role("link", name="Users").click()
    assert path_of(w) == "/admin/users"
    expect(page.get_by_text(ADMIN_EMAIL).first).to_be_visible()
    w.check()

    admin_nav.get_by_role("link", name="Upload").click()
    w.check()
    # Nothing chosen: the error is beside the field, and nothing was staged.
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_text(messages.ADMIN_FILE_REQUIRED)).to_be_visible()
    w.check("/admin/allowlist/upload (no file)")
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "roster.csv", "mimeType": "text/csv", "buffer": ROSTER}]
    )
    page.get_by_label("Merge", exact=False).check()
    page.get_by_role("button", name="Upload and preview").click()
    assert path_of(w).startswith("/admin/allowlist/uploads/")
    expect(page.get_by_role("heading", name="Preview: roster.csv")).to_be_visible()
    expect(card(page, "To add")).to_have_text("3")
    expect(card(page, "Invalid rows")).to_have_text("1")
    errors = page.get_by_role("region", name="Invalid rows (1)")
    expect(errors.get_by_role("cell", name="5", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="CHEM-1;PHYS-1")).to_be_visible()
    w.check("/admin/allowlist/uploads/<token>")
    w.shot(screenshots, "allowlist-preview")
    assert deployment.read(_entry_count) == 0, "the preview must not change anything"

    # Applying with an invalid row needs the explicit choice to skip it.
    page.get_by_role("button", name="Apply these changes").click()
    expect(page.get_by_text(messages.ADMIN_IMPORT_HAS_ERRORS)).to_be_visible()
    w.check("/admin/allowlist/uploads/<token> (blocked)")
    page.get_by_label("Skip the invalid rows and apply the rest").check()
    page.get_by_label("Email a registration link to the people added").check()
    page.get_by_role("button", name="Apply these changes").click()
    assert path_of(w) == "/admin/allowlist/imports"
    done = messages.ADMIN_IMPORT_DONE.format(added=3, changed=0, unchanged=0, removed=0)
    expect(page.get_by_text(done)).to_be_visible()
    expect(page.get_by_role("cell", name="roster.csv")).to_be_visible()
    w.check()
    assert deployment.read(_entry_count) == 3
    for address in ("marie.curie@example.org", "emmy.noether@example.org"):
        assert deployment.mail.link(address, "/register/password/")

    admin_nav.get_by_role("link", name="Allowlist").click()
    w.check()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download as CSV").click()
    download = info.value
    assert download.suggested_filename.startswith("allowlist-")
    exported = download.path().read_bytes()
    rows = list(csv.DictReader(io.StringIO(exported.decode("utf-8-sig"))))
    by_email = {row["email"]: row for row in rows}
    assert by_email["marie.curie@example.org"]["lo_root_ids"] == "CHEM-1;PHYS-1"
    assert by_email["emmy.noether@example.org"]["first_name"] == "Emmy"
    # A spreadsheet would run this cell as a formula: the export neutralises it.
    assert by_email["eve.formula@example.org"]["last_name"] == "'=HYPERLINK(1)"

    # The downloaded file uploaded again changes nothing.
    admin_nav.get_by_role("link", name="Upload").click()
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "export.csv", "mimeType": "text/csv", "buffer": exported}]
    )
    page.get_by_role("button", name="Upload and preview").click()
    expect(card(page, "Unchanged")).to_have_text("3")
    expect(card(page, "To add")).to_have_text("0")
    page.get_by_role("button", name="Discard this upload").click()
    expect(page.get_by_text(messages.ADMIN_UPLOAD_DISCARDED)).to_be_visible()
    w.check("/admin/allowlist/upload (discarded)")

    # The console's main pages, now that there is something to show, for docs/screenshots.
    admin_nav.get_by_role("link", name="Dashboard").click()
    expect(card(page, "Allowlist entries")).to_have_text("3")
    w.shot(screenshots, "admin-dashboard")
    admin_nav.get_by_role("link", name="Users").click()
    w.shot(screenshots, "admin-users")
    w.assert_clean()


def test_a_person_cannot_open_the_admin_console(deployment, open_page):
    email = "not.an.admin@example.org"
    deployment.make_user(email)
    w = open_page()
    w.goto("/login")
    sign_in(w, email)
    response = w.page.goto("/admin/")
    assert response.status == 403
    expect(w.page.get_by_text(messages.FORBIDDEN)).to_be_visible()
    w.check("/admin/ (forbidden)")
    w.assert_clean()


def _entry_count() -> int:
    from acs_auth.extensions import db
    from acs_auth.models import AllowlistEntry

    return db.session.scalar(db.select(db.func.count()).select_from(AllowlistEntry))


def test_the_audit_log_fits_1280_px_and_the_outbox_and_user_tools_are_clean(
    deployment, admin_password, open_page, screenshots
):
    # Long values in every column: a 40-program edit, a long user agent from the sign-in.
    person = deployment.make_user(
        "audit.wide@example.org", programs=[f"PROGRAM-{n:03d}" for n in range(40)]
    )
    w = open_page()
    page = w.page
    w.goto("/login")
    sign_in(w, ADMIN_EMAIL, admin_password)
    w.goto(f"/admin/users/{person}")
    page.get_by_label("Role", exact=True).select_option("guest")
    page.get_by_role("button", name="Save").click()
    w.check()
    page.get_by_role("button", name="Send password reset").click()
    expect(page.get_by_text("A password reset email is on its way")).to_be_visible()
    w.check()

    w.goto("/admin/audit")
    expect(page.get_by_text("role: user → guest")).to_be_visible()
    assert page.locator(".overflow-auto").count() == 0
    # Nothing scrolls sideways: the page is no wider than the 1280 px window.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    w.shot(screenshots, "admin-audit")
    w.goto("/admin/outbox")
    expect(page.get_by_role("heading", name="Outbox")).to_be_visible()
    w.assert_clean()


def _programs_of(email: str):
    def read():
        from acs_auth.extensions import db
        from acs_auth.models import User

        user = db.session.scalar(db.select(User).where(User.email_key == email))
        return user.program_ids, user.programs_edited_at is not None

    return read


def test_a_hand_edit_to_programs_is_shown_in_the_preview_and_the_choice_applied(
    deployment, admin_password, open_page
):
    email = "hand.edit@example.org"
    deployment.make_entry(email, "Hopper", programs=("PROG-1",))
    person = deployment.make_user(email, last_name="Hopper", programs=("PROG-1",))
    w = open_page()
    page = w.page
    w.goto("/login")
    sign_in(w, ADMIN_EMAIL, admin_password)
    w.goto(f"/admin/users/{person}")
    page.get_by_label("LO Root IDs (programs)").fill("PROG-1; HAND-9")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("set by hand")).to_be_visible()

    w.goto("/admin/allowlist/upload")
    roster = f"last_name,email,lo_root_ids\nHopper,{email},PROG-1;PROG-2\n".encode()
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "hand.csv", "mimeType": "text/csv", "buffer": roster}]
    )
    page.get_by_role("button", name="Upload and preview").click()
    edited = page.get_by_role("region", name="Programs set by hand (1)")
    expect(edited.get_by_role("cell", name="HAND-9;PROG-1", exact=False)).to_be_visible()
    expect(edited.get_by_label("Keep the hand edit")).to_be_checked()
    w.check("/admin/allowlist/uploads/<token> (set by hand)")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    w.check("/admin/allowlist/uploads/<token> (set by hand, phone)")
    page.set_viewport_size({"width": 1280, "height": 900})
    edited.get_by_label("Take the file's value").check()
    page.get_by_role("button", name="Apply these changes").click()
    assert path_of(w) == "/admin/allowlist/imports"
    assert deployment.read(_programs_of(email)) == (["PROG-1", "PROG-2"], False)
    w.assert_clean()
