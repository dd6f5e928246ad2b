"""What a person typed into a form that failed through no fault of theirs, kept for next time.

An expired form (CSRF) or a rate limit answers with an error page; the text fields of that
POST are held in the session for one GET of the form's page, where the form macro fills
them in. Passwords, confirmations and tokens are never kept, and nothing is kept for a
request that came without the session cookie (a cross-site POST must not touch the session).
"""

from __future__ import annotations

import math
import re
from urllib.parse import urlsplit

from flask import Flask, current_app, request, session
from werkzeug.exceptions import HTTPException

from acs_auth import messages
from acs_auth.security import safe_next

KEY = "_kept_form"
# Field names whose value is never kept: secrets, and confirmations a forged request could set.
_NEVER = re.compile(r"password|confirm|csrf|token|secret|key|code|otp", re.IGNORECASE)
MAX_FIELDS = 12
MAX_LENGTH = 320


def back_path() -> str | None:
    """The page of the form that was sent: the same-site referrer, else this path if it GETs."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and safe_next(referrer.path):
        return referrer.path
    adapter = current_app.url_map.bind(request.host)
    try:
        adapter.match(request.path, method="GET")
    except HTTPException:
        return None
    return request.path


def keep_typed() -> str | None:
    """Hold this POST's safe text fields for the form's next GET; return that page's path."""
    path = back_path()
    cookie = current_app.config.get("SESSION_COOKIE_NAME", "session")
    if request.method != "POST" or path is None or not request.cookies.get(cookie):
        return None
    fields = {
        name: value
        for name, value in request.form.items()
        if not _NEVER.search(name) and len(name) <= 64 and len(value) <= MAX_LENGTH
    }
    if fields:
        session[KEY] = {"path": path, "fields": dict(list(fields.items())[:MAX_FIELDS])}
    return path


def kept_value(name: str) -> str | None:
    """The value kept for field ``name`` of the page being shown, if any."""
    kept = session.get(KEY) if request.method == "GET" else None
    if not isinstance(kept, dict) or kept.get("path") != request.path:
        return None
    return kept.get("fields", {}).get(name)


def wait_phrase(seconds: int) -> str:
    """``seconds`` as a person would say it, rounded up: "40 seconds", "3 minutes", "an hour"."""
    if seconds <= 1:
        return messages.WAIT_ONE_SECOND
    if seconds < 60:
        return messages.WAIT_SECONDS.format(n=seconds)
    if seconds <= 60 * 60:
        minutes = math.ceil(seconds / 60)
        return messages.WAIT_ONE_MINUTE if minutes == 1 else messages.WAIT_MINUTES.format(n=minutes)
    hours = math.ceil(seconds / 3600)
    return messages.WAIT_ONE_HOUR if hours == 1 else messages.WAIT_HOURS.format(n=hours)


def init_app(app: Flask) -> None:
    """Offer kept values to templates, and forget them once their page has been shown."""
    app.jinja_env.globals["kept_value"] = kept_value

    @app.after_request
    def _forget(response):
        kept = session.get(KEY)
        if request.method == "GET" and isinstance(kept, dict) and kept.get("path") == request.path:
            session.pop(KEY, None)
        return response
