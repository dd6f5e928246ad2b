"""The fast credential lookup (PreparedSelect, kept DBAPI cursor): same rows as Core, same errors.

Runs on the suite's backend (SQLite, or PostgreSQL with TEST_DATABASE_URL), so both dialects'
parameter styles and type processors are compared against SQLAlchemy's own execution.
"""

from __future__ import annotations

import gc
import os
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, column, event, exc, select, table, text, update
from test_api_support import Api

from acs_auth.extensions import db, dispose_engines, reads_engine
from acs_auth.models import ApiKey, AuthSession, SessionKind, User, utcnow
from acs_auth.services.signin import api_auth
from acs_auth.services.signin.credential_lookup import PreparedSelect, kept_connection, prepared
from tests.support.db import statements_sent

# The fast way of the API's two lookups (credential_lookup.lookup with API_FAST_LOOKUP on).
SESSION = prepared(api_auth._SESSION_LOOKUP)
KEY = prepared(api_auth._KEY_LOOKUP)


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
    query = SESSION if lookup == "session" else KEY
    with app.app_context(), db.engine.connect() as conn:
        fast = query.all(db.engine, params)
        core = conn.execute(query.statement, params).all()
    assert len(fast) == 1
    assert [tuple(row) for row in fast] == [tuple(row) for row in core]
    row = fast[0]
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
            conn.execute(SESSION.statement, params).all()
        with pytest.raises(ValueError, match="naive datetime"):
            SESSION.all(db.engine, params)


def test_a_missing_parameter_is_an_error(app):
    with app.app_context(), pytest.raises(exc.InvalidRequestError, match="sid"):
        SESSION.all(db.engine, {"uid": 1, "now": utcnow()})


def test_a_driver_error_is_raised_as_sqlalchemys_and_the_pool_stays_usable(app, make_user):
    params = add_credentials(app, make_user)["session"]
    query = PreparedSelect(select(column("x")).select_from(table("no_such_table")))
    with app.app_context():
        with pytest.raises(exc.DBAPIError) as raised:
            query.all(db.engine, {})
        assert "no_such_table" in str(raised.value)
        assert not raised.value.connection_invalidated
        assert len(SESSION.all(db.engine, params)) == 1


def _backend_pid(engine) -> int:
    """The server process behind the connection this thread keeps for lookups on ``engine``."""
    return kept_connection(engine).info.backend_pid


