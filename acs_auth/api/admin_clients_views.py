"""/api/admin/clients: register and manage OpenID Connect clients, admins only.

The routes join the /api/admin blueprint, so its one role check covers them.
"""

from __future__ import annotations

from flask import jsonify

from acs_auth import messages
from acs_auth.api import schemas
from acs_auth.api.admin_views import bp
from acs_auth.api.guards import principal
from acs_auth.api.problems import problem
from acs_auth.api.validation import Invalid, json_body
from acs_auth.models import OAuthClient
from acs_auth.oidc import clients


def client_json(c: OAuthClient, secret: str | None = None, created: bool = False) -> dict:
    """A client as the admin API answers it (the secret only right after it was made)."""
    body = {
        "client_id": c.client_id,
        "name": c.name,
        "public": c.is_public,
        "first_party": c.first_party,
        "active": c.active,
        "redirect_uris": list(c.redirect_uris),
        "post_logout_redirect_uris": list(c.post_logout_redirect_uris),
        "backchannel_logout_uri": c.backchannel_logout_uri,
        "programs": list(c.programs),
        "created_at": c.created_at.isoformat(),
    }
    if created:
        body["client_secret"] = secret  # null for a public client
    return body


def _invalid(exc: clients.ClientInvalid):
    return Invalid({k: [v] for k, v in exc.errors.items()})


@bp.get("/clients")
def list_oidc_clients():
    """Every registered client."""
    return jsonify(items=[client_json(c) for c in clients.all_clients()])


@bp.post("/clients")
def create_oidc_client():
    """Register a client; a confidential client's secret is in this answer only."""
    data = json_body(schemas.CLIENT_CREATE)
    try:
        done = clients.register(
            data["name"],
            redirect_uris=data["redirect_uris"],
            post_logout_redirect_uris=data.get("post_logout_redirect_uris", []),
            backchannel_logout_uri=data.get("backchannel_logout_uri"),
            programs=data.get("programs", []),
            first_party=data.get("first_party", False),
            public=data.get("public", False),
            actor=principal().user,
        )
    except clients.ClientInvalid as exc:
        raise _invalid(exc) from None
    response = jsonify(client_json(done.client, done.secret, created=True))
    response.headers["Cache-Control"] = "no-store"
    return response, 201


@bp.get("/clients/<client_id>")
def get_oidc_client(client_id: str):
    """One client."""
    client = clients.get(client_id)
    if client is None:
        return problem(404, detail=messages.OIDC_CLIENT_NOT_FOUND)
    return jsonify(client_json(client))


@bp.patch("/clients/<client_id>")
def update_oidc_client(client_id: str):
    """Change a client's registration or activity."""
    data = json_body(schemas.CLIENT_UPDATE)
    client = clients.get(client_id)
    if client is None:
        return problem(404, detail=messages.OIDC_CLIENT_NOT_FOUND)
    try:
        clients.update(client, actor=principal().user, **data)
    except clients.ClientInvalid as exc:
        raise _invalid(exc) from None
    return jsonify(client_json(client))
