"""An independent relying party (npm openid-client) signs people in through acs_auth.

The RP (tests/e2e/oidc_rp/rp.mjs) performs discovery, the authorization code flow with PKCE
in Debian's chromium (driven by Playwright), validates the ID token against the JWKS, calls
userinfo, refreshes, introspects, revokes and ends the session; its back-channel endpoint
checks the logout token that arrives after an admin removes the person from the allowlist.
The RP's packages come from the npm registry (`npm ci` into the ignored node_modules).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

import pytest

from tests.support.config import STRONG_PASSWORD, write_private_key
from tests.support.deployment import LOOPBACK_URL
from tests.support.e2e import Process, free_port, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
RP_DIR = Path(__file__).parent / "oidc_rp"
KEY_DIR = Path(tempfile.mkdtemp(prefix="acs-oidc-e2e-"))


# The relying party does discovery at the issuer (APP_URL), so the portal must answer there: a
# development portal on its own plain-http loopback address (production would demand https).
PORTAL_SETTINGS = {
    "OIDC_PRIVATE_KEY_FILE": write_private_key(KEY_DIR / "oidc.pem"),
    "ACS_CONFIG": "development",
    "APP_URL": LOOPBACK_URL,
}


@pytest.fixture(scope="module")
def rp_packages():
    """openid-client from the npm registry, as pinned by package-lock.json."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is missing (apt-get install -y npm)")
    if not (RP_DIR / "node_modules" / "openid-client").exists():
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=RP_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            pytest.skip(f"npm ci failed: {done.stderr[-500:]}")
    return RP_DIR


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def relying_party(rp_packages, deployment, portal, workdir):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    done = deployment.flask(
        "clients",
        "create",
        "--name",
        "Chatbot",
        "--redirect-uri",
        f"{base}/callback",
        "--post-logout-uri",
        f"{base}/bye",
        "--backchannel-uri",
        f"{base}/backchannel",
        "--program",
        "PROG-1",
        "--first-party",
        "--json",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    registered = json.loads(done.stdout.strip().splitlines()[-1])
    env = {
        "PATH": __import__("os").environ["PATH"],
        "ISSUER": deployment.app_url,
        "CLIENT_ID": registered["client_id"],
        "CLIENT_SECRET": registered["client_secret"],
        "PORT": str(port),
    }
    process = Process([shutil.which("node"), "rp.mjs"], env, workdir / "rp.log", cwd=RP_DIR)
    process.start()

    def answers():
        try:
            return get_json(f"{base}/results") is not None
        except OSError:
            return False

    wait_until(answers, 30, "the relying party to listen")
    yield base
    process.stop()


def sign_in_through_rp(page, base: str, email: str) -> dict:
    page.goto(f"{base}/login")
    page.wait_for_url(lambda url: "/login?next=" in url)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", STRONG_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/callback*")
    return json.loads(page.inner_text("body"))


def test_openid_client_signs_in_refreshes_introspects_revokes_and_logs_out(
    deployment, portal, relying_party, browser
):
    deployment.make_user("ada@example.org", programs=("PROG-1",))
    context = browser.new_context()
    page = context.new_page()
    answer = sign_in_through_rp(page, relying_party, "ada@example.org")
    assert answer["ok"] is True and answer["email"] == "ada@example.org"
    result = get_json(f"{relying_party}/results")["logins"][-1]
    claims = result["claims"]
    assert claims["iss"] == deployment.app_url and claims["programs"] == ["PROG-1"]
    assert claims["amr"] == ["pwd"] and claims["auth_time"] and claims["sid"]
    assert result["iss_param"] == deployment.app_url
    assert result["userinfo"]["sub"] == claims["sub"]
    assert result["userinfo"]["email"] == "ada@example.org"
    assert result["refreshed"] and result["rotated"]
    assert result["introspected"] == {
        "active": True,
        "sub": claims["sub"],
        "client_id": result["introspected"]["client_id"],
    }
    assert result["old_refresh_active"] is False and result["revoked_active"] is False
    # RP-initiated logout: back at the registered URI, and the portal session is over.
    page.goto(f"{relying_party}/logout")
    page.wait_for_url(f"{relying_party}/bye*")
    assert json.loads(page.inner_text("body")) == {"bye": True, "state": "bye-state"}
    page.goto(f"{portal.url}/account")
    assert "/login" in page.url
    context.close()


def test_removal_from_the_allowlist_reaches_the_rp_by_back_channel(
    deployment, portal, relying_party, browser
):
    deployment.make_entry("grace@example.org", "Hopper", programs=("PROG-1",))
    deployment.make_entry("alan@example.org", "Turing", programs=("PROG-1",))
    deployment.make_user("grace@example.org", programs=("PROG-1",), last_name="Hopper")
    context = browser.new_context()
    page = context.new_page()
    sign_in_through_rp(page, relying_party, "grace@example.org")
    sub = get_json(f"{relying_party}/results")["logins"][-1]["claims"]["sub"]
    sid = get_json(f"{relying_party}/results")["logins"][-1]["claims"]["sid"]
    # An admin removes Grace: a replace import without her row.
    deployment.make_user("root@example.org", role="admin", programs=())
    token = _api_token(portal.url, "root@example.org")
    csv = b"last_name,email,lo_root_ids\nTuring,alan@example.org,PROG-1\n"
    request = urllib.request.Request(
        f"{portal.url}/api/admin/allowlist?mode=replace&confirm_mass_removal=true",
        data=csv,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["removed"] == 1

    def arrived():
        return [
            b for b in get_json(f"{relying_party}/results")["backchannel"] if b.get("sub") == sub
        ]

    found = wait_until(arrived, 15, "the back-channel logout token")
    assert found[0]["valid"] is True and found[0]["sid"] == sid
    context.close()


def _api_token(base: str, email: str) -> str:
    body = json.dumps({"email": email, "password": STRONG_PASSWORD}).encode()
    request = urllib.request.Request(
        f"{base}/api/auth/login",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["access_token"]