def test_on_a_server_the_lookup_is_one_statement_outside_any_transaction(app, make_user, postgres):
    """One round trip: no ping before it, no BEGIN, no ROLLBACK after it.

    PostgreSQL only: pysqlite opens no transaction for a SELECT, and SQLite has no ping.
    """
    params = add_credentials(app, make_user)["session"]
    with app.app_context():
        engine = reads_engine()
        assert engine is not db.engine
        with statements_sent(engine, pings=True) as executed:
            for _ in range(3):
                assert len(SESSION.all(engine, params)) == 1
        SESSION.all(engine, params)  # on a connection that outlives the count
        pid = _backend_pid(engine)
        with db.engine.connect() as conn:
            state, last = conn.execute(
                text("SELECT state, query FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).one()
            # The ORM's engine still runs transactions.
            assert conn.connection.dbapi_connection.autocommit is False
    assert len(executed) == 3 and all("FROM auth_sessions" in q for q in executed), executed
    # What the server saw last from that connection was the SELECT, left idle: no ROLLBACK.
    assert state == "idle" and "FROM auth_sessions" in last, (state, last)


def test_a_connection_the_server_dropped_is_replaced_and_the_select_retried(
    app, make_user, postgres, terminate_backend
):
    """As after a database restart: the pooled connection is dead; the caller sees no error."""
    params = add_credentials(app, make_user)["session"]
    with app.app_context():
        engine = reads_engine()
        assert len(SESSION.all(engine, params)) == 1
        dead = _backend_pid(engine)
        terminate_backend(dead)
        assert len(SESSION.all(engine, params)) == 1
        assert _backend_pid(engine) != dead


def test_a_connection_lost_twice_in_a_row_is_an_invalidated_error_and_the_next_call_works(
    app, make_user, postgres, terminate_backend
):
    """The server ends every new connection before its statement: one retry, then the error."""
    params = add_credentials(app, make_user)["session"]
    checkouts = []

    def terminate(dbapi_connection, record_, proxy):
        checkouts.append(dbapi_connection.info.backend_pid)
        terminate_backend(dbapi_connection.info.backend_pid)

    with app.app_context():
        engine = reads_engine()
        event.listen(engine, "checkout", terminate)
        try:
            with pytest.raises(exc.OperationalError) as raised:
                SESSION.all(engine, params)
        finally:
            event.remove(engine, "checkout", terminate)
        assert raised.value.connection_invalidated
        assert len(checkouts) == 2 and checkouts[0] != checkouts[1]
        assert len(SESSION.all(engine, params)) == 1


def test_statements_rendered_at_execution_are_refused(app):
    """IN lists and literal parameters are written into the SQL per call; not supported."""
    in_list = select(User.id).where(User.id.in_(bindparam("ids", expanding=True)))
    literal = select(User.id).where(User.email == bindparam("e", "x", literal_execute=True))
    with app.app_context():
        with pytest.raises(ValueError, match="expanding"):
            PreparedSelect(in_list).all(db.engine, {"ids": [1]})
        with pytest.raises(ValueError, match="literal"):
            PreparedSelect(literal).all(db.engine, {})


def _closed(dbapi_connection, dialect) -> bool:
    """True when the DBAPI connection refuses to run a statement because it was closed."""
    try:
        dbapi_connection.cursor().execute("SELECT 1")
    except dialect.loaded_dbapi.Error:
        return True
    return False


def test_a_thread_checks_out_one_connection_for_all_its_lookups(app, make_user):
    """The pool is not asked again per lookup; another thread gets a connection of its own."""
    params = add_credentials(app, make_user)["session"]
    checkouts, checkins = [], []
    seen_by_thread = []

    def lookups_in_a_thread():
        with app.app_context():
            for _ in range(3):
                SESSION.all(reads_engine(), params)
            seen_by_thread.append(kept_connection(reads_engine()))

    with app.app_context():
        engine = reads_engine()
        event.listen(engine, "checkout", lambda *args: checkouts.append(args[0]))
        event.listen(engine, "checkin", lambda *args: checkins.append(args[0]))
        for _ in range(5):
            assert len(SESSION.all(engine, params)) == 1
        assert len(checkouts) == 1 and checkins == []
        thread = threading.Thread(target=lookups_in_a_thread)
        thread.start()
        thread.join()
        gc.collect()
        assert len(checkouts) == 2 and checkouts[1] is not checkouts[0]
        # The thread's connection went back to the pool when the thread ended, open.
        assert seen_by_thread == [checkouts[1]] and checkins == [checkouts[1]]
        assert not _closed(checkouts[1], engine.dialect)
        assert kept_connection(engine) is checkouts[0]


@pytest.fixture
def looked_up(app, make_user):
    """In an app context, after one lookup: the engine, the parameters, the kept connection."""
    params = add_credentials(app, make_user)["session"]
    with app.app_context():
        engine = reads_engine()
        SESSION.all(engine, params)
        yield engine, params, kept_connection(engine)


def test_disposing_the_engine_closes_the_kept_connection(looked_up):
    engine, params, kept = looked_up
    dispose_engines()
    assert kept_connection(engine) is None
    assert _closed(kept, engine.dialect)
    assert len(SESSION.all(engine, params)) == 1
    assert kept_connection(engine) is not kept


def test_a_failed_statement_gives_the_connection_back(looked_up):
    """After a driver error the next lookup starts on a connection the pool has reset."""
    engine, params, _ = looked_up
    broken = PreparedSelect(select(column("x")).select_from(table("no_such_table")))
    with pytest.raises(exc.DBAPIError):
        broken.all(engine, {})
    assert kept_connection(engine) is None
    assert len(SESSION.all(engine, params)) == 1


def test_on_sqlite_a_kept_connection_holds_no_read_snapshot(looked_up):
    """Between lookups the WAL can be checkpointed in full: no statement is left open."""
    engine, _, _ = looked_up
    if engine.dialect.name != "sqlite":
        pytest.skip("a SQLite write-ahead log")
    with engine.begin() as conn:  # a write after the lookup's read
        conn.execute(text("UPDATE users SET visit_count = visit_count + 1"))
    with engine.connect() as conn:
        busy, logged, moved = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
    assert busy == 0 and logged > 0 and moved == logged, (busy, logged, moved)


def test_a_forked_child_never_uses_its_parents_connection(looked_up):
    """As gunicorn's workers forked from a master: the child opens its own connection."""
    engine, params, parents = looked_up
    pid = os.fork()
    if pid == 0:  # the child: exit status 0 when it behaved
        status = 1
        try:
            inherited = kept_connection(engine)
            engine.dispose(close=False)  # SQLAlchemy's advice for a pool inherited by fork
            found = SESSION.all(engine, params)
            own = kept_connection(engine)
            status = 0 if inherited is None and len(found) == 1 and own is not parents else 3
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    # Had the child closed the parent's connection, this would fail or need a new one.
    assert len(SESSION.all(engine, params)) == 1
    assert kept_connection(engine) is parents and not _closed(parents, engine.dialect)


@pytest.mark.parametrize(
    "app_overrides",
    [{"API_FAST_LOOKUP": True}, {"API_FAST_LOOKUP": False}],
    indirect=True,
    ids=["fast", "plain"],
)
def test_both_lookups_let_in_live_credentials_only(app, make_user, app_overrides):
    """Through HTTP: /me answers for a live token and key, 401 once either is revoked."""
    api = Api(app.test_client())
    make_user(programs=("PROG-B", "PROG-A"))
    token = api.token()
    me = api.get("/api/auth/me", token=token)
    assert me.status_code == 200 and me.get_json()["programs"] == ["PROG-A", "PROG-B"]
    created = api.new_key(token)
    assert api.get("/api/auth/me", key=created["key"]).status_code == 200
    assert api.get("/api/auth/me", token=token).status_code == 200  # twice: the cached verify
    assert api.delete(f"/api/auth/api-keys/{created['id']}", token=token).status_code == 204
    assert api.get("/api/auth/me", key=created["key"]).status_code == 401
    assert api.post("/api/auth/logout", token=token).status_code == 204
    assert api.get("/api/auth/me", token=token).status_code == 401
    other = api.token()
    with app.app_context():
        db.session.execute(update(User).values(is_active_flag=False))
        db.session.commit()
    assert api.get("/api/auth/me", token=other).status_code == 401
