"""Two gunicorn instances x two workers share one lockout counter and one rate-limit budget."""

from __future__ import annotations

import pytest

from acs_auth import messages
from tests.support.e2e import (
    STRONG_PASSWORD,
    api_login,
    browser_login,
    in_parallel,
    new_session,
    unique_email,
)

pytestmark = pytest.mark.slow

MAX_ATTEMPTS = 5
PER_IDENTIFIER = 10
PER_IP = 30
# Per hour, so no window resets while a test runs.
PORTAL_SETTINGS = {
    "MAX_LOGIN_ATTEMPTS": str(MAX_ATTEMPTS),
    "RATELIMIT_PER_IDENTIFIER": f"{PER_IDENTIFIER} per hour",
    "RATELIMIT_PER_IP": f"{PER_IP} per hour",
}


@pytest.fixture(autouse=True)
def _fresh_limits(deployment):
    """Every test starts with an empty rate-limit store (the lock lives in the database)."""
    deployment.flush_redis()


def attempt(instance, email: str, password: str, via: str):
    """One sign-in attempt through the API or the browser form; returns (status, refused)."""
    if via == "api":
        response = api_login(instance.url, email, password)
        return response.status_code, response.status_code == 401
    response = browser_login(new_session(), instance.url, email, password)
    refused = response.status_code == 200 and messages.LOGIN_FAILED in response.text
    return response.status_code, refused


def test_the_lock_falls_at_exactly_max_attempts_alternating_instances(deployment, portals):
    email = unique_email("lock")
    deployment.make_user(email)
    for number in range(1, MAX_ATTEMPTS + 1):
        instance = portals[number % 2]
        status, refused = attempt(
            instance, email, f"wrong guess {number}", ("api", "form")[number % 2]
        )
        assert refused, (number, status)
        state = deployment.user(email)
        assert state["failed_login_count"] == number
        assert (state["locked_until"] is not None) == (number == MAX_ATTEMPTS), number

    # Locked: the right password gets the very same refusal, on every instance, both ways.
    for instance in portals:
        response = api_login(instance.url, email, STRONG_PASSWORD)
        assert response.status_code == 401
        assert response.json()["detail"] == messages.LOGIN_FAILED
        assert attempt(instance, email, STRONG_PASSWORD, "form")[1]


def test_one_attempt_short_of_the_lock_the_right_password_still_works(deployment, portals):
    email = unique_email("almost")
    deployment.make_user(email)
    for number in range(1, MAX_ATTEMPTS):
        assert attempt(portals[number % 2], email, f"wrong {number}", "api")[1]
    assert deployment.user(email)["locked_until"] is None
    response = api_login(portals[0].url, email)
    assert response.status_code == 200, response.text
    assert deployment.user(email)["failed_login_count"] == 0


def test_parallel_failures_are_all_counted(deployment, portals):
    """MAX-1 simultaneous failures on four workers: no update is lost, and no lock yet."""
    email = unique_email("burst")
    deployment.make_user(email)
    count = MAX_ATTEMPTS - 1
    results = in_parallel(
        count,
        lambda i: portals[i % 2],
        lambda i, instance: api_login(instance.url, email, f"wrong {i}").status_code,
    )
    assert results == [401] * count
    state = deployment.user(email)
    assert state["failed_login_count"] == count
    assert state["locked_until"] is None
    assert attempt(portals[1], email, "one more wrong", "form")[1]
    assert deployment.user(email)["locked_until"] is not None


def test_a_rate_limit_is_counted_once_across_instances_and_workers(deployment, portals):
    email = unique_email("limited")  # no account: the limit guards the identifier, not a user
    statuses = []
    for number in range(PER_IDENTIFIER):
        via = ("api", "api", "form", "form")[number % 4]
        statuses.append(attempt(portals[number % 2], email, f"guess {number}", via))
    assert all(refused for _, refused in statuses), statuses

    # The next one is over the budget on either instance, through the API or the form.
    limited = api_login(portals[0].url, email, "one too many")
    assert limited.status_code == 429
    assert limited.headers["Content-Type"].startswith("application/problem+json")
    assert limited.json()["detail"] == messages.RATE_LIMITED
    assert int(limited.headers["Retry-After"]) > 0
    page = browser_login(new_session(), portals[1].url, email.upper(), "one too many")
    assert page.status_code == 429
    assert messages.RATE_LIMITED_WAIT.split("{", 1)[0] in page.text  # and how long to wait
    # Another identifier still has its own budget.
    assert attempt(portals[1], unique_email("other"), "guess", "api") == (401, True)


def test_the_per_address_limit_is_shared_by_parallel_requests(deployment, portals):
    """PER_IP attempts with distinct identifiers from 10 threads: all answered, the next is 429."""

    def fire(i, instance):
        return [
            api_login(instance.url, unique_email(f"ip{i}"), "guess").status_code
            for _ in range(PER_IP // 10)
        ]

    results = in_parallel(10, lambda i: portals[i % 2], fire)
    assert sorted(s for batch in results for s in batch) == [401] * PER_IP
    for instance in portals:
        assert api_login(instance.url, unique_email("late"), "guess").status_code == 429
