"""Forwarded headers and X-Request-ID count only when the immediate peer is a trusted proxy."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from acs_auth import create_app
from acs_auth.extensions import db
from acs_auth.models import AuditEvent
from config import ConfigurationError
from tests.support.db import read_db

PROXY = "10.0.0.5"
CLIENT = "203.0.113.9"
SPOOFED = "198.51.100.7"
BEHIND_PROXY = {"PROXY_FIX_X_FOR": 1, "FORWARDED_ALLOW_IPS": f"{PROXY}, 192.0.2.0/24"}


def failed_login(client, peer: str, headers: dict):
    """An API sign-in for an unknown address from ``peer``: one login.failed audit row."""
    return client.post(
        "/api/auth/login",
        json={"email": "nobody@example.org", "password": "wrong password 123"},
        headers=headers,
        environ_base={"REMOTE_ADDR": peer},
    )


def last_audit(app) -> tuple[str, str]:
    """(ip, request_id) of the newest audit row."""

    def query():
        row = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        return row.ip, row.request_id

    return read_db(app, query)


@pytest.mark.parametrize("app_overrides", [BEHIND_PROXY])
def test_a_direct_client_cannot_choose_its_address(app, client):
    response = failed_login(client, CLIENT, {"X-Forwarded-For": SPOOFED})
    assert response.status_code == 401
    assert last_audit(app)[0] == CLIENT


@pytest.mark.parametrize("app_overrides", [BEHIND_PROXY])
@pytest.mark.parametrize("proxy", [PROXY, "192.0.2.77"])
def test_the_listed_proxy_gives_the_client_address(app, client, proxy):
    failed_login(client, proxy, {"X-Forwarded-For": f"{SPOOFED}, {CLIENT}"})
    # One hop trusted: the address the proxy itself saw, not what the client prepended.
    assert last_audit(app)[0] == CLIENT


@pytest.mark.parametrize("app_overrides", [BEHIND_PROXY])
def test_a_direct_client_cannot_choose_its_request_id(app, client):
    response = failed_login(client, CLIENT, {"X-Request-ID": "chosen-by-client"})
    issued = response.headers["X-Request-ID"]
    assert issued != "chosen-by-client" and re.fullmatch(r"[0-9a-f]{16}", issued)
    assert last_audit(app)[1] == issued


@pytest.mark.parametrize("app_overrides", [BEHIND_PROXY])
def test_the_proxy_request_id_is_kept(app, client):
    response = failed_login(client, PROXY, {"X-Request-ID": "proxy-trace-0042"})
    assert response.headers["X-Request-ID"] == "proxy-trace-0042"
    assert last_audit(app)[1] == "proxy-trace-0042"


@pytest.mark.parametrize("app_overrides", [{"FORWARDED_ALLOW_IPS": PROXY}])
def test_without_hops_no_forwarded_address_is_believed_even_from_the_proxy(app, client):
    failed_login(client, PROXY, {"X-Forwarded-For": SPOOFED})
    assert last_audit(app)[0] == PROXY


def test_the_default_trusts_only_the_local_host(app, make_app, monkeypatch):
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    client = make_app().test_client()
    failed_login(client, CLIENT, {"X-Request-ID": "chosen-by-client"})
    assert last_audit(app)[1] != "chosen-by-client"
    failed_login(client, "127.0.0.1", {"X-Request-ID": "local-proxy-1"})
    assert last_audit(app)[1] == "local-proxy-1"


@pytest.mark.parametrize("value", ["10.0.0.300", "proxy.example", "10.0.0.0/40"])
def test_an_unreadable_allow_list_refuses_to_start(value, _schema):
    with pytest.raises(ConfigurationError, match="FORWARDED_ALLOW_IPS"):
        create_app("testing", SQLALCHEMY_DATABASE_URI=_schema, FORWARDED_ALLOW_IPS=value)
