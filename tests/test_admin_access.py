"""The admin console's single guard: every admin URL and method, enumerated from the URL map."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from acs_auth.extensions import db
from acs_auth.models import AuditEvent, Role
from tests.support.db import read_db

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
DUMMY = {"int": "1", "default": "abcdefghijklmnopqrstuvwxyz0123456789"}


def admin_urls(app) -> list[tuple[str, str, tuple[str, ...]]]:
    """(rule, url with dummy values, methods) for every rule of the admin blueprint."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        url = rule.rule
        for converter, name in re.findall(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", rule.rule):
            value = DUMMY.get(converter or "default", DUMMY["default"])
            url = re.sub(rf"<[^>]*\b{name}>", value, url)
        found.append((rule.rule, url, tuple(sorted(rule.methods))))
    return found


def test_the_admin_blueprint_has_routes(app):
    rules = {rule for rule, _url, _methods in admin_urls(app)}
    # A guard test over an empty map would prove nothing.
    assert len(rules) >= 15
    assert "/admin/" in rules and "/admin/allowlist/upload" in rules


@pytest.mark.parametrize("app_overrides", [{"WTF_CSRF_ENABLED": False}])
def test_every_admin_url_and_method_refuses_a_non_admin(app, client, make_user, login_as):
    # CSRF is off so that the guard alone stands between a signed-in user and the view.
    for role in (r.value for r in Role if r is not Role.ADMIN):
        user_id = make_user(email=f"{role}@example.org", role=role)
        login_as(user_id)
        for rule, url, methods in admin_urls(app):
            for method in METHODS:
                response = client.open(url, method=method)
                expected = 403 if method in methods else 405
                assert response.status_code == expected, (role, rule, method)
                if method == "GET" and expected == 403:
                    assert "You do not have access to this page." in response.get_data(True)
        client.delete_cookie("acs_session")


def test_refusals_are_audited(app, client, make_user, login_as):
    login_as(make_user(role=Role.USER.value))
    assert client.get("/admin/users").status_code == 403

    def denied():
        return db.session.scalar(select(func.count()).where(AuditEvent.event == "admin.denied"))

    assert read_db(app, denied) == 1


@pytest.mark.parametrize("app_overrides", [{"WTF_CSRF_ENABLED": False}])
def test_a_visitor_is_sent_to_sign_in_from_every_admin_url(app, client):
    for rule, url, methods in admin_urls(app):
        for method in methods:
            response = client.open(url, method=method)
            assert response.status_code == 302, (rule, method)
            location = response.headers["Location"]
            assert location.startswith("/login?next="), (rule, method, location)
    response = client.get("/admin/users?q=ada")
    assert response.headers["Location"] == "/login?next=/admin/users?q%3Dada"


def test_a_deactivated_admin_is_a_visitor(app, client, make_user, login_as):
    admin_id = make_user(role=Role.ADMIN.value)
    login_as(admin_id)
    assert client.get("/admin/").status_code == 200

    def deactivate():
        from acs_auth.models import User

        db.session.get(User, admin_id).is_active_flag = False
        db.session.commit()

    read_db(app, deactivate)
    assert client.get("/admin/").status_code == 302


def test_a_demoted_admin_loses_access_on_the_next_request(app, client, make_user, login_as):
    admin_id = make_user(role=Role.ADMIN.value)
    login_as(admin_id)
    assert client.get("/admin/users").status_code == 200

    def demote():
        from acs_auth.models import User

        db.session.get(User, admin_id).role = Role.USER.value
        db.session.commit()

    read_db(app, demote)
    assert client.get("/admin/users").status_code == 403


def test_an_admin_reaches_every_page(app, client, make_user, make_entry, login_as):
    admin_id = make_user(email="root@example.org", role=Role.ADMIN.value)
    entry_id = make_entry()
    login_as(admin_id)
    pages = [
        "/admin/",
        "/admin/users",
        "/admin/users/new",
        f"/admin/users/{admin_id}",
        f"/admin/users/{admin_id}/delete",
        "/admin/allowlist",
        f"/admin/allowlist/{entry_id}/remove",
        "/admin/allowlist/upload",
        "/admin/allowlist/imports",
        "/admin/audit",
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        body = response.get_data(as_text=True)
        assert "<script" not in body and "style=" not in body, page
    assert client.get("/admin/allowlist/export.csv").status_code == 200
    assert client.get("/admin/users/999999").status_code == 404
    assert client.get("/admin/allowlist/999999/remove").status_code == 404
