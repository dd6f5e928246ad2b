"""The API's second step: 401 mfa-required with a challenge, then POST /api/auth/login/mfa.

From outside, with the test client: the challenge is single-use, short-lived, bound to the API
(a browser's pending sign-in cannot be finished here), replayed and foreign codes are refused,
wrong codes lock the account, bad input answers problem JSON, and API keys are unaffected.
"""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from sqlalchemy import update

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import SignInChallenge, User, utcnow
from tests.support.config import STRONG_PASSWORD
from tests.support.db import read_db
from tests.support.mfa import code_for, enrol

LOGIN = "/api/auth/login"
STEP = "/api/auth/login/mfa"


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"]
    return body


def challenge(client, email: str = "ada@example.org") -> str:
    answer = client.post(LOGIN, json={"email": email, "password": STRONG_PASSWORD})
    body = problem_of(answer, 401)
    assert body["type"].endswith("/api/problems/mfa-required")
    return body["challenge"]


def finish(client, handle: str, code: str):
    return client.post(STEP, json={"challenge": handle, "code": code})


def test_sign_in_answers_mfa_required_with_a_challenge_and_no_tokens(client, totp_enrolled):
    answer = client.post(LOGIN, json={"email": "ada@example.org", "password": STRONG_PASSWORD})
    body = problem_of(answer, 401)
    assert body["type"] == "http://portal.test/api/problems/mfa-required"
    assert body["detail"] == messages.SECOND_FACTOR_REQUIRED
    assert len(body["challenge"]) >= 43 and body["expires_at"]
    assert body["methods"] == ["recovery_codes", "totp"]
    assert "access_token" not in body and "refresh_token" not in body
    # Without the second step the challenge is no credential: it opens nothing.
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['challenge']}"})
    assert me.status_code == 401


def test_the_code_turns_the_challenge_into_tokens_that_carry_amr(client, totp_enrolled):
    _user_id, key, _codes = totp_enrolled
    answer = finish(client, challenge(client), code_for(key))
    assert answer.status_code == 200, answer.get_json()
    assert answer.headers["Cache-Control"] == "no-store"
    pair = answer.get_json()
    assert claims(pair["access_token"])["amr"] == ["pwd", "otp", "mfa"]
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.status_code == 200 and me.get_json()["email"] == "ada@example.org"
    refreshed = client.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert claims(refreshed.get_json()["access_token"])["amr"] == ["pwd", "otp", "mfa"]


def test_a_challenge_works_once(client, totp_enrolled):
    _user_id, key, _codes = totp_enrolled
    handle = challenge(client)
    assert finish(client, handle, code_for(key)).status_code == 200
    again = finish(client, handle, code_for(key, 1))
    assert problem_of(again, 401)["detail"] == messages.MFA_CHALLENGE_INVALID


def test_a_wrong_code_keeps_the_challenge_for_the_next_try(client, totp_enrolled):
    _user_id, key, _codes = totp_enrolled
    handle = challenge(client)
    wrong = f"{(int(code_for(key)) + 500_000) % 1_000_000:06d}"
    body = problem_of(finish(client, handle, wrong), 401)
    assert body["type"].endswith("/api/problems/mfa-code-invalid")
    assert body["detail"] == messages.MFA_CODE_WRONG
    assert finish(client, handle, code_for(key)).status_code == 200


def test_a_replayed_code_is_refused(client, totp_enrolled):
    _user_id, key, _codes = totp_enrolled
    code = code_for(key)
    assert finish(client, challenge(client), code).status_code == 200
    problem_of(finish(client, challenge(client), code), 401)


def test_a_code_of_another_account_is_refused(app, client, totp_enrolled, make_user, login_as):
    setup = app.test_client()
    login_as(make_user(email="grace@example.org"), on=setup)
    grace_key, _ = enrol(setup)
    problem_of(finish(client, challenge(client), code_for(grace_key)), 401)
    # Grace's own challenge is no way into Ada's account either: each is bound to its account.
    answer = finish(client, challenge(client, "grace@example.org"), code_for(grace_key))
    assert claims(answer.get_json()["access_token"])["sub"] != str(totp_enrolled[0])


def test_a_recovery_code_finishes_once(client, totp_enrolled):
    _user_id, _key, codes = totp_enrolled
    assert finish(client, challenge(client), codes[0]).status_code == 200
    problem_of(finish(client, challenge(client), codes[0]), 401)


