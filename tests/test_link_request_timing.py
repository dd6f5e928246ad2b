"""Registration step 1, reset and setup requests do the same work for a match and a miss.

The lookup, the token and the outbox insert happen off the request path (link_requests), so
the request runs the same SQL whoever is asked about; the timing itself is measured by
bench/bench_request_timing.py, not here.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, select
from test_registration import post_form

from acs_auth.extensions import db
from acs_auth.models import AuditEvent, LinkRequest, OutboxMessage
from tests.support.db import read_db

# The `api` fixture (a client whose answers are checked against the OpenAPI document).
pytest_plugins = ("test_api_support",)

KNOWN = "ada@example.org"
UNKNOWN = "nobody@example.org"


def browser(url: str, with_name: bool):
    def send(client, api, email):
        data = {"email": email, **({"last_name": "Lovelace"} if with_name else {})}
        return post_form(client, url, data)

    return send


def json_api(url: str, with_name: bool):
    def send(client, api, email):
        body = {"email": email, **({"last_name": "Lovelace"} if with_name else {})}
        return api.post(url, json=body)

    return send


ENTRANCES = {
    "forgot-password": browser("/forgot-password", with_name=False),
    "first-time-password": browser("/first-time-password", with_name=True),
    "register": browser("/register", with_name=True),
    "api-request-password-reset": json_api("/api/auth/request-password-reset", with_name=False),
    "api-register": json_api("/api/auth/register", with_name=True),
}


class StatementLog:
    """Every SQL statement the app's engine runs while recording."""

    def __init__(self, app):
        with app.app_context():
            self.engine = db.engine
        self.statements: list[str] = []
        self.recording = False
        event.listen(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, parameters, context, executemany):
        if self.recording:
            self.statements.append(" ".join(statement.split()))

    def during(self, action) -> tuple[object, list[str]]:
        self.statements, self.recording = [], True
        try:
            return action(), self.statements
        finally:
            self.recording = False

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self._seen)


@pytest.fixture
def statements(app):
    log = StatementLog(app)
    yield log
    log.close()


def table_counts(app) -> tuple[int, int, int]:
    def count():
        return tuple(
            len(db.session.scalars(select(model.id)).all())
            for model in (OutboxMessage, LinkRequest, AuditEvent)
        )

    return read_db(app, count)


@pytest.mark.parametrize("entrance", ENTRANCES)
def test_a_match_and_a_miss_run_the_same_statements_and_queue_one_request(
    app, client, api, outbox, make_user, make_entry, statements, entrance
):
    if "register" in entrance:
        make_entry(email=KNOWN, last_name="Lovelace")  # an allowlisted person, no account yet
    else:
        make_user(email=KNOWN, password=None if "first-time" in entrance else "x" * 12)
    send = ENTRANCES[entrance]
    for email in (KNOWN, UNKNOWN):  # warm-up: first-request work (templates, caches)
        send(client, api, email)
    sent_before = [m["To"] for m in outbox.deliver()]
    before = table_counts(app)

    answers, seen = {}, {}
    for email in (KNOWN, UNKNOWN):
        answers[email], seen[email] = statements.during(lambda e=email: send(client, api, e))

    # Same SQL, statement for statement: one INSERT of the request, nothing looked up.
    assert seen[KNOWN] == seen[UNKNOWN], seen
    assert [s.split()[0] for s in seen[KNOWN]] == ["INSERT"]
    assert "link_requests" in seen[KNOWN][0]
    # Nothing queued for sending on the request path, for either; each left one request.
    outbox_rows, requests, audit_rows = table_counts(app)
    assert (outbox_rows, requests, audit_rows) == (before[0], before[1] + 2, before[2])
    assert answers[KNOWN].status_code == answers[UNKNOWN].status_code
    assert answers[KNOWN].get_data() == answers[UNKNOWN].get_data() or "api" not in entrance

    # The sender answers them: the stored address gets its email; a registration miss gets the
    # "details not recognised" notice (no link), any other miss gets nothing.
    sent = [m["To"] for m in outbox.deliver()][len(sent_before) :]
    assert sent == ([KNOWN, UNKNOWN] if "register" in entrance else [KNOWN])
    assert table_counts(app)[1] == 0


def test_the_audit_row_keeps_the_requester_s_address_and_request_id(app, client, outbox):
    response = client.post(
        "/api/auth/request-password-reset",
        json={"email": UNKNOWN},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
        headers={"User-Agent": "curl/8.0"},
    )
    assert response.status_code == 202
    outbox.deliver()

    def last_row():
        row = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        return row.event, row.ip, row.user_agent, row.request_id

    event_name, ip, agent, request_id = read_db(app, last_row)
    assert event_name == "password.reset_requested"
    assert (ip, agent, request_id) == ("127.0.0.1", "curl/8.0", response.headers["X-Request-ID"])
