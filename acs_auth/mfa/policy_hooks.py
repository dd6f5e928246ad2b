"""MFA_REQUIRED_ROLES enforced: enrolment before any other page; /api/admin refused until then.

One application-wide ``before_request`` hook, like the admin console's single guard: a person
whose role requires a second factor and who has none is redirected to enrolment from every
page but a short allow-list (the enrolment and second-step pages, passkeys, signing out,
static files, health checks). Deny by default: a page added later is covered without
thought. The JSON API never reads the session cookie, so it is left to ``api.guards``, which
asks ``policy.must_enrol`` for /api/admin.
"""

from __future__ import annotations

from flask import Flask, flash, redirect, request, session, url_for
from flask_login import current_user

from acs_auth import messages
from acs_auth.services.factors import policy
from config import ConfigurationError

# "Remember this browser" lasts at most a year: a lost laptop should not skip the factor forever.
MAX_REMEMBER_DAYS = 365
# Where a person held at enrolment is sent.
ENROL_ENDPOINT = "mfa.index"
# Blueprints a person held at enrolment may still use (enrolment, passkeys, probes).
OPEN_BLUEPRINTS = frozenset({"mfa", "mfa_signin", "passkeys", "health", "metrics"})
# Single endpoints that stay open: signing out (here or from a program), the static files,
# and the provider's public documents and back-end calls, which never act for the browser.
OPEN_ENDPOINTS = frozenset(
    {
        "static",
        "auth.logout",
        "oidc.end_session",
        "oidc.discovery",
        "oidc.jwks",
        "oidc.token",
        "oidc.userinfo",
        "oidc.introspect",
        "oidc.revoke",
    }
)


def init_app(app: Flask) -> None:
    """Check the second-factor settings once (a bad value stops the start) and add the hook."""
    app.extensions["mfa_required_roles"] = policy.parse_roles(app.config["MFA_REQUIRED_ROLES"])
    days = app.config["MFA_REMEMBER_DAYS"]
    if not 0 <= days <= MAX_REMEMBER_DAYS:
        raise ConfigurationError(
            f"MFA_REMEMBER_DAYS must be between 0 (off) and {MAX_REMEMBER_DAYS}, not {days}"
        )
    app.before_request(send_to_enrolment)


def _open(endpoint: str | None) -> bool:
    if endpoint is None:  # nothing matched: the 404 (or 405) answers as usual
        return True
    return endpoint in OPEN_ENDPOINTS or endpoint.split(".", 1)[0] in OPEN_BLUEPRINTS


def send_to_enrolment():
    """Before every browser request: hold a signed-in person who must enrol at enrolment."""
    if request.path.startswith("/api/") or _open(request.endpoint):
        return None
    if not current_user.is_authenticated or not policy.must_enrol(current_user):
        return None
    waiting = [message for _category, message in session.get("_flashes", [])]
    if messages.MFA_ENROL_REQUIRED not in waiting:  # once, however many pages were tried
        flash(messages.MFA_ENROL_REQUIRED, "info")
    return redirect(url_for(ENROL_ENDPOINT), code=303)
