"""Back-channel logout: every way a session ends reaches the client, through a retried queue."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select, update

from acs_auth.extensions import db
from acs_auth.models import BackchannelLogout, Role, User, utcnow
from acs_auth.oidc import logout
from acs_auth.services.allowlist import imports
from tests.support.config import free_port
from tests.support.db import read_db
from tests.support.web import csrf_from

pytest_plugins = ("test_oidc_support",)
EVENT = "http://schemas.openid.net/event/backchannel-logout"


class Receiver:
    """A relying party's back-channel endpoint on loopback, recording what it is sent."""

    def __init__(self):
        self.tokens: list[str] = []
        self.port = free_port()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                receiver.tokens.append(parse_qs(body)["logout_token"][0])
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}/backchannel"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def deliver(app) -> tuple[int, int]:
    with app.app_context():
        try:
            return logout.deliver_pending()
        finally:
            db.session.remove()


def check_logout_token(client, token: str, rp, id_token: str) -> dict:
    keys = KeySet.import_key_set(client.get("/.well-known/jwks.json").get_json())
    decoded = jwt.decode(token, keys, algorithms=["RS256", "EdDSA"])
    id_claims = jwt.decode(id_token, keys, algorithms=["RS256", "EdDSA"]).claims
    claims = decoded.claims
    assert decoded.header["typ"] == "logout+jwt"
    assert claims["iss"] == "http://portal.test" and claims["aud"] == rp.client_id
    assert claims["events"] == {EVENT: {}} and "nonce" not in claims and claims["jti"]
    assert claims["sub"] == id_claims["sub"] and claims["sid"] == id_claims["sid"]
    return claims


@pytest.fixture
def signed_in(make_user, login_as):
    user_id = make_user(programs=("PROG-1",))
    login_as(user_id)
    return user_id


def test_sign_out_posts_a_logout_token_to_the_client(app, client, make_rp, signed_in, receiver):
    rp = make_rp(backchannel=receiver.uri)
    tokens = rp.tokens()
    client.post(
        "/logout", data={"csrf_token": csrf_from(client.get("/account").get_data(as_text=True))}
    )
    assert deliver(app) == (1, 0)
    assert len(receiver.tokens) == 1
    check_logout_token(client, receiver.tokens[0], rp, tokens["id_token"])
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/oauth/userinfo", headers=bearer).status_code == 401


def test_a_client_that_is_down_gets_the_token_later(app, client, make_rp, signed_in, receiver):
    rp = make_rp(backchannel=receiver.uri)
    rp.tokens()
    receiver.stop()
    client.post(
        "/logout", data={"csrf_token": csrf_from(client.get("/account").get_data(as_text=True))}
    )
    assert deliver(app) == (0, 1)
    row = read_db(app, lambda: db.session.scalar(select(BackchannelLogout)))
    assert row.attempts == 1 and row.last_error and row.sent_at is None
    assert row.next_attempt_at > utcnow()
    again = Receiver()  # the client is back (on a new port)
    with app.app_context():
        db.session.execute(
            update(BackchannelLogout).values(
                uri=again.uri, next_attempt_at=utcnow() - timedelta(seconds=1)
            )
        )
        db.session.commit()
    try:
        assert deliver(app) == (1, 0)
        assert len(again.tokens) == 1
    finally:
        again.stop()


def test_removal_from_the_allowlist_logs_the_person_out_of_the_client(
    app, client, make_rp, make_user, login_as, receiver
):
    with app.app_context():
        imports.import_file(
            b"last_name,email,lo_root_ids\nLovelace,ada@example.org,PROG-1\nHopper,grace@example.org,PROG-2\n"
            b"Turing,alan@example.org,PROG-3\n",
            actor=None,
        )
    user_id = make_user(programs=("PROG-1",))
    login_as(user_id)
    rp = make_rp(backchannel=receiver.uri)
    tokens = rp.tokens()
    with app.app_context():
        result = imports.import_file(
            b"last_name,email,lo_root_ids\nHopper,grace@example.org,PROG-2\nTuring,alan@example.org,PROG-3\n",
            mode="replace",
            actor=None,
            confirm_mass_removal=True,
        )
        assert result.applied
    deliver(app)
    assert len(receiver.tokens) == 1
    check_logout_token(client, receiver.tokens[0], rp, tokens["id_token"])


def test_a_password_change_logs_the_other_sessions_out(app, client, make_rp, signed_in, receiver):
    from acs_auth.services.accounts import accounts

    rp = make_rp(backchannel=receiver.uri)
    rp.tokens()
    with app.test_request_context():
        user = db.session.get(User, signed_in)
        accounts.sign_out_everywhere(user)
    deliver(app)
    assert len(receiver.tokens) == 1


def test_cli_sends_the_pending_logouts(app, runner, client, make_rp, signed_in, receiver):
    rp = make_rp(backchannel=receiver.uri)
    rp.tokens()
    client.post(
        "/logout", data={"csrf_token": csrf_from(client.get("/account").get_data(as_text=True))}
    )
    result = runner.invoke(args=["oidc", "send-logouts"])
    assert "1 sent, 0 failed" in result.output
    assert len(receiver.tokens) == 1


def test_cli_registers_a_client_and_prints_the_secret_once(app, runner):
    result = runner.invoke(
        args=[
            "clients",
            "create",
            "--name",
            "Chatbot",
            "--redirect-uri",
            "https://c.example/cb",
            "--first-party",
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    listed = runner.invoke(args=["clients", "list"]).output
    assert body["client_id"] in listed and body["client_secret"] not in listed
    bad = runner.invoke(args=["clients", "create", "--name", "X", "--redirect-uri", "javascript:1"])
    assert bad.exit_code == 1
    assert (
        read_db(app, lambda: db.session.scalar(select(User).where(User.role == Role.ADMIN.value)))
        is None
    )


def test_a_client_whose_tokens_are_gone_still_hears_of_the_logout(
    app, client, make_rp, signed_in, receiver
):
    """The RP's session outlives its tokens: the logout token goes out all the same."""
    rp = make_rp(backchannel=receiver.uri)
    tokens = rp.tokens()
    client.post(
        "/oauth/revoke", data={"token": tokens["refresh_token"]}, auth=(rp.client_id, rp.secret)
    )
    client.post(
        "/logout", data={"csrf_token": csrf_from(client.get("/account").get_data(as_text=True))}
    )
    assert deliver(app) == (1, 0)


def test_an_old_session_is_not_logged_out_twice(app, client, make_rp, signed_in, receiver):
    rp = make_rp(backchannel=receiver.uri)
    rp.tokens()
    client.post(
        "/logout", data={"csrf_token": csrf_from(client.get("/account").get_data(as_text=True))}
    )
    from acs_auth.services.accounts import accounts

    with app.test_request_context():
        accounts.sign_out_everywhere(db.session.get(User, signed_in))
    assert deliver(app) == (1, 0)
