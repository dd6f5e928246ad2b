"""Passkeys (issue 15) from outside: real WebAuthn ceremonies through the test client.

The answers come from tests/support/soft_authenticator.py, which signs with an EC P-256 key
exactly as an authenticator does; py_webauthn on the server verifies them. Each refusal test
changes one thing of an otherwise good answer (origin, RP id, challenge, counter, the account's
state).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import AuditEvent, AuthSession, Passkey, PasskeyChallenge, User, utcnow
from acs_auth.services.signin import browser as browser_signin
from acs_auth.services.signin import seam
from acs_auth.services.signin.pending import Channel
from tests.support.config import STRONG_PASSWORD
from tests.support.db import read_db
from tests.support.soft_authenticator import SoftAuthenticator
from tests.support.web import AuthActions, csrf_from

ADA = "ada@example.org"
PAGE = "/account/passkeys"


class Browser:
    """A person's browser: the test client, its CSRF token and a software authenticator."""

    def __init__(self, client, authenticator: SoftAuthenticator | None = None):
        self.client = client
        self.authenticator = authenticator or SoftAuthenticator()

    def forget(self) -> None:
        """Close the browser: the session cookie goes, the authenticator keeps its keys."""
        self.client.delete_cookie("acs_session")

    def csrf(self, url: str = "/login") -> str:
        return csrf_from(self.client.get(url).get_data(as_text=True))

    def post_json(self, url: str, body: dict, csrf_url: str = "/login"):
        return self.client.post(url, json=body, headers={"X-CSRFToken": self.csrf(csrf_url)})

    def registration_options(self, name: str = "Laptop", password: str = STRONG_PASSWORD):
        data = {"csrf_token": self.csrf(PAGE), "name": name, "password": password}
        return self.client.post(f"{PAGE}/options", data=data)

    def add_passkey(self, name: str = "Laptop", **create):
        """The whole ceremony; returns the server's answer to the new credential."""
        options = self.registration_options(name)
        assert options.status_code == 200, options.get_data(as_text=True)
        credential = self.authenticator.create(options.get_json(), **create)
        return self.post_json(PAGE, {"credential": credential}, PAGE)

    def sign_in_options(self):
        return self.post_json("/login/passkey/options", {})

    def sign_in(self, options=None, **get):
        """Passwordless sign-in; returns the server's answer to the assertion."""
        options = options if options is not None else self.sign_in_options().get_json()
        assertion = self.authenticator.get(options, **get)
        return self.post_json("/login/passkey", {"credential": assertion})


@pytest.fixture
def ada(make_user):
    return make_user(email=ADA)


@pytest.fixture
def browser(client, ada, login_as):
    """Ada signed in on the test client, with a software authenticator of her own."""
    login_as(ada)
    return Browser(client)


@pytest.fixture
def enrolled(browser):
    """Ada with one passkey, signed out; the authenticator still holds the key."""
    assert browser.add_passkey().status_code == 200
    browser.forget()
    return browser


def passkeys(app) -> list[Passkey]:
    return read_db(app, lambda: list(db.session.scalars(select(Passkey).order_by(Passkey.id))))


def events(app, name: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.event == name).order_by(AuditEvent.id)
    return read_db(app, lambda: list(db.session.scalars(query)))


def session_methods(app) -> list[str]:
    """The amr of the newest session."""
    query = select(AuthSession.amr).order_by(AuthSession.id.desc()).limit(1)
    return read_db(app, lambda: db.session.scalar(query)).split()


def signed_in(client) -> bool:
    return client.get("/account").status_code == 200


# --- adding, naming, listing and removing -----------------------------------------------------


def test_a_passkey_is_added_listed_audited_and_mailed(app, browser, outbox):
    done = browser.add_passkey("Work laptop")
    assert done.status_code == 200
    assert done.get_json() == {"redirect": PAGE}
    [row] = passkeys(app)
    assert row.name == "Work laptop"
    assert row.sign_count == 0 and row.transports == ["internal"]
    assert row.device_type == "single_device" and row.backed_up is False
    assert row.created_at is not None and row.last_used_at is None
    page = browser.client.get(PAGE).get_data(as_text=True)
    assert "Work laptop" in page and messages.PASSKEY_ADDED.format(name="Work laptop") in page
    assert len(events(app, "passkey.added")) == 1
    [mail] = outbox.to(ADA)
    assert "passkey was added" in mail["Subject"] and "Work laptop" in outbox.text(mail)


def test_the_account_page_links_to_the_passkeys_page(browser):
    assert f'href="{PAGE}"' in browser.client.get("/account").get_data(as_text=True)


