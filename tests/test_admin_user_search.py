"""The users page search at scale: one computed search column, a capped count, every write path.

The search column (users.search_text) is computed by the database from the email, username
and name keys, so these tests change an account through each way the product offers (the
registration link, the profile page, the email-change link, the admin console, the CLI) and
search for the old and the new value through the admin page.
"""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import insert

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import Role, User
from acs_auth.models.user import search_key
from acs_auth.services.accounts import user_search
from tests.support.config import STRONG_PASSWORD
from tests.support.web import AuthActions, csrf_from


@pytest.fixture
def admin_client(app, make_user, login_as):
    """A second client, signed in as an administrator, that searches the users page."""
    admin_id = make_user(email="root@example.org", role=Role.ADMIN.value, last_name="Root")
    other = app.test_client()
    login_as(admin_id, on=other)
    return other


def found(admin_client, q: str, **filters) -> list[str]:
    page = admin_client.get("/admin/users", query_string={"q": q, **filters})
    assert page.status_code == 200
    emails = re.findall(r'href="/admin/users/\d+">([^<]+)</a>', page.get_data(as_text=True))
    return [html.unescape(email) for email in emails]


def count_line(admin_client, **query) -> str:
    body = admin_client.get("/admin/users", query_string=query).get_data(as_text=True)
    return html.unescape(re.search(r'<p id="user-count" role="status">([^<]*)</p>', body).group(1))


def post_form(client, page_url: str, action_url: str, data: dict):
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(action_url, data={"csrf_token": token, **data})


def test_registration_and_profile_edits_are_found_at_once(
    app, client, admin_client, outbox, make_entry
):
    make_entry(email="grace@example.org", last_name="Hopper", first_name="Grace")
    asked = {"last_name": "Hopper", "email": "grace@example.org"}
    post_form(client, "/register", "/register", asked)
    link = outbox.link("grace@example.org", "/register/password/")
    post_form(client, link, link, {"password": STRONG_PASSWORD, "confirm": STRONG_PASSWORD})
    assert found(admin_client, "race hop") == ["grace@example.org"]  # "first last", any part

    changed = post_form(
        client,
        "/account",
        "/account/profile",
        {"first_name": "Amazing", "last_name": "Hopper-Lée", "username": "Cobol59"},
    )
    assert changed.status_code == 302
    assert found(admin_client, "OBOL5") == ["grace@example.org"]  # the username, any part
    assert found(admin_client, "amazing hopper") == ["grace@example.org"]
    assert found(admin_client, "PER-LÉE") == ["grace@example.org"]  # folded: "per lee"
    assert found(admin_client, "pper lee") == ["grace@example.org"]
    assert found(admin_client, "race hop") == []  # the old "first last" is gone


def test_an_email_change_is_found_under_the_new_address_only(
    app, client, admin_client, outbox, make_user
):
    make_user(email="ada@example.org")
    AuthActions(client).login("ada@example.org")
    data = {"new_email": "countess@example.net", "email_password": STRONG_PASSWORD}
    assert post_form(client, "/account", "/account/email", data).status_code == 302
    link = outbox.link("countess@example.net", "/account/email/confirm/")
    assert post_form(client, link, link, {}).status_code == 302
    assert found(admin_client, "ountess@ex") == ["countess@example.net"]
    assert found(admin_client, "ada@example") == []


def test_accounts_made_by_the_console_and_the_cli_are_found(app, admin_client, runner):
    created = post_form(
        admin_client,
        "/admin/users/new",
        "/admin/users/new",
        {"email": "Lin@Example.org", "first_name": "Lín", "last_name": "Wú", "role": "user"},
    )
    assert created.status_code == 302
    assert found(admin_client, "lin wu") == ["Lin@example.org"]
    result = runner.invoke(args=["users", "create", "--email", "cli.made@example.org"])
    assert result.exit_code == 0, result.output
    assert found(admin_client, "cli.MADE") == ["cli.made@example.org"]


def test_a_count_past_the_cap_says_so_and_filters_count_within_the_search(
    app, admin_client, monkeypatch
):
    monkeypatch.setattr(user_search, "COUNT_CAP", 30)  # the cap, not a fault: a smaller list
    rows = [
        {
            "email": f"ann{i:03d}@example.org",
            "email_key": f"ann{i:03d}@example.org",
            "last_name": "Annersby",
            "last_name_key": search_key("Annersby"),
            "role": Role.DEVELOPER.value if i % 10 == 0 else Role.USER.value,
        }
        for i in range(45)
    ]
    with app.app_context():
        db.session.execute(insert(User.__table__), rows)
        db.session.commit()
    assert count_line(admin_client, q="nnersb") == messages.ADMIN_USERS_FOUND.format(count="30+")
    assert count_line(admin_client, q="nnersb", role="developer") == (
        messages.ADMIN_USERS_FOUND.format(count=5)
    )
    assert count_line(admin_client, q="ann04") == messages.ADMIN_USERS_FOUND.format(count=5)
    assert count_line(admin_client) == messages.ADMIN_USERS_TOTAL.format(count="30+")
    assert count_line(admin_client, q="ann00") == messages.ADMIN_USERS_FOUND.format(count=10)
    page = admin_client.get("/admin/users", query_string={"q": "nnersb"}).get_data(True)
    assert 'rel="next"' not in page  # 45 fit on one page of 50: no pager


def test_quotes_backslashes_and_wildcards_are_plain_text(app, admin_client, make_user):
    make_user(email="o'brien@example.org", last_name="O'Brien")
    make_user(email="back\\slash@example.org", last_name="Slash")
    make_user(email="per%cent_x@example.org", last_name="Cent")
    assert found(admin_client, "o'bri") == ["o'brien@example.org"]
    assert found(admin_client, "k\\s") == ["back\\slash@example.org"]
    assert found(admin_client, "r%c") == ["per%cent_x@example.org"]
    assert found(admin_client, "t_x") == ["per%cent_x@example.org"]
    assert found(admin_client, "%") == ["per%cent_x@example.org"]
    assert found(admin_client, "'; drop table users; --") == []
    assert "root@example.org" in found(admin_client, "root")  # still there


def test_a_search_is_looked_for_as_typed_and_as_folded(app, admin_client, make_user):
    make_user(email="müller@example.org", last_name="Schmidt")  # an address keeps its ü
    make_user(email="hans@example.org", last_name="Müller")  # a name is folded: "muller"
    make_user(email="muller@example.org", last_name="Meyer")
    assert found(admin_client, "MÜLLER") == [
        "hans@example.org",
        "muller@example.org",
        "müller@example.org",
    ]
    assert found(admin_client, "müller@") == ["muller@example.org", "müller@example.org"]
