"""The OpenAPI 3.1 document of /api, served at /api/openapi.json.

Request bodies and query parameters are generated from the same Schema objects the views
validate with (acs_auth.api.schemas); responses are described in openapi_components. The test
suite checks that every /api route of the app is here and validates real responses against it.
"""

from __future__ import annotations

from functools import cache

from acs_auth.api import schemas
from acs_auth.api.openapi_components import (
    COMPONENT_SCHEMAS,
    ERRORS,
    SECURITY_SCHEMES,
    closed,
    ref,
)
from acs_auth.api.validation import Schema

DESCRIPTION = """\
The JSON API of the portal: the same accounts, rules and limits as the browser pages.

* Authenticate with `Authorization: Bearer <access token>` or `X-API-Key: <key>`. The session
  cookie is never accepted and credentials are never read from the URL.
* Every error is an RFC 9457 problem document (`application/problem+json`); 422 adds `errors`
  with the messages of each field.
* Sign-in failures of every kind answer the same 401, locked accounts included: the lock must
  not answer differently from a wrong password. 423 Locked is therefore never sent.
* Rate limits (429 with Retry-After) are shared with the browser's sign-in, registration and
  reset pages.
* Token responses carry `Cache-Control: no-store`.
* API keys are credentials of the account: minting one needs the current password, every key
  expires (90 days by default), the owner is emailed, and a password reset or an
  administrator's "sign out everywhere" revokes them. /api/admin accepts a key only with the
  `admin` scope, which only an administrator can mint; a `read` or `full` key answers 403 there.

The portal is also an OpenID Connect provider for the programs' back ends. Its endpoints are
described by the standard discovery document, not here: `GET /.well-known/openid-configuration`
names `/oauth/authorize` (code + PKCE S256 only), `/oauth/token` (authorization_code,
refresh_token), `/oauth/userinfo`, `/oauth/introspect` (RFC 7662), `/oauth/revoke` (RFC 7009),
`/oauth/logout` (RP-initiated logout) and `/.well-known/jwks.json` (the keys of this API's
tokens and of ID tokens). Clients are registered through `/api/admin/clients`; the catalogue
of programs lives at `/api/admin/programs`. See docs/oidc.md.
"""
PUBLIC: list = []
ANY = [{"bearerAuth": []}, {"apiKey": []}]
BEARER = [{"bearerAuth": []}]
NO_STORE = {"Cache-Control": {"required": True, "schema": {"type": "string", "const": "no-store"}}}


def json_response(description: str, schema: dict, headers: dict | None = None) -> dict:
    """A JSON response with ``schema``."""
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


TOKENS = json_response("A new access and refresh token.", ref("TokenPair"), NO_STORE)
NO_CONTENT = {"description": "Done."}


def _parameters(query: Schema | None, path: tuple[str, ...]) -> list[dict]:
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": kind}}
        for name, kind in (p.split(":") for p in path)
    ]
    for name, spec in query.fields.items() if query else ():
        params.append(
            {"name": name, "in": "query", "required": spec.required, "schema": spec.json_schema()}
        )
    return params


def operation(
    summary: str,
    ok: dict[str, dict],
    *,
    security: list = ANY,
    body: Schema | None = None,
    query: Schema | None = None,
    path: tuple[str, ...] = (),
    errors: tuple[str, ...] = (),
    limited: bool = False,
    tag: str = "auth",
) -> dict:
    """One operation, with the errors every such operation can answer added to ``errors``."""
    codes = set(errors) | {"500"}
    if body is not None:
        codes |= {"400", "413", "415", "422"}
    if query is not None:
        codes |= {"400", "422"}
    if security:
        codes |= {"401", "403", "429"}  # 429: the account's or the key's request budget
    if path:  # a path value with a control character names nothing (security._refuse_…)
        codes.add("404")
    if limited:
        codes.add("429")
    op: dict = {"summary": summary, "tags": [tag], "security": security}
    params = _parameters(query, path)
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(body.name)}},
        }
    op["responses"] = {**ok, **{code: ERRORS[code] for code in sorted(codes)}}
    return op