def test_adding_a_passkey_needs_the_current_password(app, browser):
    answer = browser.registration_options(password="not my password at all")
    assert answer.status_code == 422
    assert answer.get_json()["title"] == messages.PASSKEY_PASSWORD_WRONG
    assert read_db(app, lambda: db.session.scalar(select(User.failed_login_count))) == 1
    assert read_db(app, lambda: db.session.scalars(select(PasskeyChallenge)).all()) == []


def test_wrong_passwords_while_adding_a_passkey_lock_and_sign_out(app, browser):
    for _ in range(app.config["MAX_LOGIN_ATTEMPTS"]):
        answer = browser.registration_options(password="not my password at all")
    assert answer.status_code == 401
    assert answer.get_json()["redirect"] == "/login"
    assert not signed_in(browser.client)


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "bad\x00name"])
def test_a_bad_name_is_refused_before_any_ceremony(browser, name):
    answer = browser.registration_options(name=name)
    assert answer.status_code == 422
    assert answer.mimetype == "application/problem+json"


def test_a_passkey_is_renamed_and_removed_and_removal_is_mailed(app, browser, outbox):
    browser.add_passkey("Old name")
    [row] = passkeys(app)
    token = browser.csrf(PAGE)
    browser.client.post(f"{PAGE}/{row.public_id}/name", data={"csrf_token": token, "name": "Phone"})
    assert passkeys(app)[0].name == "Phone"
    gone = browser.client.post(f"{PAGE}/{row.public_id}/remove", data={"csrf_token": token})
    assert gone.status_code == 302
    assert passkeys(app) == []
    assert messages.PASSKEY_REMOVED.format(name="Phone") in browser.client.get(PAGE).get_data(
        as_text=True
    )
    assert len(events(app, "passkey.removed")) == 1
    assert "passkey was removed" in outbox.to(ADA)[-1]["Subject"]


def test_another_persons_passkey_cannot_be_renamed_or_removed(app, browser, make_user, login_as):
    browser.add_passkey("Ada's key")
    [row] = passkeys(app)
    login_as(make_user(email="eve@example.org"))
    token = browser.csrf(PAGE)
    browser.client.post(f"{PAGE}/{row.public_id}/name", data={"csrf_token": token, "name": "x"})
    browser.client.post(f"{PAGE}/{row.public_id}/remove", data={"csrf_token": token})
    page = browser.client.get(PAGE).get_data(as_text=True)
    assert messages.PASSKEY_NOT_FOUND in page
    assert [r.name for r in passkeys(app)] == ["Ada's key"]


def test_the_pages_need_a_signed_in_person(client):
    assert client.get(PAGE).status_code == 302
    assert client.post(f"{PAGE}/options").status_code in (302, 400)


# --- registration refusals ----------------------------------------------------------------------


def test_a_registration_made_for_another_origin_is_refused(app, browser):
    answer = browser.add_passkey(origin="https://portal.test.evil.example")
    assert answer.status_code == 400
    assert answer.get_json()["title"] == messages.PASSKEY_REJECTED
    assert passkeys(app) == []
    assert len(events(app, "passkey.add_failed")) == 1


def test_a_registration_for_another_rp_id_is_refused(app, browser):
    assert browser.add_passkey(rp_id="evil.example").status_code == 400
    assert passkeys(app) == []


def test_a_registration_answer_cannot_be_replayed(app, browser):
    options = browser.registration_options().get_json()
    credential = browser.authenticator.create(options)
    first = browser.post_json(PAGE, {"credential": credential}, PAGE)
    assert first.status_code == 200
    again = browser.post_json(PAGE, {"credential": credential}, PAGE)
    assert again.status_code == 400
    assert again.get_json()["title"] == messages.PASSKEY_CEREMONY_EXPIRED
    assert len(passkeys(app)) == 1


@pytest.mark.parametrize(
    "body",
    [{}, {"credential": "x"}, {"credential": {"id": 5}}, {"credential": {"id": "AAAA"}}],
)
def test_garbage_instead_of_a_credential_answers_a_problem(app, browser, body):
    browser.registration_options()
    answer = browser.post_json(PAGE, body, PAGE)
    assert answer.status_code == 400
    assert answer.mimetype == "application/problem+json"
    assert passkeys(app) == []


# --- passwordless sign-in ------------------------------------------------------------------------


def test_a_passkey_signs_its_owner_in_and_counts_its_use(app, enrolled):
    answer = enrolled.sign_in()
    assert answer.status_code == 200
    assert answer.get_json() == {"redirect": "/programs"}
    assert signed_in(enrolled.client)
    [row] = passkeys(app)
    assert row.sign_count == 1 and row.last_used_at is not None
    [event] = events(app, "login.succeeded")
    assert event.details["method"] == "hwk"
    assert session_methods(app) == ["hwk"]  # RFC 8176: a key bound to its device


