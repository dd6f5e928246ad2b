"""JWT handling of the API: refresh rotation and reuse, attacks on tokens, RS256/EdDSA and JWKS."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from sqlalchemy import select, update
from test_api_support import NEW_PASSWORD, Api, assert_problem, b64url, forge, token_parts

from acs_auth import create_app, messages
from acs_auth.extensions import db, reads_engine
from acs_auth.models import AuthSession, Role, User, utcnow
from acs_auth.services.signin import jwt_tokens
from tests.support.db import read_db, statements_sent

# The `api` fixture (a client whose answers are checked against the OpenAPI document).
pytest_plugins = ("test_api_support",)


def session_row(app):
    return read_db(app, lambda: db.session.scalars(select(AuthSession)).all())


def claims_of(token: str) -> dict:
    return token_parts(token)[1]


def sign_hs256(app, **changes) -> str:
    """A token signed with the app's real HS256 key, with ``changes`` applied to valid claims."""
    now = int(time.time())
    claims = {
        "iss": app.config["JWT_ISSUER"],
        "aud": app.config["JWT_AUDIENCE"],
        "sub": "1",
        "iat": now,
        "exp": now + 600,
        "jti": "j",
        "type": "access",
        "sid": "s",
    }
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")


# --- refresh rotation -------------------------------------------------------------------------


def test_refresh_rotates_and_never_extends_the_session(app, api, make_user):
    make_user()
    first = api.login()
    [before] = session_row(app)
    response = api.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    second = response.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert claims_of(second["refresh_token"])["exp"] == claims_of(first["refresh_token"])["exp"]
    [after] = session_row(app)
    assert after.expires_at == before.expires_at
    assert after.refresh_generation == before.refresh_generation + 1
    assert after.refresh_token_hash == hashlib.sha256(second["refresh_token"].encode()).hexdigest()
    assert api.get("/api/auth/me", token=second["access_token"]).status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_session(app, api, make_user):
    make_user()
    first = api.login()
    second = api.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    second = second.get_json()
    replay = api.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert_problem(replay, 401, messages.API_REFRESH_INVALID)
    [row] = session_row(app)
    assert row.revoked_at is not None and row.revoked_reason == "refresh_reused"
    # The thief's or the owner's newer tokens die with the session.
    assert_problem(api.get("/api/auth/me", token=second["access_token"]), 401)
    newer = api.post("/api/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert newer.status_code == 401


def test_refresh_ends_with_the_absolute_lifetime(app, api, make_user):
    make_user()
    pair = api.login()

    def expire():
        db.session.execute(update(AuthSession).values(expires_at=utcnow()))
        db.session.commit()

    read_db(app, expire)
    response = api.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert_problem(response, 401)
    [row] = session_row(app)
    assert row.revoked_at is None  # an expired session is not a reuse


def test_twenty_parallel_refreshes_leave_at_most_one_live_successor(app, api, make_user):
    make_user()
    pair = api.login()
    barrier = threading.Barrier(20)
    answers: list = []
    lock = threading.Lock()

    def refresh():
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        with lock:
            answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=refresh) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == 20
    assert all(code in (200, 401) for code, _ in answers)
    winners = [body for code, body in answers if code == 200]
    assert len(winners) <= 1
    live = [
        body
        for body in winners
        if api.get("/api/auth/me", token=body["access_token"]).status_code == 200
    ]
    assert len(live) <= 1
    refreshable = [
        body
        for body in winners
        if api.post("/api/auth/refresh", json={"refresh_token": body["refresh_token"]}).status_code
        == 200
    ]
    assert len(refreshable) <= 1


def test_access_token_is_not_a_refresh_token_and_the_reverse(app, api, make_user):
    make_user()
    pair = api.login()
    assert_problem(api.get("/api/auth/me", token=pair["refresh_token"]), 401)
    response = api.post("/api/auth/refresh", json={"refresh_token": pair["access_token"]})
    assert_problem(response, 401)
    [row] = session_row(app)
    assert row.revoked_at is None
    assert api.get("/api/auth/me", token=pair["access_token"]).status_code == 200


