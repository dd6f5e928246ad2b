"""Logout: RP-initiated logout, and back-channel logout tokens through a retried queue.

When a portal session ends (sign-out, password change or reset, "sign out everywhere",
deactivation, removal from the allowlist), ``sessions_ended`` fires inside that transaction:
the provider revokes the tokens that session gave out and queues one signed logout token per
client with a back-channel URI. The queue is a table, like the mail outbox: a row commits with
the change that caused it, rounds claim due rows, a failed post is retried with back-off, so
a client that is down loses nothing.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from flask import Flask, g, has_request_context
from flask_login import current_user
from joserfc import jwt
from sqlalchemy import select

from acs_auth.extensions import db
from acs_auth.models import (
    AuthSession,
    BackchannelLogout,
    OAuthClient,
    OAuthCode,
    OAuthToken,
    User,
    utcnow,
)
from acs_auth.oidc import keys, store
from acs_auth.oidc.keys import issuer
from acs_auth.services import audit
from acs_auth.services.accounts import accounts
from acs_auth.services.mail.outbox import backoff, lease_due
from acs_auth.services.signin import browser, sessions

log = logging.getLogger(__name__)
EVENT = "http://schemas.openid.net/event/backchannel-logout"
TOKEN_LIFETIME = 120
POST_TIMEOUT = 5
MAX_ATTEMPTS = 10


def end_portal_session(client: OAuthClient | None) -> None:
    """End this browser's portal session (RP-initiated logout), then forget it."""
    row = getattr(current_user, "auth_session", None)
    if current_user.is_authenticated and row is not None:
        audit.record(
            "oidc.logout",
            actor=current_user,
            target=current_user,
            client=client.client_id if client else None,
        )
        accounts.sign_out(row)
    browser.end()


def logout_token(client: OAuthClient, sub: str, sid: str | None) -> str:
    """A signed logout token (OpenID Connect Back-Channel Logout 1.0 §2.4)."""
    key = keys.signing_key()
    now = int(time.time())
    claims = {
        "iss": issuer(),
        "aud": client.client_id,
        "iat": now,
        "exp": now + TOKEN_LIFETIME,
        "jti": secrets.token_urlsafe(16),
        "sub": sub,
        "events": {EVENT: {}},
    }
    if sid:
        claims["sid"] = sid
    header = {"alg": key.algorithm, "kid": key.kid, "typ": "logout+jwt"}
    return jwt.encode(header, claims, key.key, [key.algorithm])


def _on_sessions_ended(sender, *, user_ids, session_ids, reason="") -> None:
    """Revoke what the ended sessions gave out; queue a logout token per client and session.

    A client holds a session at the provider's side once it exchanged a code issued in that
    portal session, whether or not its tokens are still live.
    """
    session_ids = list(session_ids)
    if not session_ids:
        return
    store.revoke_where(OAuthToken.session_id.in_(session_ids))
    rows = db.session.execute(
        select(OAuthCode.client_pk, OAuthCode.user_id, OAuthCode.session_id)
        .where(OAuthCode.session_id.in_(session_ids), OAuthCode.used_at.is_not(None))
        .distinct()
    ).all()
    if not rows or not keys.enabled():
        return
    for client_pk, user_id, session_id in rows:
        client = db.session.get(OAuthClient, client_pk)
        if client is None or not client.backchannel_logout_uri:
            continue
        user = db.session.get(User, user_id)
        session = db.session.get(AuthSession, session_id)
        token = logout_token(client, store.subject_of(user), store.session_sid(session))
        db.session.add(
            BackchannelLogout(
                client_pk=client.id, uri=client.backchannel_logout_uri, logout_token=token
            )
        )
        audit.record("oidc.backchannel_queued", target=user, client=client.client_id, reason=reason)
    if has_request_context():
        g.backchannel_queued = True


def _claim(limit: int) -> list[BackchannelLogout]:
    """Lease up to ``limit`` due logout tokens, as the mail outbox leases its messages."""
    return [db.session.get(BackchannelLogout, i) for i in lease_due(BackchannelLogout, limit)]


def _post(uri: str, token: str) -> None:
    if urllib.parse.urlsplit(uri).scheme not in ("http", "https"):
        raise ValueError("back-channel logout URIs are http(s) only")
    body = urllib.parse.urlencode({"logout_token": token}).encode()
    req = urllib.request.Request(  # noqa: S310 (scheme checked above)
        uri,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(req, timeout=POST_TIMEOUT) as response:  # noqa: S310 (admin URIs)
        if response.status not in (200, 204):
            raise urllib.error.HTTPError(uri, response.status, "unexpected status", None, None)


def deliver_pending(limit: int = 100) -> tuple[int, int]:
    """Post what is due; returns (sent, failed this round). Safe to run in many processes."""
    sent = failed = 0
    for row in _claim(limit):
        try:
            _post(row.uri, row.logout_token)
        except (OSError, ValueError) as exc:  # refused, timed out, 4xx/5xx: retry later
            failed += 1
            row.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            if row.attempts >= MAX_ATTEMPTS:
                row.failed_at = utcnow()
            else:
                row.next_attempt_at = utcnow() + backoff(row.attempts)
            log.warning("back-channel logout %s to %s failed: %s", row.id, row.uri, exc)
        else:
            sent += 1
            row.sent_at = utcnow()
            row.last_error = None
        db.session.commit()
    return sent, failed


def _deliver_in_background(app: Flask) -> None:
    def run() -> None:
        with app.app_context():
            try:
                deliver_pending()
            except Exception:  # the database may be down: the worker retries later
                log.exception("background back-channel logout delivery failed")
            finally:
                db.session.remove()

    threading.Thread(target=run, daemon=True, name="acs-backchannel").start()


def init_app(app: Flask) -> None:
    """Listen for ended sessions; with MAIL_DELIVERY=background, post right after the request."""
    sessions.sessions_ended.connect(_on_sessions_ended)

    @app.after_request
    def _dispatch(response):
        if g.get("backchannel_queued") and app.config["MAIL_DELIVERY"] == "background":
            response.call_on_close(lambda: _deliver_in_background(app))
        return response
