"""Helpers for the JSON API tests: a client that checks every answer against the OpenAPI file.

Imported by the tests/test_api_*.py modules (``from test_api_support import ...``); it holds no
tests itself. Every response that belongs to a documented operation is validated with
openapi-core, so a status, header or field that the document does not describe fails the test
that produced it.
"""

from __future__ import annotations

import base64
import json
from functools import cache

import pytest
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIResponse
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.testing import MockRequest

from acs_auth import create_app
from acs_auth.api import openapi as api_document
from acs_auth.api.problems import KINDS
from acs_auth.models import Role
from tests.support.config import STRONG_PASSWORD

NEW_PASSWORD = "violet umbrella marching sideways 7"


def _served_document() -> dict:
    with create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://").app_context():
        return api_document.document()


# Built at collection, from an app of its own (it touches no database): making an app sets up
# the shared extensions again (the in-memory rate limits among them), never in a test's midst.
DOCUMENT = _served_document()


def document() -> dict:
    """The document the app serves."""
    return DOCUMENT


@cache
def spec() -> OpenAPI:
    """The served document, checked against the OpenAPI 3.1 meta-schema when loaded."""
    config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
    return OpenAPI.from_dict(document(), config=config)


def validate(response) -> None:
    """Fail when ``response`` contradicts the document (undocumented routes are skipped)."""
    sent = response.request
    # The app has read the request body already; the response check needs only the route.
    request = MockRequest(sent.host_url, sent.method, sent.path, args=dict(sent.args))
    try:
        spec().validate_response(request, WerkzeugOpenAPIResponse(response))
    except (PathNotFound, OperationNotFound):
        return


class Api:
    """A JSON client for /api; each answer is validated against the OpenAPI document."""

    def __init__(self, client):
        self.client = client

    def call(self, method, path, *, token=None, key=None, headers=None, validate_spec=True, **kw):
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if key is not None:
            headers["X-API-Key"] = key
        response = self.client.open(path, method=method, headers=headers, **kw)
        if validate_spec:
            validate(response)
        return response

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, **kw):
        return self.call("POST", path, **kw)

    def patch(self, path, **kw):
        return self.call("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)

    def login(self, email="ada@example.org", password=STRONG_PASSWORD, **extra) -> dict:
        """Sign in and return the token pair (asserting success)."""
        response = self.post(
            "/api/auth/login", json={"email": email, "password": password, **extra}
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def token(self, email="ada@example.org", password=STRONG_PASSWORD) -> str:
        """An access token for ``email``."""
        return self.login(email, password)["access_token"]

    def new_key(self, token, scope="full", password=STRONG_PASSWORD, **extra) -> dict:
        """Create an API key with ``token`` and return the creation answer (with the secret)."""
        body = {"name": "script", "scope": scope, "current_password": password, **extra}
        response = self.post("/api/auth/api-keys", token=token, json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()


@pytest.fixture
def api(client):
    return Api(client)


@pytest.fixture
def admin_token(api, make_user):
    """An access token of an administrator (root@example.org) who holds no program."""
    make_user(email="root@example.org", role=Role.ADMIN.value, programs=())
    return api.token("root@example.org")


PROBLEMS = "http://portal.test/api/problems/"  # APP_URL of the testing configuration


def assert_problem(
    response, status: int, detail: str | None = None, kind: str | None = None
) -> dict:
    """Check an RFC 9457 answer and return its body; its type names a kind of this status."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert body["type"].startswith(PROBLEMS), body["type"]
    slug = body["type"].removeprefix(PROBLEMS)
    assert KINDS[slug].status == status
    if kind is not None:
        assert slug == kind, body
    assert body["title"] == KINDS[slug].title
    if detail is not None:
        assert body["detail"] == detail
    return body


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def token_parts(token: str) -> tuple[dict, dict, str]:
    """Header, claims and signature of a JWT, without verifying it."""
    header, claims, signature = token.split(".")
    return json.loads(unb64url(header)), json.loads(unb64url(claims)), signature


def forge(header: dict, claims: dict, signature: str = "") -> str:
    """A JWT assembled from parts (signature given as-is)."""
    head = b64url(json.dumps(header).encode())
    body = b64url(json.dumps(claims).encode())
    return f"{head}.{body}.{signature}"
