"""The OpenAPI 3.1 document of /api, served at /api/openapi.json and rendered at /api/docs.

spectree builds the paths, request bodies, parameters and answers from the models the views
validate with (acs_auth.api.contract). This module adds what follows from our policy rather
than from a model, so that a new endpoint needs nothing here:

* each operation's ``operationId`` is its Flask endpoint, its security follows the guards'
  markers (public, bearer_only), and an upload's media types follow ``guards.upload``;
* the errors it can answer: those its view declares, plus the ones every such operation can
  answer (a body: 400/413/415/422; a query: 400/422; a credential: 401/403/429; a path value:
  404; a rate limit: 429; always 500 and 503), each an RFC 9457 problem with its type URIs;
* the models' examples on each request and answer; Cache-Control: no-store on secrets.
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app

from acs_auth.api.contract import MODELS, no_store, spec
from acs_auth.api.problems import KINDS, type_uri

DESCRIPTION = """\
The JSON API of the portal: the same accounts, rules and limits as the browser pages. A
rendered reference of this document is at `/api/docs`.

* Authenticate with `Authorization: Bearer <access token>` or `X-API-Key: <key>`. The session
  cookie is never accepted and credentials are never read from the URL.
* Every error is an RFC 9457 problem document (`application/problem+json`) whose `type` names
  the kind of error and opens its explanation (`/api/problems/<kind>`): `token-expired` means
  refresh now, `token-revoked` and `session-expired` mean sign in again. 422 adds `errors`
  with the messages of each field.
* Sign-in failures of every kind answer the same 401 (`sign-in-failed`), locked accounts
  included: the lock must not answer differently from a wrong password. 423 is never sent.
* Rate limits (429 `rate-limited`, with Retry-After) are shared with the browser's sign-in,
  registration and reset pages.
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
ANY = [{"bearerAuth": []}, {"apiKey": []}]
BEARER = [{"bearerAuth": []}]
NO_STORE = {"Cache-Control": {"required": True, "schema": {"type": "string", "const": "no-store"}}}
PROBLEM_HEADERS = {
    "401": {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}},
    "429": {
        "Retry-After": {
            "required": True,
            "schema": {"type": "integer"},
            "description": "Seconds to wait.",
        }
    },
}
SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token from login, register or refresh.",
    },
    "apiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "A key from POST /api/auth/api-keys: scope read allows GET only; only "
        "scope admin (of an account that is still an administrator) reaches /api/admin.",
    },
}
# Sample path values, for the examples of each operation.
PATH_EXAMPLES = {
    "user_id": 7,
    "session_id": "k2Jx0aQ9",
    "key_id": "b7c1d2e3",
    "program_id": "PROG-1",
    "client_id": "c2f9a1",
}
_CACHE: dict[str, dict] = {}


def document() -> dict:
    """The whole document, built once per process from the app of the current context.

    One process serves one app, so its APP_URL (in the problem types' URIs) is the app's.
    """
    if "document" not in _CACHE:
        _CACHE["document"] = _build()
    return _CACHE["document"]


def _views() -> dict[tuple[str, str], tuple[str, Any]]:
    """(OpenAPI path, method) → (endpoint, view) of every /api route."""
    found = {}
    for rule in current_app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                found[(path, method.lower())] = (
                    rule.endpoint,
                    current_app.view_functions[rule.endpoint],
                )
    return found


