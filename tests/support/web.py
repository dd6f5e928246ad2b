"""Driving the pages as a browser does: CSRF tokens, and signing in and out through the forms."""

from __future__ import annotations

import re

from tests.support.config import STRONG_PASSWORD

CSRF_INPUT = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'type="hidden" name="csrf_token" value="([^"]+)"'
)


def csrf_from(html: str) -> str:
    """The CSRF token of the first form in ``html``."""
    match = CSRF_INPUT.search(html)
    assert match, "page has no csrf_token field"
    return match.group(1) or match.group(2)


class AuthActions:
    """Sign in and out through the real endpoints, with the CSRF token each form carries."""

    def __init__(self, client):
        self.client = client

    def csrf(self, url: str = "/login") -> str:
        return csrf_from(self.client.get(url).get_data(as_text=True))

    def post(self, url: str, data: dict, form_url: str | None = None, **kwargs):
        data = {"csrf_token": self.csrf(form_url or url), **data}
        return self.client.post(url, data=data, **kwargs)

    def login(self, email: str, password: str = STRONG_PASSWORD, remember: bool = False, **kw):
        data = {"email": email, "password": password}
        if remember:
            data["remember"] = "y"
        return self.post("/login", data, **kw)

    def logout(self):
        token = csrf_from(self.client.get("/account").get_data(as_text=True))
        return self.client.post("/logout", data={"csrf_token": token})
