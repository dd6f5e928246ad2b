"""/account shows recent activity; a new browser or device signing in is emailed to the owner."""

from __future__ import annotations

from tests.support.config import STRONG_PASSWORD
from tests.support.web import AuthActions, csrf_from

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
NEW_SIGN_IN = "New sign-in to your account"


def browser(app, agent: str, ip: str) -> AuthActions:
    client = app.test_client()
    client.environ_base.update({"HTTP_USER_AGENT": agent, "REMOTE_ADDR": ip})
    return AuthActions(client)


def notices(outbox, address="ada@example.org"):
    return [m for m in outbox.to(address) if m["Subject"].endswith(NEW_SIGN_IN)]


def test_the_first_sign_in_and_a_known_device_send_nothing(app, outbox, make_user):
    make_user()
    assert browser(app, FIREFOX, "203.0.113.7").login("ada@example.org").status_code == 302
    assert browser(app, FIREFOX, "203.0.113.7").login("ada@example.org").status_code == 302
    # Same browser and OS, same /24: a new address from the same network is not a new device.
    assert browser(app, FIREFOX, "203.0.113.200").login("ada@example.org").status_code == 302
    assert notices(outbox) == []


def test_a_new_browser_or_network_is_emailed_with_device_ip_and_time(app, outbox, make_user):
    make_user()
    browser(app, FIREFOX, "203.0.113.7").login("ada@example.org")

    browser(app, SAFARI_IPHONE, "203.0.113.7").login("ada@example.org")  # new browser + OS
    browser(app, FIREFOX, "198.51.100.4").login("ada@example.org")  # new network
    sent = notices(outbox)
    assert len(sent) == 2
    first = outbox.text(sent[0])
    assert "Safari on iOS" in first and "203.0.113.7" in first and "UTC" in first
    assert "198.51.100.4" in outbox.text(sent[1])
    assert STRONG_PASSWORD not in first

    browser(app, SAFARI_IPHONE, "203.0.113.99").login("ada@example.org")  # known by now
    assert len(notices(outbox)) == 2


def test_a_failed_sign_in_from_a_new_device_sends_no_new_device_email(app, outbox, make_user):
    make_user()
    browser(app, FIREFOX, "203.0.113.7").login("ada@example.org")
    browser(app, CHROME_WINDOWS, "192.0.2.1").login("ada@example.org", "wrong password here")
    assert notices(outbox) == []


def test_an_api_sign_in_from_a_new_device_is_emailed_too(app, outbox, make_user):
    make_user()
    browser(app, FIREFOX, "203.0.113.7").login("ada@example.org")
    client = app.test_client()
    response = client.post(
        "/api/auth/login",
        json={"email": "ada@example.org", "password": STRONG_PASSWORD},
        environ_base={"HTTP_USER_AGENT": "python-requests/2.32", "REMOTE_ADDR": "192.0.2.50"},
    )
    assert response.status_code == 200
    sent = notices(outbox)
    assert len(sent) == 1 and "API client" in outbox.text(sent[0])


def test_account_shows_sign_ins_password_changes_devices_and_ips(app, outbox, make_user):
    make_user()
    make_user("bob@example.org", last_name="Builder")
    browser(app, CHROME_WINDOWS, "192.0.2.1").login("bob@example.org")  # someone else's
    browser(app, SAFARI_IPHONE, "198.51.100.4").login("ada@example.org")
    me = browser(app, FIREFOX, "203.0.113.7")
    me.login("ada@example.org")
    page = me.client.get("/account").get_data(as_text=True)
    token = csrf_from(page)
    new = "another strong passphrase 99"
    me.client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": STRONG_PASSWORD,
            "new_password": new,
            "confirm_password": new,
        },
    )

    page = me.client.get("/account").get_data(as_text=True)
    activity = page[page.index("Recent activity") :]
    activity = activity[: activity.index("</table>")]
    assert activity.count("Signed in") == 2
    assert "Password changed" in activity
    assert "Firefox on Linux" in activity and "203.0.113.7" in activity
    assert "Safari on iOS" in activity and "198.51.100.4" in activity
    # Only the person's own account: bob's sign-in is not listed.
    assert "192.0.2.1" not in activity and "Chrome on Windows" not in activity
    # Newest first: the password change is listed before the sign-ins.
    assert activity.index("Password changed") < activity.index("Signed in")
