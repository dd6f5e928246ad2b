"""Request-level security: proxy trust, request ids, headers, the session loader, safe redirects."""

from __future__ import annotations

import re
import secrets
from urllib.parse import unquote, urlsplit

from flask import Flask, abort, current_app, g, request, session
from flask_login import LoginManager, logout_user
from werkzeug.middleware.proxy_fix import ProxyFix

from acs_auth import messages
from acs_auth.services import sessions
from acs_auth.services.text import has_control_characters

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


def init_app(app: Flask) -> None:
    """Install ProxyFix for the configured hops, request ids and the response headers."""
    hops = app.config["PROXY_FIX_X_FOR"]
    if hops:
        # Only the configured number of proxy hops is trusted; anything a client adds to
        # X-Forwarded-For beyond them is ignored.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=app.config["PROXY_FIX_X_PROTO"])
    app.before_request(_assign_request_id)
    app.before_request(_refuse_control_characters_in_path)
    app.after_request(_set_headers)


def _assign_request_id() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)


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
        # touch() may commit, which expires the loaded rows; keep the user object alive and
        # re-attach its session, or logout and password change would lose track of it.
        user = row.user
        sessions.touch(row)
        user.auth_session = row
        return user


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


def forget_browser_session() -> None:
    """Forget the signed-in user in this browser: session data and the remember-me cookie.

    The server-side session row must already be revoked by the caller; this only makes the
    browser drop what it holds.
    """
    session.clear()
    logout_user()  # marks the remember-me cookie for deletion when the browser sent one
