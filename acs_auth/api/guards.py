"""Access rules for /api: every view needs a credential unless it is marked public.

Deny by default: one hook on the api blueprint authenticates every request, so a route added
without thought is protected. Views opt out with ``@public``; ``@bearer_only`` keeps API keys
away from what a key must never do (change passwords, mint keys, manage sessions); read-scope
keys may only read. The admin blueprint adds its role check on top, once, for every method.
"""

from __future__ import annotations

import logging

from flask import current_app, g, request

from acs_auth import messages
from acs_auth.api.problems import CREDENTIAL_KINDS, problem, unauthorized
from acs_auth.logs import redact
from acs_auth.models import Role
from acs_auth.security import URL_CREDENTIALS
from acs_auth.services.signin import api_auth

log = logging.getLogger(__name__)

# JSON bodies are small; only uploads (the allowlist CSV) get the application-wide limit.
JSON_BODY_LIMIT = 64 * 1024


def public(view):
    """Mark a view as callable without a credential."""
    view.api_public = True
    return view


def bearer_only(view):
    """Mark a view that an API key may not call, whatever its scope."""
    view.api_bearer_only = True
    return view


def upload(*media_types: str):
    """Mark a view that takes a file of ``media_types``, up to MAX_CONTENT_LENGTH.

    Other views take JSON up to JSON_BODY_LIMIT; the media types go into the OpenAPI document.
    """

    def mark(view):
        view.api_upload = media_types
        return view

    return mark


def principal() -> api_auth.Principal:
    """The authenticated caller of this request."""
    return g.api_principal


def check_request():
    """Before every /api view: size limit, no credentials in the URL, then authentication."""
    view = current_app.view_functions.get(request.endpoint)
    if not getattr(view, "api_upload", False):
        request.max_content_length = min(
            JSON_BODY_LIMIT, current_app.config.get("MAX_CONTENT_LENGTH") or JSON_BODY_LIMIT
        )
    if any(name.lower() in URL_CREDENTIALS for name in request.args):
        return problem(400, detail=messages.API_CREDENTIALS_IN_URL)
    if getattr(view, "api_public", False):
        return None
    try:
        g.api_principal = api_auth.authenticate()
    except api_auth.Unauthenticated as exc:
        log.info("api authentication refused on %s: %s", redact(request.path), exc)
        token_given = bool(request.headers.get("Authorization") or request.headers.get("X-API-Key"))
        return unauthorized(token_given=token_given, kind=CREDENTIAL_KINDS[exc.kind])
    if g.api_principal.via_key:
        if getattr(view, "api_bearer_only", False):
            return problem(403, detail=messages.API_KEY_NOT_ALLOWED)
        if not g.api_principal.may(request.method):
            return problem(403, detail=messages.API_KEY_READ_ONLY)
    return None


def require_admin():
    """Before every /api/admin view (after check_request): the caller's role must be admin.

    Read from the database on this request, so a demoted administrator's token or key stops
    at once; an API key also needs the admin scope.
    """
    me = principal()
    if me.caller.role != Role.ADMIN.value:
        return problem(403, detail=messages.API_ADMIN_ONLY)
    if not me.may_administer:
        return problem(403, detail=messages.API_KEY_NOT_ADMIN)
    return None
