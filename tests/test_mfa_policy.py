"""MFA_REQUIRED_ROLES: a person whose role needs a second factor enrols before anything else.

The testing configuration leaves the policy off (the suites sign administrators in to test
everything else); every test here turns the production default, ``admin``, on for itself.
"""

from __future__ import annotations

import pytest
from test_api_support import assert_problem
from test_mfa_admin import give_factors

from acs_auth import create_app, messages
from acs_auth.models import Role
from config import ConfigurationError

pytest_plugins = ("test_api_support",)

POLICY_ON = pytest.mark.parametrize(
    "app_overrides", [{"MFA_REQUIRED_ROLES": "admin"}], indirect=True
)
ENROLMENT_PROBLEM = "/problems/mfa-enrolment-required"


def assert_enrolment_required(response) -> None:
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"] == ENROLMENT_PROBLEM and body["status"] == 403
    assert body["detail"] == messages.API_MFA_ENROLMENT_REQUIRED


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
