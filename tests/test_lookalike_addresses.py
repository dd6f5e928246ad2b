"""Look-alike addresses are never another person's account (issue 12, item 6).

Kate's account is kate@example.org. Addresses that differ from it only by Unicode
compatibility characters are typed into every box that takes an email, from outside: the
sign-in form and API, registration step 1 (page and API), forgot-password (page and API),
first-time setup, the admin's user creation (page and API) and the CLI. None of them signs
in to Kate's account, sends her an email or creates an account; where the address is
validated the answer says why.
"""

from __future__ import annotations

import html

import pytest
from sqlalchemy import func, select
from test_api_support import assert_problem

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import Role, User
from tests.support.config import STRONG_PASSWORD
from tests.support.db import read_db
from tests.support.web import AuthActions

pytest_plugins = ("test_api_support",)

KATE = "kate@example.org"
LOOKALIKES = {
    "Kelvin sign": "\u212aate@example.org",
    "Kelvin sign, upper case": "\u212aATE@EXAMPLE.ORG",
    "full-width domain": "kate@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.org",
    "full-width local part": "\uff4bate@example.org",
    "ideographic full stop": "kate@example\u3002org",
    "variation selector in the domain": "kate@exam\ufe0fple.org",
}
NAMES = list(LOOKALIKES)


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def users(app) -> int:
    return read_db(app, lambda: db.session.scalar(select(func.count()).select_from(User)))


def kate(app) -> User:
    def find():
        return db.session.scalar(select(User).where(User.email_key == KATE))

    return read_db(app, find)


@pytest.fixture
def kate_account(make_user):
    return make_user(email=KATE, first_name="Kate", last_name="Kim")


@pytest.mark.parametrize("name", NAMES)
def test_a_lookalike_never_signs_in_to_the_account(app, kate_account, name):
    browser = AuthActions(app.test_client())
    response = browser.login(LOOKALIKES[name])
    assert response.status_code == 200
    assert messages.LOGIN_FAILED in page_text(response)
    assert browser.client.get("/account").status_code == 302  # not signed in
    api = app.test_client()
    answer = api.post(
        "/api/auth/login", json={"email": LOOKALIKES[name], "password": STRONG_PASSWORD}
    )
    assert answer.status_code == 401
    assert kate(app).failed_login_count == 0  # not even counted against her
    assert kate(app).visit_count == 0


@pytest.mark.parametrize("name", NAMES)
def test_a_lookalike_cannot_ask_for_the_accounts_reset_link(app, kate_account, outbox, name):
    browser = AuthActions(app.test_client())
    page = browser.post("/forgot-password", {"email": LOOKALIKES[name]})
    assert messages.EMAIL_LOOKALIKE in page_text(page)
    api = app.test_client()
    answer = api.post("/api/auth/request-password-reset", json={"email": LOOKALIKES[name]})
    assert assert_problem(answer, 422)["errors"] == {"email": [messages.EMAIL_LOOKALIKE]}
    assert outbox.messages == []


@pytest.mark.parametrize("name", NAMES)
def test_a_lookalike_cannot_register_for_the_allowlisted_address(app, make_entry, outbox, name):
    make_entry(email=KATE, last_name="Kim")
    browser = AuthActions(app.test_client())
    page = browser.post("/register", {"last_name": "Kim", "email": LOOKALIKES[name]})
    assert messages.EMAIL_LOOKALIKE in page_text(page)
    body = {"email": LOOKALIKES[name], "last_name": "Kim", "password": STRONG_PASSWORD}
    answer = app.test_client().post("/api/auth/register", json=body)
    assert assert_problem(answer, 422)["errors"] == {"email": [messages.EMAIL_LOOKALIKE]}
    assert outbox.messages == []
    assert users(app) == 0


@pytest.mark.parametrize("name", NAMES)
def test_a_lookalike_cannot_ask_for_the_accounts_setup_link(app, make_user, outbox, name):
    make_user(email=KATE, last_name="Kim", password=None)
    browser = AuthActions(app.test_client())
    data = {"last_name": "Kim", "email": LOOKALIKES[name]}
    page = browser.post("/first-time-password", data)
    assert messages.EMAIL_LOOKALIKE in page_text(page)
    assert outbox.messages == []


@pytest.mark.parametrize("name", NAMES)
def test_an_admin_cannot_create_a_lookalike_account(
    app, kate_account, make_user, login_as, outbox, name
):
    admin_id = make_user(email="root@example.org", role=Role.ADMIN.value, programs=())
    browser = app.test_client()
    login_as(admin_id, on=browser)
    data = {"email": LOOKALIKES[name], "role": "user"}
    page = AuthActions(browser).post("/admin/users/new", data)
    assert page.status_code == 400
    assert messages.EMAIL_LOOKALIKE in page_text(page)
    api = app.test_client()
    token = api.post(
        "/api/auth/login", json={"email": "root@example.org", "password": STRONG_PASSWORD}
    ).get_json()["access_token"]
    answer = api.post(
        "/api/admin/users",
        headers={"Authorization": f"Bearer {token}"},
        json={"email": LOOKALIKES[name]},
    )
    assert assert_problem(answer, 422)["errors"] == {"email": [messages.EMAIL_LOOKALIKE]}
    assert users(app) == 2
    # Only the administrator's own new-sign-in notice (browser, then API): no setup email.
    assert [m["To"] for m in outbox.messages if "root@example.org" not in m["To"]] == []


@pytest.mark.parametrize("name", NAMES)
def test_the_cli_refuses_a_lookalike(app, runner, kate_account, outbox, name):
    created = runner.invoke(args=["users", "create", "--email", LOOKALIKES[name]])
    assert created.exit_code != 0
    assert messages.EMAIL_LOOKALIKE in created.output
    admin = runner.invoke(args=["users", "create-admin", "--email", LOOKALIKES[name]])
    assert admin.exit_code != 0
    assert users(app) == 1
    assert outbox.messages == []


def test_the_allowlist_refuses_a_lookalike_row(app, runner, tmp_path):
    csv = tmp_path / "list.csv"
    csv.write_text(f"last_name,email,lo_root_ids\nKim,{LOOKALIKES['Kelvin sign']},PROG-1\n")
    result = runner.invoke(args=["allowlist", "import", str(csv)])
    assert result.exit_code == 1
    assert "line 2" in result.output.lower()


def test_ordinary_unicode_addresses_still_work(app, make_user):
    """Refusing look-alikes does not refuse international addresses, in any case."""
    make_user(email="\u00fcnal@b\u00fccher.de", last_name="Yilmaz")
    api = app.test_client()
    typed = "\u00dcNAL@B\u00dcCHER.DE"
    answer = api.post("/api/auth/login", json={"email": typed, "password": STRONG_PASSWORD})
    assert answer.status_code == 200
