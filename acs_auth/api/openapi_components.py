"""Reusable parts of the OpenAPI document: response schemas, error responses, security schemes."""

from __future__ import annotations

from acs_auth.api import schemas

NULLABLE_STRING = {"type": ["string", "null"]}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
TIME = {"type": "string", "format": "date-time"}


def ref(name: str) -> dict:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def closed(properties: dict, required: list[str] | None = None, **extra) -> dict:
    """An object schema that allows no undeclared property (a leaked field fails the tests)."""
    schema = {"type": "object", "additionalProperties": False, "properties": properties}
    schema["required"] = list(properties) if required is None else required
    schema.update(extra)
    return schema


PROGRAM_ITEM = closed(
    {
        "lo_root_id": {"type": "string"},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "launch_url": NULLABLE_STRING,
    }
)
CATALOGUE_PROGRAM = closed(
    {
        **PROGRAM_ITEM["properties"],
        "active": {"type": "boolean"},
        "created_at": TIME,
        "updated_at": TIME,
    }
)
STRINGS = {"type": "array", "items": {"type": "string"}}
CLIENT = closed(
    {
        "client_id": {"type": "string"},
        "name": {"type": "string"},
        "public": {"type": "boolean"},
        "first_party": {"type": "boolean"},
        "active": {"type": "boolean"},
        "redirect_uris": STRINGS,
        "post_logout_redirect_uris": STRINGS,
        "backchannel_logout_uri": NULLABLE_STRING,
        "programs": STRINGS,
        "created_at": TIME,
    }
)
USER = closed(
    {
        "id": {"type": "integer"},
        "email": {"type": "string"},
        "username": NULLABLE_STRING,
        "first_name": NULLABLE_STRING,
        "last_name": NULLABLE_STRING,
        "role": {"type": "string", "enum": list(schemas.ROLES)},
        "programs": {"type": "array", "items": {"type": "string"}},
        "email_verified": {"type": "boolean"},
        "created_at": TIME,
        "last_login_at": NULLABLE_TIME,
    }
)
ADMIN_USER = closed(
    {
        **USER["properties"],
        "is_active": {"type": "boolean"},
        "has_password": {"type": "boolean"},
        "locked": {"type": "boolean"},
        "locked_until": NULLABLE_TIME,
        "source": {"type": "string"},
        "visit_count": {"type": "integer"},
        "password_changed_at": NULLABLE_TIME,
        "updated_at": TIME,
    }
)
API_KEY = closed(
    {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "prefix": {"type": "string", "description": "The first characters, for recognition."},
        "scope": {"type": "string", "enum": ["read", "full", "admin"]},
        "created_at": TIME,
        "last_used_at": NULLABLE_TIME,
        "expires_at": NULLABLE_TIME,
        "expired": {"type": "boolean"},
        "requests_used": {
            "type": "integer",
            "description": "Requests made with the key in the current rate-limit window.",
        },
        "requests_limit": {"type": "integer", "description": "The key's budget per window."},
    }
)
PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "description": "Per-field messages (422).",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}
COMPONENT_SCHEMAS = {
    "Problem": PROBLEM,
    "User": USER,
    "AdminUser": ADMIN_USER,
    "TokenPair": closed(
        {
            "access_token": {"type": "string"},
            "refresh_token": {"type": "string"},
            "token_type": {"type": "string", "const": "bearer"},
            "expires_in": {"type": "integer", "description": "Access token lifetime, seconds."},
            "user": ref("User"),
        }
    ),
    "Accepted": closed({"status": {"const": "accepted"}, "detail": {"type": "string"}}),
    "TokenInfo": closed(
        {
            "valid": {"const": True},
            "session_id": {"type": "string"},
            "expires_at": TIME,
            "user": ref("User"),
        }
    ),
    "Session": closed(
        {
            "id": {"type": "string"},
            "kind": {"type": "string", "enum": ["browser", "api"]},
            "current": {"type": "boolean"},
            "created_at": TIME,
            "last_used_at": TIME,
            "expires_at": TIME,
            "ip": NULLABLE_STRING,
            "user_agent": NULLABLE_STRING,
            "device": {"type": "string"},
        }
    ),
    "ApiKey": API_KEY,
    "ApiKeyCreated": closed(
        {
            **API_KEY["properties"],
            "key": {"type": "string", "description": "The secret, shown in this answer only."},
        }
    ),
    "Jwks": closed({"keys": {"type": "array", "items": {"type": "object"}}}),
    "Pong": closed({"pong": {"const": True}}),
    "Programs": closed(
        {
            "programs": {"type": "array", "items": {"type": "string"}},
            "items": {"type": "array", "items": PROGRAM_ITEM},
        }
    ),
    "Program": closed(
        {
            "id": {"type": "string"},
            "authorized": {"const": True},
            "url": NULLABLE_STRING,
            "name": {"type": "string"},
            "description": {"type": "string"},
        }
    ),
    "CatalogueProgram": CATALOGUE_PROGRAM,
    "Client": CLIENT,
    "ClientCreated": closed(
        {**CLIENT["properties"], "client_secret": NULLABLE_STRING},
        required=list(CLIENT["properties"]),
    ),
    "ClientList": closed({"items": {"type": "array", "items": CLIENT}}),
    "CatalogueProgramList": closed({"items": {"type": "array", "items": CATALOGUE_PROGRAM}}),
    "CatalogueImport": closed(
        {
            "added": {"type": "array", "items": {"type": "string"}},
            "changed": {"type": "array", "items": {"type": "string"}},
            "unchanged": {"type": "integer"},
            "dry_run": {"type": "boolean"},
        }
    ),
    "Stats": {
        "type": "object",
        "description": "The admin dashboard's figures (the same as the console's).",
        "required": ["users_total", "signins_per_day"],
        "properties": {
            "users_total": {"type": "integer"},
            "registered_share": {"type": "number"},
            "signins_per_day": {
                "type": "array",
                "items": closed(
                    {
                        "day": {"type": "string", "format": "date"},
                        "succeeded": {"type": "integer"},
                        "failed": {"type": "integer"},
                    }
                ),
            },
        },
        "additionalProperties": {"type": ["integer", "number"]},
    },
    "UserPage": closed(
        {
            "items": {"type": "array", "items": ref("AdminUser")},
            "next_after": {"type": ["integer", "null"], "description": "Cursor of the next page."},
            "prev_before": {"type": ["integer", "null"], "description": "Cursor of the last page."},
        }
    ),
    "ImportResult": closed(
        {
            "dry_run": {"type": "boolean"},
            "applied": {"type": "boolean"},
            "added": {"type": "integer"},
            "changed": {"type": "integer"},
            "unchanged": {"type": "integer"},
            "removed": {"type": "integer"},
            "errors": {"type": "array", "items": ref("LineError")},
            "preview": ref("ImportPreview"),
        },
        required=["dry_run", "applied", "added", "changed", "unchanged", "removed", "errors"],
        description="Counts of what the import did (or, for a dry run, would do), the bad rows "
        "by line, and for a dry run the preview (each list cut at 1000 items).",
    ),
    "LineError": closed({"line": {"type": "integer"}, "message": {"type": "string"}}),
    "ImportPreview": closed(
        {
            "mode": {"type": "string", "enum": ["merge", "replace"]},
            "sha256": {"type": "string"},
            "active_before": {"type": "integer"},
            "removal_fraction": {"type": "number"},
            "needs_removal_confirmation": {"type": "boolean"},
            "to_add": {
                "type": "array",
                "items": closed(
                    {
                        "email": {"type": "string"},
                        "last_name": {"type": "string"},
                        "first_name": NULLABLE_STRING,
                        "lo_root_ids": {"type": "array", "items": {"type": "string"}},
                        "lines": {"type": "array", "items": {"type": "integer"}},
                    }
                ),
            },
            "to_change": {
                "type": "array",
                "items": closed(
                    {
                        "email": {"type": "string"},
                        "restored": {"type": "boolean"},
                        "fields": {
                            "type": "array",
                            "items": closed(
                                {
                                    "field": {"type": "string"},
                                    "old": NULLABLE_STRING,
                                    "new": NULLABLE_STRING,
                                }
                            ),
                        },
                    }
                ),
            },
            "to_remove": {
                "type": "array",
                "items": closed({"email": {"type": "string"}, "last_name": {"type": "string"}}),
            },
            "truncated": {"type": "boolean"},
            "uncatalogued": {
                "type": "array",
                "items": {"type": "string"},
                "description": "LO Root IDs not in the program catalogue (a warning).",
            },
            "edited_by_hand": {
                "type": "array",
                "description": "People whose programs an administrator set by hand and the "
                "file changes; the edited parameter decides.",
                "items": closed(
                    {
                        "email": {"type": "string"},
                        "by_hand": {"type": "array", "items": {"type": "string"}},
                        "in_file": {"type": "array", "items": {"type": "string"}},
                    }
                ),
            },
        }
    ),
}


