"""The OpenID Connect provider, driven from outside: discovery, code + PKCE, tokens, claims."""

from __future__ import annotations

import time

from cryptography.fernet import Fernet
from joserfc import jwt
from joserfc.jwk import KeySet
from test_oidc_support import REDIRECT, query_of
from test_signin_seam import complete, hold

from acs_auth.services.signin.seam import Channel
from tests.support.config import STRONG_PASSWORD

pytest_plugins = ("test_oidc_support",)


def verify_id_token(client, token: str, audience: str) -> dict:
    keys = KeySet.import_key_set(client.get("/.well-known/jwks.json").get_json())
    claims = jwt.decode(token, keys, algorithms=["RS256", "EdDSA"]).claims
    assert claims["iss"] == "http://portal.test"
    assert claims["aud"] == [audience] or claims["aud"] == audience
    assert claims["exp"] > time.time()
    return claims


def test_discovery_names_the_endpoints_and_the_policy(client):
    meta = client.get("/.well-known/openid-configuration").get_json()
    assert meta["issuer"] == "http://portal.test"
    assert meta["authorization_endpoint"] == "http://portal.test/oauth/authorize"
    assert meta["jwks_uri"] == "http://portal.test/.well-known/jwks.json"
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert meta["backchannel_logout_supported"] is True


def test_code_flow_issues_a_signed_id_token_with_the_claims(make_rp, make_user, login_as, client):
    user_id = make_user(programs=("PROG-1", "PROG-2"))
    login_as(user_id)
    rp = make_rp()
    response = rp.authorize()
    answer = query_of(response.headers["Location"])
    assert response.headers["Location"].startswith(REDIRECT + "?")
    assert answer["iss"] == "http://portal.test" and answer["state"] == rp.state
    tokens = rp.token(answer["code"]).get_json()
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]
    claims = verify_id_token(client, tokens["id_token"], rp.client_id)
    assert claims["nonce"] == rp.nonce
    assert claims["email"] == "ada@example.org" and claims["email_verified"] is False
    assert claims["name"] == "Ada Lovelace"
    assert claims["programs"] == ["PROG-1", "PROG-2"]
    assert claims["amr"] == ["pwd"] and claims["acr"] and claims["auth_time"] <= time.time()
    assert claims["sub"] != str(user_id) and len(claims["sub"]) >= 20
    info = client.get(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.get_json()["sub"] == claims["sub"]
    assert info.get_json()["programs"] == ["PROG-1", "PROG-2"]


def test_sub_is_stable_per_account_and_distinct_between_accounts(
    make_rp, make_user, login_as, client
):
    ada = make_user()
    grace = make_user("grace@example.org")
    rp = make_rp()
    subs = []
    for user_id in (ada, grace, ada):
        login_as(user_id)
        subs.append(verify_id_token(client, rp.tokens()["id_token"], rp.client_id)["sub"])
    assert subs[0] == subs[2] != subs[1]


def test_signing_in_through_the_portal_comes_back_to_the_client(make_rp, make_user, auth, client):
    make_user()
    rp = make_rp()
    response = rp.authorize()
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    login_page = response.headers["Location"]
    back = auth.post(login_page, {"email": "ada@example.org", "password": STRONG_PASSWORD})
    assert back.status_code == 302 and back.headers["Location"].startswith("/oauth/authorize?")
    final = client.get(back.headers["Location"])
    assert final.headers["Location"].startswith(REDIRECT)


def test_prompt_none_without_a_session_answers_login_required(make_rp):
    rp = make_rp()
    answer = query_of(rp.authorize(prompt="none").headers["Location"])
    assert answer["error"] == "login_required" and answer["iss"] == "http://portal.test"


def test_production_without_a_key_file_serves_no_openid_connect(oidc_key_file):
    import secrets

    from acs_auth import create_app

    settings = {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "MFA_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "ALLOW_SQLITE_IN_PRODUCTION": True,
        "APP_URL": "https://portal.example.org",
        "MAIL_BACKEND": "console",
    }
    off = create_app("production", **settings).test_client()
    assert off.get("/.well-known/openid-configuration").status_code == 404
    assert off.get("/oauth/authorize").status_code == 404
    assert off.get("/.well-known/jwks.json").status_code == 404
    on = create_app("production", OIDC_PRIVATE_KEY_FILE=oidc_key_file, **settings).test_client()
    assert on.get("/.well-known/openid-configuration").status_code == 200


def test_development_generates_a_private_key_once_under_instance(make_app, tmp_path):
    import os
    import stat

    app = make_app(OIDC_PRIVATE_KEY_FILE=None)
    app.instance_path = str(tmp_path / "inst")
    client = app.test_client()
    first = client.get("/.well-known/jwks.json").get_json()["keys"]
    path = tmp_path / "inst" / "oidc-signing-key.pem"
    assert path.exists() and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [k["alg"] for k in first] == ["RS256"]
    again = make_app(OIDC_PRIVATE_KEY_FILE=None)
    again.instance_path = str(tmp_path / "inst")
    assert again.test_client().get("/.well-known/jwks.json").get_json()["keys"] == first


def test_an_asymmetric_api_key_signs_id_tokens_too(make_app, tmp_path, make_user, oidc_key_file):
    """One keyring: with JWT_PRIVATE_KEY_FILE the ID tokens carry the API key's kid."""
    from test_oidc_support import RelyingParty

    from acs_auth.services.signin import sessions

    app = make_app(JWT_ALGORITHM="RS256", JWT_PRIVATE_KEY_FILE=oidc_key_file)
    client = app.test_client()
    keys = client.get("/.well-known/jwks.json").get_json()["keys"]
    assert len(keys) == 1
    with app.app_context():
        from acs_auth.extensions import db
        from acs_auth.models import User

        user_id = make_user()
        user = db.session.get(User, user_id)
        with app.test_request_context():
            row = sessions.open_session(db.session.get(User, user_id), "browser")
            db.session.commit()
            public_id = row.public_id
        assert user is not None
    with client.session_transaction() as sess:
        sess["_user_id"] = public_id
    rp = RelyingParty(app, client)
    id_token = rp.tokens()["id_token"]
    from joserfc import jws

    header = jws.extract_compact(id_token.encode()).protected
    assert header["kid"] == keys[0]["kid"] and header["alg"] == "RS256"


def test_the_id_token_carries_the_methods_of_the_portal_sign_in(app, make_rp, make_user, client):
    """amr comes from the session row: a sign-in completed with a second factor says so."""
    held = hold(app, make_user(), Channel.PROVIDER)
    signed_in = complete(app, held, "otp")
    with client.session_transaction() as sess:  # the browser that completed it
        sess["_user_id"] = signed_in["sid"]
        sess["_fresh"] = True
    rp = make_rp()

    claims = verify_id_token(client, rp.tokens()["id_token"], rp.client_id)

    assert claims["amr"] == ["pwd", "otp", "mfa"]