def _auth_paths() -> dict:
    s = schemas
    return {
        "/api/auth/register": {
            "post": operation(
                "Register someone on the allowlist",
                {
                    "202": json_response(
                        "Email confirmation: a link was sent if the details match.", ref("Accepted")
                    ),
                    "201": {**TOKENS, "description": "Without email confirmation: signed in."},
                },
                security=PUBLIC,
                body=s.REGISTER,
                errors=("403", "409"),
                limited=True,
            )
        },
        "/api/auth/login": {
            "post": operation(
                "Sign in with email or username",
                {"200": TOKENS},
                security=PUBLIC,
                body=s.LOGIN,
                errors=("401",),
                limited=True,
            )
        },
        "/api/auth/refresh": {
            "post": operation(
                "Rotate a refresh token (a rotated one revokes the session)",
                {"200": TOKENS},
                security=PUBLIC,
                body=s.REFRESH,
                errors=("401",),
                limited=True,
            )
        },
        "/api/auth/logout": {
            "post": operation("End this API session", {"204": NO_CONTENT}, security=BEARER)
        },
        "/api/auth/verify-token": {
            "post": operation(
                "Check an access token",
                {"200": json_response("Valid.", ref("TokenInfo"))},
                security=PUBLIC,
                body=s.VERIFY,
                errors=("401",),
            )
        },
        "/api/auth/change-password": {
            "post": operation(
                "Change the password (every session ends; a new pair is returned)",
                {"200": TOKENS},
                security=BEARER,
                body=s.CHANGE_PASSWORD,
                limited=True,
            )
        },
        "/api/auth/request-password-reset": {
            "post": operation(
                "Email a reset link",
                {"202": json_response("Always the same.", ref("Accepted"))},
                security=PUBLIC,
                body=s.REQUEST_RESET,
                limited=True,
            )
        },
        "/api/auth/reset-password": {
            "post": operation(
                "Set a new password with the emailed token (no tokens: sign in afterwards)",
                {"204": NO_CONTENT},
                security=PUBLIC,
                body=s.RESET,
                limited=True,
            )
        },
        "/api/auth/.well-known/jwks.json": {
            "get": operation(
                "Public keys for RS256/EdDSA tokens",
                {"200": json_response("JWKS.", ref("Jwks"))},
                security=PUBLIC,
            )
        },
    }


def _account_paths() -> dict:
    s = schemas
    user = json_response("The account.", ref("User"))
    return {
        "/api/auth/me": {
            "get": operation("The caller's account", {"200": user}),
            "patch": operation(
                "Change names or username", {"200": user}, body=s.PROFILE, errors=("409",)
            ),
        },
        "/api/auth/sessions": {
            "get": operation(
                "The caller's live sessions",
                {
                    "200": json_response(
                        "Sessions.",
                        closed({"sessions": {"type": "array", "items": ref("Session")}}),
                    )
                },
                security=BEARER,
            )
        },
        "/api/auth/sessions/{session_id}": {
            "delete": operation(
                "End one of the caller's sessions",
                {"204": NO_CONTENT},
                security=BEARER,
                path=("session_id:string",),
                errors=("404",),
            )
        },
        "/api/auth/api-keys": {
            "post": operation(
                "Create an API key (needs the current password; the owner is emailed)",
                {
                    "201": json_response(
                        "The key; its secret is in this answer only.",
                        ref("ApiKeyCreated"),
                        NO_STORE,
                    )
                },
                security=BEARER,
                body=s.NEW_API_KEY,
                errors=("409",),
            ),
            "get": operation(
                "The caller's API keys",
                {
                    "200": json_response(
                        "Keys.", closed({"api_keys": {"type": "array", "items": ref("ApiKey")}})
                    )
                },
                security=BEARER,
            ),
        },
        "/api/auth/api-keys/{key_id}": {
            "delete": operation(
                "Revoke an API key",
                {"204": NO_CONTENT},
                security=BEARER,
                path=("key_id:string",),
                errors=("404",),
            )
        },
    }


