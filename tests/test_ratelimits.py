"""Rate limits on sign-in: per IP, per identifier, 429 with Retry-After, trusted proxy hops."""

from __future__ import annotations

import pytest

from acs_auth import messages
from acs_auth.kept_forms import wait_phrase
from tests.support.browser import user_state
from tests.support.web import AuthActions


def limits(per_ip: str, per_identifier: str, **extra) -> dict:
    return {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_PER_IP": per_ip,
        "RATELIMIT_PER_IDENTIFIER": per_identifier,
        **extra,
    }


def said_wait(body: str, seconds: int) -> bool:
    """The page says to wait ``seconds`` (give or take the second the header is rounded by)."""
    phrases = {wait_phrase(s) for s in (seconds - 1, seconds, seconds + 1)}
    return any(messages.RATE_LIMITED_WAIT.format(wait=p) in body for p in phrases)


def _attempt(auth: AuthActions, email: str, **kw):
    return auth.login(email, "a wrong password 1234", **kw)


@pytest.mark.parametrize("app_overrides", [limits("3 per minute", "100 per minute")])
def test_per_ip_limit_answers_429_with_retry_after(auth, client):
    for i in range(3):
        assert _attempt(auth, f"person{i}@example.org").status_code == 200
    response = _attempt(auth, "person9@example.org")
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    body = response.get_data(as_text=True)
    assert said_wait(body, int(response.headers["Retry-After"]))  # how long, in words
    assert "per 1 minute" not in body  # the configured limits are not disclosed
    assert client.get("/login").status_code == 200  # showing the form is never limited


@pytest.mark.parametrize("app_overrides", [limits("100 per minute", "2 per minute")])
def test_per_identifier_limit_spans_addresses_and_spellings(app, make_user):
    make_user()
    addresses = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
    spellings = ["ada@example.org", "ADA@example.org", "Ada@Example.ORG"]
    answers = []
    for address, spelling in zip(addresses, spellings, strict=True):
        auth = AuthActions(app.test_client())
        answers.append(_attempt(auth, spelling, environ_base={"REMOTE_ADDR": address}).status_code)
    assert answers == [200, 200, 429]
    # Another account from the same addresses is not affected.
    auth = AuthActions(app.test_client())
    response = _attempt(auth, "grace@example.org", environ_base={"REMOTE_ADDR": addresses[0]})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "app_overrides", [limits("2 per minute", "100 per minute", PROXY_FIX_X_FOR=0)]
)
def test_forwarded_for_is_ignored_without_a_trusted_proxy(app, auth, make_user):
    user_id = make_user()
    codes = [
        _attempt(auth, f"p{i}@example.org", headers={"X-Forwarded-For": f"192.0.2.{i}"}).status_code
        for i in range(3)
    ]
    assert codes == [200, 200, 429]
    fresh = AuthActions(app.test_client())
    fresh.login(
        "ada@example.org",
        headers={"X-Forwarded-For": "192.0.2.99"},
        environ_base={"REMOTE_ADDR": "203.0.113.50"},
    )
    assert user_state(app, user_id)["last_login_ip"] == "203.0.113.50"


@pytest.mark.parametrize(
    "app_overrides", [limits("2 per minute", "100 per minute", PROXY_FIX_X_FOR=1)]
)
def test_forwarded_for_is_honoured_for_one_trusted_hop(app, auth, make_user):
    user_id = make_user()
    codes = [
        _attempt(auth, f"p{i}@example.org", headers={"X-Forwarded-For": f"192.0.2.{i}"}).status_code
        for i in range(4)
    ]
    assert codes == [200, 200, 200, 200]  # four clients behind the proxy, one attempt each
    # Only the hop the proxy appended counts: a value the client put in front is ignored.
    spoofed = [
        _attempt(
            auth, f"q{i}@example.org", headers={"X-Forwarded-For": f"10.9.9.{i}, 192.0.2.77"}
        ).status_code
        for i in range(3)
    ]
    assert spoofed == [200, 200, 429]
    auth.login("ada@example.org", headers={"X-Forwarded-For": "203.0.113.9, 192.0.2.80"})
    assert user_state(app, user_id)["last_login_ip"] == "192.0.2.80"


@pytest.mark.parametrize("app_overrides", [limits("100 per minute", "2 per minute")])
def test_over_the_limit_even_the_right_password_waits(app, auth, make_user):
    user_id = make_user()
    _attempt(auth, "ada@example.org")
    _attempt(auth, "ada@example.org")
    response = auth.login("ada@example.org")  # the right password, but over the limit
    assert response.status_code == 429
    state = user_state(app, user_id)
    assert state["visit_count"] == 0 and state["failed_login_count"] == 2