def test_sign_in_goes_only_to_a_safe_next_page(enrolled):
    options = enrolled.sign_in_options().get_json()
    assertion = enrolled.authenticator.get(options)
    token = enrolled.csrf()
    answer = enrolled.client.post(
        "/login/passkey?next=//evil.example/",
        json={"credential": assertion},
        headers={"X-CSRFToken": token},
    )
    assert answer.get_json() == {"redirect": "/programs"}


def test_sign_in_goes_back_to_the_identity_providers_authorize_step(enrolled):
    options = enrolled.sign_in_options().get_json()
    target = "/oauth/authorize?client_id=chatbot&response_type=code"
    answer = enrolled.client.post(
        "/login/passkey",
        query_string={"next": target},
        json={"credential": enrolled.authenticator.get(options)},
        headers={"X-CSRFToken": enrolled.csrf()},
    )
    assert answer.status_code == 200
    assert answer.get_json() == {"redirect": target}


def test_a_synced_passkey_is_a_software_key(app, client, ada, login_as):
    login_as(ada)
    browser = Browser(client, SoftAuthenticator(synced=True))
    browser.add_passkey("Synced")
    assert passkeys(app)[0].device_type == "multi_device"
    browser.forget()
    assert browser.sign_in().status_code == 200
    assert events(app, "login.succeeded")[-1].details["method"] == "swk"
    assert session_methods(app) == ["swk"]


def test_an_assertion_for_another_origin_is_refused(app, enrolled):
    answer = enrolled.sign_in(origin="https://evil.example")
    assert answer.status_code == 401
    assert answer.get_json()["title"] == messages.PASSKEY_SIGN_IN_FAILED
    assert not signed_in(enrolled.client)
    assert read_db(app, lambda: db.session.scalar(select(User.failed_login_count))) == 1


def test_an_assertion_for_another_rp_id_is_refused(enrolled):
    assert enrolled.sign_in(rp_id="evil.example").status_code == 401
    assert not signed_in(enrolled.client)


def test_a_sign_in_answer_cannot_be_replayed(enrolled):
    options = enrolled.sign_in_options().get_json()
    assertion = enrolled.authenticator.get(options)
    assert enrolled.post_json("/login/passkey", {"credential": assertion}).status_code == 200
    enrolled.forget()
    replay = enrolled.post_json("/login/passkey", {"credential": assertion})
    assert replay.status_code == 401
    assert not signed_in(enrolled.client)


def test_a_replayed_session_cookie_cannot_use_a_challenge_twice(enrolled):
    options = enrolled.sign_in_options().get_json()
    cookie = enrolled.client.get_cookie("acs_session").value
    wrong = enrolled.authenticator.get(options, origin="https://evil.example")
    assert enrolled.post_json("/login/passkey", {"credential": wrong}).status_code == 401
    enrolled.client.set_cookie("acs_session", cookie)  # the cookie that still names the challenge
    right = enrolled.authenticator.get(options)
    assert enrolled.post_json("/login/passkey", {"credential": right}).status_code == 401
    assert not signed_in(enrolled.client)


def test_a_challenge_from_another_browser_session_is_refused(app, enrolled):
    options = enrolled.sign_in_options().get_json()  # issued to this cookie jar
    thief = Browser(app.test_client(), enrolled.authenticator)
    answer = thief.post_json("/login/passkey", {"credential": enrolled.authenticator.get(options)})
    assert answer.status_code == 401
    assert not signed_in(thief.client)


def test_an_expired_challenge_is_refused(app, enrolled):
    options = enrolled.sign_in_options().get_json()

    def expire():
        db.session.execute(update(PasskeyChallenge).values(expires_at=utcnow()))
        db.session.commit()

    read_db(app, expire)
    assert enrolled.sign_in(options).status_code == 401
    assert not signed_in(enrolled.client)


def test_a_removed_passkey_no_longer_signs_in(app, enrolled, login_as, ada):
    [row] = passkeys(app)
    login_as(ada)
    token = enrolled.csrf(PAGE)
    enrolled.client.post(f"{PAGE}/{row.public_id}/remove", data={"csrf_token": token})
    enrolled.forget()
    assert enrolled.sign_in().status_code == 401
    assert not signed_in(enrolled.client)


