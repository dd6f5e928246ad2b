"""Per-account and per-key API request budgets, their X-RateLimit-* headers and key usage."""

from __future__ import annotations

import pytest
from test_api_support import assert_problem

from acs_auth.models import Role

pytest_plugins = ("test_api_support",)

BUDGETS = {
    "RATELIMIT_ENABLED": True,
    "API_RATE_LIMIT_USER": "3 per hour",
    "API_RATE_LIMIT_ADMIN": "6 per hour",
}


@pytest.mark.parametrize("app_overrides", [BUDGETS])
def test_an_account_gets_its_hourly_budget_with_headers_then_429(api, make_user):
    make_user()
    token = api.token()
    remaining = []
    for _ in range(3):
        response = api.get("/api/auth/me", token=token)
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "3"
        assert int(response.headers["X-RateLimit-Reset"]) > 0
        remaining.append(response.headers["X-RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]
    refused = api.get("/api/programs", token=token)  # every endpoint shares the account budget
    assert_problem(refused, 429)
    assert "Retry-After" in refused.headers
    # Another account is not affected; an unauthenticated public endpoint neither.
    make_user(email="grace@example.org")
    assert api.get("/api/auth/me", token=api.token("grace@example.org")).status_code == 200
    assert api.get("/api/ping").status_code == 200


@pytest.mark.parametrize("app_overrides", [BUDGETS])
def test_administrators_get_the_admin_budget(api, make_user):
    make_user(email="root@example.org", role=Role.ADMIN.value)
    token = api.token("root@example.org")
    response = api.get("/api/admin/stats", token=token)
    assert response.headers["X-RateLimit-Limit"] == "6"


@pytest.mark.parametrize("app_overrides", [BUDGETS])
def test_a_key_has_its_own_budget_and_its_usage_is_shown(api, app, make_user, login_as, client):
    ada = make_user()
    token = api.token()
    key = api.new_key(token, scope="read")["key"]
    assert api.get("/api/auth/me", key=key).status_code == 200
    listed = api.get("/api/auth/api-keys", token=token).get_json()["api_keys"]
    assert (listed[0]["requests_used"], listed[0]["requests_limit"]) == (1, 3)

    root = make_user(email="root@example.org", role=Role.ADMIN.value)
    admin = app.test_client()
    login_as(root, on=admin)
    html = admin.get(f"/admin/users/{ada}").get_data(as_text=True)
    assert "1 of 3" in html
