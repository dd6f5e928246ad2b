"""Bad input on every JSON endpoint answers its documented problem, never a 500.

The endpoints and their fields are read from the OpenAPI document, so a new endpoint is
covered as soon as it is documented (and test_api_openapi fails until it is).
"""

from __future__ import annotations

import json

import pytest
from test_api_support import assert_problem, document

from acs_auth import messages
from acs_auth.models import Role

# The `api` fixture (a client whose answers are checked against the OpenAPI document).
pytest_plugins = ("test_api_support",)

SAMPLE_PATH_VALUES = {"{user_id}": "1", "{session_id}": "abc", "{key_id}": "abc"}


def json_operations():
    """(method, path, request schema) of every operation that takes a JSON body."""
    schemas = document()["components"]["schemas"]
    for path, item in document()["paths"].items():
        for method, op in item.items():
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                name = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
                concrete = path
                for placeholder, value in SAMPLE_PATH_VALUES.items():
                    concrete = concrete.replace(placeholder, value)
                yield method.upper(), concrete, schemas[name]


OPERATIONS = list(json_operations())
IDS = [f"{m} {p}" for m, p, _ in OPERATIONS]


@pytest.fixture
def admin(api, make_user):
    make_user(email="root@example.org", role=Role.ADMIN.value)
    return api.token("root@example.org")


def send(api, token, method, path, **kw):
    return api.call(method, path, token=token, **kw)


def test_every_json_endpoint_is_covered():
    assert len(OPERATIONS) >= 11


@pytest.mark.parametrize("method, path, schema", OPERATIONS, ids=IDS)
def test_wrong_content_type_is_415(api, admin, method, path, schema):
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        response = send(api, admin, method, path, data=b"{}", content_type=content_type)
        assert_problem(response, 415, messages.API_JSON_REQUIRED)


@pytest.mark.parametrize("method, path, schema", OPERATIONS, ids=IDS)
def test_malformed_json_is_400(api, admin, method, path, schema):
    for raw in (
        b"",
        b"{",
        b"{'a': 1}",
        b"\xff\xfe\x00",
        b"[" * 50_000,
        b'{"a": 1' + b"0" * 5000 + b"}",
    ):
        response = send(api, admin, method, path, data=raw, content_type="application/json")
        assert_problem(response, 400, messages.API_MALFORMED_JSON)


@pytest.mark.parametrize("method, path, schema", OPERATIONS, ids=IDS)
def test_a_body_that_is_not_an_object_is_422(api, admin, method, path, schema):
    for body in ([], "text", 42, None, [{"a": 1}]):
        response = send(
            api, admin, method, path, data=json.dumps(body), content_type="application/json"
        )
        problem = assert_problem(response, 422, messages.API_VALIDATION_FAILED)
        assert problem["errors"] == {"body": [messages.API_BODY_NOT_OBJECT]}


@pytest.mark.parametrize("method, path, schema", OPERATIONS, ids=IDS)
def test_undocumented_fields_are_refused_by_name(api, admin, method, path, schema):
    body = {"role": "admin", "is_admin": True, "is_active": True, "email": "m@example.org"}
    extra = {k: v for k, v in body.items() if k not in schema["properties"]}
    response = send(api, admin, method, path, json=extra)
    problem = assert_problem(response, 422)
    accepted = ", ".join(sorted(schema["properties"]))
    for name in extra:
        assert problem["errors"][name] == [messages.API_FIELD_UNKNOWN.format(fields=accepted)]


def wrong_value(spec: dict):
    kind = spec["type"][0] if isinstance(spec["type"], list) else spec["type"]
    return {"string": 12345, "boolean": "yes", "integer": "12", "array": "x"}[kind]


@pytest.mark.parametrize("method, path, schema", OPERATIONS, ids=IDS)
def test_wrong_types_are_422_per_field(api, admin, method, path, schema):
    body = {name: wrong_value(spec) for name, spec in schema["properties"].items()}
    problem = assert_problem(send(api, admin, method, path, json=body), 422)
    assert set(problem["errors"]) == set(body)


@pytest.mark.parametrize("method, path, schema", OPERATIONS, ids=IDS)
def test_missing_required_fields_are_named(api, admin, method, path, schema):
    required = set(schema.get("required", []))
    response = send(api, admin, method, path, json={})
    if required:
        problem = assert_problem(response, 422)
        assert {
            k for k, v in problem["errors"].items() if v == [messages.FIELD_REQUIRED]
        } >= required
    else:
        assert response.status_code < 500


@pytest.mark.parametrize("method, path, schema", OPERATIONS, ids=IDS)
def test_long_strings_are_422_and_huge_bodies_413(api, admin, method, path, schema):
    strings = [n for n, s in schema["properties"].items() if "string" in str(s["type"])]
    if strings:
        body = {name: "x" * 10_000 for name in strings}
        problem = assert_problem(send(api, admin, method, path, json=body), 422)
        assert set(problem["errors"]) >= {
            n for n in strings if "maxLength" in schema["properties"][n]
        }
    huge = {(strings or ["field"])[0]: "x" * 1_000_000}
    assert_problem(send(api, admin, method, path, json=huge), 413, messages.TOO_LARGE)


def test_unknown_api_paths_and_methods_are_problems(api):
    assert_problem(api.get("/api/nothing-here"), 404, messages.API_NOT_FOUND)
    assert_problem(api.get("/api"), 404)
    response = api.call("PUT", "/api/auth/login", json={})
    assert_problem(response, 405, messages.API_METHOD_NOT_ALLOWED)
    assert "POST" in response.headers["Allow"]


def test_an_unexpected_error_is_a_500_problem_without_internals(api, make_user, monkeypatch):
    from acs_auth.services.programs import access as programs

    def explode(user):
        raise RuntimeError("secret internals: /srv/db password=hunter2")

    monkeypatch.setattr(programs, "programs_for", explode)
    make_user()
    response = api.get("/api/programs", token=api.token())
    assert_problem(response, 500, messages.SERVER_ERROR)
    assert "hunter2" not in response.get_data(as_text=True)


def test_the_ping_endpoint_is_bare_json(api):
    response = api.get("/api/ping")
    assert response.status_code == 200 and response.get_json() == {"pong": True}
    assert response.headers["Cache-Control"] == "no-store"