def _admin_paths() -> dict:
    s = schemas
    admin_user = json_response("The account.", ref("AdminUser"))
    user_path = ("user_id:integer",)
    csv_body = {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "contentMediaType": "text/csv"}},
                }
            },
        },
    }
    upload = operation(
        "Import an allowlist CSV (dry_run=true: preview only)",
        {"200": json_response("What was (or would be) done.", ref("ImportResult"))},
        query=s.ALLOWLIST_UPLOAD,
        errors=("409", "413", "415"),
        tag="admin",
    )
    upload["requestBody"] = csv_body
    return {
        "/api/admin/stats": {
            "get": operation(
                "Figures", {"200": json_response("Figures.", ref("Stats"))}, tag="admin"
            )
        },
        "/api/admin/users": {
            "get": operation(
                "Search users",
                {"200": json_response("A page.", ref("UserPage"))},
                query=s.USER_SEARCH,
                tag="admin",
            ),
            "post": operation(
                "Create a user (the setup email is queued)",
                {"201": admin_user},
                body=s.ADMIN_USER_CREATE,
                errors=("409",),
                tag="admin",
            ),
        },
        "/api/admin/users/{user_id}": {
            "get": operation(
                "One user", {"200": admin_user}, path=user_path, errors=("404",), tag="admin"
            ),
            "patch": operation(
                "Change role, activity or programs",
                {"200": admin_user},
                path=user_path,
                body=s.ADMIN_USER_UPDATE,
                errors=("404", "409"),
                tag="admin",
            ),
        },
        "/api/admin/users/{user_id}/unlock": {
            "post": operation(
                "Unlock a user", {"200": admin_user}, path=user_path, errors=("404",), tag="admin"
            )
        },
        **_admin_access_paths(user_path),
        "/api/admin/allowlist": {"post": upload},
        **_catalogue_paths(csv_body),
        **_client_paths(),
    }


def _client_paths() -> dict:
    s = schemas
    one = json_response("The client.", ref("Client"))
    path = ("client_id:string",)
    return {
        "/api/admin/clients": {
            "get": operation(
                "OpenID Connect clients",
                {"200": json_response("Clients.", ref("ClientList"))},
                tag="admin",
            ),
            "post": operation(
                "Register a client (the secret is in this answer only)",
                {"201": json_response("The client and its secret.", ref("ClientCreated"))},
                body=s.CLIENT_CREATE,
                tag="admin",
            ),
        },
        "/api/admin/clients/{client_id}": {
            "get": operation("One client", {"200": one}, path=path, errors=("404",), tag="admin"),
            "patch": operation(
                "Change a client",
                {"200": one},
                path=path,
                body=s.CLIENT_UPDATE,
                errors=("404",),
                tag="admin",
            ),
        },
    }


def _catalogue_paths(csv_body: dict) -> dict:
    s = schemas
    one = json_response("The program.", ref("CatalogueProgram"))
    path = ("program_id:string",)
    imported = operation(
        "Add or update programs from CSV (dry_run=true: report only)",
        {"200": json_response("What was (or would be) done.", ref("CatalogueImport"))},
        query=s.PROGRAM_IMPORT,
        errors=("413", "415"),
        tag="admin",
    )
    imported["requestBody"] = {
        "required": True,
        "content": {"text/csv": csv_body["content"]["text/csv"]},
    }
    return {
        "/api/admin/programs": {
            "get": operation(
                "The program catalogue",
                {"200": json_response("Programs.", ref("CatalogueProgramList"))},
                tag="admin",
            ),
            "post": operation(
                "Add a program",
                {"201": one},
                body=s.PROGRAM_CREATE,
                errors=("409",),
                tag="admin",
            ),
        },
        "/api/admin/programs/import": {"post": imported},
        "/api/admin/programs/{program_id}": {
            "get": operation("One program", {"200": one}, path=path, errors=("404",), tag="admin"),
            "patch": operation(
                "Change a program",
                {"200": one},
                path=path,
                body=s.PROGRAM_UPDATE,
                errors=("404",),
                tag="admin",
            ),
        },
    }