def test_a_deactivated_person_cannot_sign_in_with_a_passkey(app, enrolled):
    def deactivate():
        db.session.execute(update(User).values(is_active_flag=False))
        db.session.commit()

    read_db(app, deactivate)
    assert enrolled.sign_in().status_code == 401
    assert not signed_in(enrolled.client)
    assert events(app, "login.failed")[-1].details["reason"] == "inactive"


def test_removal_from_the_allowlist_stops_passkey_sign_in(app, enrolled, runner, tmp_path):
    header = "last_name,first_name,email,lo_root_ids\n"
    listed = tmp_path / "listed.csv"
    listed.write_text(header + f"Lovelace,Ada,{ADA},PROG-1\nHopper,Grace,grace@example.org,P\n")
    assert runner.invoke(args=["allowlist", "import", str(listed)]).exit_code == 0
    assert enrolled.sign_in().status_code == 200
    enrolled.forget()
    without_ada = tmp_path / "without-ada.csv"
    without_ada.write_text(header + "Hopper,Grace,grace@example.org,P\n")
    removal = ["allowlist", "import", str(without_ada), "--replace", "--yes-remove-many"]
    assert runner.invoke(args=removal).exit_code == 0
    assert enrolled.sign_in().status_code == 401
    assert not signed_in(enrolled.client)


def test_a_sign_count_that_goes_back_is_refused(app, enrolled):
    assert enrolled.sign_in(sign_count=7).status_code == 200
    enrolled.forget()
    cloned = enrolled.sign_in(sign_count=7)
    assert cloned.status_code == 401
    assert not signed_in(enrolled.client)
    assert passkeys(app)[0].sign_count == 7


def test_sign_in_without_user_verification_is_refused(enrolled):
    assert enrolled.sign_in(verified=False).status_code == 401


def test_failed_passkey_sign_ins_lock_the_account(app, enrolled):
    for _ in range(app.config["MAX_LOGIN_ATTEMPTS"]):
        assert enrolled.sign_in(origin="https://evil.example").status_code == 401
    assert enrolled.sign_in().status_code == 401  # the right passkey, but locked now
    assert not signed_in(enrolled.client)
    assert events(app, "login.failed")[-1].details["reason"] == "locked"


def test_a_forged_credential_id_is_refused_without_a_500(enrolled):
    options = enrolled.sign_in_options().get_json()
    assertion = enrolled.authenticator.get(options)
    assertion["id"] = assertion["rawId"] = "AAAA" + assertion["id"][4:]
    assert enrolled.post_json("/login/passkey", {"credential": assertion}).status_code == 401


LIMITS = {"RATELIMIT_ENABLED": True, "RATELIMIT_PER_IP": "3 per minute"}


@pytest.mark.parametrize("app_overrides", [LIMITS])
def test_passkey_sign_in_is_rate_limited_per_address(client):
    browser = Browser(client)
    for _ in range(3):
        assert browser.sign_in_options().status_code == 200
    refused = browser.sign_in_options()
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60


@pytest.mark.parametrize(
    "app_overrides",
    [{"RATELIMIT_ENABLED": True, "RATELIMIT_PER_IDENTIFIER": "2 per minute"}],
)
def test_passkey_sign_in_is_rate_limited_per_account(app, enrolled):
    """The budget follows the passkey's account, whichever address the attempts come from."""
    answers = []
    for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        enrolled.client.environ_base["REMOTE_ADDR"] = address
        answers.append(enrolled.sign_in(origin="https://evil.example").status_code)
    assert answers == [401, 401, 429]


# --- the second step after the password -------------------------------------------------------

SECOND = "/login/second-factor/passkey"


def hold_sign_in(app, client, user_id: int, next_url: str | None = None) -> None:
    """The password of ``user_id`` passed and the seam holds the sign-in in ``client``'s session.

    (What /login does once the second-factor hook asks for a step; opened here through the
    seam's own API so these tests do not depend on which factors the hook requires.)
    """
    with app.test_request_context():
        held = seam.hold(db.session.get(User, user_id), Channel.BROWSER, next_url=next_url)
        db.session.remove()
    with client.session_transaction() as sess:
        sess[browser_signin.PENDING_KEY] = held.handle


def second_step(b: Browser, **get):
    options = b.post_json(f"{SECOND}/options", {})
    assert options.status_code == 200, options.get_data(as_text=True)
    return b.post_json(SECOND, {"credential": b.authenticator.get(options.get_json(), **get)})


def test_a_passkey_completes_the_second_step_with_pwd_hwk_mfa(app, enrolled, ada):
    hold_sign_in(app, enrolled.client, ada, next_url="/account")
    done = second_step(enrolled, verified=False)  # presence is enough after the password
    assert done.status_code == 200
    assert done.get_json() == {"redirect": "/account"}
    assert signed_in(enrolled.client)
    assert session_methods(app) == ["pwd", "hwk", "mfa"]
    assert len(events(app, "passkey.used_second_factor")) == 1


