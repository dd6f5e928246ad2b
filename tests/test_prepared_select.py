"""PreparedSelect runs a Core SELECT on the DBAPI cursor: same rows as Core, same errors.

Runs on the suite's backend (SQLite, or PostgreSQL with TEST_DATABASE_URL), so both dialects'
parameter styles and type processors are compared against SQLAlchemy's own execution.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import bindparam, column, event, exc, select, table, text

from acs_auth.extensions import db
from acs_auth.models import ApiKey, AuthSession, SessionKind, User, utcnow
from acs_auth.services import api_auth
from acs_auth.services.prepared import PreparedSelect


def add_credentials(app, make_user) -> dict:
    """An account with programs, an API session and an API key; the lookup parameters."""
    user_id = make_user(programs=("PROG-B", "PROG-A", "PROG-C"))
    with app.app_context():
        user = db.session.get(User, user_id)
        user.username = "ada"
        user.email_verified_at = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
        now = utcnow()
        db.session.add(
            AuthSession(
                public_id="sid-1",
                user_id=user_id,
                kind=SessionKind.API.value,
                remember=True,
                expires_at=now + timedelta(days=1),
                last_used_at=now - timedelta(minutes=5),
            )
        )
        db.session.add(
            ApiKey(
                user_id=user_id,
                public_id="key-1",
                name="script",
                prefix="acs_abcd",
                key_hash="d" * 64,
                scopes=["read"],
                expires_at=None,
            )
        )
        db.session.commit()
    return {
        "session": {"sid": "sid-1", "uid": user_id, "now": utcnow()},
        "key": {"digest": "d" * 64, "now": utcnow()},
    }


@pytest.mark.parametrize("lookup", ["session", "key"])
def test_rows_equal_what_core_returns(app, make_user, lookup):
    params = add_credentials(app, make_user)[lookup]
    query = api_auth._SESSION_LOOKUP if lookup == "session" else api_auth._KEY_LOOKUP
    with app.app_context(), db.engine.connect() as conn:
        prepared = query.all(db.engine, params)
        core = conn.execute(query.statement, params).all()
    assert len(prepared) == 1
    assert [tuple(row) for row in prepared] == [tuple(row) for row in core]
    row = prepared[0]
    # The column types' processors ran: aware datetimes, real booleans, decoded JSON.
    assert row.email_verified_at == datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert row.created_at.tzinfo is not None
    assert sorted(row.programs.split(api_auth.PROGRAMS_SEPARATOR)) == ["PROG-A", "PROG-B", "PROG-C"]
    if lookup == "session":
        assert row.remember is True
    else:
        assert row.scopes == ["read"]


def test_no_row_and_an_account_without_programs(app, make_user):
    user_id = make_user(programs=())
    with app.app_context():
        db.session.add(
            AuthSession(
                public_id="sid-2",
                user_id=user_id,
                kind=SessionKind.API.value,
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
        db.session.commit()
        found = api_auth._lookup(
            api_auth._SESSION_LOOKUP, {"sid": "sid-2", "uid": user_id, "now": utcnow()}
        )
        missing = api_auth._lookup(
            api_auth._SESSION_LOOKUP, {"sid": "sid-2", "uid": user_id + 1, "now": utcnow()}
        )
    caller, _ = found
    assert caller.program_ids == []
    assert missing is None


def test_parameters_go_through_the_column_types(app, make_user):
    """UTCDateTime refuses a naive datetime when binding, so a bypass would be visible."""
    params = add_credentials(app, make_user)["session"]
    params["now"] = datetime(2026, 1, 1)  # naive
    with app.app_context(), db.engine.connect() as conn:
        with pytest.raises(exc.StatementError, match="naive datetime"):
            conn.execute(api_auth._SESSION_LOOKUP.statement, params).all()
        with pytest.raises(ValueError, match="naive datetime"):
            api_auth._SESSION_LOOKUP.all(db.engine, params)


def test_a_missing_parameter_is_an_error(app):
    with app.app_context(), pytest.raises(exc.InvalidRequestError, match="sid"):
        api_auth._SESSION_LOOKUP.all(db.engine, {"uid": 1, "now": utcnow()})


def test_a_driver_error_is_raised_as_sqlalchemys_and_the_pool_stays_usable(app, make_user):
    params = add_credentials(app, make_user)["session"]
    query = PreparedSelect(select(column("x")).select_from(table("no_such_table")))
    with app.app_context():
        with pytest.raises(exc.DBAPIError) as raised:
            query.all(db.engine, {})
        assert "no_such_table" in str(raised.value)
        assert not raised.value.connection_invalidated
        assert len(api_auth._SESSION_LOOKUP.all(db.engine, params)) == 1


def test_the_statement_runs_outside_a_transaction(app, make_user, postgres):
    """No BEGIN/ROLLBACK round trips, and the pooled connection goes back as it came.

    PostgreSQL only: pysqlite opens no transaction for a SELECT in the first place.
    """
    params = add_credentials(app, make_user)["session"]
    engine = postgres
    with app.app_context():
        states = []

        # "reset" fires when the connection comes back, before the pool's rollback: a BEGIN
        # sent for the statement would show as an open transaction here.
        @event.listens_for(engine, "reset")
        def record(dbapi_connection, record_, reset_state):
            states.append((dbapi_connection.autocommit, dbapi_connection.info.transaction_status))

        try:
            api_auth._SESSION_LOOKUP.all(engine, params)
            with engine.connect() as conn:
                pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
                status = conn.connection.dbapi_connection.autocommit
        finally:
            event.remove(engine, "reset", record)
    assert states[0] == (False, psycopg.pq.TransactionStatus.IDLE)
    assert pid and status is False  # the next user of the connection gets the default mode


def test_a_connection_lost_after_the_ping_is_invalidated_and_the_next_one_works(
    app, make_user, postgres, terminate_backend
):
    """The server ends the connection between the pool's ping and the query."""
    params = add_credentials(app, make_user)["session"]
    engine = postgres

    def terminate(dbapi_connection, record_, proxy):
        terminate_backend(dbapi_connection.info.backend_pid)

    with app.app_context():
        event.listen(engine, "checkout", terminate)
        try:
            with pytest.raises(exc.OperationalError) as raised:
                api_auth._SESSION_LOOKUP.all(engine, params)
        finally:
            event.remove(engine, "checkout", terminate)
        assert raised.value.connection_invalidated
        assert len(api_auth._SESSION_LOOKUP.all(engine, params)) == 1


def test_statements_rendered_at_execution_are_refused(app):
    """IN lists and literal parameters are written into the SQL per call; not supported."""
    in_list = select(User.id).where(User.id.in_(bindparam("ids", expanding=True)))
    literal = select(User.id).where(User.email == bindparam("e", "x", literal_execute=True))
    with app.app_context():
        with pytest.raises(ValueError, match="expanding"):
            PreparedSelect(in_list).all(db.engine, {"ids": [1]})
        with pytest.raises(ValueError, match="literal"):
            PreparedSelect(literal).all(db.engine, {})
