"""The database going away at the very end of a request does not turn its answer into a 500."""

from __future__ import annotations

import logging

from sqlalchemy import text

from acs_auth.extensions import db


def test_a_connection_lost_after_the_answer_leaves_the_answer_standing(
    app, client, caplog, terminate_backend
):
    """The server ends the request's connection after the view ran, before the final rollback.

    Seen in the PostgreSQL restart test (tests/e2e/test_faults_database.py): the rollback in the
    teardown failed and gunicorn answered its own 500 instead of the view's 200.
    """
    killed = []

    @app.after_request
    def end_the_backend(response):
        if killed:  # once: the next request must find a working pool
            return response
        db.session.execute(text("SELECT 1"))  # the request's transaction is open on the server
        pid = db.session.connection().connection.dbapi_connection.info.backend_pid
        terminate_backend(pid)
        killed.append(pid)
        return response

    with caplog.at_level(logging.WARNING, logger="acs_auth.extensions"):
        response = client.get("/readyz")
        # The pool dropped the dead connection: the next request is served normally.
        again = client.get("/readyz")
    assert killed and response.status_code == 200
    assert caplog.text.count("database connection lost after the answer") == 1
    assert again.status_code == 200 and again.get_json()["status"] == "ok"
