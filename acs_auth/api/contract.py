"""The API's contract library: spectree validates requests and answers with the typed models.

``validate`` decorates a view with its models (``json: SomeBody`` / ``query: SomeQuery`` in the
view's signature, ``resp=Response(...)`` for its answers); spectree checks the request before
the view runs and the answer after, and acs_auth.api.openapi turns the same models into the
OpenAPI 3.1 document. What stays ours is policy:

* a body must be declared JSON (415), parse (400, also for absurd nesting or numbers) and be an
  object (422), checked before the model sees it;
* a refusal is our RFC 9457 problem (validation-error) with one message per field from
  acs_auth.messages, never the library's error list;
* an answer that contradicts its model is logged and answered as a plain 500 problem, so a
  leaked field never reaches the client.
"""

from __future__ import annotations

import json as jsonlib
import logging
import typing
from typing import Any, Literal

from flask import current_app, request
from pydantic import BaseModel, ValidationError
from spectree import Response, SpecTree
from spectree.plugins.base import Context
from spectree.plugins.flask_plugin import FlaskPlugin
from spectree.utils import get_multidict_items
from werkzeug.exceptions import BadRequest, InternalServerError, UnsupportedMediaType

from acs_auth import messages
from acs_auth.api.schemas.fields import Answer, Problem

log = logging.getLogger(__name__)

__all__ = ["Invalid", "Response", "spec", "validate"]

_TYPE_NAMES = {"string": "a string", "boolean": "true or false", "integer": "an integer"}
# pydantic's error types, by the kind of value that was expected.
_TYPE_ERRORS = {
    "string_type": "string",
    "int_type": "integer",
    "int_parsing": "integer",
    "int_parsing_size": "integer",
    "int_from_float": "integer",
    "bool_type": "boolean",
    "bool_parsing": "boolean",
}
_CUSTOM = {
    "control_characters": messages.FIELD_INVALID_CHARACTERS,
    "blank": messages.FIELD_REQUIRED,
    "missing": messages.FIELD_REQUIRED,
    "email_invalid": messages.EMAIL_INVALID,
    "email_lookalike": messages.EMAIL_LOOKALIKE,
    "string_too_long": messages.FIELD_TOO_LONG,
    "string_pattern_mismatch": messages.API_FIELD_FORMAT,
}


# Every model the views use, by its name in the document.
MODELS: dict[str, type[BaseModel]] = {}


def _named(model: type[BaseModel]) -> str:
    MODELS[model.__name__] = model
    return model.__name__


class Invalid(Exception):
    """Per-field validation errors, answered as 422 with ``errors`` (a validation-error problem)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("invalid request")
        self.errors = errors


class BadAnswer(InternalServerError):
    """An answer that contradicts its model: a bug, answered as a 500 without internals."""


def _choices(annotation: Any) -> tuple | None:
    """The values of the Literal inside ``annotation`` (through Optional and Annotated)."""
    if typing.get_origin(annotation) is Literal:
        return typing.get_args(annotation)
    for arg in typing.get_args(annotation):
        found = _choices(arg)
        if found:
            return found
    return None


def _bounds(model: type[BaseModel], name: str) -> tuple[Any, Any]:
    low = high = None
    field = model.model_fields.get(name)
    for rule in field.metadata if field else ():
        low = getattr(rule, "ge", low)
        high = getattr(rule, "le", high)
    return low, high


def _message(model: type[BaseModel], name: str, error: dict) -> str:
    kind, value = error["type"], error.get("input")
    if kind == "extra_forbidden":
        return messages.API_FIELD_UNKNOWN.format(fields=", ".join(sorted(model.model_fields)))
    if kind in _TYPE_ERRORS:
        if value is None:
            return messages.FIELD_REQUIRED
        return messages.API_FIELD_TYPE.format(kind=_TYPE_NAMES[_TYPE_ERRORS[kind]])
    if kind == "list_type":
        if value is None:
            return messages.FIELD_REQUIRED
        return messages.API_FIELD_TYPE.format(kind="a list")
    if kind == "string_too_short":
        return messages.FIELD_REQUIRED if not value.strip() else messages.API_FIELD_TOO_SHORT
    if kind == "too_long":
        return messages.API_FIELD_TOO_MANY.format(n=error["ctx"]["max_length"])
    if kind == "literal_error":
        annotation = model.model_fields[name].annotation if name in model.model_fields else None
        choices = _choices(annotation) or ()
        return messages.API_FIELD_CHOICE.format(choices=", ".join(map(str, choices)))
    if kind in ("greater_than_equal", "less_than_equal"):
        low, high = _bounds(model, name)
        return messages.API_FIELD_RANGE.format(low=low, high=high)
    return _CUSTOM.get(kind, messages.API_FIELD_FORMAT)


def field_errors(model: type[BaseModel], exc: ValidationError) -> dict[str, list[str]]:
    """pydantic's errors as ``{field: [message]}``: the first problem of each field."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        location = error["loc"]
        if not location:  # the body itself: not an object
            return {"body": [messages.API_BODY_NOT_OBJECT]}
        name = str(location[0])[:100]
        errors.setdefault(name, [_message(model, name, error)])
    return errors


def json_object() -> dict:
    """The request body as a JSON object, or the HTTP error that says why it is not one."""
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaType(messages.API_JSON_REQUIRED)
    try:
        data = jsonlib.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise BadRequest(messages.API_MALFORMED_JSON) from None
    if not isinstance(data, dict):
        raise Invalid({"body": [messages.API_BODY_NOT_OBJECT]})
    return data


def _checked(model: type[BaseModel], data: Any) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid(field_errors(model, exc)) from None


class _FlaskPlugin(FlaskPlugin):
    """spectree's Flask plugin with our reading of the request (see the module docstring).

    An answer is checked as the JSON the view made and then sent as it is: spectree's own
    plugin builds a second response from its bytes, about half of what the contract cost
    /api/auth/me (docs/api.md, "What it costs").
    """

    def request_validation(self, request, query, json, form, headers, cookies):
        request.context = Context(
            _checked(query, get_multidict_items(request.args, query)) if query else None,
            _checked(json, json_object()) if json else None,
            None,
            None,
            None,
        )

    def validate_response(self, resp, resp_model, skip_validation, force_resp_serialize):
        response = current_app.make_response(resp)
        model = (
            None
            if skip_validation or not resp_model
            else resp_model.find_model(response.status_code)
        )
        if model is not None:
            try:
                model.model_validate_json(response.get_data())
            except ValidationError as exc:
                return response, exc
        return response, None


def _after(req, resp, error, instance, adapter) -> None:
    """An answer that does not match its model is a bug: log it, answer a bare 500."""
    if error is not None:
        # Where and what, never the values: an answer can hold tokens or a secret.
        found = [(e["loc"], e["type"]) for e in error.errors(include_input=False)]
        log.error("answer of %s contradicts its model: %s", req.endpoint, found)
        raise BadAnswer()


spec = SpecTree(
    backend=_FlaskPlugin,
    mode="strict",
    after=_after,
    validation_error_status=422,
    validation_error_model=Problem,
    naming_strategy=_named,
    nested_naming_strategy=lambda _parent, child: child,
    title="ACS Portal API",
    version="1.0.0",
)
validate = spec.validate


def no_store(model: type[BaseModel]) -> bool:
    """Whether answers of ``model`` hold a secret (Cache-Control: no-store)."""
    return issubclass(model, Answer) and model.no_store
