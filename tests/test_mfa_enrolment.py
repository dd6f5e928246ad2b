"""Setting up two-step sign-in on /account: authenticator app, recovery codes, removal.

Everything goes through the pages with the test client; emails through the real SMTP sink.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import AuditEvent, RecoveryCode
from tests.support.config import STRONG_PASSWORD
from tests.support.db import read_db
from tests.support.mfa import (
    CONFIRM,
    ENROL,
    INDEX,
    begin,
    code_for,
    codes_on,
    confirm,
    enrol,
    key_on,
    stored_secret,
    use_up_codes,
)
from tests.support.web import AuthActions, csrf_from

REMOVE = "/account/two-step/authenticator/remove"
REGENERATE = "/account/two-step/recovery-codes"
DOWNLOAD = "/account/two-step/recovery-codes/download"


@pytest.fixture
def person(make_user, login_as, client):
    """Ada, signed in on ``client``; her user id."""
    user_id = make_user()
    login_as(user_id)
    return user_id


def events(app, user_id: int) -> list[str]:
    return read_db(
        app,
        lambda: db.session.scalars(
            select(AuditEvent.event)
            .where(AuditEvent.target_id == user_id, AuditEvent.event.like("mfa.%"))
            .order_by(AuditEvent.id)
        ).all(),
    )


def subjects(outbox, address="ada@example.org") -> list[str]:
    return [m["Subject"].split(": ", 1)[1] for m in outbox.to(address)]


def post(client, url: str, data: dict, form_url: str = INDEX):
    return AuthActions(client).post(url, data, form_url=form_url)


# --- enrolment -------------------------------------------------------------------------------


def test_account_links_to_two_step_sign_in_which_is_off(client, person):
    page = client.get("/account").get_data(as_text=True)
    assert 'href="/account/two-step"' in page
    assert "Manage two-step sign-in" in page
    assert "Set up an authenticator app" in client.get(INDEX).get_data(as_text=True)


def test_the_pages_need_a_signed_in_person(client):
    for url in (INDEX, ENROL):
        answer = client.get(url)
        assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert client.post(DOWNLOAD).status_code in (302, 400)


def test_the_enrolment_page_draws_the_qr_code_inline_and_shows_the_key(app, client, person):
    key = begin(client)
    page = client.get(ENROL)
    body = page.get_data(as_text=True)
    assert len(key) == 32  # 160 bits, base32
    assert '<svg width="' in body and 'class="qr-code"' in body
    assert "<script" not in body and "data:image" not in body
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert page.headers["Cache-Control"] == "no-store"
    # The key is encrypted at rest: the column holds neither it nor its spaced form.
    secret = stored_secret(app, person)
    assert key not in secret and secret.startswith("gAAAA")


def test_a_first_code_turns_it_on_and_shows_ten_codes_once(app, client, outbox, person):
    key = begin(client)
    done = confirm(client, code_for(key))
    page = done.get_data(as_text=True)
    assert done.status_code == 200
    assert messages.MFA_TOTP_ENABLED in page
    codes = codes_on(page)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(len(code) == 19 for code in codes)  # xxxx-xxxx-xxxx-xxxx
    # Shown once: the two-step page afterwards lists how many, never the codes.
    later = client.get(INDEX).get_data(as_text=True)
    assert "10 unused recovery code(s)" in later
    assert not any(code in later for code in codes)
    # Stored hashed: no code appears in the table.
    hashes = read_db(app, lambda: db.session.scalars(select(RecoveryCode.code_hash)).all())
    assert len(hashes) == 10 and not set(hashes) & {c.replace("-", "") for c in codes}
    assert subjects(outbox) == ["An authenticator app now protects your account"]
    assert key not in outbox.text(outbox.last_to("ada@example.org"))
    assert events(app, person) == ["mfa.totp_enabled"]


def test_a_wrong_first_code_leaves_it_off(app, client, outbox, person):
    key = begin(client)
    wrong = f"{(int(code_for(key)) + 1) % 1_000_000:06d}"
    answer = confirm(client, wrong)
    assert answer.status_code == 200
    assert messages.MFA_CODE_WRONG in answer.get_data(as_text=True)
    assert "Set up an authenticator app" in client.get(INDEX).get_data(as_text=True)
    assert events(app, person) == [] and subjects(outbox) == []


def test_a_code_two_steps_away_is_refused_one_step_away_accepted(client, person):
    key = begin(client)
    assert messages.MFA_CODE_WRONG in confirm(client, code_for(key, 3)).get_data(as_text=True)
    assert codes_on(confirm(client, code_for(key, 1)).get_data(as_text=True))


@pytest.mark.parametrize(
    "code",
    ["12a456", "1" * 40, "12\x00456", "123\n456", "\uff11\uff12\uff13\uff14\uff15\uff16", ""],
    ids=["letter", "too-long", "nul", "newline", "full-width", "empty"],
)
def test_bad_first_codes_answer_a_form_error(client, person, code):
    begin(client)
    answer = confirm(client, code)
    assert answer.status_code == 200
    body = answer.get_data(as_text=True)
    assert 'class="field-error"' in body
    assert "Set up an authenticator app" in client.get(INDEX).get_data(as_text=True)


def test_starting_again_replaces_an_unconfirmed_key(client, person):
    first = begin(client)
    second = begin(client)
    assert first != second
    assert messages.MFA_CODE_WRONG in confirm(client, code_for(first)).get_data(as_text=True)


def test_a_second_enrolment_is_refused_while_one_is_on(client, person):
    enrol(client)
    answer = post(client, ENROL, {})
    assert answer.status_code == 302
    assert messages.MFA_TOTP_ALREADY in client.get(INDEX).get_data(as_text=True)
    assert client.get(ENROL).status_code == 302  # nothing pending to show
    assert messages.MFA_TOTP_NOT_STARTED in client.get(INDEX).get_data(as_text=True)


def test_confirm_without_a_begun_enrolment_goes_back(client, person):
    token = csrf_from(client.get(INDEX).get_data(as_text=True))
    answer = client.post(CONFIRM, data={"csrf_token": token, "code": "123456"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith(INDEX)


# --- removal ------------------------------------------------------------------------------------


def test_removal_needs_the_password_and_takes_the_codes_along(app, client, outbox, person):
    enrol(client)
    wrong = post(client, REMOVE, {"remove-password": "not my password at all"})
    assert wrong.status_code == 200
    assert messages.CURRENT_PASSWORD_WRONG in wrong.get_data(as_text=True)
    assert "Remove the authenticator app" in client.get(INDEX).get_data(as_text=True)

    done = post(client, REMOVE, {"remove-password": STRONG_PASSWORD})
    assert done.status_code == 302
    page = client.get(INDEX).get_data(as_text=True)
    assert messages.MFA_TOTP_REMOVED in page and "Set up an authenticator app" in page
    assert read_db(app, lambda: db.session.query(RecoveryCode).count()) == 0
    assert subjects(outbox)[-1] == "The authenticator app was removed from your account"
    assert events(app, person) == [
        "mfa.totp_enabled",
        "mfa.remove_password_wrong",
        "mfa.totp_removed",
    ]


def test_wrong_passwords_at_removal_count_toward_the_lockout(app, client, person):
    enrol(client)
    for attempt in range(app.config["MAX_LOGIN_ATTEMPTS"]):
        answer = post(client, REMOVE, {"remove-password": f"wrong guess {attempt}"})
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert client.get(INDEX).status_code == 302  # that session ended with the lock
    assert read_db(app, lambda: db.session.query(RecoveryCode).count()) == 10


# --- recovery codes -----------------------------------------------------------------------------


def test_new_codes_need_the_password_and_replace_the_old_ones(app, client, outbox, person):
    _key, old = enrol(client)
    wrong = post(client, REGENERATE, {"codes-password": "not my password at all"})
    assert messages.CURRENT_PASSWORD_WRONG in wrong.get_data(as_text=True)

    done = post(client, REGENERATE, {"codes-password": STRONG_PASSWORD})
    new = codes_on(done.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert subjects(outbox)[-1] == "New recovery codes were made for your account"
    assert events(app, person)[-1] == "mfa.recovery_codes_regenerated"
    # The old codes are gone: they cannot even be downloaded any more.
    refused = post(client, DOWNLOAD, {"codes": " ".join(old)})
    assert refused.status_code == 302
    assert messages.MFA_DOWNLOAD_REFUSED in client.get(INDEX).get_data(as_text=True)


def test_no_codes_without_a_second_factor(client, person):
    answer = post(client, REGENERATE, {"codes-password": STRONG_PASSWORD})
    assert answer.status_code == 302
    assert messages.MFA_CODES_NEED_FACTOR in client.get(INDEX).get_data(as_text=True)


def test_the_codes_download_as_a_text_file(client, person):
    _key, codes = enrol(client)
    answer = post(client, DOWNLOAD, {"codes": " ".join(codes)})
    assert answer.status_code == 200
    assert answer.mimetype == "text/plain"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="recovery-codes.txt"'
    assert answer.headers["Cache-Control"] == "no-store"
    text = answer.get_data(as_text=True)
    assert all(code in text for code in codes)


@pytest.mark.parametrize(
    "codes",
    ["aaaa-bbbb-cccc-dddd", "<script>", "x" * 500, "abc\x00"],
    ids=["unknown", "markup", "too-long", "nul"],
)
def test_only_the_accounts_unused_codes_download(client, person, codes):
    enrol(client)
    answer = post(client, DOWNLOAD, {"codes": codes})
    assert answer.status_code == 302
    assert messages.MFA_DOWNLOAD_REFUSED in client.get(INDEX).get_data(as_text=True)


def test_another_persons_codes_do_not_download(app, client, make_user, login_as, person):
    _key, mine = enrol(client)
    other = app.test_client()
    login_as(make_user(email="grace@example.org"), on=other)
    answer = post(other, DOWNLOAD, {"codes": " ".join(mine)})
    assert answer.status_code == 302


def test_account_warns_when_two_or_fewer_codes_remain(app, client, person):
    enrol(client)
    use_up_codes(app, person, keep=3)
    assert "recovery code(s) left" not in client.get("/account").get_data(as_text=True)
    use_up_codes(app, person, keep=2)
    page = client.get("/account").get_data(as_text=True)
    assert messages.MFA_CODES_LOW.format(count=2) in page
    assert messages.MFA_CODES_LOW.format(count=2) in client.get(INDEX).get_data(as_text=True)


def test_the_key_shown_is_the_key_that_works(client, person):
    key = begin(client)
    assert key_on(client.get(ENROL).get_data(as_text=True)) == key