# --- attacks on access tokens -----------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_is_refused_in_every_spelling(api, make_user, alg):
    make_user()
    token = api.token()
    header, claims, signature = token_parts(token)
    for sig in ("", signature):
        forged = forge({**header, "alg": alg}, claims, sig)
        response = api.get("/api/auth/me", token=forged)
        assert_problem(response, 401)
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_changed_claim_with_the_old_signature_is_refused(api, make_user):
    make_user()
    make_user(email="admin@example.org", role=Role.ADMIN.value)
    token = api.token()
    header, claims, signature = token_parts(token)
    for change in ({"sub": "2"}, {"exp": claims["exp"] + 3600}, {"type": "access", "x": 1}):
        forged = forge(header, {**claims, **change}, signature)
        assert_problem(api.get("/api/auth/me", token=forged), 401)


@pytest.mark.parametrize(
    "changes",
    [
        {"aud": "another-api"},
        {"iss": "someone-else"},
        {"exp": int(time.time()) - 3600},
        {"iat": None},
        {"jti": None},
        {"sid": None},
        {"type": None},
        {"type": "refresh"},
        {"sub": "not-a-number"},
    ],
    ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()),
)
def test_wrong_audience_issuer_expiry_or_missing_claims_are_refused(app, api, make_user, changes):
    make_user()
    real = claims_of(api.token())
    genuine = {"sub": real["sub"], "sid": real["sid"]}
    token = sign_hs256(app, **{**genuine, **changes})
    assert_problem(api.get("/api/auth/me", token=token), 401)
    # The same token without the change is accepted, so the change is what was refused.
    assert api.get("/api/auth/me", token=sign_hs256(app, **genuine)).status_code == 200


@pytest.mark.parametrize(
    "header",
    ["Bearer ", "Bearer null", "Bearer undefined", "Bearer", "null", "Basic YTpi", "Token abc", ""],
)
def test_empty_null_or_foreign_credentials_are_refused(api, make_user, header):
    make_user()
    api.login()
    response = api.get("/api/auth/me", headers={"Authorization": header})
    assert_problem(response, 401, messages.API_AUTH_REQUIRED)


