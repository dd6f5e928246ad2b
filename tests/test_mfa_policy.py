"""MFA_REQUIRED_ROLES: a person whose role needs a second factor enrols before anything else.

The testing configuration leaves the policy off (the suites sign administrators in to test
everything else); every test here turns the production default, ``admin``, on for itself.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from test_api_support import assert_problem
from test_mfa_admin import give_factors

from acs_auth import create_app, messages
from acs_auth.extensions import db
from acs_auth.models import AuditEvent, Role, User
from config import ConfigurationError
from tests.support.db import read_db
from tests.support.mfa import INDEX, enrol
from tests.support.web import csrf_from

pytest_plugins = ("test_api_support",)

POLICY_ON = pytest.mark.parametrize(
    "app_overrides", [{"MFA_REQUIRED_ROLES": "admin"}], indirect=True
)
ENROLMENT_PROBLEM = "http://portal.test/api/problems/mfa-enrolment-required"
# Pages a person held at enrolment is sent away from (GET).
HELD_PAGES = (
    "/",
    "/programs",
    "/account",
    "/account/apps",
    "/admin/",
    "/admin/users",
    "/admin/audit",
    "/oauth/authorize?client_id=x&response_type=code",
)


def held_at_enrolment(response) -> bool:
    return response.status_code == 303 and response.headers["Location"].endswith(INDEX)


@POLICY_ON
def test_an_admin_without_a_factor_is_sent_to_enrolment_from_every_page(
    app, client, auth, make_user
):
    admin = make_user(email="root@example.org", role=Role.ADMIN.value)
    signed_in = auth.login("root@example.org")
    assert signed_in.status_code == 302
    for page in HELD_PAGES:
        assert held_at_enrolment(client.get(page)), page
    enrolment = client.get(INDEX)
    assert enrolment.status_code == 200
    assert enrolment.get_data(as_text=True).count(messages.MFA_ENROL_REQUIRED) == 1
    with client.get("/static/css/app.css") as static:
        assert static.status_code == 200
    assert client.get("/healthz").status_code == 200
    # A form posted to the console does nothing either (its CSRF token is valid).
    token = csrf_from(enrolment.get_data(as_text=True))
    read_db(app, lambda: _lock(admin))
    unlock = client.post(f"/admin/users/{admin}/unlock", data={"csrf_token": token})
    assert held_at_enrolment(unlock)
    assert read_db(app, lambda: db.session.get(User, admin).failed_login_count) == 3
    assert read_db(app, lambda: _events("account.unlocked")) == []
    # Signing out stays open.
    out = client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 302 and not held_at_enrolment(out)
    assert client.get("/account").headers["Location"].startswith("/login")


def _lock(user_id: int) -> None:
    db.session.execute(update(User).where(User.id == user_id).values(failed_login_count=3))
    db.session.commit()


def _events(name: str) -> list:
    return db.session.scalars(select(AuditEvent.event).where(AuditEvent.event == name)).all()


@POLICY_ON
def test_once_enrolled_the_admin_reaches_the_console(client, auth, make_user):
    make_user(email="root@example.org", role=Role.ADMIN.value)
    auth.login("root@example.org")
    assert held_at_enrolment(client.get("/admin/"))
    enrol(client)
    assert client.get("/admin/").status_code == 200
    assert client.get("/programs").status_code in (200, 302)
    assert not held_at_enrolment(client.get("/account"))


@POLICY_ON
def test_people_in_other_roles_are_not_forced_but_may_enrol(client, auth, make_user):
    for role in (Role.USER, Role.DEVELOPER, Role.GUEST):
        email = f"{role.value}@example.org"
        make_user(email=email, role=role.value)
        auth.login(email)
        for page in ("/programs", "/account", "/account/apps"):
            assert not held_at_enrolment(client.get(page)), (role, page)
        auth.logout()
    auth.login("user@example.org")
    enrol(client)
    assert client.get("/account").status_code == 200


@POLICY_ON
def test_a_person_promoted_to_admin_is_held_on_the_next_click(app, client, auth, make_user):
    person = make_user(email="ada@example.org")
    auth.login("ada@example.org")
    assert client.get("/account").status_code == 200

    def promote():
        db.session.execute(update(User).where(User.id == person).values(role="admin"))
        db.session.commit()

    read_db(app, promote)
    assert held_at_enrolment(client.get("/account"))


def assert_enrolment_required(response) -> None:
    body = assert_problem(
        response, 403, messages.API_MFA_ENROLMENT_REQUIRED, kind="mfa-enrolment-required"
    )
    assert body["type"] == ENROLMENT_PROBLEM


@POLICY_ON
def test_the_admin_api_refuses_an_admin_without_a_factor_until_one_is_enrolled(app, api, make_user):
    admin = make_user(email="root@example.org", role=Role.ADMIN.value)
    token = api.token("root@example.org")
    for method, path in (
        ("GET", "/api/admin/stats"),
        ("GET", "/api/admin/users"),
        ("POST", f"/api/admin/users/{admin}/unlock"),
    ):
        assert_enrolment_required(api.call(method, path, token=token, json={}))
    # The rest of the API is the person's own: it stays open.
    assert api.get("/api/auth/me", token=token).status_code == 200
    give_factors(app, admin)
    assert api.get("/api/admin/stats", token=token).status_code == 200


@POLICY_ON
def test_an_admin_scope_key_is_refused_too(app, api, make_user):
    admin = make_user(email="root@example.org", role=Role.ADMIN.value)
    key = api.new_key(api.token("root@example.org"), scope="admin")["key"]
    assert_enrolment_required(api.get("/api/admin/stats", key=key))
    give_factors(app, admin)
    assert api.get("/api/admin/stats", key=key).status_code == 200


@POLICY_ON
def test_a_non_admin_is_still_refused_as_a_non_admin(api, make_user):
    make_user()
    token = api.token()
    assert_problem(api.get("/api/admin/stats", token=token), 403, messages.API_ADMIN_ONLY)


def test_the_policy_is_off_in_testing_and_admin_by_default_elsewhere(app, monkeypatch):
    assert app.extensions["mfa_required_roles"] == frozenset()
    monkeypatch.delenv("MFA_REQUIRED_ROLES", raising=False)
    development = create_app("development", SQLALCHEMY_DATABASE_URI="sqlite://")
    assert development.extensions["mfa_required_roles"] == {"admin"}
    assert development.config["MFA_REMEMBER_DAYS"] == 30
    monkeypatch.setenv("MFA_REQUIRED_ROLES", " Admin , developer ")
    both = create_app("development", SQLALCHEMY_DATABASE_URI="sqlite://")
    assert both.extensions["mfa_required_roles"] == {"admin", "developer"}
    # Set but empty is "nobody is forced", not "unset": the default would force admins.
    monkeypatch.setenv("MFA_REQUIRED_ROLES", "")
    nobody = create_app("development", SQLALCHEMY_DATABASE_URI="sqlite://")
    assert nobody.extensions["mfa_required_roles"] == frozenset()


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("MFA_REQUIRED_ROLES", "admins", "MFA_REQUIRED_ROLES"),
        ("MFA_REQUIRED_ROLES", "admin,root", "root"),
        ("MFA_REMEMBER_DAYS", -1, "MFA_REMEMBER_DAYS"),
        ("MFA_REMEMBER_DAYS", 400, "MFA_REMEMBER_DAYS"),
    ],
)
def test_a_bad_second_factor_setting_stops_the_start(setting, value, named):
    with pytest.raises(ConfigurationError, match=named):
        create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://", **{setting: value})


@pytest.mark.parametrize(
    "app_overrides", [{"MFA_REQUIRED_ROLES": "admin"}, {"MFA_REQUIRED_ROLES": ""}], indirect=True
)
def test_create_admin_says_the_new_admin_enrols_first(app, runner, app_overrides):
    result = runner.invoke(args=["users", "create-admin", "--email", "boss@example.org"])
    assert result.exit_code == 0, result.output
    said = messages.CLI_ADMIN_MUST_ENROL.format(email="boss@example.org")
    assert (said in result.output) == bool(app_overrides["MFA_REQUIRED_ROLES"])
