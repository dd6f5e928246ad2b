"""/api/admin/clients: register and manage OpenID Connect clients, admins only.

The routes join the /api/admin blueprint, so its one role check covers them.
"""

from __future__ import annotations

from flask import jsonify

from acs_auth import messages
from acs_auth.api.admin_views import TAGS, bp
from acs_auth.api.contract import Invalid, Response, validate
from acs_auth.api.guards import principal
from acs_auth.api.problems import problem
from acs_auth.api.schemas.catalogue import (
    Client,
    ClientCreate,
    ClientCreated,
    ClientList,
    ClientUpdate,
)
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
@validate(resp=Response(HTTP_200=ClientList), tags=TAGS)
def list_oidc_clients():
    """OpenID Connect clients.

    Every registered client, active or not (never a secret).
    """
    return jsonify(items=[client_json(c) for c in clients.all_clients()])


@bp.post("/clients")
@validate(resp=Response(HTTP_201=ClientCreated), tags=TAGS)
def create_oidc_client(json: ClientCreate):
    """Register a client.

    Exact redirect URIs, the programs it serves, optional back-channel logout. A confidential
    client's secret is in this answer only; a public client has none (PKCE only).
    """
    try:
        done = clients.register(
            json.name,
            redirect_uris=json.redirect_uris,
            post_logout_redirect_uris=json.post_logout_redirect_uris or [],
            backchannel_logout_uri=json.backchannel_logout_uri,
            programs=json.programs or [],
            first_party=bool(json.first_party),
            public=json.public,
            actor=principal().user,
        )
    except clients.ClientInvalid as exc:
        raise _invalid(exc) from None
    response = jsonify(client_json(done.client, done.secret, created=True))
    response.headers["Cache-Control"] = "no-store"
    return response, 201


@bp.get("/clients/<client_id>")
@validate(resp=Response("HTTP_404", HTTP_200=Client), tags=TAGS)
def get_oidc_client(client_id: str):
    """One client.

    Its registration by client_id (never the secret).
    """
    client = clients.get(client_id)
    if client is None:
        return problem(404, detail=messages.OIDC_CLIENT_NOT_FOUND)
    return jsonify(client_json(client))


@bp.patch("/clients/<client_id>")
@validate(resp=Response("HTTP_404", HTTP_200=Client), tags=TAGS)
def update_oidc_client(client_id: str, json: ClientUpdate):
    """Change a client.

    Its registration or activity; a deactivated client's tokens stop working.
    """
    data = json.model_dump(exclude_unset=True)
    client = clients.get(client_id)
    if client is None:
        return problem(404, detail=messages.OIDC_CLIENT_NOT_FOUND)
    try:
        clients.update(client, actor=principal().user, **data)
    except clients.ClientInvalid as exc:
        raise _invalid(exc) from None
    return jsonify(client_json(client))