def test_bearer_scheme_is_case_insensitive(api, make_user):
    make_user()
    token = api.token()
    response = api.get("/api/auth/me", headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200


def test_tokens_die_after_logout_password_change_and_deactivation(app, api, make_user):
    make_user()
    token = api.token()
    api.post("/api/auth/logout", token=token)
    assert_problem(api.get("/api/auth/me", token=token), 401)
    token, other = api.token(), api.token()
    body = {"current_password": "correct horse battery staple 42", "new_password": NEW_PASSWORD}
    assert api.post("/api/auth/change-password", token=other, json=body).status_code == 200
    assert_problem(api.get("/api/auth/me", token=token), 401)
    token = api.token(password=NEW_PASSWORD)

    def deactivate():
        db.session.execute(update(User).values(is_active_flag=False))
        db.session.commit()

    read_db(app, deactivate)
    assert_problem(api.get("/api/auth/me", token=token), 401)


def test_a_remembered_verification_still_expires(api, make_user, monkeypatch):
    make_user()
    token = api.token()
    assert api.get("/api/auth/me", token=token).status_code == 200  # verified and remembered
    late = claims_of(token)["exp"] + jwt_tokens.LEEWAY_SECONDS + 1
    monkeypatch.setattr(jwt_tokens, "now", lambda: late)
    assert_problem(api.get("/api/auth/me", token=token), 401)


def test_a_remembered_verification_dies_with_its_key(app, api, make_user):
    make_user()
    token = api.token()
    assert api.get("/api/auth/me", token=token).status_code == 200
    app.config["JWT_SECRET_KEY"] = "a-rotated-hmac-secret-" * 3
    assert_problem(api.get("/api/auth/me", token=token), 401)
    assert api.get("/api/auth/me", token=api.token()).status_code == 200


def test_role_changes_act_on_the_next_request(app, api, make_user):
    make_user()
    token = api.token()
    assert_problem(api.get("/api/admin/stats", token=token), 403, messages.API_ADMIN_ONLY)

    def promote():
        db.session.execute(update(User).values(role=Role.ADMIN.value))
        db.session.commit()

    read_db(app, promote)
    assert api.get("/api/admin/stats", token=token).status_code == 200


def test_the_browser_session_cookie_is_never_accepted(api, make_user, login_as):
    login_as(make_user())
    assert api.client.get("/account").status_code == 200  # the cookie works for pages
    assert_problem(api.get("/api/auth/me"), 401)
    assert_problem(api.get("/api/programs"), 401)


@pytest.mark.parametrize("name", ["access_token", "token", "api_key", "jwt", "Access_Token"])
def test_credentials_in_the_url_are_refused(api, make_user, name):
    make_user()
    token = api.token()
    response = api.get(f"/api/auth/me?{name}={token}", validate_spec=False)
    assert_problem(response, 400, messages.API_CREDENTIALS_IN_URL)
    response = api.get(f"/api/ping?{name}=x", validate_spec=False)
    assert_problem(response, 400, messages.API_CREDENTIALS_IN_URL)


def test_an_authenticated_request_costs_one_database_query(app, api, make_user):
    make_user()
    token = api.token()
    key = api.new_key(token, scope="read")["key"]
    api.get("/api/auth/me", key=key)  # the first use records last_used_at
    with app.app_context():
        # The main engine and, on a database server, the lookup's own (the same on SQLite).
        engines = list(dict.fromkeys([db.engine, reads_engine()]))
    with statements_sent(*engines) as statements:
        for credential in ({"token": token}, {"key": key}):
            statements.clear()
            response = api.get("/api/auth/me", **credential)
            assert response.status_code == 200
            assert response.get_json()["programs"] == ["PROG-1"]
            assert len(statements) == 1, statements
            assert "FROM auth_sessions" in statements[0] or "FROM api_keys" in statements[0]
            statements.clear()
            assert api.get("/api/programs", **credential).get_json()["programs"] == ["PROG-1"]
            # The lookup, then one read of the program catalogue for names and launch URLs.
            assert len(statements) == 2, statements
            assert "FROM programs" in statements[1]


# --- RS256 / EdDSA, kid, JWKS and rotation ----------------------------------------------------


def write_key(path, kind: str):
    key = (
        rsa.generate_private_key(65537, 2048)
        if kind == "rsa"
        else ed25519.Ed25519PrivateKey.generate()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(pem)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_path = path.with_suffix(".pub")
    public_path.write_bytes(public)
    return path, public_path


@pytest.mark.parametrize("kind, alg", [("rsa", "RS256"), ("ed25519", "EdDSA")])
def test_asymmetric_tokens_carry_a_kid_published_in_the_jwks(
    app, make_app, make_user, tmp_path, kind, alg
):
    private, _ = write_key(tmp_path / "key.pem", kind)
    signer = make_app(JWT_PRIVATE_KEY_FILE=str(private))
    client = Api(signer.test_client())
    make_user()
    token = client.token()
    header, claims, _ = token_parts(token)
    assert header["alg"] == alg and header["kid"]
    jwks = client.get("/api/auth/.well-known/jwks.json").get_json()
    assert [k["kid"] for k in jwks["keys"]] == [header["kid"]]
    assert "d" not in jwks["keys"][0]  # never the private part
    verified = jwt.decode(
        token,
        jwt.PyJWKSet.from_dict(jwks)[header["kid"]].key,
        algorithms=[alg],
        audience=signer.config["JWT_AUDIENCE"],
    )
    assert verified["sid"] == claims["sid"]
    assert client.get("/api/auth/me", token=token).status_code == 200
    # The HS256 app (another secret, no such key) does not accept it.
    assert_problem(Api(app.test_client()).get("/api/auth/me", token=token), 401)


def test_hs256_signed_with_the_public_key_is_refused(make_app, app, make_user, tmp_path):
    private, public = write_key(tmp_path / "key.pem", "rsa")
    signer = make_app(JWT_PRIVATE_KEY_FILE=str(private))
    client = Api(signer.test_client())
    make_user()
    header, claims, _ = token_parts(client.token())
    for confused in ({"alg": "HS256", "kid": header["kid"]}, {"alg": "HS256"}):
        head = b64url(__import__("json").dumps({**header, **confused}).encode())
        body = b64url(__import__("json").dumps(claims).encode())
        mac = hmac.new(public.read_bytes(), f"{head}.{body}".encode(), hashlib.sha256).digest()
        forged = f"{head}.{body}.{b64url(mac)}"
        assert_problem(client.get("/api/auth/me", token=forged), 401)
    for kid in ("unknown", None):
        changed = {k: v for k, v in {**header, "kid": kid}.items() if v is not None}
        assert_problem(client.get("/api/auth/me", token=forge(changed, claims, "sig")), 401)


def test_the_previous_key_verifies_during_a_rotation(app, make_app, make_user, tmp_path):
    old_private, old_public = write_key(tmp_path / "old.pem", "rsa")
    new_private, _ = write_key(tmp_path / "new.pem", "ed25519")
    before = make_app(JWT_PRIVATE_KEY_FILE=str(old_private))
    make_user()
    old_token = Api(before.test_client()).token()
    during = make_app(
        JWT_PRIVATE_KEY_FILE=str(new_private), JWT_PREVIOUS_PUBLIC_KEY_FILE=str(old_public)
    )
    client = Api(during.test_client())
    assert client.get("/api/auth/me", token=old_token).status_code == 200
    new_token = client.token()
    assert token_parts(new_token)[0]["alg"] == "EdDSA"
    assert len(client.get("/api/auth/.well-known/jwks.json").get_json()["keys"]) == 2
    after = make_app(JWT_PRIVATE_KEY_FILE=str(new_private))
    assert_problem(Api(after.test_client()).get("/api/auth/me", token=old_token), 401)
    assert Api(after.test_client()).get("/api/auth/me", token=new_token).status_code == 200


def test_the_hs256_jwks_is_empty(api):
    response = api.get("/api/auth/.well-known/jwks.json")
    assert response.get_json() == {"keys": []}


def test_unusable_key_settings_stop_the_start(tmp_path):
    private, _ = write_key(tmp_path / "key.pem", "ed25519")
    weak = rsa.generate_private_key(65537, 1024).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "weak.pem").write_bytes(weak)
    (tmp_path / "junk.pem").write_text("not a key")
    for settings in (
        {"JWT_PRIVATE_KEY_FILE": str(private), "JWT_ALGORITHM": "RS256"},
        {"JWT_PRIVATE_KEY_FILE": str(tmp_path / "missing.pem")},
        {"JWT_PRIVATE_KEY_FILE": str(tmp_path / "weak.pem")},
        {"JWT_PRIVATE_KEY_FILE": str(tmp_path / "junk.pem")},
        {"JWT_ALGORITHM": "RS256"},
        {"JWT_SECRET_KEY": "short"},
    ):
        with pytest.raises(jwt_tokens.KeyConfigurationError):
            create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://", **settings)


def test_an_api_sign_in_is_one_transaction(app, api, make_user):
    """Session, refresh-token hash and audit event are written by one commit, not two."""
    make_user()
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("counts COMMIT through SQLite's statement trace")
    with statements_sent(engine) as statements:
        pair = api.login()
    commits = [s for s in statements if s.upper().startswith("COMMIT")]
    assert len(commits) == 1, statements
    [row] = session_row(app)
    assert row.refresh_token_hash == hashlib.sha256(pair["refresh_token"].encode()).hexdigest()
