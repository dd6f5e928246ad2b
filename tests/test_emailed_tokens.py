"""Emailed links of every kind: salts per purpose, lifetimes, binding, and where links point."""

from __future__ import annotations

import time

import pytest
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner
from test_registration import post_form, text

from acs_auth import messages
from acs_auth.services.accounts import tokens
from tests.support.web import csrf_from

PATHS = {
    "register": "/register/password/",
    "reset": "/reset-password/",
    "setup": "/setup-password/",
}


@pytest.fixture
def links(app, client, outbox, make_user, make_entry):
    """One fresh link of each kind, each mailed to its own person."""
    make_entry(email="grace@example.org", last_name="Hopper")
    make_user(email="ada@example.org")
    make_user(email="bob@example.org", last_name="Builder", password=None)
    post_form(client, "/register", {"last_name": "Hopper", "email": "grace@example.org"})
    post_form(client, "/forgot-password", {"email": "ada@example.org"})
    post_form(client, "/first-time-password", {"last_name": "Builder", "email": "bob@example.org"})
    return {
        "register": outbox.link("grace@example.org", PATHS["register"]),
        "reset": outbox.link("ada@example.org", PATHS["reset"]),
        "setup": outbox.link("bob@example.org", PATHS["setup"]),
    }


def token_of(link: str) -> str:
    return link.rsplit("/", 1)[1]


def test_each_link_works_only_at_its_own_page(client, links):
    for issued, link in links.items():
        for used_at, path in PATHS.items():
            response = client.get(path + token_of(link))
            expected = 200 if issued == used_at else 400
            assert response.status_code == expected, (issued, used_at)


def test_links_never_echo_the_token_elsewhere_and_send_no_referrer(client, links):
    for link in links.values():
        response = client.get(link)
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "no-store" in response.headers["Cache-Control"]
        # The token appears only in the form's own action, never in a link to another page.
        assert text(response).count(token_of(link)) == 1


@pytest.mark.parametrize(
    ("purpose", "alive", "dead"),
    [
        ("register", 24 * 3600 - 60, 24 * 3600 + 2),
        ("setup", 24 * 3600 - 60, 24 * 3600 + 2),
        ("reset", 3600 - 60, 3600 + 2),
    ],
)
def test_each_kind_expires_after_its_lifetime(client, links, monkeypatch, purpose, alive, dead):
    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + alive)
    assert client.get(links[purpose]).status_code == 200
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + dead)
    response = client.get(links[purpose])
    assert response.status_code == 400 and messages.LINK_INVALID in text(response)


def test_a_token_signed_with_another_key_is_refused(app, client, links):
    for purpose, path in PATHS.items():
        forged = URLSafeTimedSerializer("another secret key entirely", salt=f"acs-auth.{purpose}")
        payload = {"e": "grace@example.org"} if purpose == "register" else {"u": 1, "f": "x"}
        assert client.get(path + forged.dumps(payload)).status_code == 400


def test_well_signed_but_wrong_payloads_are_refused(app, client, links, make_user):
    with app.app_context():
        reset = tokens._serializer(tokens.Purpose.RESET)
        register = tokens._serializer(tokens.Purpose.REGISTER)
        forged = [
            PATHS["reset"] + reset.dumps({"u": "1", "f": "x"}),
            PATHS["reset"] + reset.dumps({"u": True, "f": "x"}),
            PATHS["reset"] + reset.dumps(["u", 1]),
            PATHS["reset"] + reset.dumps({"u": 10**30}),
            PATHS["register"] + register.dumps({"e": ["grace@example.org"]}),
            PATHS["register"] + register.dumps({"e": "nobody@example.org"}),
            PATHS["register"] + register.dumps("grace@example.org"),
        ]
    for url in forged:
        assert client.get(url).status_code == 400, url


def test_links_use_app_url_even_with_a_hostile_host_header(app, outbox, make_user, make_entry):
    app.config["APP_URL"] = "https://portal.example.com/"
    make_entry(email="grace@example.org", last_name="Hopper")
    make_user(email="ada@example.org")
    make_user(email="bob@example.org", last_name="Builder", password=None)
    evil = app.test_client()
    forms = [
        ("/register", {"last_name": "Hopper", "email": "grace@example.org"}),
        ("/forgot-password", {"email": "ada@example.org"}),
        ("/first-time-password", {"last_name": "Builder", "email": "bob@example.org"}),
    ]
    for url, data in forms:
        token = csrf_from(text(evil.get(url, base_url="http://evil.example")))
        evil.post(
            url,
            data={"csrf_token": token, **data},
            base_url="http://evil.example",
            headers={"X-Forwarded-Host": "evil.example", "Forwarded": "host=evil.example"},
        )

    sent = outbox.messages
    assert len(sent) == 3
    for msg in sent:
        body = outbox.text(msg) + msg.get_body(preferencelist=("html",)).get_content()
        assert "evil.example" not in body
        assert "https://portal.example.com/" in body
        assert "https://portal.example.com//" not in body


def test_completing_one_link_kills_the_other_links_of_that_account(
    app, client, outbox, links, monkeypatch
):
    # A second reset link for the same account, issued a little later, before either is used.
    later = int(time.time()) + 10
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    post_form(client, "/forgot-password", {"email": "ada@example.org"})
    second = outbox.link("ada@example.org", PATHS["reset"])
    assert second != links["reset"]

    password = "violet marmalade tugboat 1923"
    done = post_form(client, second, {"password": password, "confirm": password})
    assert done.status_code == 302

    assert app.test_client().get(links["reset"]).status_code == 400
    assert app.test_client().get(second).status_code == 400


def test_an_error_on_a_link_page_logs_neither_its_token_nor_query_credentials(
    client, monkeypatch, caplog
):
    """A fault while serving a link still answers 500 without writing the token to the log."""
    from acs_auth.passwords import views

    def fail(*args, **kwargs):
        raise RuntimeError("injected fault")

    monkeypatch.setattr(views, "_password_from_link", fail)
    with caplog.at_level("ERROR", logger="acs_auth"):
        response = client.get("/reset-password/SECRET-LINK-TOKEN?token=ALSO-SECRET&x=1")
    assert response.status_code == 500
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "unhandled error on GET /reset-password/[redacted]?token=[redacted]&x=1" in logged
    assert "SECRET" not in caplog.text
