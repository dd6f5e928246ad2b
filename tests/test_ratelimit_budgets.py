"""Rate-limit budgets belong to what they protect (issue 12, item 3), driven over HTTP.

Refresh is counted per API session, change-password and every way of setting a password per
account, emailed-link pages per link subject, sign-in per account (its email and username
together), link requests per address in a budget apart from sign-in; a field an endpoint does
not define never moves a request to another budget.
"""

from __future__ import annotations

import pytest
from test_api_support import NEW_PASSWORD, Api, assert_problem, forge, token_parts
from test_registration import post_form

from acs_auth import messages
from tests.support.browser import update_user
from tests.support.config import STRONG_PASSWORD
from tests.support.web import AuthActions

pytest_plugins = ("test_api_support",)

ROOMY = "1000 per minute"


def limits(**budgets: str) -> dict:
    """Rate limits on, every budget roomy except those named."""
    settings = {
        "RATELIMIT_PER_IP": ROOMY,
        "RATELIMIT_PER_IDENTIFIER": ROOMY,
        "RATELIMIT_PASSWORD_PER_ACCOUNT": ROOMY,
        "RATELIMIT_REFRESH_PER_SESSION": ROOMY,
        "RATELIMIT_REFRESH_PER_IP": ROOMY,
    }
    return {"RATELIMIT_ENABLED": True, **settings, **budgets}


