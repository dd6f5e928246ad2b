"""Bad bytes get a 4xx, never a 500; SQL parameters stay out of production logs (issue 12, item 7).

A NUL byte in a string parameter makes PostgreSQL refuse the statement (psycopg's DataError),
while SQLite stores it: run this file with TEST_DATABASE_URL=postgresql+... too. Every box an
attacker can type into is tried from outside, with NUL and with other control characters.
"""

from __future__ import annotations

import html
import io
import logging

import pytest
from sqlalchemy import func, select, text
from test_api_support import assert_problem
from test_config import production

from acs_auth import messages
from acs_auth.extensions import db, reads_engine
from acs_auth.models import AllowlistImport, Role, User
from tests.support.config import STRONG_PASSWORD
from tests.support.db import read_db
from tests.support.web import AuthActions

pytest_plugins = ("test_api_support",)

BAD = ["\x00", "\x01", "\x1b", "\x7f"]
CSV = b"last_name,email,lo_root_ids\nHopper,grace@example.org,PROG-1\n"


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def admin(app, make_user, login_as):
    """An admin signed in on a browser client, and an access token for the API."""
    admin_id = make_user(email="root@example.org", role=Role.ADMIN.value, programs=())
    browser = app.test_client()
    login_as(admin_id, on=browser)
    token = (
        app.test_client()
        .post("/api/auth/login", json={"email": "root@example.org", "password": STRONG_PASSWORD})
        .get_json()["access_token"]
    )
    return AuthActions(browser), {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("identifier", ["ada{}@example.org", "ada{}lovelace"])
def test_sign_in_with_bad_bytes_is_a_form_error_or_422(app, make_user, bad, identifier):
    make_user()
    typed = identifier.format(bad)
    browser = AuthActions(app.test_client())
    page = browser.login(typed)
    assert page.status_code == 200
    assert messages.FIELD_INVALID_CHARACTERS in page_text(page)
    field = "email" if "@" in typed else "username"
    body = {field: typed, "password": STRONG_PASSWORD}
    answer = app.test_client().post("/api/auth/login", json=body)
    assert assert_problem(answer, 422)["errors"] == {field: [messages.FIELD_INVALID_CHARACTERS]}


@pytest.mark.parametrize("bad", BAD)
def test_last_names_with_bad_bytes_are_refused(app, make_entry, outbox, bad):
    make_entry(email="grace@example.org", last_name="Hopper")
    data = {"email": "grace@example.org", "last_name": f"Hop{bad}per"}
    for url in ("/register", "/first-time-password"):
        page = AuthActions(app.test_client()).post(url, data)
        assert messages.FIELD_INVALID_CHARACTERS in page_text(page), url
    answer = app.test_client().post("/api/auth/register", json=data)
    assert assert_problem(answer, 422)["errors"] == {
        "last_name": [messages.FIELD_INVALID_CHARACTERS]
    }
    assert outbox.messages == []


@pytest.mark.parametrize("bad", BAD)
def test_an_api_key_name_with_bad_bytes_is_refused(app, api, make_user, bad):
    make_user()
    token = api.token()
    body = {"name": f"script{bad}", "current_password": STRONG_PASSWORD}  # minting needs it
    answer = api.post("/api/auth/api-keys", token=token, json=body)
    assert assert_problem(answer, 422)["errors"] == {"name": [messages.FIELD_INVALID_CHARACTERS]}


@pytest.mark.parametrize("bad", BAD)
def test_admin_user_fields_with_bad_bytes_are_refused(app, admin, outbox, bad):
    browser, headers = admin
    for field in ("email", "first_name", "last_name"):
        data = {"email": "new@example.org", "role": "user", field: f"ne{bad}w@example.org"}
        page = browser.post("/admin/users/new", data)
        assert page.status_code == 400, field
        assert messages.FIELD_INVALID_CHARACTERS in page_text(page), field
    api = app.test_client()
    for field in ("first_name", "last_name"):
        body = {"email": "new@example.org", field: f"New{bad}"}
        answer = api.post("/api/admin/users", headers=headers, json=body)
        errors = assert_problem(answer, 422)["errors"]
        assert errors == {field: [messages.FIELD_INVALID_CHARACTERS]}
    search = api.get(f"/api/admin/users?q=a{bad}", headers=headers)
    assert assert_problem(search, 422)["errors"] == {"q": [messages.FIELD_INVALID_CHARACTERS]}
    count = read_db(app, lambda: db.session.scalar(select(func.count()).select_from(User)))
    assert count == 1
    assert outbox.to("new@example.org") == []  # no account, so no setup email


@pytest.mark.parametrize("bad", BAD)
def test_an_upload_file_name_with_bad_bytes_is_refused(app, admin, bad):
    browser, headers = admin
    name = f"list{bad}.csv"
    page = browser.post(
        "/admin/allowlist/upload",
        {"mode": "merge", "file": (io.BytesIO(CSV), name)},
        content_type="multipart/form-data",
    )
    assert page.status_code == 400
    assert messages.FILE_NAME_INVALID in page_text(page)
    api = app.test_client()
    sent = api.post(
        "/api/admin/allowlist",
        headers=headers,
        data={"file": (io.BytesIO(CSV), name)},
        content_type="multipart/form-data",
    )
    assert assert_problem(sent, 422)["errors"] == {"file": [messages.FILE_NAME_INVALID]}
    named = api.post(
        "/api/admin/allowlist?file_name=list%00.csv",
        headers=headers,
        data=CSV,
        content_type="text/csv",
    )
    errors = assert_problem(named, 422)["errors"]
    assert errors == {"file_name": [messages.FIELD_INVALID_CHARACTERS]}
    imports = read_db(
        app, lambda: db.session.scalar(select(func.count()).select_from(AllowlistImport))
    )
    assert imports == 0


def test_a_nul_in_a_path_parameter_names_nothing(app, api, make_user, auth):
    make_user()
    token = api.token()
    for path in ("/api/auth/sessions/a%00b", "/api/auth/api-keys/a%00b"):
        assert_problem(api.delete(path, token=token), 404)
    auth.login("ada@example.org")
    page = auth.post("/account/sessions/a%00b/revoke", {}, form_url="/account")
    assert page.status_code == 404


# --- SQL parameters never reach a production log ------------------------------------------


def test_production_engines_hide_sql_parameters(tmp_path):
    app = production(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/prod.db", ALLOW_SQLITE_IN_PRODUCTION=True
    )
    with app.app_context():
        assert db.engine.hide_parameters is True
        assert reads_engine().hide_parameters is True
    assert create_testing_engine_shows_them()


def create_testing_engine_shows_them() -> bool:
    """Outside production the parameters stay visible, for debugging."""
    from acs_auth import create_app

    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    with app.app_context():
        return db.engine.hide_parameters is False


def test_a_logged_database_error_carries_no_parameter(tmp_path, caplog):
    app = production(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/prod.db", ALLOW_SQLITE_IN_PRODUCTION=True
    )
    secret = "ada.lovelace@example.org-secret-parameter"

    @app.get("/test-only/failing-statement")
    def failing_statement():
        # The same key twice: an IntegrityError, which the app logs as an unexpected error.
        db.session.execute(text("CREATE TABLE IF NOT EXISTS probe (x TEXT PRIMARY KEY)"))
        insert = text("INSERT INTO probe (x) VALUES (:value)")
        db.session.execute(insert, {"value": secret})
        db.session.execute(insert, {"value": secret})

    caplog.set_level(logging.ERROR)
    response = app.test_client().get(
        "/test-only/failing-statement", base_url="https://portal.example.org"
    )
    assert response.status_code == 500
    logged = "\n".join(
        r.getMessage() + (logging.Formatter().formatException(r.exc_info) if r.exc_info else "")
        for r in caplog.records
    )
    assert "INSERT INTO probe" in logged  # the statement is logged…
    assert secret not in logged  # …its parameters are not
    assert "hide_parameters=True" in logged
