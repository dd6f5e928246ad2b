"""Forgot-password by username as well as email: the link goes only to the stored address."""

from __future__ import annotations

import pytest

from acs_auth import messages
from tests.support.browser import normalised, update_user
from tests.support.web import csrf_from

ROOMY = "1000 per minute"


def ask(client, identifier: str, ip: str = "198.51.100.1"):
    page = client.get("/forgot-password").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "email": identifier}
    return client.post("/forgot-password", data=data, environ_base={"REMOTE_ADDR": ip})


@pytest.fixture
def ada(app, make_user):
    user_id = make_user(email="Ada.Lovelace@example.org")
    update_user(app, user_id, username="Countess", username_key="countess")
    return user_id


def test_a_username_gets_the_link_at_the_stored_address(app, client, outbox, ada):
    answer = ask(client, "  COUNTESS ")
    assert answer.status_code == 200 and messages.RESET_EMAIL_SENT in answer.get_data(as_text=True)
    sent = outbox.messages
    assert [m["To"] for m in sent] == ["Ada.Lovelace@example.org"]
    link = outbox.link("Ada.Lovelace@example.org", "/reset-password/")
    assert app.test_client().get(link).status_code == 200


def test_the_page_answers_the_same_for_a_username_an_email_and_nobody(app, outbox, ada):
    answers = [
        ask(app.test_client(), value)
        for value in ("countess", "ada.lovelace@example.org", "nobody", "nobody@example.org")
    ]
    assert len({(r.status_code, normalised(r.get_data(as_text=True))) for r in answers}) == 1
    assert {m["To"] for m in outbox.messages} == {"Ada.Lovelace@example.org"}
    assert len(outbox.messages) == 2  # one per request that named the account


def test_an_email_match_wins_over_a_username_that_looks_the_same(app, client, outbox, make_user):
    # Usernames cannot contain "@", but an email key always wins the lookup anyway.
    make_user(email="ada@example.org")
    other = make_user(email="bob@example.org", last_name="Builder")
    update_user(app, other, username="ada", username_key="ada")
    ask(client, "ada@example.org")
    assert [m["To"] for m in outbox.messages] == ["ada@example.org"]


def test_the_api_accepts_a_username_and_answers_the_same(app, client, outbox, ada):
    by_name = client.post("/api/auth/request-password-reset", json={"username": "countess"})
    by_email = client.post("/api/auth/request-password-reset", json={"email": "x@example.org"})
    nobody = client.post("/api/auth/request-password-reset", json={"username": "nobody"})
    assert by_name.status_code == by_email.status_code == nobody.status_code == 202
    assert by_name.get_json() == by_email.get_json() == nobody.get_json()
    assert [m["To"] for m in outbox.messages] == ["Ada.Lovelace@example.org"]

    both = client.post(
        "/api/auth/request-password-reset", json={"username": "countess", "email": "a@b.org"}
    )
    neither = client.post("/api/auth/request-password-reset", json={})
    assert both.status_code == neither.status_code == 422
    assert both.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "app_overrides",
    [
        {
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_PER_IP": ROOMY,
            "RATELIMIT_PER_IDENTIFIER": "2 per minute",
            "RATELIMIT_PASSWORD_PER_ACCOUNT": ROOMY,
        }
    ],
    indirect=True,
)
def test_username_and_email_spend_one_budget_per_mailbox(app, outbox, ada):
    codes = [
        ask(app.test_client(), value, ip=f"198.51.100.{i}").status_code
        for i, value in enumerate(["countess", "ada.lovelace@example.org", "Countess"])
    ]
    assert codes == [200, 200, 429]
    assert len(outbox.messages) == 2
