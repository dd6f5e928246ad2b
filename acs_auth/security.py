"""Request-level security: proxy trust, request ids, headers, the session loader, safe redirects."""

from __future__ import annotations

import re
import secrets
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from urllib.parse import unquote, urlsplit

from flask import Flask, abort, current_app, g, request
from flask_login import LoginManager
from werkzeug.middleware.proxy_fix import ProxyFix

from acs_auth import messages
from acs_auth.models import AuthSession
from acs_auth.services.signin import sessions
from acs_auth.services.text.characters import has_control_characters
from config import ConfigurationError

# img-src admits data: URIs because the vendored Pico CSS draws its checkbox, select and
# validity icons as inline SVG data; an image cannot run script, and everything else stays 'self'.
CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
# Endpoints whose pages carry credentials or tokens: never cached, never leak a Referer.
# Pages whose path carries an emailed token: no Referer leaves them, no log line keeps it.
NO_REFERRER_PREFIXES = ("/reset-password/", "/setup-password/", "/register/password/")
# Query parameters that would put a credential in a URL: the API refuses them (400) and the
# logs drop their values.
URL_CREDENTIALS = frozenset(
    {"access_token", "refresh_token", "token", "jwt", "api_key", "apikey", "key"}
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


# WSGI environ key: True when the immediate peer is one of FORWARDED_ALLOW_IPS.
FROM_PROXY = "acs_auth.from_trusted_proxy"


def trusted_networks(value: str) -> list[IPv4Network | IPv6Network] | None:
    """FORWARDED_ALLOW_IPS as networks (None for "*"); a bad entry is a ConfigurationError."""
    entries = [entry.strip() for entry in (value or "").split(",") if entry.strip()]
    if "*" in entries:
        return None
    try:
        return [ip_network(entry, strict=False) for entry in entries]
    except ValueError:
        raise ConfigurationError(
            f"FORWARDED_ALLOW_IPS must list IP addresses or networks, not {value!r}"
        ) from None


class TrustedProxies:
    """WSGI middleware: forwarded headers count only from a peer listed in FORWARDED_ALLOW_IPS.

    A request from a listed proxy goes through ProxyFix (the configured hops); any other one
    reaches the app as sent, so a client talking to gunicorn directly cannot choose its
    address (rate limits, audit) or its request id with X-Forwarded-For / X-Request-ID. As in
    gunicorn, a peer on a Unix socket (no IP address) is a local proxy.
    """

    def __init__(self, app, networks: list | None, x_for: int, x_proto: int):
        self.direct = app
        self.proxied = ProxyFix(app, x_for=x_for, x_proto=x_proto) if x_for or x_proto else app
        self.networks = networks

    def trusts(self, peer: str | None) -> bool:
        """Whether ``peer`` (REMOTE_ADDR) is one of the trusted proxies."""
        if self.networks is None:
            return True
        try:
            address = ip_address((peer or "").strip())
        except ValueError:
            return True  # a Unix socket: only local processes can connect, as in gunicorn
        return any(address in network for network in self.networks)

    def __call__(self, environ, start_response):
        environ[FROM_PROXY] = self.trusts(environ.get("REMOTE_ADDR"))
        handler = self.proxied if environ[FROM_PROXY] else self.direct
        return handler(environ, start_response)


def init_app(app: Flask) -> None:
    """Trust forwarded headers only from FORWARDED_ALLOW_IPS; request ids; response headers."""
    app.wsgi_app = app.extensions[FROM_PROXY] = TrustedProxies(
        app.wsgi_app,
        trusted_networks(app.config["FORWARDED_ALLOW_IPS"]),
        x_for=app.config["PROXY_FIX_X_FOR"],
        x_proto=app.config["PROXY_FIX_X_PROTO"],
    )
    app.before_request(_assign_request_id)
    app.before_request(_refuse_control_characters_in_path)
    app.after_request(_set_headers)


def _assign_request_id() -> None:
    # A client's own X-Request-ID would let it choose the id of its audit rows; only the
    # trusted proxy's is kept (it ties the proxy's log line to ours).
    incoming = request.headers.get("X-Request-ID", "")
    from_proxy = request.environ.get(FROM_PROXY)
    if from_proxy is None:  # a request context built without the WSGI stack (tests, tools)
        from_proxy = current_app.extensions[FROM_PROXY].trusts(request.remote_addr)
    trusted = from_proxy and _REQUEST_ID.match(incoming)
    g.request_id = incoming if trusted else secrets.token_hex(8)


def _refuse_control_characters_in_path() -> None:
    """A path with a control character names nothing here (404); a NUL in a path parameter (a
    session or key id) would otherwise reach PostgreSQL, which refuses it with a 500.

    The emailed-link pages check their token themselves and say that the link is invalid.
    """
    if has_control_characters(request.path) and not request.path.startswith(NO_REFERRER_PREFIXES):
        abort(404)


def _set_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers["X-Request-ID"] = g.get("request_id", "")
    if request.path.startswith(NO_REFERRER_PREFIXES):
        headers["Referrer-Policy"] = "no-referrer"
    if current_app.config.get("HSTS"):
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    # Every HTML page depends on who is signed in; none of them may be stored by a cache.
    if response.mimetype == "text/html" or request.path.startswith("/api/"):
        headers.setdefault("Cache-Control", "no-store")
    headers.pop("Server", None)
    return response


def init_login_manager(login_manager: LoginManager) -> None:
    """Flask-Login resolves its id to a live auth session, so revocation ends the cookie."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = messages.LOGIN_REQUIRED
    login_manager.login_message_category = "info"
    # Protection "strong" would drop remember-me on a changed IP; the server-side session row
    # already gives revocation, so "basic" is enough and mobile users are not signed out.
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(public_id: str):
        row = sessions.load_live(public_id, kind="browser")
        if row is None:
            return None
        sessions.touch(AuthSession, row.id, row.last_used_at)
        return row.user


def safe_next(target: str | None) -> str | None:
    """Return ``target`` when it is a same-site absolute path; otherwise None.

    Refuses scheme-relative (``//host``) and backslash tricks (``/\\host``), control characters
    (``/%09/host`` decodes to a tab that browsers strip) and anything with a scheme or host.
    The same checks run on the percent-decoded value too, so ``/%2F/host`` or ``/%5Chost``
    cannot become one of those after another decoding step along the way.
    """
    if not target or len(target) > 2048:
        return None
    for candidate in (target, unquote(target)):
        if not candidate.startswith("/") or candidate.startswith("//"):
            return None
        if "\\" in candidate or has_control_characters(candidate):
            return None
        parts = urlsplit(candidate)
        if parts.scheme or parts.netloc:
            return None
    return target
