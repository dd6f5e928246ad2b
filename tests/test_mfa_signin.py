"""The second step of a browser sign-in, from outside: /login, then /login/second-factor.

Replay, another account's code, guessing into the lockout, the pending sign-in stolen by
another browser or left to expire, links that sign in, and bad input; the test client plays the
browser (each client is its own cookie jar) and emails go through the real SMTP sink.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import AuditEvent, AuthSession, SignInChallenge, User, utcnow
from acs_auth.services.mail import link_requests
from tests.support.browser import signed_in
from tests.support.config import STRONG_PASSWORD
from tests.support.db import read_db
from tests.support.mfa import code_for, enrol
from tests.support.web import AuthActions, csrf_from

STEP = "/login/second-factor"


def password_step(client, email: str = "ada@example.org", password: str = STRONG_PASSWORD):
    answer = AuthActions(client).login(email, password)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return answer


def send_code(client, code: str):
    page = client.get(STEP)
    if page.status_code != 200:
        return page
    return client.post(
        STEP, data={"csrf_token": csrf_from(page.get_data(as_text=True)), "code": code}
    )


def amr_of_last_session(app, user_id: int) -> str:
    return read_db(
        app,
        lambda: db.session.scalar(
            select(AuthSession.amr)
            .where(AuthSession.user_id == user_id)
            .order_by(AuthSession.id.desc())
            .limit(1)
        ),
    )


def failed_count(app, user_id: int) -> int:
    return read_db(app, lambda: db.session.get(User, user_id).failed_login_count)


# --- the step itself --------------------------------------------------------------------------


def test_the_password_leads_to_the_second_step_not_into_the_account(client, totp_enrolled):
    answer = password_step(client)
    assert answer.headers["Location"].endswith(STEP)
    assert not signed_in(client)
    assert client.get("/account").status_code == 302
    assert "Confirm it is you" in client.get(STEP).get_data(as_text=True)


def test_the_apps_code_signs_in_with_otp_and_mfa_in_the_session(app, client, totp_enrolled):
    user_id, key, _codes = totp_enrolled
    password_step(client)
    answer = send_code(client, code_for(key))
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/programs")
    assert signed_in(client)
    assert amr_of_last_session(app, user_id).split() == ["pwd", "otp", "mfa"]


def test_next_is_kept_through_the_second_step(client, totp_enrolled):
    _user_id, key, _codes = totp_enrolled
    page = client.get("/login?next=/account")
    data = {"csrf_token": csrf_from(page.get_data(as_text=True))}
    data.update(email="ada@example.org", password=STRONG_PASSWORD)
    client.post("/login?next=/account", data=data)
    answer = send_code(client, code_for(key))
    assert answer.headers["Location"].endswith("/account")


def test_a_person_without_a_factor_signs_in_with_the_password_alone(app, client, make_user):
    user_id = make_user()
    answer = password_step(client)
    assert answer.headers["Location"].endswith("/programs")
    assert amr_of_last_session(app, user_id) == "pwd"


def test_a_code_is_refused_the_second_time_replay(app, totp_enrolled):
    _user_id, key, _codes = totp_enrolled
    code = code_for(key)
    first = app.test_client()
    password_step(first)
    assert send_code(first, code).headers["Location"].endswith("/programs")
    second = app.test_client()
    password_step(second)
    replay = send_code(second, code)
    assert replay.status_code == 200
    assert messages.MFA_CODE_WRONG in replay.get_data(as_text=True)
    assert not signed_in(second)


def test_an_earlier_code_is_refused_after_a_later_one_was_used(app, totp_enrolled):
    _user_id, key, _codes = totp_enrolled
    first = app.test_client()
    password_step(first)
    assert send_code(first, code_for(key, 1)).status_code == 302
    second = app.test_client()
    password_step(second)
    assert send_code(second, code_for(key)).status_code == 200


def test_a_code_from_another_accounts_app_is_refused(
    app, client, totp_enrolled, make_user, login_as
):
    other = make_user(email="grace@example.org")
    setup = app.test_client()
    login_as(other, on=setup)
    grace_key, _ = enrol(setup)
    password_step(client)
    answer = send_code(client, code_for(grace_key))
    assert answer.status_code == 200
    assert messages.MFA_CODE_WRONG in answer.get_data(as_text=True)
    assert not signed_in(client)


def test_a_recovery_code_works_once_and_the_owner_is_told(app, client, outbox, totp_enrolled):
    user_id, _key, codes = totp_enrolled
    password_step(client)
    answer = send_code(client, codes[3].upper().replace("-", " "))  # as a person may type it
    assert answer.status_code == 302 and signed_in(client)
    assert amr_of_last_session(app, user_id).split() == ["pwd", "otp", "mfa"]
    (mail,) = [
        m
        for m in outbox.to("ada@example.org")
        if m["Subject"].endswith("A recovery code was used to sign in")
    ]
    assert "9 unused code(s)" in outbox.text(mail) and codes[3] not in outbox.text(mail)
    events = read_db(
        app,
        lambda: db.session.scalars(
            select(AuditEvent.details).where(AuditEvent.event == "mfa.passed")
        ).all(),
    )
    assert {"method": "recovery_code"} in events

    again = app.test_client()
    password_step(again)
    refused = send_code(again, codes[3])
    assert refused.status_code == 200 and not signed_in(again)


def test_wrong_codes_count_toward_the_lockout(app, client, outbox, totp_enrolled):
    user_id, key, _codes = totp_enrolled
    limit = app.config["MAX_LOGIN_ATTEMPTS"]
    password_step(client)
    wrong = f"{(int(code_for(key)) + 500_000) % 1_000_000:06d}"
    for attempt in range(limit - 1):
        answer = send_code(client, wrong)
        assert answer.status_code == 200, attempt
    assert failed_count(app, user_id) == limit - 1
    locking = send_code(client, wrong)
    assert locking.status_code == 302 and locking.headers["Location"].endswith("/login")
    # Locked: the pending sign-in is gone, and a new one cannot even start with the password.
    assert client.get(STEP).status_code == 302
    assert AuthActions(client).login("ada@example.org").status_code == 200
    subjects = [m["Subject"] for m in outbox.to("ada@example.org")]
    assert any(s.endswith("Your account is locked for now") for s in subjects)


def test_the_right_code_does_not_open_a_locked_account(app, totp_enrolled):
    user_id, key, _codes = totp_enrolled
    browser = app.test_client()
    password_step(browser)
    with app.app_context():
        db.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(locked_until=utcnow() + timedelta(minutes=30))
        )
        db.session.commit()
    answer = send_code(browser, code_for(key))
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/login")
    assert not signed_in(browser)


def test_a_pending_sign_in_does_not_travel_to_another_browser(app, totp_enrolled):
    _user_id, key, _codes = totp_enrolled
    victim = app.test_client()
    password_step(victim)
    thief = app.test_client()  # another cookie jar: no pending sign-in in its session
    answer = send_code(thief, code_for(key))
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/login")
    assert not signed_in(thief)
    # The victim's own pending sign-in still works.
    assert send_code(victim, code_for(key)).headers["Location"].endswith("/programs")


def test_a_pending_sign_in_expires_after_five_minutes(app, client, totp_enrolled):
    _user_id, key, _codes = totp_enrolled
    password_step(client)
    with app.app_context():
        db.session.execute(
            update(SignInChallenge).values(created_at=utcnow() - timedelta(minutes=5, seconds=1))
        )
        db.session.commit()
    answer = send_code(client, code_for(key))
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/login")
    assert messages.MFA_PENDING_EXPIRED in client.get("/login").get_data(as_text=True)
    assert not signed_in(client)


def test_a_pending_sign_in_dies_with_a_password_change(app, client, totp_enrolled):
    user_id, key, _codes = totp_enrolled
    password_step(client)
    with app.app_context():
        db.session.get(User, user_id).password_hash = "$2b$04$" + "y" * 53
        db.session.commit()
    assert send_code(client, code_for(key)).headers["Location"].endswith("/login")


def test_cancel_forgets_the_pending_sign_in(client, totp_enrolled):
    password_step(client)
    token = csrf_from(client.get(STEP).get_data(as_text=True))
    answer = client.post(STEP + "/cancel", data={"csrf_token": token})
    assert answer.headers["Location"].endswith("/login")
    assert client.get(STEP).status_code == 302


@pytest.mark.parametrize(
    "code",
    ["12345a!", "1" * 40, "123\x00456", "12\n3456", "\u0661\u0662\u0663\u0664\u0665\u0666", ""],
    ids=["symbol", "too-long", "nul", "newline", "arabic-digits", "empty"],
)
def test_bad_codes_answer_a_form_error_and_count_nothing(app, client, totp_enrolled, code):
    user_id, _key, _codes = totp_enrolled
    password_step(client)
    answer = send_code(client, code)
    assert answer.status_code == 200
    assert 'class="field-error"' in answer.get_data(as_text=True)
    assert failed_count(app, user_id) == 0
    assert not signed_in(client)


# --- every entrance asks for it ---------------------------------------------------------------


def test_a_reset_link_does_not_skip_the_second_step(app, client, outbox, totp_enrolled):
    _user_id, key, _codes = totp_enrolled
    auth = AuthActions(client)
    auth.post("/forgot-password", {"email": "ada@example.org"})
    with app.app_context():
        link_requests.process_pending(10)
    link = outbox.link("ada@example.org", "/reset-password/")
    new = "a completely new passphrase 77"
    page = client.get(link).get_data(as_text=True)
    done = client.post(link, data={"csrf_token": csrf_from(page), "password": new, "confirm": new})
    assert done.headers["Location"].endswith("/login")
    assert not signed_in(client)
    answer = password_step(client, password=new)
    assert answer.headers["Location"].endswith(STEP)
    assert not signed_in(client)
    assert send_code(client, code_for(key)).headers["Location"].endswith("/programs")


def test_a_setup_link_signs_in_only_through_the_second_step(app, client, outbox, totp_enrolled):
    user_id, key, _codes = totp_enrolled
    with app.app_context():  # an account whose password is to be set up again, factor kept
        db.session.get(User, user_id).password_hash = None
        db.session.commit()
    auth = AuthActions(client)
    auth.post("/first-time-password", {"last_name": "Lovelace", "email": "ada@example.org"})
    with app.app_context():
        link_requests.process_pending(10)
    link = outbox.link("ada@example.org", "/setup-password/")
    new = "a completely new passphrase 77"
    page = client.get(link).get_data(as_text=True)
    done = client.post(link, data={"csrf_token": csrf_from(page), "password": new, "confirm": new})
    assert done.headers["Location"].endswith(STEP)
    assert not signed_in(client)
    assert send_code(client, code_for(key)).headers["Location"].endswith("/programs")


def test_a_signed_in_person_is_not_asked_again(client, totp_enrolled):
    _user_id, key, _codes = totp_enrolled
    password_step(client)
    send_code(client, code_for(key))
    answer = client.get(STEP)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/programs")
