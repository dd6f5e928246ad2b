"""The sign-in seam's pending state (expiry, binding, single use) and the methods (amr) it records.

Pending sign-ins are driven through the seam's public functions (hold, resume, complete) as the
second-factor pages will drive them; what they lead to is checked from outside: session rows,
the tokens a client receives, and the API answering them.
"""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from sqlalchemy import select, update

from acs_auth.extensions import db
from acs_auth.models import AuditEvent, AuthSession, SignInChallenge, User, utcnow
from acs_auth.services.accounts.passwords import hash_password
from acs_auth.services.signin import browser, refresh, seam
from acs_auth.services.signin.seam import Channel
from tests.support.browser import sessions_of, update_user, user_state
from tests.support.config import STRONG_PASSWORD
from tests.support.db import read_db

NEW_PASSWORD = "violet marmalade tugboat 1923"


def hold(app, user_id: int, channel: Channel = Channel.BROWSER, **options) -> seam.Pending:
    """A pending sign-in for ``user_id`` whose password has just been checked."""
    with app.test_request_context():
        try:
            return seam.hold(db.session.get(User, user_id), channel, **options)
        finally:
            db.session.remove()


def resume(app, handle, channel: Channel = Channel.BROWSER) -> seam.Pending | None:
    with app.test_request_context():
        try:
            return seam.resume(handle, channel)
        finally:
            db.session.remove()


def complete(app, held: seam.Pending, method: str = "otp", before_commit=None):
    """Finish ``held`` with a second factor; the new session's (public id, amr, remember)."""
    with app.test_request_context():
        try:
            done = seam.complete(held, method, before_commit=before_commit)
            if done is None:
                return None
            row = done.session
            return {
                "sid": row.public_id,
                "amr": row.amr,
                "remember": row.remember,
                **({"pair": done.prepared} if done.prepared is not None else {}),
            }
        finally:
            db.session.remove()


def backdate(app, held: seam.Pending, age: timedelta) -> None:
    """Make ``held`` look as if its first factor passed ``age`` ago."""

    def move():
        db.session.execute(
            update(SignInChallenge)
            .where(SignInChallenge.user_id == held.user_id)
            .values(created_at=utcnow() - age)
        )
        db.session.commit()

    read_db(app, move)


def claims(token: str) -> dict:
    """The claims of a token the client received (the API verifies it; here we only read it)."""
    return jwt.decode(token, options={"verify_signature": False})


def events(app, name: str) -> list[dict]:
    rows = read_db(
        app,
        lambda: db.session.scalars(
            select(AuditEvent.details).where(AuditEvent.event == name)
        ).all(),
    )
    return list(rows)


# --- the pending state ---------------------------------------------------------------------


def test_a_pending_sign_in_holds_who_how_where_and_until_when_without_a_session(app, make_user):
    user_id = make_user()
    held = hold(app, user_id, remember=True, next_url="/oauth/authorize?client_id=x")

    found = resume(app, held.handle)

    assert found == held
    assert (found.user_id, found.amr, found.channel) == (user_id, ("pwd",), Channel.BROWSER)
    assert found.remember is True and found.next_url == "/oauth/authorize?client_id=x"
    assert found.expires_at - found.created_at == timedelta(minutes=5)
    assert sessions_of(app, user_id) == []  # nobody is signed in yet
    assert user_state(app, user_id)["visit_count"] == 0
    stored = read_db(app, lambda: db.session.scalars(select(SignInChallenge.digest)).all())
    assert len(stored) == 1 and held.handle not in stored[0]  # only a digest is kept
    assert events(app, "login.second_factor_asked") == [{"channel": "browser"}]


def test_completing_signs_in_once_with_both_methods(app, make_user):
    user_id = make_user()
    held = hold(app, user_id, remember=True)

    first = complete(app, held, "otp")
    second = complete(app, held, "otp")

    assert first["amr"] == "pwd otp mfa" and first["remember"] is True
    assert second is None  # single use
    assert resume(app, held.handle) is None
    assert [row["public_id"] for row in sessions_of(app, user_id)] == [first["sid"]]
    assert user_state(app, user_id)["visit_count"] == 1
    assert events(app, "login.succeeded") == [{"kind": "browser"}]


def test_a_pending_sign_in_expires_after_five_minutes(app, make_user):
    user_id = make_user()
    held = hold(app, user_id)
    backdate(app, held, timedelta(minutes=4, seconds=50))
    assert resume(app, held.handle) is not None

    backdate(app, held, timedelta(minutes=5, seconds=1))

    assert resume(app, held.handle) is None
    assert complete(app, held) is None
    assert sessions_of(app, user_id) == []


def test_the_expiry_follows_the_setting(app, make_user):
    app.config["SIGNIN_PENDING_MINUTES"] = 10
    held = hold(app, make_user())
    backdate(app, held, timedelta(minutes=6))
    assert resume(app, held.handle) is not None
    backdate(app, held, timedelta(minutes=10, seconds=1))
    assert resume(app, held.handle) is None


def test_a_browser_pending_sign_in_is_not_usable_on_the_api_and_back(app, make_user):
    user_id = make_user()
    in_browser = hold(app, user_id, Channel.BROWSER)
    for_provider = hold(app, user_id, Channel.PROVIDER)
    for_api = hold(app, user_id, Channel.API)

    assert resume(app, in_browser.handle, Channel.API) is None
    assert resume(app, for_provider.handle, Channel.API) is None
    assert resume(app, for_api.handle, Channel.BROWSER) is None
    assert resume(app, in_browser.handle, Channel.BROWSER) == in_browser
    assert resume(app, for_provider.handle, Channel.BROWSER) == for_provider
    assert resume(app, for_api.handle, Channel.API) == for_api