def test_guessing_codes_locks_the_account(app, client, totp_enrolled):
    user_id, key, _codes = totp_enrolled
    wrong = f"{(int(code_for(key)) + 500_000) % 1_000_000:06d}"
    handle = challenge(client)
    for _ in range(app.config["MAX_LOGIN_ATTEMPTS"] - 1):
        assert problem_of(finish(client, handle, wrong), 401)["detail"] == messages.MFA_CODE_WRONG
    locked = problem_of(finish(client, handle, wrong), 401)
    assert locked["detail"] == messages.MFA_CHALLENGE_INVALID
    assert read_db(app, lambda: db.session.get(User, user_id).is_locked())
    # Locked: even the right password and then the right code get nowhere.
    refused = client.post(LOGIN, json={"email": "ada@example.org", "password": STRONG_PASSWORD})
    assert problem_of(refused, 401)["detail"] == messages.LOGIN_FAILED


def test_an_expired_challenge_is_refused(app, client, totp_enrolled):
    _user_id, key, _codes = totp_enrolled
    handle = challenge(client)
    with app.app_context():
        db.session.execute(
            update(SignInChallenge).values(created_at=utcnow() - timedelta(minutes=5, seconds=1))
        )
        db.session.commit()
    problem_of(finish(client, handle, code_for(key)), 401)


def test_a_browsers_pending_sign_in_cannot_be_finished_through_the_api(app, totp_enrolled):
    _user_id, key, _codes = totp_enrolled
    browser = app.test_client()
    page = browser.get("/login").get_data(as_text=True)
    from tests.support.web import csrf_from

    data = {"csrf_token": csrf_from(page), "email": "ada@example.org", "password": STRONG_PASSWORD}
    browser.post("/login", data=data)
    with browser.session_transaction() as session:
        handle = session["signin_pending"]
    api = app.test_client()
    problem_of(finish(api, handle, code_for(key)), 401)


@pytest.mark.parametrize(
    "body",
    [
        {"challenge": "x", "code": "12a!56"},
        {"challenge": "x", "code": "1" * 40},
        {"challenge": "x", "code": "123\x00456"},
        {"challenge": "x", "code": 123456},
        {"challenge": "x" * 200, "code": "123456"},
        {"code": "123456"},
        {"challenge": "x"},
        {"challenge": "x", "code": "123456", "email": "ada@example.org"},
    ],
    ids=[
        "symbol",
        "too-long",
        "nul",
        "number",
        "long-challenge",
        "no-challenge",
        "no-code",
        "extra",
    ],
)
def test_bad_input_answers_422_problem_json(client, totp_enrolled, body):
    answer = client.post(STEP, json=body)
    problem = problem_of(answer, 422)
    assert problem["errors"]


def test_not_json_answers_problem_json(client, totp_enrolled):
    answer = client.post(STEP, data="challenge=x&code=1", content_type="text/plain")
    assert answer.status_code in (400, 415)
    assert answer.mimetype == "application/problem+json"


def test_api_keys_are_not_asked_for_a_second_step(app, client, make_user):
    """A key minted before the factor was set up keeps working: it is a credential of its own."""
    user_id = make_user()
    pair = client.post(LOGIN, json={"email": "ada@example.org", "password": STRONG_PASSWORD})
    token = pair.get_json()["access_token"]
    minted = client.post(
        "/api/auth/api-keys",
        json={"name": "script", "current_password": STRONG_PASSWORD},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert minted.status_code == 201, minted.get_json()
    key = minted.get_json()["key"]
    setup = app.test_client()
    from tests.support.web import AuthActions

    AuthActions(setup).login("ada@example.org")
    enrol(setup)
    me = client.get("/api/auth/me", headers={"X-API-Key": key})
    assert me.status_code == 200 and me.get_json()["id"] == user_id


LIMITED = {
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_MFA_PER_ACCOUNT": "3 per minute",
    "MAX_LOGIN_ATTEMPTS": 50,
}


@pytest.mark.parametrize("app_overrides", [LIMITED])
def test_codes_are_limited_per_account_across_browser_and_api(app, totp_enrolled):
    _user_id, key, _codes = totp_enrolled
    from tests.support.web import AuthActions, csrf_from

    wrong = f"{(int(code_for(key)) + 500_000) % 1_000_000:06d}"
    browser = app.test_client()
    AuthActions(browser).login("ada@example.org")
    for _ in range(2):
        page = browser.get("/login/second-factor").get_data(as_text=True)
        answer = browser.post(
            "/login/second-factor", data={"csrf_token": csrf_from(page), "code": wrong}
        )
        assert answer.status_code == 200
    api = app.test_client()
    handle = challenge(api)
    problem_of(finish(api, handle, wrong), 401)
    limited = finish(api, handle, code_for(key))  # even the right code waits now
    assert problem_of(limited, 429)["detail"]
    assert int(limited.headers["Retry-After"]) > 0
