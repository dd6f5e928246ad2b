"""Helpers shared by the browser sign-in tests (login, sessions, account, programs, security)."""

from __future__ import annotations

import re

from werkzeug.test import encode_multipart

from acs_auth.extensions import db
from acs_auth.models import AuthSession, User, utcnow
from tests.support.db import read_db

CSRF_VALUE = re.compile(r'(name="csrf_token" value=")[^"]+(")')


def normalised(html: str, *echoed: str) -> str:
    """``html`` with every CSRF token value and each echoed string replaced by a placeholder."""
    html = CSRF_VALUE.sub(r"\1CSRF\2", html)
    for value in echoed:
        html = html.replace(value, "ECHOED")
    return html


def user_state(app, user_id: int) -> dict:
    """The columns of one user row that sign-in changes."""

    def load():
        user = db.session.get(User, user_id)
        return {
            "visit_count": user.visit_count,
            "last_login_at": user.last_login_at,
            "last_login_ip": user.last_login_ip,
            "failed_login_count": user.failed_login_count,
            "locked_until": user.locked_until,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "username": user.username,
            "email": user.email,
            "role": user.role,
            "is_active": user.is_active,
            "password_hash": user.password_hash,
        }

    return read_db(app, load)


def update_user(app, user_id: int, **values) -> None:
    """Change columns of a user row directly (to arrange a lock, deactivate, ...)."""

    def change():
        user = db.session.get(User, user_id)
        for key, value in values.items():
            setattr(user, key, value)
        db.session.commit()

    read_db(app, change)


def sessions_of(app, user_id: int) -> list[dict]:
    """Every auth session row of a user, oldest first."""

    def load():
        rows = db.session.scalars(
            db.select(AuthSession).where(AuthSession.user_id == user_id).order_by(AuthSession.id)
        )
        return [
            {"public_id": r.public_id, "revoked_at": r.revoked_at, "remember": r.remember}
            for r in rows
        ]

    return read_db(app, load)


def signed_in(client) -> bool:
    """True when ``client`` reaches a page behind sign-in (not sent to /login)."""
    response = client.get("/account")
    if response.status_code == 200:
        return True
    assert response.status_code == 302, response.status_code
    assert response.headers["Location"].startswith("/login"), response.headers["Location"]
    return False


def cookie_value(client, name: str) -> str | None:
    """The value of cookie ``name`` held by the test client, or None."""
    cookie = client.get_cookie(name)
    return cookie.value if cookie is not None else None


def post_multipart(client, url: str, fields: dict):
    """POST ``fields`` as multipart/form-data built in memory.

    The test client spools a large multipart body to a temporary file that it never closes
    (a ResourceWarning, an error under filterwarnings=error); bytes built here avoid that.
    """
    boundary, body = encode_multipart(fields)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def revoke_sessions(app, user_id: int) -> None:
    """Revoke every session of a user directly in the database (an admin's "sign out")."""

    def revoke():
        db.session.execute(
            db.update(AuthSession)
            .where(AuthSession.user_id == user_id)
            .values(revoked_at=utcnow(), revoked_reason="test")
        )
        db.session.commit()

    read_db(app, revoke)
