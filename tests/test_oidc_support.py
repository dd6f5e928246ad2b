"""A test relying party: registers a client and walks the code flow through the test client."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest

from acs_auth.oidc import clients
from tests.support.config import write_private_key

REDIRECT = "https://chatbot.example/callback"
POST_LOGOUT = "https://chatbot.example/bye"
BACKCHANNEL = "http://127.0.0.1:9/backchannel"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


class RelyingParty:
    """One registered client and the requests a relying party makes."""

    def __init__(self, app, client, **registration):
        self.app, self.http = app, client
        with app.app_context():
            done = clients.register(
                registration.pop("name", "Chatbot"),
                redirect_uris=registration.pop("redirect_uris", [REDIRECT]),
                post_logout_redirect_uris=registration.pop("post_logout", [POST_LOGOUT]),
                backchannel_logout_uri=registration.pop("backchannel", BACKCHANNEL),
                first_party=registration.pop("first_party", True),
                **registration,
            )
            self.client_id, self.secret = done.client.client_id, done.secret
        self.verifier, self.challenge = pkce_pair()
        self.state, self.nonce = secrets.token_urlsafe(8), secrets.token_urlsafe(8)

    def authorize(self, **params):
        self.nonce = secrets.token_urlsafe(8)  # a nonce is single-use
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": REDIRECT,
            "scope": "openid email profile programs",
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
        }
        query.update(params)
        return self.http.get(
            "/oauth/authorize", query_string={k: v for k, v in query.items() if v is not None}
        )

    def code(self, **params) -> str:
        response = self.authorize(**params)
        assert response.status_code == 302, response.get_data(as_text=True)
        answer = query_of(response.headers["Location"])
        assert answer["state"] == self.state
        return answer["code"]

    def auth(self) -> dict:
        if self.secret is None:
            return {"data": {"client_id": self.client_id}}
        return {"auth": (self.client_id, self.secret)}

    def token(self, code: str, verifier: str | None = "default", **extra):
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
        if verifier == "default":
            verifier = self.verifier
        if verifier is not None:
            data["code_verifier"] = verifier
        auth = self.auth()
        data.update(auth.pop("data", {}))
        data.update(extra)
        return self.http.post("/oauth/token", data=data, **auth)

    def refresh(self, refresh_token: str):
        auth = self.auth()
        data = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            **auth.pop("data", {}),
        }
        return self.http.post("/oauth/token", data=data, **auth)

    def tokens(self) -> dict:
        response = self.token(self.code())
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()


@pytest.fixture(scope="session")
def oidc_key_file(tmp_path_factory):
    """One RSA key for the whole run (generating one per test would be slow)."""
    return write_private_key(tmp_path_factory.mktemp("oidc") / "key.pem")


@pytest.fixture
def app_overrides(oidc_key_file):
    return {"OIDC_PRIVATE_KEY_FILE": oidc_key_file}


@pytest.fixture
def make_rp(app, client):
    def factory(**registration) -> RelyingParty:
        return RelyingParty(app, client, **registration)

    return factory
