"""A minimal program back end that signs people in through acs_auth (OpenID Connect).

It is a relying party made with Authlib's Flask client: authorization code + PKCE (S256),
the ID token checked against the portal's JWKS, the person's programs from the `programs`
claim, RP-initiated logout, and a back-channel logout endpoint that drops the person's
session here within seconds of the portal ending theirs (sign-out, password change,
deactivation, removal from the allowlist).

Settings (environment): ACS_ISSUER (the portal, default http://127.0.0.1:5000), CHATBOT_URL
(this app, default http://127.0.0.1:5001), and CHATBOT_CLIENT_FILE (the JSON printed by
`flask clients create ... --json`) or CHATBOT_CLIENT_ID / CHATBOT_CLIENT_SECRET.
Run it with `make chatbot` (see README.md, "Single sign-on for the programs").
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import requests
from authlib.integrations.flask_client import OAuth
from flask import Flask, abort, redirect, render_template, request, session, url_for
from joserfc import jwt
from joserfc.jwk import KeySet

ISSUER = os.environ.get("ACS_ISSUER", "http://127.0.0.1:5000").rstrip("/")
HERE = os.environ.get("CHATBOT_URL", "http://127.0.0.1:5001").rstrip("/")
EVENT = "http://schemas.openid.net/event/backchannel-logout"


def _credentials() -> tuple[str, str | None]:
    path = os.environ.get("CHATBOT_CLIENT_FILE")
    if path:
        data = json.loads(Path(path).read_text(encoding="utf-8").strip().splitlines()[-1])
        return data["client_id"], data.get("client_secret")
    return os.environ["CHATBOT_CLIENT_ID"], os.environ.get("CHATBOT_CLIENT_SECRET")


app = Flask(__name__)
app.secret_key = os.environ.get("CHATBOT_SECRET_KEY") or secrets.token_urlsafe(32)
CLIENT_ID, CLIENT_SECRET = _credentials()
oauth = OAuth(app)
oauth.register(
    "acs",
    client_id=CLIENT_ID,
    client_secret=CLIENT_SECRET,
    server_metadata_url=f"{ISSUER}/.well-known/openid-configuration",
    client_kwargs={"scope": "openid email profile programs", "code_challenge_method": "S256"},
)
# Portal sessions (sid) that ended: a real back end keeps this in its database or Redis.
ENDED_SIDS: set[str] = set()


def current_person() -> dict | None:
    """The signed-in person, unless the portal has since ended their session."""
    person = session.get("person")
    if person and person.get("sid") in ENDED_SIDS:
        session.clear()
        return None
    return person


@app.get("/")
def home():
    return render_template("home.html", person=current_person(), issuer=ISSUER)


@app.get("/login")
def login():
    return oauth.acs.authorize_redirect(f"{HERE}/callback")


@app.get("/callback")
def callback():
    if request.args.get("iss") not in (None, ISSUER):  # RFC 9207: a mix-up defence
        abort(400)
    token = oauth.acs.authorize_access_token()  # state, PKCE, ID token signature and nonce
    claims = token["userinfo"]
    session["person"] = {
        "sub": claims["sub"],
        "sid": claims.get("sid"),
        "email": claims.get("email"),
        "name": claims.get("name"),
        "programs": claims.get("programs", []),
    }
    session["id_token"] = token["id_token"]
    return redirect(url_for("home"))


@app.post("/logout")
def logout():
    """RP-initiated logout: end the portal session too, then come back here."""
    id_token = session.pop("id_token", None)
    session.clear()
    end = oauth.acs.load_server_metadata()["end_session_endpoint"]
    query = {"post_logout_redirect_uri": f"{HERE}/", "client_id": CLIENT_ID}
    if id_token:
        query["id_token_hint"] = id_token
    return redirect(f"{end}?{urlencode(query)}")


@app.post("/backchannel")
def backchannel():
    """OpenID Connect Back-Channel Logout: a signed logout token names the ended session."""
    metadata = oauth.acs.load_server_metadata()
    keys = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=5).json())
    try:
        token = jwt.decode(request.form.get("logout_token", ""), keys)
        claims = token.claims
        assert token.header.get("typ") == "logout+jwt"
        assert claims["iss"] == ISSUER and claims["aud"] in (CLIENT_ID, [CLIENT_ID])
        assert EVENT in claims.get("events", {}) and "nonce" not in claims
    except Exception:  # any invalid token: 400, as the specification says
        return {"error": "invalid_request"}, 400
    ENDED_SIDS.add(claims.get("sid"))
    return "", 200


if __name__ == "__main__":
    parts = urlsplit(HERE)
    app.run(host=parts.hostname, port=parts.port or 5001)