def problem_response(description: str, headers: dict | None = None) -> dict:
    """A response whose body is a problem document."""
    response = {
        "description": description,
        "content": {"application/problem+json": {"schema": ref("Problem")}},
    }
    if headers:
        response["headers"] = headers
    return response


RETRY_AFTER = {"required": True, "schema": {"type": "integer"}, "description": "Seconds to wait."}
ERRORS = {
    "400": problem_response("The body is not valid JSON, or a credential was put in the URL."),
    "401": problem_response(
        "No credential, or an invalid, expired or revoked one. Sign-in failures of every kind "
        "(unknown account, wrong password, locked, inactive) share this one answer.",
        {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}},
    ),
    "403": problem_response(
        "The credential may not do this (role, read-only key, or a key where only a bearer "
        "token is accepted)."
    ),
    "404": problem_response("No such resource, or it belongs to someone else."),
    "409": problem_response("The request conflicts with the current state."),
    "413": problem_response("The body is larger than the limit (64 KiB for JSON)."),
    "415": problem_response("The body is not declared as JSON (or CSV for the upload)."),
    "422": problem_response("Fields are missing, unknown, of the wrong type or invalid."),
    "429": problem_response(
        "Too many attempts; shared with the browser pages.", {"Retry-After": RETRY_AFTER}
    ),
    "500": problem_response("An unexpected error; the body never names internals."),
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
