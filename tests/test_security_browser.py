"""Browser hardening: CSRF on login/logout, headers, production cookies, friendly error pages."""

from __future__ import annotations

import re
import secrets

import pytest
from cryptography.fernet import Fernet
from flask.testing import FlaskClient

from acs_auth import create_app, messages
from acs_auth.extensions import db, dispose_engines
from tests.support.browser import signed_in
from tests.support.config import STRONG_PASSWORD, TEST_REDIS_URL
from tests.support.web import AuthActions

# ---------------------------------------------------------------- CSRF


@pytest.mark.parametrize("token", [None, "", "not-a-token", "x" * 5000])
def test_login_without_a_valid_csrf_token_is_refused(client, make_user, token):
    make_user()
    client.get("/login")
    data = {"email": "ada@example.org", "password": STRONG_PASSWORD}
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/login", data=data)
    assert response.status_code == 400
    assert messages.CSRF_FAILED in response.get_data(as_text=True)
    assert not signed_in(client)


def test_a_token_from_another_browser_is_refused(app, client, make_user):
    make_user()
    foreign = AuthActions(app.test_client()).csrf("/login")
    client.get("/login")
    data = {"csrf_token": foreign, "email": "ada@example.org", "password": STRONG_PASSWORD}
    assert client.post("/login", data=data).status_code == 400
    assert not signed_in(client)


@pytest.mark.parametrize("token", [None, "forged"])
def test_logout_without_a_valid_csrf_token_keeps_you_signed_in(auth, client, make_user, token):
    make_user()
    auth.login("ada@example.org")
    response = client.post("/logout", data={} if token is None else {"csrf_token": token})
    assert response.status_code == 400
    assert messages.CSRF_FAILED in response.get_data(as_text=True)
    assert signed_in(client)


# ---------------------------------------------------------------- headers


def test_security_headers_on_the_login_page(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in {"same-origin", "no-referrer", "strict-origin"}
    assert "no-store" in response.headers["Cache-Control"]
    assert "Strict-Transport-Security" not in response.headers  # not outside production
    assert "Server" not in response.headers
    assert not any(
        "werkzeug" in v.lower() or "python" in v.lower() for v in response.headers.values()
    )


def test_signed_in_pages_are_not_cached(auth, client, make_user):
    make_user()
    auth.login("ada@example.org")
    for url in ("/account", "/programs/PROG-1"):
        assert "no-store" in client.get(url).headers["Cache-Control"]


def test_templates_have_no_inline_script_or_style(auth, client, make_user):
    make_user()
    pages = [client.get("/login").get_data(as_text=True)]
    auth.login("ada@example.org")
    urls = ("/account", "/account/passkeys", "/programs/PROG-1")
    pages += [client.get(url).get_data(as_text=True) for url in urls]
    for page in pages:
        # Scripts come from static files only (the passkeys script): never inline code.
        assert not re.search(r"<script(?![^>]*\bsrc=\"/static/)[^>]*>", page)
        assert not re.search(r"<script[^>]*>[^<]", page)
        assert "style=" not in page and "<style" not in page


# ---------------------------------------------------------------- production


@pytest.fixture
def production_app(app, _schema):
    """A production-configured app on the test database (strong, distinct secrets)."""
    settings = {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "MFA_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SQLALCHEMY_DATABASE_URI": _schema,
        "RATELIMIT_STORAGE_URI": TEST_REDIS_URL or "memory://",
        "BCRYPT_LOG_ROUNDS": 4,
        "MAIL_DELIVERY": "worker",
        "APP_URL": "https://localhost",
        "ALLOW_SQLITE_IN_PRODUCTION": True,
        "MAIL_BACKEND": "console",
    }
    if _schema.startswith("sqlite"):
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    prod = create_app("production", **settings)
    prod.test_client_class = HttpsClient
    yield prod
    with prod.app_context():
        db.session.remove()
        dispose_engines()


class HttpsClient(FlaskClient):
    """A test client whose every request goes to https://localhost, like a browser on the site.

    Over HTTPS Flask-WTF also wants a same-origin Referer on every POST, which a browser sends
    under the site's Referrer-Policy (same-origin).
    """

    def open(self, *args, **kwargs):
        kwargs.setdefault("base_url", "https://localhost")
        headers = dict(kwargs.pop("headers", None) or {})
        headers.setdefault("Referer", "https://localhost/login")
        return super().open(*args, headers=headers, **kwargs)


def _set_cookie(response, name: str) -> str:
    found = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    assert found, f"no Set-Cookie for {name}: {response.headers.getlist('Set-Cookie')}"
    return found[-1]


def test_production_cookies_are_secure_host_only_and_http_only(production_app, make_user):
    make_user()
    client = production_app.test_client()
    auth = AuthActions(client)
    response = auth.login("ada@example.org", remember=True)
    assert response.headers["Location"] == "/programs"
    for name in ("__Host-acs_session", "__Host-acs_remember"):
        assert production_app.config["SESSION_COOKIE_NAME"] == "__Host-acs_session"
        header = _set_cookie(response, name)
        attributes = [part.strip().lower() for part in header.split(";")]
        assert "secure" in attributes
        assert "httponly" in attributes
        assert "samesite=lax" in attributes
        assert "path=/" in attributes
        assert not any(a.startswith("domain=") for a in attributes)
    assert signed_in(client)


def test_production_sends_hsts(production_app):
    response = production_app.test_client().get("/login")
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    assert "Server" not in response.headers


# ---------------------------------------------------------------- error pages


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert messages.NOT_FOUND in body and "<!doctype html>" in body


def test_unexpected_errors_are_a_friendly_500_without_a_trace(make_app):
    boom_app = make_app()

    def boom():
        raise RuntimeError("secret internals")

    boom_app.add_url_rule("/boom", "boom", boom)
    response = boom_app.test_client().get("/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert messages.SERVER_ERROR in body
    assert "secret internals" not in body and "Traceback" not in body


def test_an_error_page_that_cannot_render_still_answers(make_app, monkeypatch):
    broken = make_app()

    def boom():
        raise RuntimeError("first failure")

    broken.add_url_rule("/boom", "boom", boom)
    monkeypatch.setattr(
        "acs_auth.errors.render_template",
        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("layout broken")),
    )
    response = broken.test_client().get("/boom")
    assert response.status_code == 500
    assert messages.SERVER_ERROR in response.get_data(as_text=True)
