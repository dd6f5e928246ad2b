"""Attacks on the provider, from outside: redirect URIs, PKCE, codes, iss, logout, people."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from test_oidc_support import POST_LOGOUT, REDIRECT, query_of

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import AuditEvent, AuthSession, OAuthCode, Role, User, utcnow
from acs_auth.services.accounts import user_admin
from tests.support.db import read_db

pytest_plugins = ("test_oidc_support",)
ISSUER = "http://portal.test"


@pytest.fixture
def ada(make_user, login_as):
    user_id = make_user(programs=("PROG-1",))
    login_as(user_id)
    return user_id


def bearer(client, token):
    return client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {token}"})


def introspect(client, rp, token):
    return client.post("/oauth/introspect", data={"token": token}, auth=(rp.client_id, rp.secret))


def events(app, name):
    return read_db(
        app,
        lambda: db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)).all(),
    )


@pytest.mark.parametrize(
    "uri",
    [
        "https://chatbot.example/callback/../evil",
        "https://chatbot.example/callbackx",
        "https://chatbot.example/callback?x=1",
        "https://chatbot.example/",
        "https://evil.example/callback",
        "HTTPS://chatbot.example/callback",
    ],
)
def test_a_redirect_uri_that_is_not_registered_exactly_gets_a_page_not_a_redirect(
    make_rp, ada, uri
):
    rp = make_rp()
    response = rp.authorize(redirect_uri=uri)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert messages.OIDC_BAD_REQUEST in response.get_data(as_text=True)


def test_a_missing_redirect_uri_is_refused(make_rp, ada):
    response = make_rp().authorize(redirect_uri=None)
    assert response.status_code == 400 and "Location" not in response.headers


@pytest.mark.parametrize(
    "pkce",
    [
        {"code_challenge": None, "code_challenge_method": None},
        {"code_challenge_method": "plain"},
        {"code_challenge_method": None},
    ],
    ids=["missing", "plain", "method-omitted"],
)
def test_pkce_s256_is_required_even_for_confidential_clients(make_rp, ada, pkce):
    rp = make_rp()
    assert rp.secret is not None  # a confidential client
    response = rp.authorize(**pkce)
    answer = query_of(response.headers["Location"])
    assert answer["error"] == "invalid_request" and "code" not in answer
    assert answer["iss"] == ISSUER and answer["state"] == rp.state


def test_a_wrong_or_missing_code_verifier_gets_no_tokens(make_rp, ada):
    rp = make_rp()
    assert rp.token(rp.code(), verifier="x" * 50).get_json()["error"] == "invalid_grant"
    assert rp.token(rp.code(), verifier=None).get_json()["error"] == "invalid_request"


def test_a_replayed_code_is_refused_and_revokes_what_it_issued(app, make_rp, ada, client):
    rp = make_rp()
    code = rp.code()
    first = rp.token(code).get_json()
    assert bearer(client, first["access_token"]).status_code == 200
    again = rp.token(code)
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"
    assert bearer(client, first["access_token"]).status_code == 401
    assert introspect(client, rp, first["refresh_token"]).get_json() == {"active": False}
    assert len(events(app, "oidc.code_replayed")) == 1


def test_a_code_lives_at_most_sixty_seconds(app, make_rp, ada):
    rp = make_rp()
    code = rp.code()
    with app.app_context():
        row = db.session.scalar(select(OAuthCode))
        assert row.expires_at - row.created_at <= timedelta(seconds=60)
        db.session.execute(update(OAuthCode).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert rp.token(code).get_json()["error"] == "invalid_grant"


def test_a_code_from_another_client_is_refused(make_rp, ada):
    mine, theirs = make_rp(name="Mine"), make_rp(name="Theirs")
    code = theirs.code()
    mine.verifier = theirs.verifier
    assert mine.token(code).get_json()["error"] == "invalid_grant"
    assert theirs.token(code).status_code == 200  # still unused: the attempt did not burn it


def test_a_wrong_client_secret_is_refused(make_rp, ada, client):
    rp = make_rp()
    code = rp.code()
    rp.secret = "not-the-secret"
    response = rp.token(code)
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


def test_every_authorization_response_names_the_issuer(make_rp, ada):
    """Mix-up defence (RFC 9207): success and error answers carry iss = our issuer."""
    rp = make_rp()
    ok = query_of(rp.authorize().headers["Location"])
    bad = query_of(rp.authorize(scope="openid", response_type="token").headers["Location"])
    assert ok["iss"] == ISSUER and bad["iss"] == ISSUER and "code" not in bad


def test_implicit_and_password_grants_are_not_offered(make_rp, ada, client):
    rp = make_rp()
    for response_type in ("token", "id_token", "code id_token", "code token"):
        answer = query_of(rp.authorize(response_type=response_type).headers["Location"])
        assert answer["error"] == "unsupported_response_type", response_type
    response = client.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "ada@example.org", "password": "x"},
        auth=(rp.client_id, rp.secret),
    )
    assert response.get_json()["error"] == "unsupported_grant_type"


def test_a_person_without_the_clients_program_gets_a_clear_page(app, make_rp, ada):
    rp = make_rp(programs=[])  # catalogue empty: any ID accepted
    with app.app_context():
        from acs_auth.oidc import clients

        clients.update(clients.get(rp.client_id), actor=None, programs=["PROG-9"])
    response = rp.authorize()
    assert response.status_code == 403 and "Location" not in response.headers
    assert "Chatbot is only for people authorized" in response.get_data(as_text=True)
    assert len(events(app, "oidc.denied_program")) == 1


def test_a_deactivated_person_gets_no_tokens_and_loses_the_ones_they_had(app, make_rp, ada, client):
    rp = make_rp()
    tokens = rp.tokens()
    code = rp.code()
    with app.app_context():
        user = db.session.get(User, ada)
        admin = User(email="root@example.org", email_key="root@example.org", role=Role.ADMIN.value)
        db.session.add(admin)
        db.session.commit()
        user_admin.update_user(user, role="user", programs=["PROG-1"], active=False, actor=admin)
    assert rp.token(code).get_json()["error"] == "invalid_grant"
    assert bearer(client, tokens["access_token"]).status_code == 401
    assert rp.refresh(tokens["refresh_token"]).get_json()["error"] == "invalid_grant"


def test_refresh_rotates_and_reuse_revokes_the_family(app, make_rp, ada, client):
    rp = make_rp()
    first = rp.tokens()
    second = rp.refresh(first["refresh_token"]).get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert bearer(client, second["access_token"]).status_code == 200
    reused = rp.refresh(first["refresh_token"])
    assert reused.get_json()["error"] == "invalid_grant"
    assert bearer(client, second["access_token"]).status_code == 401
    assert rp.refresh(second["refresh_token"]).get_json()["error"] == "invalid_grant"
    assert len(events(app, "oidc.refresh_reused")) == 1


def test_a_revoked_refresh_token_no_longer_refreshes(make_rp, ada, client):
    rp = make_rp()
    tokens = rp.tokens()
    response = client.post(
        "/oauth/revoke",
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        auth=(rp.client_id, rp.secret),
    )
    assert response.status_code == 200
    assert rp.refresh(tokens["refresh_token"]).get_json()["error"] == "invalid_grant"
    assert bearer(client, tokens["access_token"]).status_code == 401


def test_introspection_answers_only_the_client_that_owns_the_token(make_rp, ada, client):
    mine, other = make_rp(name="Mine"), make_rp(name="Other")
    tokens = mine.tokens()
    body = introspect(client, mine, tokens["access_token"]).get_json()
    assert body["active"] is True and body["client_id"] == mine.client_id
    assert body["iss"] == ISSUER and body["scope"] == "openid email profile programs"
    assert introspect(client, other, tokens["access_token"]).get_json()["active"] is False


def test_post_logout_redirect_goes_only_to_a_registered_uri(app, make_rp, ada, client):
    rp = make_rp()
    id_token = rp.tokens()["id_token"]
    evil = client.get(
        "/oauth/logout",
        query_string={
            "id_token_hint": id_token,
            "post_logout_redirect_uri": "https://evil.example/",
        },
    )
    assert evil.status_code == 200 and "Location" not in evil.headers
    assert client.get("/account").status_code == 302  # the portal session ended all the same


def test_rp_initiated_logout_ends_the_portal_session_and_returns(app, make_rp, ada, client):
    rp = make_rp()
    id_token = rp.tokens()["id_token"]
    response = client.get(
        "/oauth/logout",
        query_string={
            "id_token_hint": id_token,
            "post_logout_redirect_uri": POST_LOGOUT,
            "state": "s1",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == POST_LOGOUT + "?state=s1"
    assert client.get("/account").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(AuthSession.revoked_reason)) == "logout"


def test_logout_without_an_id_token_asks_first_and_never_redirects(make_rp, ada, client):
    rp = make_rp()
    page = client.get(
        "/oauth/logout",
        query_string={"client_id": rp.client_id, "post_logout_redirect_uri": POST_LOGOUT},
    )
    assert page.status_code == 200 and client.get("/account").status_code == 200


def test_prompt_login_asks_for_the_password_again(app, make_rp, ada):
    response = make_rp().authorize(prompt="login")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    assert "prompt" not in response.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(AuthSession.revoked_at)) is not None


def test_max_age_exceeded_asks_for_the_password_again(app, make_rp, ada):
    with app.app_context():
        db.session.execute(update(AuthSession).values(created_at=utcnow() - timedelta(minutes=10)))
        db.session.commit()
    rp = make_rp()
    assert rp.authorize(max_age="3600").headers["Location"].startswith(REDIRECT)
    assert rp.authorize(max_age="60").headers["Location"].startswith("/login?next=")


def test_a_third_party_client_asks_for_consent_once_until_withdrawn(app, make_rp, ada, client):
    from tests.support.web import csrf_from

    rp = make_rp(first_party=False)
    page = rp.authorize()
    assert page.status_code == 200 and "Allow Chatbot" in page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    url = page.request.url
    denied = client.post(url, data={"csrf_token": token, "decision": "deny"})
    assert query_of(denied.headers["Location"])["error"] == "access_denied"
    allowed = client.post(url, data={"csrf_token": token, "decision": "allow"})
    assert "code" in query_of(allowed.headers["Location"])
    assert rp.authorize().status_code == 302  # remembered
    apps = client.get("/account/apps").get_data(as_text=True)
    assert "Chatbot" in apps
    client.post(f"/account/apps/{rp.client_id}/revoke", data={"csrf_token": csrf_from(apps)})
    assert rp.authorize().status_code == 200  # asked again
    assert len(events(app, "oidc.consent_granted")) == 1


def test_a_public_client_uses_pkce_without_a_secret(make_rp, ada, client):
    rp = make_rp(public=True)
    assert rp.secret is None
    tokens = rp.tokens()
    assert bearer(client, tokens["access_token"]).status_code == 200
    response = client.post(
        "/oauth/introspect", data={"token": tokens["access_token"], "client_id": rp.client_id}
    )
    assert response.status_code == 401  # introspection is for confidential clients


def test_the_sign_in_page_lets_only_a_registered_redirect_origin_end_the_form_chain(
    make_rp, client
):
    from urllib.parse import urlencode

    rp = make_rp()
    good = "/oauth/authorize?" + urlencode({"client_id": rp.client_id, "redirect_uri": REDIRECT})
    bad = "/oauth/authorize?" + urlencode(
        {"client_id": rp.client_id, "redirect_uri": "https://evil.example/callback"}
    )
    csp = client.get("/login", query_string={"next": good}).headers["Content-Security-Policy"]
    assert "form-action 'self' https://chatbot.example;" in csp + ";"
    csp = client.get("/login", query_string={"next": bad}).headers["Content-Security-Policy"]
    assert "form-action 'self'" in csp and "evil.example" not in csp


def test_max_age_zero_asks_once_and_then_lets_the_fresh_sign_in_through(make_rp, ada, auth):
    from tests.support.config import STRONG_PASSWORD

    rp = make_rp()
    login = rp.authorize(max_age="0").headers["Location"]
    assert login.startswith("/login?next=") and "max_age" not in login
    back = auth.post(login, {"email": "ada@example.org", "password": STRONG_PASSWORD})
    final = rp.http.get(back.headers["Location"])
    assert final.headers["Location"].startswith(REDIRECT) and "code=" in final.headers["Location"]