def _build() -> dict:
    generated = _compact(spec.spec)  # a tidied copy: spectree's own stays as it made it
    schemas = generated["components"]["schemas"]
    views = _views()
    paths = {}
    for path, item in generated["paths"].items():
        paths[path] = {
            method: _operation(op, *views[(path, method)], schemas) for method, op in item.items()
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": "ACS Portal API", "version": "1.0.0", "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "tags": generated["tags"],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def _security(view) -> list:
    if getattr(view, "api_public", False):
        return []
    return BEARER if getattr(view, "api_bearer_only", False) else ANY


def _operation(op: dict, endpoint: str, view, schemas: dict) -> dict:
    """One operation, completed by policy (see the module docstring)."""
    security = _security(view)
    op = {**op, "operationId": endpoint.removeprefix("api."), "security": security}
    op["description"] = op["description"].replace("\n", " ").strip() or op["summary"]
    codes = {"500", "503"}  # 503: the database or Redis is out of reach
    params = op.get("parameters", [])
    for param in params:
        if not param.get("description"):
            param.pop("description", None)
        if param["in"] == "path":
            param["example"] = PATH_EXAMPLES.get(param["name"], "abc")
            codes.add("404")  # a path value with a control character names nothing
        else:
            codes |= {"400", "422"}
    if not params:
        op.pop("parameters", None)
    if "requestBody" in op:
        _example_body(op["requestBody"], schemas)
        codes |= {"400", "413", "415", "422"}
    media_types = getattr(view, "api_upload", ())
    if media_types:
        op["requestBody"] = _upload_body(media_types)
        codes |= {"413", "415"}
    if security:
        codes |= {"401", "403", "429"}  # 429: the account's or the key's request budget
    if getattr(view, "rate_limited", False):
        codes.add("429")
    op["responses"] = _responses(op["responses"], codes, schemas)
    return op


def _responses(declared: dict, codes: set[str], schemas: dict) -> dict:
    """The view's answers with their examples, then a problem answer for each error code."""
    responses = {}
    for code, response in declared.items():
        content = response.get("content", {}).get("application/json")
        if code == "422":  # spectree lists it everywhere; only a body or a query is validated
            continue
        if code.startswith("2") and content is not None:
            responses[code] = _answer(response, content, schemas)
        elif code.startswith("2"):
            responses[code] = {"description": response["description"]}
        else:
            codes.add(code)
    for code in sorted(codes):
        responses[code] = _problem_response(code)
    return responses


def _example_of(ref: dict, schemas: dict) -> Any:
    schema = schemas[ref["$ref"].rsplit("/", 1)[1]]
    examples = schema.get("examples")
    return examples[0] if examples else None


def _example_body(body: dict, schemas: dict) -> None:
    media = body["content"]["application/json"]
    example = _example_of(media["schema"], schemas)
    if example is not None:
        media["example"] = example


def _upload_body(media_types: tuple[str, ...]) -> dict:
    content = {}
    for media_type in media_types:
        if media_type == "multipart/form-data":
            content[media_type] = {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "contentMediaType": "text/csv"}},
                }
            }
        else:
            content[media_type] = {
                "schema": {"type": "string"},
                "example": "last_name,email,lo_root_ids\nLovelace,ada@example.org,PROG-1\n",
            }
    return {"required": True, "content": content}


def _answer(response: dict, content: dict, schemas: dict) -> dict:
    name = content["schema"]["$ref"].rsplit("/", 1)[1]
    media = {"schema": content["schema"]}
    example = _example_of(content["schema"], schemas)
    if example is not None:
        media["example"] = example
    about = schemas[name].get("description", response["description"]).split("\n\n")[0]
    answer = {"description": " ".join(about.split()), "content": {"application/json": media}}
    if no_store(MODELS[name]):
        answer["headers"] = NO_STORE
    return answer


def _problem_response(code: str) -> dict:
    kinds = [k for k in KINDS.values() if str(k.status) == code]
    response = {
        "description": "A problem of kind " + ", ".join(k.slug for k in kinds) + ".",
        "content": {
            "application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"},
                "examples": {
                    k.slug: {
                        "summary": k.title,
                        "value": {"type": type_uri(k.slug), "title": k.title, "status": k.status},
                    }
                    for k in kinds
                },
            }
        },
    }
    if code in PROBLEM_HEADERS:
        response["headers"] = PROBLEM_HEADERS[code]
    return response


_LITERAL = {"examples", "example", "default", "const", "enum"}


def _compact(schema: Any) -> Any:
    """pydantic's JSON Schema, tidied: ``anyOf [X, null]`` as ``type: [X, "null"]``, no titles.

    Both forms mean the same; the compact one reads better and is what clients' generators
    handle best. A ``default: null`` on a field that refuses null is dropped (it only means
    "absent").
    """
    if isinstance(schema, list):
        return [_compact(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    schema = {
        k: v if k in _LITERAL else _compact(v)
        for k, v in schema.items()
        if k != "title" or not isinstance(v, str)
    }
    options = schema.get("anyOf")
    if options and len(options) == 2 and {"type": "null"} in options:
        (other,) = [o for o in options if o != {"type": "null"}]
        if "type" in other and "$ref" not in other:
            schema.pop("anyOf")
            kinds = other["type"] if isinstance(other["type"], list) else [other["type"]]
            schema = {**other, **schema, "type": [*kinds, "null"]}
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if schema.get("default", 0) is None and None not in kinds and "null" not in kinds:
        schema.pop("default")
    return schema
