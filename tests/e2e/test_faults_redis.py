"""Redis (the rate-limit store) goes down: sign-in limits fail closed, no page answers 500.

The deployment uses a redis-server of its own on another loopback port, so stopping it leaves
the shared Redis of the machine alone.

Required behaviour while the store is unreachable:
  * every endpoint guarded by a sign-in limit (login, registration step 1, forgot password,
    first-time setup, reset links, token refresh, their API twins) refuses the request
    without running it: 503 with a clear page, or problem+json under /api (429 would do too);
    a limit that cannot be counted is not waived (fail closed);
  * nothing answers 500, and pages without a limit keep working (GET of the forms, a signed-in
    user's pages); the authenticated API, whose every request spends the account's request
    budget, refuses like the limited endpoints;
  * /readyz says Redis is down; once Redis is back, sign-in works again without a restart.
"""

from __future__ import annotations

import pytest
import requests

from acs_auth import messages
from tests.support.e2e import (
    STRONG_PASSWORD,
    RedisServer,
    api_login,
    bearer,
    browser_login,
    new_session,
    submit,
    unique_email,
    wait_until,
)

pytestmark = pytest.mark.slow
REFUSED = (503, 429)


@pytest.fixture(scope="module")
def private_redis(workdir):
    server = RedisServer(workdir / "redis.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def redis_url(private_redis) -> str:
    return private_redis.url


def assert_refused_page(response) -> None:
    assert response.status_code in REFUSED, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"].startswith("text/html")
    # The 429 page says how long to wait: "Too many attempts. Please wait 45 seconds and …".
    waiting = messages.RATE_LIMITED_WAIT.split("{", 1)[0]
    expected = messages.UNAVAILABLE if response.status_code == 503 else waiting
    assert expected in response.text


def assert_refused_problem(response) -> None:
    assert response.status_code in REFUSED, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == response.status_code
    assert body["detail"] in (messages.UNAVAILABLE, messages.RATE_LIMITED)


def test_sign_in_limits_fail_closed_while_redis_is_down(deployment, portal, private_redis):
    base = portal.url
    email = unique_email("redis")
    deployment.make_user(email)
    browser = new_session()
    assert browser_login(browser, base, email, STRONG_PASSWORD).status_code == 302
    pair = api_login(base, email).json()
    assert requests.get(base + "/readyz", timeout=10).status_code == 200

    private_redis.stop()
    try:
        # Limited endpoints refuse, both kinds of client, both instances' workers.
        for _ in range(2):
            assert_refused_page(browser_login(new_session(), base, email, STRONG_PASSWORD))
            assert_refused_page(submit(new_session(), base, "/forgot-password", {"email": email}))
            assert_refused_page(
                submit(new_session(), base, "/register", {"last_name": "X", "email": email})
            )
            assert_refused_problem(api_login(base, email))
            assert_refused_problem(
                requests.post(
                    base + "/api/auth/refresh",
                    json={"refresh_token": pair["refresh_token"]},
                    timeout=15,
                )
            )
        assert deployment.user(email)["failed_login_count"] == 0

        # What has no limit keeps working.
        assert new_session().get(base + "/login", timeout=15).status_code == 200
        assert browser.get(base + "/account", timeout=15).status_code == 200
        # Every authenticated API request spends its account's request budget (API_RATE_LIMIT_*),
        # so the API fails closed too, like the limited pages.
        me = requests.get(base + "/api/auth/me", headers=bearer(pair["access_token"]), timeout=15)
        assert_refused_problem(me)
        ready = requests.get(base + "/readyz", timeout=15)
        assert ready.status_code == 503 and "redis" in ready.json()["failed"]
    finally:
        private_redis.start()

    wait_until(
        lambda: api_login(base, email).status_code == 200, 30, "sign-in after Redis returned"
    )
    assert browser_login(new_session(), base, email, STRONG_PASSWORD).status_code == 302
    assert requests.get(base + "/readyz", timeout=10).status_code == 200