def test_the_second_step_offers_only_the_persons_own_passkeys(app, enrolled, ada, make_user):
    eve = Browser(app.test_client())
    eve_id = make_user(email="eve@example.org")
    hold_sign_in(app, eve.client, eve_id)
    options = eve.post_json(f"{SECOND}/options", {}).get_json()
    assert options["allowCredentials"] == []  # Eve has none; Ada's are not listed
    # Ada's passkey answering Eve's second step is refused and counts against Eve.
    answer = eve.post_json(
        SECOND, {"credential": enrolled.authenticator.get(options, verified=False)}
    )
    assert answer.status_code == 401
    assert not signed_in(eve.client)
    failed = read_db(app, lambda: db.session.get(User, eve_id).failed_login_count)
    assert failed == 1


def test_the_second_step_needs_a_pending_sign_in(enrolled):
    answer = enrolled.post_json(f"{SECOND}/options", {})
    assert answer.status_code == 401
    assert answer.get_json()["redirect"] == "/login"


def test_wrong_second_steps_lock_the_account_and_end_the_pending_sign_in(app, enrolled, ada):
    hold_sign_in(app, enrolled.client, ada)
    for _ in range(app.config["MAX_LOGIN_ATTEMPTS"]):
        answer = second_step(enrolled, origin="https://evil.example")
        assert answer.status_code == 401
    assert answer.get_json()["redirect"] == "/login"  # locked: start again with the password
    assert enrolled.post_json(f"{SECOND}/options", {}).status_code == 401
    assert not signed_in(enrolled.client)


def test_an_administrators_reset_removes_every_passkey(app, enrolled, ada):
    from acs_auth.services.factors import passkey_manage

    def reset():
        removed = passkey_manage.remove_all(db.session.get(User, ada))
        db.session.commit()
        return removed

    assert read_db(app, reset) == 1
    assert passkeys(app) == []
    assert enrolled.sign_in().status_code == 401


def test_after_the_password_a_passkey_holder_is_asked_for_the_passkey(app, enrolled):
    token = enrolled.csrf()
    answer = enrolled.client.post(
        "/login", data={"csrf_token": token, "email": ADA, "password": STRONG_PASSWORD}
    )
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/login/second-factor")
    assert not signed_in(enrolled.client)  # the password alone opens nothing
    assert "Use a passkey" in enrolled.client.get("/login/second-factor").get_data(as_text=True)
    assert second_step(enrolled, verified=False).status_code == 200
    assert signed_in(enrolled.client)
    assert session_methods(app) == ["pwd", "hwk", "mfa"]


# --- administrators -------------------------------------------------------------------------


def test_an_admin_reset_removes_passkeys_and_the_filter_counts_them(
    app, enrolled, make_user, outbox
):
    """A passkey-only person is "with a second factor"; an admin's reset removes the passkey."""
    admin = app.test_client()
    make_user(email="root@example.org", role="admin")
    AuthActions(admin).login("root@example.org", STRONG_PASSWORD)
    person = read_db(app, lambda: db.session.scalar(select(User.id).where(User.email == ADA)))

    listed = admin.get("/admin/users?second_factor=with").get_data(as_text=True)
    assert f'href="/admin/users/{person}">{ADA}</a>' in listed
    page = f"/admin/users/{person}"
    token = csrf_from(admin.get(page).get_data(as_text=True))
    done = admin.post(f"{page}/factors/reset", data={"csrf_token": token}, follow_redirects=True)

    assert done.status_code == 200
    assert passkeys(app) == []
    (event,) = events(app, "mfa.factors_reset")
    assert event.details["kinds"] == ["passkey"]
    assert "Passkeys" in outbox.text(outbox.last_to(ADA))
    assert enrolled.sign_in().status_code != 200  # the authenticator's key opens nothing now
    assert not signed_in(enrolled.client)


def test_the_api_tells_a_passkey_only_person_to_use_an_api_key(client, enrolled):
    """A passkey is bound to the site's origin: the API asks for it by no code and says why."""
    answer = client.post("/api/auth/login", json={"email": ADA, "password": STRONG_PASSWORD})
    assert answer.status_code == 401
    body = answer.get_json()
    assert body["type"].endswith("/api/problems/mfa-required")
    assert body["methods"] == []
    assert body["detail"] == messages.MFA_API_PASSKEY_ONLY
    assert "access_token" not in body
