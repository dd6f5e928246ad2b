"""Administrators and second factors: reset (page and API), the users-list filter, the dashboard."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from test_api_support import assert_problem

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import AuditEvent, RecoveryCode, Role, TotpFactor, utcnow
from tests.support.db import read_db
from tests.support.mfa import INDEX, enrol
from tests.support.web import AuthActions, csrf_from

pytest_plugins = ("test_api_support",)


def give_factors(app, user_id: int, codes: int = 10, confirmed: bool = True) -> None:
    """Arrange an enrolled authenticator (and recovery codes) for ``user_id``, as a fixture."""
    with app.app_context():
        db.session.add(
            TotpFactor(
                user_id=user_id,
                secret="not-a-real-secret",
                confirmed_at=utcnow() if confirmed else None,
            )
        )
        for n in range(codes):
            db.session.add(RecoveryCode(user_id=user_id, code_hash=f"{n:064x}"))
        db.session.commit()


def factor_rows(app, user_id: int) -> int:
    def count():
        totp = select(func.count()).where(TotpFactor.user_id == user_id)
        codes = select(func.count()).where(RecoveryCode.user_id == user_id)
        return db.session.scalar(totp) + db.session.scalar(codes)

    return read_db(app, count)


def events(app, name: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.event == name).order_by(AuditEvent.id)
    return read_db(app, lambda: db.session.scalars(query).all())


def post_form(client, page_url: str, action_url: str):
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(action_url, data={"csrf_token": token}, follow_redirects=True)


@pytest.fixture
def admin(make_user, login_as):
    """An administrator signed in on ``client`` (browser); returns their id."""
    admin_id = make_user(email="root@example.org", role=Role.ADMIN.value, first_name="Rhea")
    login_as(admin_id)
    return admin_id


def test_an_admin_resets_a_persons_second_factors_from_the_user_page(
    app, client, admin, make_user, outbox
):
    person = make_user(email="ada@example.org")
    give_factors(app, person)
    page = f"/admin/users/{person}"
    before = client.get(page).get_data(as_text=True)
    assert "Reset second factors" in before
    assert '<span class="badge ok">Authenticator app</span>' in before

    response = post_form(client, page, f"{page}/factors/reset")

    shown = messages.ADMIN_FACTORS_RESET.format(
        kinds="Authenticator app, Recovery codes", email="ada@example.org"
    )
    assert shown in response.get_data(as_text=True)
    assert factor_rows(app, person) == 0
    (event,) = events(app, "mfa.factors_reset")
    assert event.actor_id == admin and event.target_id == person
    assert event.details["kinds"] == ["recovery_codes", "totp"]
    mail = outbox.last_to("ada@example.org")
    text = outbox.text(mail)
    assert "second factors were reset" in mail["Subject"]
    assert "root@example.org" in text and "Authenticator app, Recovery codes" in text
    assert "/reset-password/" not in text and "/setup-password/" not in text
    assert "Reset second factors" not in client.get(page).get_data(as_text=True)


def test_a_reset_is_refused_without_factors_and_for_your_own_account(app, client, admin, make_user):
    person = make_user(email="ada@example.org")
    page = f"/admin/users/{person}"
    response = post_form(client, page, f"{page}/factors/reset")
    assert messages.ADMIN_FACTORS_NONE in response.get_data(as_text=True)
    give_factors(app, admin)
    own = f"/admin/users/{admin}"
    response = post_form(client, own, f"{own}/factors/reset")
    assert messages.ADMIN_FACTORS_NOT_YOURS in response.get_data(as_text=True)
    assert factor_rows(app, admin) == 11
    assert events(app, "mfa.factors_reset") == []


def test_a_reset_needs_the_csrf_token_and_the_admin_role(app, client, make_user, login_as):
    person = make_user(email="ada@example.org")
    give_factors(app, person)
    other = make_user(email="bob@example.org")
    login_as(other)
    token = csrf_from(client.get("/account").get_data(as_text=True))
    refused = client.post(f"/admin/users/{person}/factors/reset", data={"csrf_token": token})
    assert refused.status_code == 403
    admin_id = make_user(email="root@example.org", role=Role.ADMIN.value)
    login_as(admin_id)
    client.post(f"/admin/users/{person}/factors/reset", data={})
    assert factor_rows(app, person) == 11


def test_the_api_resets_second_factors(app, api, admin_token, make_user, outbox):
    person = make_user(email="ada@example.org")
    give_factors(app, person, codes=2)
    response = api.delete(f"/api/admin/users/{person}/factors", token=admin_token)
    assert response.status_code == 200
    assert response.get_json() == {"removed": ["recovery_codes", "totp"]}
    assert factor_rows(app, person) == 0
    assert len(events(app, "mfa.factors_reset")) == 1
    assert outbox.to("ada@example.org")
    again = api.delete(f"/api/admin/users/{person}/factors", token=admin_token)
    assert_problem(again, 409, messages.ADMIN_FACTORS_NONE)
    assert_problem(api.delete("/api/admin/users/999999/factors", token=admin_token), 404)
    own_id = api.get("/api/auth/me", token=admin_token).get_json()["id"]
    give_factors(app, own_id)
    own = api.delete(f"/api/admin/users/{own_id}/factors", token=admin_token)
    assert_problem(own, 403, messages.ADMIN_FACTORS_NOT_YOURS)


def test_the_users_list_filters_and_shows_second_factors(app, client, admin, make_user, api):
    with_factor = make_user(email="ada@example.org")
    give_factors(app, with_factor)
    codes_only = make_user(email="bob@example.org")
    give_factors(app, codes_only, codes=3, confirmed=False)  # an unconfirmed app counts nothing
    make_user(email="cy@example.org")

    def listed(query: str) -> list[str]:
        body = client.get(f"/admin/users?{query}").get_data(as_text=True)
        return re.findall(r'href="/admin/users/\d+">([^<]+)</a>', body)

    assert listed("second_factor=with") == ["ada@example.org"]
    assert listed("second_factor=without") == [
        "bob@example.org",
        "cy@example.org",
        "root@example.org",
    ]
    assert len(listed("")) == 4
    assert client.get("/admin/users?second_factor=maybe").status_code == 200
    body = client.get("/admin/users").get_data(as_text=True)
    assert 'data-label="Second factor"><span class="badge ok">Recovery codes</span>' in body


def test_the_admin_api_filters_users_by_second_factor(app, api, admin_token, make_user):
    person = make_user(email="ada@example.org")
    give_factors(app, person)

    def emails(value: str) -> list[str]:
        response = api.get(f"/api/admin/users?second_factor={value}", token=admin_token)
        assert response.status_code == 200
        return [item["email"] for item in response.get_json()["items"]]

    assert emails("with") == ["ada@example.org"]
    assert emails("without") == ["root@example.org"]
    bad = api.get("/api/admin/users?second_factor=sometimes", token=admin_token)
    assert bad.status_code == 422


@pytest.mark.parametrize("app_overrides", [{"MFA_REQUIRED_ROLES": "admin"}], indirect=True)
def test_the_dashboard_counts_people_per_factor(app, client, admin, make_user):
    give_factors(app, admin)  # the signed-in admin must have one under the policy
    give_factors(app, make_user(email="ada@example.org"), codes=0)
    give_factors(app, make_user(email="bob@example.org", active=False))  # inactive: not counted
    make_user(email="cy@example.org")
    make_user(email="dee@example.org", role=Role.ADMIN.value)
    body = client.get("/admin/").get_data(as_text=True)
    found = dict(re.findall(r"<header>([^<]+)</header><p class=\"figure\">([^<]+)</p>", body))
    assert found["Authenticator app"] == "2"
    assert found["Recovery codes"] == "1"
    assert found["With none"] == "2"  # cy and dee
    assert found["Required but missing"] == "1"  # dee, an admin
    assert "second_factor=without" in body and "role=admin" in body


@pytest.mark.parametrize("app_overrides", [{"MFA_REQUIRED_ROLES": "admin"}], indirect=True)
def test_after_a_reset_the_person_signs_in_with_the_password_and_enrols_again(
    app, client, make_user, login_as
):

    person = make_user(email="ada@example.org", role=Role.ADMIN.value)
    auth = AuthActions(client)
    auth.login("ada@example.org")
    enrol(client)  # held at enrolment first, then enrolled through the pages
    assert client.get("/admin/").status_code == 200
    auth.logout()

    other = app.test_client()
    root = make_user(email="root@example.org", role=Role.ADMIN.value)
    give_factors(app, root)
    login_as(root, on=other)
    page = f"/admin/users/{person}"
    post_form(other, page, f"{page}/factors/reset")
    assert factor_rows(app, person) == 0

    # The password alone signs in (no code is asked: none is left), then enrolment holds.
    signed_in = auth.login("ada@example.org")
    assert signed_in.status_code == 302
    assert "second-factor" not in signed_in.headers["Location"]
    held = client.get("/admin/")
    assert held.status_code == 303 and held.headers["Location"].endswith(INDEX)
