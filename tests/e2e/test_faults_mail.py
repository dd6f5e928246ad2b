"""SMTP down during bulk invitations and reset requests: every message later, none twice."""

from __future__ import annotations

import re
import time

import pytest
import requests

from acs_auth import messages
from tests.support.e2e import (
    STRONG_PASSWORD,
    browser_login,
    get_csrf,
    new_session,
    submit,
    unique_email,
    wait_until,
)

pytestmark = pytest.mark.slow

DIGEST = re.compile(r'name="digest"[^>]*value="([0-9a-f]{64})"')


def roster(people: list[str]) -> bytes:
    lines = ["last_name,email,lo_root_ids"] + [f"Outage,{email},PROG-9" for email in people]
    return ("\r\n".join(lines) + "\r\n").encode()


def upload_and_invite(admin: requests.Session, base: str, people: list[str]) -> None:
    """The admin console: upload → preview → apply with "email a registration link"."""
    csrf = get_csrf(admin, base + "/admin/allowlist/upload")
    response = admin.post(
        base + "/admin/allowlist/upload",
        data={"csrf_token": csrf, "mode": "merge"},
        files={"file": ("outage.csv", roster(people), "text/csv")},
        timeout=30,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    preview_path = response.headers["Location"]
    page = admin.get(base + preview_path, timeout=30).text
    digest = DIGEST.search(page).group(1)
    response = admin.post(
        base + preview_path + "/apply",
        data={"csrf_token": get_csrf(admin, base + preview_path), "digest": digest, "invite": "y"},
        timeout=30,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    assert response.headers["Location"] == "/admin/allowlist/imports"


def test_mail_queued_while_smtp_is_down_is_delivered_once_it_returns(
    deployment, portal, smtp_server, workdir
):
    base = portal.url
    admin_email = unique_email("admin")
    admin = new_session("admin")
    password = deployment.create_admin(admin_email)
    assert browser_login(admin, base, admin_email, password).status_code == 302
    by_console = [unique_email("console") for _ in range(6)]
    by_cli = [unique_email("cli") for _ in range(6)]
    by_button = [unique_email("button") for _ in range(4)]
    resets = [unique_email("reset") for _ in range(4)]
    for email in resets:
        deployment.make_user(email)
    for email in by_button:
        deployment.make_entry(email, "Outage")

    smtp_server.stop()
    try:
        # 1. Bulk invitation from the admin console, while the SMTP server refuses connections.
        upload_and_invite(admin, base, by_console)
        # 2. The same through the command line.
        csv_file = workdir / "outage-cli.csv"
        csv_file.write_bytes(roster(by_cli))
        done = deployment.flask("allowlist", "import", str(csv_file), "--invite")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "6 sent" not in done.stdout
        # 3. "Send invitations" to everyone not registered yet.
        response = submit(
            admin, base, "/admin/allowlist/invite", {"scope": "all"}, form_path="/admin/allowlist"
        )
        assert response.status_code == 302
        # 4. Reset requests from the page and from the API.
        for number, email in enumerate(resets):
            if number % 2:
                answer = requests.post(
                    base + "/api/auth/request-password-reset", json={"email": email}, timeout=15
                )
                assert answer.status_code == 202
            else:
                answer = submit(new_session(), base, "/forgot-password", {"email": email})
                assert answer.status_code == 200 and messages.RESET_EMAIL_SENT in answer.text

        expected = {e: 1 for e in by_console + by_cli + by_button + resets}

        # Every message was tried at least once and kept, with the reason, for a retry.
        def all_tried():
            rows = [r for r in deployment.outbox() if r["to"] in expected]
            tried = all(r["attempts"] >= 1 and r["last_error"] for r in rows)
            return len(rows) == len(expected) and tried and rows

        rows = wait_until(all_tried, 60, "a failed first attempt of every message")
        assert all(r["sent_at"] is None for r in rows), rows
        assert smtp_server.messages == []
    finally:
        smtp_server.start()

    # Back-off has no setting: make the queued messages due now, then let two senders race
    # (`flask mail send-pending` twice at once) with the workers' background threads.
    assert deployment.make_outbox_due() >= len(expected)
    senders = [deployment.flask_async("mail", "send-pending") for _ in range(2)]
    for sender in senders:
        assert sender.wait(timeout=120) == 0, sender.output()

    wait_until(lambda: all(deployment.mail.to(e) for e in expected), 60, "every message to arrive")
    time.sleep(2)  # a late duplicate from a background thread would show up by now
    counts = deployment.mail.per_recipient()
    assert {e: counts[e] for e in expected} == expected
    rows = [r for r in deployment.outbox() if r["to"] in expected]
    assert all(r["sent_at"] is not None and r["failed_at"] is None for r in rows)
    for email in by_console + by_cli + by_button:
        assert deployment.mail.links(email, "/register/password/")
    for email in resets:
        assert deployment.mail.links(email, "/reset-password/")


def test_a_reset_link_mailed_after_the_outage_still_works(deployment, portal, smtp_server):
    """The link of a message that waited in the outbox is valid when it finally arrives."""
    email = unique_email("late")
    deployment.make_user(email)
    smtp_server.stop()
    try:
        answer = submit(new_session(), portal.url, "/forgot-password", {"email": email})
        assert answer.status_code == 200
        wait_until(
            lambda: any(r["to"] == email and r["last_error"] for r in deployment.outbox()),
            30,
            "the failed first attempt",
        )
    finally:
        smtp_server.start()
    deployment.make_outbox_due()
    done = deployment.flask("mail", "send-pending")
    assert done.returncode == 0, done.stdout + done.stderr
    link = deployment.mail.link(email, "/reset-password/")
    browser = new_session()
    new_password = "after the storm comes mail 9"
    response = submit(
        browser, portal.url, link, {"password": new_password, "confirm": new_password}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert browser_login(new_session(), portal.url, email, STRONG_PASSWORD).status_code == 200