def client_from(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def refresh(api: Api, token: str, **extra):
    return api.post("/api/auth/refresh", json={"refresh_token": token, **extra})


# --- refresh: per session -----------------------------------------------------------------------


@pytest.mark.parametrize("app_overrides", [limits(RATELIMIT_REFRESH_PER_SESSION="2 per minute")])
def test_two_sessions_refreshing_from_one_address_each_have_their_own_budget(api, make_user):
    make_user()
    tokens = {name: api.login()["refresh_token"] for name in ("first", "second")}
    for name in tokens:
        for _ in range(2):
            response = refresh(api, tokens[name])
            assert response.status_code == 200, response.get_json()
            tokens[name] = response.get_json()["refresh_token"]
    response = refresh(api, tokens["first"])
    assert_problem(response, 429, messages.RATE_LIMITED)
    assert int(response.headers["Retry-After"]) > 0
    assert refresh(api, tokens["second"]).status_code == 429  # its own two are spent as well
    other = api.login()["refresh_token"]
    assert refresh(api, other).status_code == 200  # a third session is untouched


@pytest.mark.parametrize("app_overrides", [{"RATELIMIT_ENABLED": True}])
def test_default_budgets_let_a_nat_refresh_many_sessions(api, make_user):
    """More refreshes from one address than the sign-in budget allows, all answered."""
    make_user()
    tokens = [api.login()["refresh_token"] for _ in range(6)]
    for _ in range(3):
        for index, token in enumerate(tokens):
            response = refresh(api, token)
            assert response.status_code == 200, response.get_json()
            tokens[index] = response.get_json()["refresh_token"]


@pytest.mark.parametrize("app_overrides", [limits(RATELIMIT_REFRESH_PER_SESSION="2 per minute")])
def test_a_rotating_email_field_does_not_escape_the_refresh_budget(api, make_user):
    make_user()
    token = api.login()["refresh_token"]
    # The field is refused (422), but the request still spends its session's budget.
    codes = [refresh(api, token, email=f"fake{n}@example.org").status_code for n in range(3)]
    assert codes == [422, 422, 429]
    assert refresh(api, token).status_code == 429


@pytest.mark.parametrize("app_overrides", [limits(RATELIMIT_REFRESH_PER_SESSION="2 per minute")])
def test_a_forged_token_naming_a_session_does_not_spend_its_budget(api, make_user):
    make_user()
    token = api.login()["refresh_token"]
    header, claims, _ = token_parts(token)
    forged = forge(header, {**claims, "jti": "forged"}, "AAAA")
    assert [refresh(api, forged).status_code for _ in range(3)] == [401, 401, 429]
    assert refresh(api, token).status_code == 200


# --- no identifier from a field the endpoint does not define ------------------------------------


TWO_EACH = limits(
    RATELIMIT_PASSWORD_PER_ACCOUNT="2 per minute", RATELIMIT_PER_IDENTIFIER="2 per minute"
)


@pytest.mark.parametrize("app_overrides", [TWO_EACH])
def test_a_rotating_email_field_does_not_escape_the_change_password_budget(
    app, client, api, make_user, login_as
):
    user_id = make_user()
    login_as(user_id)
    auth = AuthActions(client)
    data = {"current_password": STRONG_PASSWORD, "new_password": "short"}
    codes = [
        auth.post("/account/password", {**data, "email": f"fake{n}@example.org"}, "/account")
        for n in range(3)
    ]
    assert [c.status_code for c in codes] == [200, 200, 429]

    token = api.token()
    body = {"current_password": STRONG_PASSWORD, "new_password": "short"}
    answer = api.post(
        "/api/auth/change-password",
        token=token,
        json={**body, "email": "fake@example.org"},
        validate_spec=False,
    )
    assert answer.status_code == 429  # the same account's budget, through the API


@pytest.mark.parametrize("app_overrides", [limits(RATELIMIT_PASSWORD_PER_ACCOUNT="2 per minute")])
def test_a_rotating_email_field_does_not_escape_a_links_budget(app, client, outbox, make_user):
    make_user()
    post_form(client, "/forgot-password", {"email": "ada@example.org"})
    link = outbox.link("ada@example.org", "/reset-password/")
    weak = {"password": "short", "confirm": "short"}
    codes = [
        post_form(client, link, {**weak, "email": f"fake{n}@example.org"}).status_code
        for n in range(3)
    ]
    assert codes == [200, 200, 429]


# --- sign-in: per account, apart from link requests ---------------------------------------------


@pytest.mark.parametrize("app_overrides", [limits(RATELIMIT_PER_IDENTIFIER="2 per minute")])
def test_registration_and_reset_requests_leave_the_sign_in_budget_alone(
    app, api, make_user, outbox
):
    make_user()
    client = client_from(app, "198.51.100.1")
    details = {"last_name": "Lovelace", "email": "ada@example.org"}
    assert post_form(client, "/forgot-password", {"email": "ada@example.org"}).status_code == 200
    assert post_form(client, "/register", details).status_code == 200
    assert post_form(client, "/first-time-password", details).status_code == 429  # its own budget
    api.post("/api/auth/request-password-reset", json={"email": "ADA@example.org"})
    api.post("/api/auth/register", json=details)

    auth = AuthActions(client_from(app, "198.51.100.2"))
    assert auth.login("ada@example.org", "a wrong password 1234").status_code == 200
    assert auth.login("ada@example.org").status_code == 302  # the right one still gets in


@pytest.mark.parametrize("app_overrides", [limits(RATELIMIT_PER_IDENTIFIER="2 per minute")])
def test_failed_sign_ins_leave_the_reset_request_budget_alone(app, client, auth, make_user):
    make_user()
    for _ in range(2):
        auth.login("ada@example.org", "a wrong password 1234")
    assert auth.login("ada@example.org", "a wrong password 1234").status_code == 429
    assert post_form(client, "/forgot-password", {"email": "ada@example.org"}).status_code == 200


@pytest.mark.parametrize("app_overrides", [limits(RATELIMIT_PER_IDENTIFIER="2 per minute")])
def test_the_username_and_email_of_one_account_share_one_sign_in_budget(app, make_user):
    user_id = make_user()
    update_user(app, user_id, username="ada_l", username_key="ada_l")
    make_user(email="grace@example.org", last_name="Hopper")
    wrong = "a wrong password 1234"
    first = AuthActions(client_from(app, "198.51.100.1"))
    assert first.login("ada_l", wrong).status_code == 200
    second = Api(client_from(app, "198.51.100.2"))
    by_email = {"email": "Ada@Example.org", "password": wrong}
    assert second.post("/api/auth/login", json=by_email).status_code == 401
    third = AuthActions(client_from(app, "198.51.100.3"))
    assert third.login("ADA_L", wrong).status_code == 429
    api = Api(client_from(app, "198.51.100.4"))
    by_username = {"username": "ada_l", "password": STRONG_PASSWORD}
    assert api.post("/api/auth/login", json=by_username).status_code == 429
    assert third.login("grace@example.org", wrong).status_code == 200  # another account


# --- setting a password: per account ------------------------------------------------------------


@pytest.mark.parametrize("app_overrides", [limits(RATELIMIT_PASSWORD_PER_ACCOUNT="2 per minute")])
def test_setting_a_password_is_limited_per_account_across_links_and_addresses(
    app, outbox, make_user, login_as
):
    user_id = make_user()
    make_user(email="grace@example.org", last_name="Hopper")
    asker = client_from(app, "198.51.100.9")
    post_form(asker, "/forgot-password", {"email": "ada@example.org"})
    link = outbox.link("ada@example.org", "/reset-password/")
    weak = {"password": "short", "confirm": "short"}
    assert post_form(client_from(app, "198.51.100.1"), link, weak).status_code == 200
    assert post_form(client_from(app, "198.51.100.2"), link, weak).status_code == 200
    # From a third address: the account's budget is spent, whichever way it is asked.
    assert post_form(client_from(app, "198.51.100.3"), link, weak).status_code == 429
    api = Api(client_from(app, "198.51.100.4"))
    token = link.rsplit("/", 1)[1]
    answer = api.post("/api/auth/reset-password", json={"token": token, "password": NEW_PASSWORD})
    assert_problem(answer, 429, messages.RATE_LIMITED)
    browser = client_from(app, "198.51.100.5")
    login_as(user_id, on=browser)
    change = {"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD}
    response = AuthActions(browser).post(
        "/account/password", {**change, "confirm_password": NEW_PASSWORD}, "/account"
    )
    assert response.status_code == 429

    post_form(asker, "/forgot-password", {"email": "grace@example.org"})
    other = outbox.link("grace@example.org", "/reset-password/")
    assert post_form(client_from(app, "198.51.100.1"), other, weak).status_code == 200


@pytest.mark.parametrize("app_overrides", [limits(RATELIMIT_PASSWORD_PER_ACCOUNT="2 per minute")])
def test_setup_links_are_limited_per_account(app, client, outbox, make_user):
    make_user(password=None)
    details = {"last_name": "Lovelace", "email": "ada@example.org"}
    post_form(client, "/first-time-password", details)
    link = outbox.link("ada@example.org", "/setup-password/")
    weak = {"password": "short", "confirm": "short"}
    codes = [post_form(client_from(app, f"198.51.100.{n}"), link, weak) for n in range(3)]
    assert [c.status_code for c in codes] == [200, 200, 429]


@pytest.mark.parametrize("app_overrides", [limits(RATELIMIT_PASSWORD_PER_ACCOUNT="2 per minute")])
def test_registration_links_are_limited_per_allowlist_entry(app, client, outbox, make_entry):
    make_entry()
    post_form(client, "/register", {"last_name": "Hopper", "email": "grace@example.org"})
    link = outbox.link("grace@example.org", "/register/password/")
    weak = {"password": "short", "confirm": "short"}
    codes = [post_form(client_from(app, f"198.51.100.{n}"), link, weak) for n in range(3)]
    assert [c.status_code for c in codes] == [200, 200, 429]