def test_the_browser_keeps_only_the_handle_in_its_own_session(app, make_user):
    held = hold(app, make_user())
    with app.test_request_context():
        browser.hold(held)
        assert browser.held_here() == held
        from flask import session

        assert dict(session) == {browser.PENDING_KEY: held.handle}  # nobody signed in
        browser.release()
        assert browser.held_here() is None
    with app.test_request_context():  # another browser holds nothing
        assert browser.held_here() is None


@pytest.mark.parametrize(
    "change",
    [
        {"password_hash": hash_password(NEW_PASSWORD)},
        {"is_active_flag": False},
        {"email_key": "someone.else@example.org"},
    ],
    ids=["password changed", "deactivated", "email changed"],
)
def test_a_change_to_the_account_voids_its_pending_sign_in(app, make_user, change):
    user_id = make_user()
    held = hold(app, user_id)
    found = resume(app, held.handle)
    update_user(app, user_id, **change)
    assert resume(app, held.handle) is None
    assert complete(app, found) is None  # found before the change, completed after it
    assert sessions_of(app, user_id) == []


def test_a_lock_that_lands_while_pending_wins(app, make_user):
    user_id = make_user()
    held = hold(app, user_id)
    update_user(app, user_id, failed_login_count=5, locked_until=utcnow() + timedelta(minutes=30))

    assert complete(app, held) is None

    assert sessions_of(app, user_id) == []
    assert events(app, "login.failed") == [{"reason": "locked"}]


def test_wrong_second_factors_count_toward_the_lockout_and_the_lock_ends_the_pending_sign_in(
    app, make_user
):
    user_id = make_user()
    held = hold(app, user_id)
    update_user(app, user_id, failed_login_count=3)  # three wrong passwords earlier

    def fail() -> bool:
        with app.test_request_context():
            try:
                return seam.second_factor_failed(held, "otp")
            finally:
                db.session.remove()

    assert fail() is False
    assert resume(app, held.handle) is not None  # one more try left
    assert fail() is True

    assert user_state(app, user_id)["locked_until"] is not None
    assert resume(app, held.handle) is None and complete(app, held) is None
    assert sessions_of(app, user_id) == []
    assert events(app, "login.failed") == [{"reason": "second_factor:otp"}] * 2
    assert events(app, "account.locked") == [{}]


def test_the_browser_completes_a_pending_sign_in_where_it_was_going(app, make_user):
    user_id = make_user()
    held = hold(app, user_id, remember=True, next_url="/account")
    with app.test_request_context():
        from flask import session

        browser.hold(held)
        answer = browser.complete(browser.held_here(), "otp")
        assert answer.status_code == 302 and answer.headers["Location"] == "/account"
        assert browser.PENDING_KEY not in session
        signed_in_as = session["_user_id"]
        assert session["_remember"] == "set"
        assert browser.complete(held, "otp") is None  # used
        db.session.remove()
    assert [row["public_id"] for row in sessions_of(app, user_id)] == [signed_in_as]


@pytest.mark.parametrize(
    "handle",
    [None, "", 42, ["x"], "x" * 5000, "é" * 10, "not-a-handle", "\x00" * 43],
)
def test_anything_but_a_live_handle_resumes_nothing(app, make_user, handle):
    hold(app, make_user())
    assert resume(app, handle) is None
    assert resume(app, handle, Channel.API) is None


# --- the methods of a sign-in (amr) ------------------------------------------------------------


def api_login(client, email: str = "ada@example.org"):
    response = client.post("/api/auth/login", json={"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def session_amr(app, sid: str) -> str:
    return read_db(
        app,
        lambda: db.session.scalar(select(AuthSession.amr).where(AuthSession.public_id == sid)),
    )


def test_a_password_sign_in_records_pwd_on_the_session_and_in_the_access_token(
    app, client, make_user
):
    make_user()
    answer = api_login(client)
    access = claims(answer["access_token"])
    assert access["amr"] == ["pwd"]
    assert session_amr(app, access["sid"]) == "pwd"


def test_a_second_factor_reaches_the_access_tokens_of_the_session(app, client, make_user):
    user_id = make_user()
    held = hold(app, user_id, Channel.API)
    pair = complete(app, held, "otp", before_commit=refresh.sign_in_answer)["pair"]
    assert claims(pair.access_token)["amr"] == ["pwd", "otp", "mfa"]

    rotated = client.post("/api/auth/refresh", json={"refresh_token": pair.refresh_token})

    assert rotated.status_code == 200
    access = rotated.get_json()["access_token"]
    assert claims(access)["amr"] == ["pwd", "otp", "mfa"]
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {access}"})
    assert me.status_code == 200 and me.get_json()["email"] == "ada@example.org"


def test_a_password_change_keeps_the_methods_of_the_session_it_replaces(app, client, make_user):
    held = hold(app, make_user(), Channel.API)
    pair = complete(app, held, "otp", before_commit=refresh.sign_in_answer)["pair"]

    changed = client.post(
        "/api/auth/change-password",
        json={"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD},
        headers={"Authorization": f"Bearer {pair.access_token}"},
    )

    assert changed.status_code == 200, changed.get_json()
    access = claims(changed.get_json()["access_token"])
    assert (
        access["amr"] == ["pwd", "otp", "mfa"] and access["sid"] != claims(pair.access_token)["sid"]
    )
    assert session_amr(app, access["sid"]) == "pwd otp mfa"
