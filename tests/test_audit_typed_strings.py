"""A string typed into an email box that is no account never reaches the audit log verbatim."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select
from test_registration import post_form, text

from acs_auth.extensions import db
from acs_auth.models import AuditEvent, Role
from tests.support.db import read_db

TYPED = "Someone.Else@Example.ORG"
PASSWORD_IN_EMAIL_BOX = "my secret passphrase 77"
# The `api` fixture (a client whose answers are checked against the OpenAPI document).
pytest_plugins = ("test_api_support",)

MASKED = re.compile(r"s\*\*\*@example\.org #[0-9a-f]{12}")


def audit_rows(app) -> list[tuple[str, str | None, str]]:
    """(event, target_label, everything else of the row as text) of every audit row."""

    def query():
        rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        return [(r.event, r.target_label, f"{r.actor_label} {r.details}") for r in rows]

    return read_db(app, query)


def assert_not_kept(app, typed: str) -> list[str]:
    """No audit row holds ``typed`` (in any case); the labels that were written instead."""
    rows = audit_rows(app)
    assert rows, "the attempt was audited"
    for event, label, rest in rows:
        for value in (label or "", rest):
            assert typed.lower() not in value.lower(), (event, value)
            assert typed.split("@")[0].lower() not in value.lower(), (event, value)
    return [label for _event, label, _rest in rows]


def browser_sign_in(client, identifier: str):
    data = {"email": identifier, "password": "wrong password 123"}
    return post_form(client, "/login", data)


ENTRANCES = {
    "login": lambda client, api, typed: browser_sign_in(client, typed),
    "api-login": lambda client, api, typed: api.post(
        "/api/auth/login", json={"email": typed, "password": "wrong password 123"}
    ),
    "forgot": lambda client, api, typed: post_form(client, "/forgot-password", {"email": typed}),
    "api-reset": lambda client, api, typed: api.post(
        "/api/auth/request-password-reset", json={"email": typed}
    ),
    "first-time": lambda client, api, typed: post_form(
        client, "/first-time-password", {"last_name": "Else", "email": typed}
    ),
    "register": lambda client, api, typed: post_form(
        client, "/register", {"last_name": "Else", "email": typed}
    ),
    "api-register": lambda client, api, typed: api.post(
        "/api/auth/register", json={"last_name": "Else", "email": typed}
    ),
}


@pytest.mark.parametrize("entrance", ENTRANCES)
def test_an_unknown_address_is_kept_masked_with_a_keyed_tag(app, client, api, outbox, entrance):
    response = ENTRANCES[entrance](client, api, TYPED)
    assert response.status_code < 500
    outbox.deliver()  # link requests are answered by the mail sender, off the request path
    labels = assert_not_kept(app, TYPED)
    assert any(label and MASKED.fullmatch(label) for label in labels), labels


def test_a_password_typed_into_the_email_box_keeps_nothing_of_it(app, client):
    browser_sign_in(client, PASSWORD_IN_EMAIL_BOX)
    labels = assert_not_kept(app, PASSWORD_IN_EMAIL_BOX)
    assert labels == [labels[0]] and re.fullmatch(r"\*\*\* #[0-9a-f]{12}", labels[0])
    for word in PASSWORD_IN_EMAIL_BOX.split():
        assert word not in labels[0]


def test_the_tag_is_keyed_with_secret_key(app, make_app):
    other = make_app(SECRET_KEY="another-secret-key-" + "y" * 40)
    for instance in (app, other):
        browser_sign_in(instance.test_client(), TYPED)
    first, second = [label for event, label, _ in audit_rows(app) if event == "login.failed"]
    # Same mask, different tag: nobody without the key can test guesses against the log.
    assert first.split(" #")[0] == second.split(" #")[0] and first != second


def test_repeats_share_a_tag_and_an_admin_finds_them_by_the_typed_string(
    app, client, make_user, login_as
):
    for spelling in (TYPED, TYPED.lower(), " " + TYPED.upper() + " "):
        browser_sign_in(app.test_client(), spelling)
    browser_sign_in(app.test_client(), "another.stranger@example.org")
    labels = [label for event, label, _ in audit_rows(app) if event == "login.failed"]
    assert len(set(labels[:3])) == 1 and labels[3] != labels[0]

    login_as(make_user(email="admin@example.org", role=Role.ADMIN.value))
    page = html.unescape(text(client.get("/admin/audit", query_string={"target": TYPED})))
    assert page.count(labels[0]) == 3
    assert labels[3] not in page


def test_a_known_account_is_still_named(app, client, make_user):
    make_user()
    browser_sign_in(client, "ada@example.org")
    labels = [label for event, label, _ in audit_rows(app) if event == "login.failed"]
    assert labels == ["ada@example.org"]
