"""Client registration by administrators: the web page, /api/admin/clients and their checks."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from test_api_support import assert_problem

from acs_auth.extensions import db
from acs_auth.models import OAuthClient, Role
from tests.support.db import read_db
from tests.support.web import csrf_from

pytest_plugins = ("test_api_support", "test_oidc_support")


def test_admin_registers_a_client_and_sees_the_secret_once(app, client, admin):
    token = csrf_from(client.get("/admin/clients/new").get_data(as_text=True))
    response = client.post(
        "/admin/clients/new",
        data={
            "csrf_token": token,
            "name": "Chatbot",
            "redirect_uris": "https://chat.example/cb\nhttp://127.0.0.1:8000/cb",
            "post_logout_uris": "https://chat.example/bye",
            "backchannel_uri": "https://chat.example/backchannel",
            "first_party": "y",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    row = read_db(app, lambda: db.session.scalar(select(OAuthClient)))
    secret = page.split("Client secret: <code>")[1].split("</code>")[0]
    assert row.check_client_secret(secret) and secret not in (row.secret_hash or "")
    assert row.redirect_uris == ["https://chat.example/cb", "http://127.0.0.1:8000/cb"]
    listing = client.get("/admin/clients").get_data(as_text=True)
    assert row.client_id in listing and secret not in listing
    assert secret not in client.get(f"/admin/clients/{row.client_id}").get_data(as_text=True)


@pytest.mark.parametrize(
    "uri", ["javascript:alert(1)", "https://chat.example/cb#frag", "//chat.example/cb", "cb"]
)
def test_a_client_needs_absolute_http_redirect_uris(client, admin, uri):
    token = csrf_from(client.get("/admin/clients/new").get_data(as_text=True))
    response = client.post(
        "/admin/clients/new", data={"csrf_token": token, "name": "X", "redirect_uris": uri}
    )
    assert response.status_code == 400


def test_admin_api_registers_and_changes_clients(app, api, make_user):
    make_user(email="root@example.org", role=Role.ADMIN.value, programs=())
    token = api.token("root@example.org")
    created = api.post(
        "/api/admin/clients",
        token=token,
        json={"name": "Bot", "redirect_uris": ["https://bot.example/cb"], "public": True},
    )
    body = created.get_json()
    assert created.status_code == 201 and body["public"] is True and body["client_secret"] is None
    confidential = api.post(
        "/api/admin/clients",
        token=token,
        json={"name": "Bot 2", "redirect_uris": ["https://bot.example/cb"]},
    ).get_json()
    assert len(confidential["client_secret"]) >= 40
    listed = api.get("/api/admin/clients", token=token).get_json()["items"]
    assert all("client_secret" not in c for c in listed) and len(listed) == 2
    changed = api.patch(
        f"/api/admin/clients/{body['client_id']}", token=token, json={"active": False}
    )
    assert changed.get_json()["active"] is False
    bad = api.patch(
        f"/api/admin/clients/{body['client_id']}",
        token=token,
        json={"redirect_uris": ["javascript:alert(1)"]},
    )
    assert_problem(bad, 422)
    assert_problem(api.get("/api/admin/clients/nope", token=token), 404)


def test_only_admins_manage_clients(api, make_user):
    make_user()
    token = api.token()
    assert_problem(api.get("/api/admin/clients", token=token), 403)
    assert_problem(
        api.post("/api/admin/clients", token=token, json={"name": "x", "redirect_uris": []}), 403
    )


def test_an_inactive_client_gets_no_codes(app, make_rp, make_user, login_as):
    login_as(make_user())
    rp = make_rp()
    with app.app_context():
        from acs_auth.oidc import clients

        clients.update(clients.get(rp.client_id), actor=None, active=False)
    response = rp.authorize()
    assert response.status_code == 400 and "Location" not in response.headers


@pytest.mark.parametrize(
    "field",
    [
        {"name": "Bot\x00"},
        {"redirect_uris": ["https://bot.example/cb\x00"]},
        {"backchannel_logout_uri": "https://bot.example/\x00"},
    ],
)
def test_bad_bytes_in_a_registration_answer_422(api, make_user, field):
    make_user(email="root@example.org", role=Role.ADMIN.value, programs=())
    token = api.token("root@example.org")
    body = {"name": "Bot", "redirect_uris": ["https://bot.example/cb"], **field}
    assert_problem(api.post("/api/admin/clients", token=token, json=body), 422)


def test_a_client_program_must_look_like_an_lo_root_id(app):
    from acs_auth.oidc import clients

    with app.app_context(), pytest.raises(clients.ClientInvalid):
        clients.register("Bot", redirect_uris=["https://bot.example/cb"], programs=["bad id!"])
