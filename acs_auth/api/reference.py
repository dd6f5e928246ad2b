"""/api/docs and /api/problems/<kind>: the API's reference for people, rendered on the server.

The pages are built from the served OpenAPI document with a template: no script and no inline
style, so they live within the CSP (default-src 'self') like every other page. The JS viewers
(Swagger UI, Redoc, RapiDoc) set inline styles at run time, which that CSP refuses; the
document itself stays at /api/openapi.json for any viewer or client generator a reader prefers.
"""

from __future__ import annotations

import json
import re

from flask import Blueprint, abort, render_template
from markupsafe import Markup, escape

from acs_auth.api import openapi
from acs_auth.api.problems import KINDS

bp = Blueprint("api_reference", __name__, url_prefix="/api")
SECURITY = {0: "Public: no credential", 1: "Access token only", 2: "Access token or API key"}


def prose(text: str) -> Markup:
    """The document's plain text as HTML: paragraphs, ``*`` lists and `code` spans."""
    html = Markup("")
    for block in re.split(r"\n\s*\n", text.strip()):
        items = re.split(r"^\* ", block, flags=re.M)
        inline = [_inline(" ".join(item.split())) for item in items if item.strip()]
        if block.startswith("* "):
            listed = Markup("").join(Markup("<li>{}</li>").format(item) for item in inline)
            html += Markup("<ul>{}</ul>").format(listed)
        else:
            html += Markup("<p>{}</p>").format(Markup(" ").join(inline))
    return html


def _inline(text: str) -> Markup:
    """Escaped text with `backquoted` parts as code."""
    html = Markup("")
    for i, part in enumerate(re.split(r"`+([^`]+)`+", text)):
        html += Markup("<code>{}</code>").format(part) if i % 2 else escape(part)
    return html


def _schema(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _type(schema: dict) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[1]
    kinds = schema.get("type", "any")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    named = [
        f"array of {_type(schema.get('items', {}))}" if kind == "array" else kind for kind in kinds
    ]
    if "enum" in schema:
        named[0] = " | ".join(json.dumps(v) for v in schema["enum"])
    return " or ".join(named)


def fields(document: dict, schema: dict) -> list[dict]:
    """The rows of a body's or answer's field table."""
    schema = _schema(document, schema)
    required = set(schema.get("required", []))
    rows = []
    for name, spec in schema.get("properties", {}).items():
        limits = [
            f"{label} {spec[key]}"
            for key, label in (("maxLength", "at most"), ("minimum", "from"), ("maximum", "to"))
            if key in spec
        ]
        rows.append(
            {
                "name": name,
                "type": _type(spec),
                "required": name in required,
                "about": "; ".join([*filter(None, [spec.get("description")]), *limits]),
            }
        )
    return rows


def _operations(document: dict) -> list[dict]:
    found = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            body = op.get("requestBody", {}).get("content", {})
            json_body = body.get("application/json")
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "op": op,
                    "security": SECURITY[len(op["security"])],
                    "body": json_body,
                    "body_fields": fields(document, json_body["schema"]) if json_body else [],
                    "uploads": [t for t in body if t != "application/json"],
                    "answers": _answers(document, op),
                }
            )
    return found


def _answers(document: dict, op: dict) -> list[dict]:
    answers = []
    for code, response in op["responses"].items():
        media = response.get("content", {}).get("application/json")
        answers.append(
            {
                "code": code,
                "description": response["description"],
                "fields": fields(document, media["schema"]) if media else [],
                "example": json.dumps(media["example"], indent=2)
                if "example" in (media or {})
                else None,
            }
        )
    return answers


@bp.get("/docs")
def docs():
    """The whole API: every operation with its fields, examples and errors; the problem kinds."""
    document = openapi.document()
    operations = _operations(document)
    tags = [t["name"] for t in document["tags"]]
    return render_template(
        "api_reference/docs.html",
        document=document,
        description=prose(document["info"]["description"]),
        groups=[(tag, [o for o in operations if tag in o["op"]["tags"]]) for tag in tags],
        kinds=KINDS.values(),
        prose=prose,
        dumps=lambda value: json.dumps(value, indent=2),
    )


@bp.get("/problems/<kind>")
def problem_kind(kind: str):
    """What one kind of error means and what a client should do (the page its type names)."""
    found = KINDS.get(kind) or abort(404)
    return render_template(
        "api_reference/problem.html", kind=found, explanation=prose(found.explanation)
    )
