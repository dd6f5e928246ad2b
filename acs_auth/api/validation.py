"""Declarative request schemas for the JSON API: JSON only, documented fields only, typed, bounded.

Each endpoint declares a Schema; ``json_body(schema)`` enforces the content type, parses the body
and returns the validated fields, or raises the matching HTTP error (415, 400, 413, 422). The
same Schema objects generate the request bodies of the OpenAPI document, so the document cannot
drift from what the code accepts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from acs_auth import messages
from acs_auth.services.text.addresses import InvalidEmail, LookalikeEmail, validate_address
from acs_auth.services.text.characters import has_control_characters

_TYPE_NAMES = {"string": "a string", "boolean": "true or false", "integer": "an integer"}


class Invalid(Exception):
    """Per-field validation errors, answered as 422 with ``errors``."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("invalid request")
        self.errors = errors


@dataclass(frozen=True)
class Field:
    """One JSON field: its type and bounds, checked and documented from the same description."""

    kind: str  # "string", "boolean", "integer" or "array" (of strings)
    required: bool = False
    nullable: bool = False
    max_length: int | None = None
    min_length: int | None = None
    choices: tuple[str, ...] | None = None
    pattern: str | None = None
    fmt: str | None = None  # "email" or "date-time"
    minimum: int | None = None
    maximum: int | None = None
    max_items: int | None = None
    item: Field | None = None
    description: str = ""
    # Control characters are refused in every string (a NUL would be a 500 on PostgreSQL),
    # except where the value is a secret the person chose and that only bcrypt sees.
    controls: bool = False

    def check(self, value: Any) -> list[str]:
        """The problems with ``value``, as user-facing messages (empty when valid)."""
        if value is None:
            return [] if self.nullable else [messages.FIELD_REQUIRED]
        if self.kind == "array":
            return self._check_array(value)
        if self.kind == "integer":
            # bool is an int in Python; JSON true must not pass as 1.
            if not isinstance(value, int) or isinstance(value, bool):
                return [messages.API_FIELD_TYPE.format(kind=_TYPE_NAMES["integer"])]
            if (self.minimum is not None and value < self.minimum) or (
                self.maximum is not None and value > self.maximum
            ):
                return [messages.API_FIELD_RANGE.format(low=self.minimum, high=self.maximum)]
            return []
        if self.kind == "boolean":
            ok = isinstance(value, bool)
            return [] if ok else [messages.API_FIELD_TYPE.format(kind=_TYPE_NAMES["boolean"])]
        if not isinstance(value, str):
            return [messages.API_FIELD_TYPE.format(kind=_TYPE_NAMES["string"])]
        return self._check_string(value)

    def _check_string(self, value: str) -> list[str]:
        if self.max_length is not None and len(value) > self.max_length:
            return [messages.FIELD_TOO_LONG]
        if not self.controls and has_control_characters(value):
            return [messages.FIELD_INVALID_CHARACTERS]
        if self.min_length is not None and len(value.strip()) < self.min_length:
            return [messages.FIELD_REQUIRED if not value.strip() else messages.API_FIELD_TOO_SHORT]
        if self.choices is not None and value not in self.choices:
            return [messages.API_FIELD_CHOICE.format(choices=", ".join(self.choices))]
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            return [messages.API_FIELD_FORMAT]
        if self.fmt == "email":
            try:
                validate_address(value)
            except LookalikeEmail:
                return [messages.EMAIL_LOOKALIKE]
            except InvalidEmail:
                return [messages.EMAIL_INVALID]
        if self.fmt == "date-time" and _parse_datetime(value) is None:
            return [messages.API_FIELD_FORMAT]
        return []

    def _check_array(self, value: Any) -> list[str]:
        if not isinstance(value, list):
            return [messages.API_FIELD_TYPE.format(kind="a list")]
        if self.max_items is not None and len(value) > self.max_items:
            return [messages.API_FIELD_TOO_MANY.format(n=self.max_items)]
        for item in value:
            found = self.item.check(item) if self.item else []
            if found:
                return found
        return []

    def json_schema(self) -> dict:
        """The JSON Schema (OpenAPI 3.1) of this field."""
        schema: dict[str, Any] = {"type": [self.kind, "null"] if self.nullable else self.kind}
        extras = {
            "maxLength": self.max_length,
            "minLength": self.min_length,
            "enum": list(self.choices) if self.choices else None,
            "pattern": self.pattern,
            "format": self.fmt,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "maxItems": self.max_items,
            "items": self.item.json_schema() if self.item else None,
            "description": self.description or None,
        }
        schema.update({k: v for k, v in extras.items() if v is not None})
        return schema


class Schema:
    """A JSON object with exactly the declared fields; unknown fields are refused by name."""

    def __init__(self, name: str, description: str = "", /, **fields: Field):
        self.name = name
        self.description = description
        self.fields = fields

    def load(self, data: Any) -> dict[str, Any]:
        """Validated fields of ``data`` (absent optional fields are left out); raise Invalid."""
        if not isinstance(data, dict):
            raise Invalid({"body": [messages.API_BODY_NOT_OBJECT]})
        errors: dict[str, list[str]] = {}
        for key in data:
            if key not in self.fields:
                errors[str(key)[:100]] = [messages.API_FIELD_UNKNOWN]
        for key, spec in self.fields.items():
            if key not in data:
                if spec.required:
                    errors[key] = [messages.FIELD_REQUIRED]
                continue
            found = spec.check(data[key])
            if found:
                errors[key] = found
        if errors:
            raise Invalid(errors)
        return {k: data[k] for k in self.fields if k in data}

    def json_schema(self) -> dict:
        """The JSON Schema (OpenAPI 3.1) of the body: closed to undeclared properties."""
        schema = {
            "type": "object",
            "additionalProperties": False,
            "properties": {k: f.json_schema() for k, f in self.fields.items()},
        }
        required = [k for k, f in self.fields.items() if f.required]
        if required:
            schema["required"] = required
        if self.description:
            schema["description"] = self.description
        return schema


def _parse_datetime(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def parse_datetime(value: str | None) -> datetime | None:
    """An aware datetime from an ISO 8601 string already checked by a ``date-time`` Field."""
    return _parse_datetime(value) if value else None


def json_body(schema: Schema) -> dict[str, Any]:
    """The request's JSON body validated by ``schema``.

    415 unless the body is declared JSON; 413 when it exceeds the request's size limit; 400 when
    it does not parse (including absurd nesting or numbers); 422 with per-field errors otherwise.
    """
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaType(messages.API_JSON_REQUIRED)
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise BadRequest(messages.API_MALFORMED_JSON) from None
    return schema.load(data)


_INTEGER = re.compile(r"-?[0-9]+")


def _whole_number(value: str) -> int | str:
    """A query string's digits as an int, so that out of range gets the range message.

    More digits than Python converts (sys.get_int_max_str_digits, a guard against slow
    conversions) stay a string, refused as not an integer.
    """
    try:
        return int(value)
    except ValueError:
        return value


def query_args(schema: Schema) -> dict[str, Any]:
    """The query string validated by ``schema``; integer and boolean fields are converted."""
    data: dict[str, Any] = {}
    for key, value in request.args.items():
        spec = schema.fields.get(key)
        if spec is not None and spec.kind == "integer" and _INTEGER.fullmatch(value):
            data[key] = _whole_number(value)
        elif spec is not None and spec.kind == "boolean" and value in ("true", "false"):
            data[key] = value == "true"
        else:
            data[key] = value
    return schema.load(data)