def _admin_access_paths(user_path: tuple[str, ...]) -> dict:
    """A person's sessions, API keys and password reset, as an administrator manages them."""

    def listing(name: str, item: str) -> dict:
        body = closed({name: {"type": "array", "items": ref(item)}})
        return json_response(f"{item}s.", body)

    def removal(summary: str, extra: str) -> dict:
        return operation(
            summary, {"204": NO_CONTENT}, path=(*user_path, extra), errors=("404",), tag="admin"
        )

    sent = closed({"sent": {"type": "string", "enum": ["reset", "setup"]}})
    removed = closed({"removed": {"type": "array", "items": {"type": "string"}}})
    return {
        "/api/admin/users/{user_id}/sessions": {
            "get": operation(
                "A user's live sessions",
                {"200": listing("sessions", "Session")},
                path=user_path,
                errors=("404",),
                tag="admin",
            )
        },
        "/api/admin/users/{user_id}/sessions/{session_id}": {
            "delete": removal("End one of a user's sessions", "session_id:string")
        },
        "/api/admin/users/{user_id}/api-keys": {
            "get": operation(
                "A user's API keys",
                {"200": listing("api_keys", "ApiKey")},
                path=user_path,
                errors=("404",),
                tag="admin",
            ),
            "post": operation(
                "Create an API key for a service account (secret shown once)",
                {
                    "201": json_response(
                        "The key; its secret is in this answer only.",
                        ref("ApiKeyCreated"),
                        NO_STORE,
                    )
                },
                path=user_path,
                body=schemas.SERVICE_API_KEY,
                errors=("404", "409"),
                tag="admin",
            ),
        },
        "/api/admin/users/{user_id}/api-keys/{key_id}": {
            "delete": removal("Revoke one of a user's API keys", "key_id:string")
        },
        "/api/admin/users/{user_id}/factors": {
            "delete": operation(
                "Reset a user's second factors (the person is emailed; audited)",
                {"200": json_response("What was removed.", removed)},
                path=user_path,
                errors=("404", "409"),
                tag="admin",
            )
        },
        "/api/admin/users/{user_id}/password-reset": {
            "post": operation(
                "Email a user a password reset link (setup link when no password is set)",
                {"202": json_response("Queued; the link goes to the user only.", sent)},
                path=user_path,
                errors=("404", "409"),
                tag="admin",
            )
        },
    }


def _other_paths() -> dict:
    return {
        "/api/ping": {
            "get": operation(
                "A bare JSON answer",
                {"200": json_response("Pong.", ref("Pong"))},
                security=PUBLIC,
                tag="meta",
            )
        },
        "/api/openapi.json": {
            "get": operation(
                "This document",
                {"200": json_response("OpenAPI 3.1.", {"type": "object"})},
                security=PUBLIC,
                tag="meta",
            )
        },
        "/api/programs": {
            "get": operation(
                "The caller's programs: LO Root IDs and catalogue fields (administrators: all)",
                {"200": json_response("Programs.", ref("Programs"))},
                tag="programs",
            )
        },
        "/api/programs/{program_id}": {
            "get": operation(
                "One program; 403 when the caller is not authorized for it",
                {"200": json_response("Authorized.", ref("Program"))},
                path=("program_id:string",),
                tag="programs",
            )
        },
    }


@cache
def document() -> dict:
    """The whole document (built once per process)."""
    components = dict(COMPONENT_SCHEMAS)
    for schema in schemas.ALL:
        components[schema.name] = schema.json_schema()
    return {
        "openapi": "3.1.0",
        "info": {"title": "ACS Portal API", "version": "1.0.0", "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "paths": {**_other_paths(), **_auth_paths(), **_account_paths(), **_admin_paths()},
        "components": {"schemas": components, "securitySchemes": SECURITY_SCHEMES},
    }
