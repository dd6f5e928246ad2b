"""Schemathesis against /api/openapi.json: no 5xx, and every answer matches the document.

The app runs in-process (WSGI) on the suite's database (SQLite, or TEST_DATABASE_URL). Each
generated request carries a fresh admin access token, so the operations behind sign-in are
fuzzed too, and an earlier case (a logout, a deleted session) cannot disable the later ones.
FUZZ_MAX_EXAMPLES (default 20) bounds the cases per operation and phase.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from acs_auth import create_app
from acs_auth.extensions import db, dispose_engines
from acs_auth.models import AllowlistEntry, Role, User, UserProgram, utcnow
from acs_auth.services.accounts.passwords import hash_password
from acs_auth.services.signin import refresh
from acs_auth.services.text.addresses import email_key

pytestmark = pytest.mark.slow

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "20"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
ADMIN = "fuzz.admin@example.org"
CREDENTIALS = ("authorization", "x-api-key")
CASES = [0]
# Status codes seen per operation, printed at the end (shows the fuzzing got past the guards).
SEEN: dict[str, Counter] = {}


def _empty(app) -> None:
    with app.app_context(), db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


def _seed(app) -> int:
    """An administrator, a user and an allowlist entry for the generated requests to meet."""
    with app.app_context():
        people = []
        for address, role in ((ADMIN, Role.ADMIN), ("fuzz.user@example.org", Role.USER)):
            user = User(
                email=address,
                email_key=email_key(address),
                role=role.value,
                last_name="Fuzz",
                password_hash=hash_password("correct horse battery staple 42"),
                password_changed_at=utcnow(),
            )
            user.programs = [UserProgram(lo_root_id="PROG-1")]
            people.append(user)
        db.session.add_all(people)
        db.session.add(
            AllowlistEntry(
                email="fuzz.entry@example.org",
                email_key="fuzz.entry@example.org",
                last_name="Fuzz",
                lo_root_ids="PROG-1",
                active=True,
            )
        )
        db.session.commit()
        admin_id = people[0].id
        db.session.remove()
        return admin_id


@pytest.fixture(scope="module")
def fuzz_app(_schema):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=_schema, RATELIMIT_STORAGE_URI="memory://")
    _empty(app)
    admin_id = _seed(app)
    app.config["FUZZ_ADMIN_ID"] = admin_id
    yield app
    for label, statuses in sorted(SEEN.items()):
        print(f"{label}: {dict(sorted(statuses.items()))}")
    _empty(app)
    with app.app_context():
        db.session.remove()
        dispose_engines()


def fresh_token(app) -> str:
    """A new API session for the admin (the account itself is re-activated if a case closed it)."""
    with app.test_request_context():
        user = db.session.get(User, app.config["FUZZ_ADMIN_ID"])
        user.is_active_flag = True
        user.role = Role.ADMIN.value
        pair = refresh.open_pair(user)
        db.session.remove()
        return pair.access_token


# The document is read at collection time from an app of its own (it touches no database);
# every request then goes to ``fuzz_app``, which the fixtures build on the suite's database.
schema = schemathesis.openapi.from_wsgi(
    "/api/openapi.json", create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_match_the_openapi_document(case, fuzz_app):
    generated = {k: v for k, v in (case.headers or {}).items() if k.lower() in CREDENTIALS}
    headers = {}
    # Three cases in four replace generated credentials (always invalid) with a valid token,
    # so the operations behind sign-in see real requests; the fourth keeps them.
    CASES[0] += 1
    if not generated or CASES[0] % 4:
        for name in generated:
            del case.headers[name]
        headers = {"Authorization": f"Bearer {fresh_token(fuzz_app)}"}
    response = case.call_and_validate(headers=headers, checks=CHECKS, app=fuzz_app)
    SEEN.setdefault(case.operation.label, Counter())[response.status_code] += 1


def test_the_document_is_served_and_complete(fuzz_app):
    document = fuzz_app.test_client().get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    operations = [m for ops in document["paths"].values() for m in ops if m != "parameters"]
    assert len(operations) >= 20
