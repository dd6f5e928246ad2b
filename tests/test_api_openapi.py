"""The OpenAPI document is served, valid, and lists exactly the /api routes of the app."""

from __future__ import annotations

import re

from openapi_spec_validator import validate
from test_api_support import assert_problem, document, spec

from acs_auth import messages

# The `api` fixture (a client whose answers are checked against the OpenAPI document).
pytest_plugins = ("test_api_support",)

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def routes(app) -> set[tuple[str, str]]:
    """(method, path template) of every /api rule, in OpenAPI's {name} notation."""
    found = set()
    for rule in app.url_map.iter_rules():
        # The reference pages (/api/docs, /api/problems/<kind>) are HTML for people.
        if not rule.rule.startswith("/api") or rule.endpoint.startswith("api_reference."):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - IGNORED_METHODS:
            found.add((method, path))
    return found


def documented() -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document()["paths"].items() for method in item}


def test_every_api_route_is_documented(app):
    missing = routes(app) - documented()
    assert not missing, f"routes missing from the OpenAPI document: {sorted(missing)}"


def test_every_documented_operation_exists(app):
    stale = documented() - routes(app)
    assert not stale, f"documented operations the app does not have: {sorted(stale)}"


def test_the_document_is_valid_openapi_3_1():
    served = document()
    assert served["openapi"].startswith("3.1")
    validate(served)
    spec()  # openapi-core loads it too


def test_the_document_is_served(api):
    response = api.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == document()


def test_every_operation_documents_its_errors():
    for path, item in document()["paths"].items():
        for method, op in item.items():
            codes = set(op["responses"])
            assert "500" in codes, (method, path)
            if op["security"]:
                assert {"401", "403"} <= codes, (method, path)
            if "requestBody" in op:
                assert {"413", "415"} <= codes, (method, path)
            assert "423" not in codes  # a lock never answers differently from a wrong password


def test_the_route_check_notices_a_missing_route(app):
    app.add_url_rule("/api/undocumented", "undocumented", lambda: "", methods=["GET"])
    assert ("GET", "/api/undocumented") in routes(app) - documented()


def test_every_operation_has_an_id_a_description_and_examples():
    ids = []
    for path, item in document()["paths"].items():
        for method, op in item.items():
            where = (method, path)
            ids.append(op["operationId"])
            assert op["summary"] and op["description"] and op["description"] != op["summary"], where
            body = op.get("requestBody", {}).get("content", {})
            for media_type, media in body.items():
                if media_type != "multipart/form-data":
                    assert "example" in media, where
            for code, response in op["responses"].items():
                for media_type, media in response.get("content", {}).items():
                    assert "example" in media or "examples" in media, (where, code, media_type)
    assert len(ids) == len(set(ids)) >= 40


def test_the_reference_is_rendered_within_the_csp(client):
    response = client.get("/api/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    page = response.get_data(as_text=True)
    assert "<script" not in page and "style=" not in page and "<style" not in page
    for item in document()["paths"].values():
        for op in item.values():
            assert f'id="{op["operationId"]}"' in page
    assert 'href="/api/problems/token-expired"' in page


def test_an_answer_that_leaks_a_field_is_refused_by_its_model(api, make_user, monkeypatch, caplog):
    """A serializer bug (a fault no request can cause) must not reach the client."""
    from acs_auth.api import account_views

    real = account_views.user_json
    monkeypatch.setattr(
        account_views, "user_json", lambda user: {**real(user), "password_hash": "$2b$12$leak"}
    )
    make_user()
    response = api.get("/api/auth/me", token=api.token())
    assert_problem(response, 500, messages.SERVER_ERROR, kind="server-error")
    assert "leak" not in response.get_data(as_text=True)
    assert "password_hash" in caplog.text and "leak" not in caplog.text  # named, not shown
