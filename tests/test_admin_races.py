"""Admin invariants under pressure: the last admin survives a race; refusals do not flood."""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from acs_auth.extensions import db
from acs_auth.models import AuditEvent, Role, User
from acs_auth.services import audit
from acs_auth.services.accounts import user_admin
from tests.support.db import read_db

# The `api` fixture (a client whose answers are checked against the OpenAPI document).
pytest_plugins = ("test_api_support",)


def active_admins(app) -> int:
    return read_db(
        app,
        lambda: db.session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == Role.ADMIN.value, User.is_active_flag.is_(True))
        ),
    )


@pytest.fixture
def two_admins(app, api, make_user):
    """Two admins, each with an API token: {"a": (id, token), "b": (id, token)}."""
    found = {}
    for name in ("a", "b"):
        email = f"{name}@example.org"
        user_id = make_user(email=email, role=Role.ADMIN.value, programs=())
        found[name] = (user_id, api.token(email))
    return found


def demote(app, token: str, user_id: int):
    from test_api_support import Api

    api = Api(app.test_client())
    return api.patch(f"/api/admin/users/{user_id}", token=token, json={"role": "user"})


# --- two admins demoting each other -----------------------------------------------------------


def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    app, postgres, two_admins, monkeypatch
):
    (a_id, a_token), (b_id, b_token) = two_admins["a"], two_admins["b"]
    # Both requests pause after their check, before their commit, until the other arrives
    # (or 2 s pass): without a lock both checks see two admins and both demotions commit.
    barrier = threading.Barrier(2)
    record = audit.record

    def paused_record(event, **kw):
        if event == "user.updated":
            # A broken barrier: the other request waits for our lock, so go on and commit.
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=2)
        return record(event, **kw)

    monkeypatch.setattr(audit, "record", paused_record)
    answers = {}

    def run(name, token, target):
        answers[name] = demote(app, token, target).status_code

    threads = [
        threading.Thread(target=run, args=("a", a_token, b_id)),
        threading.Thread(target=run, args=("b", b_token, a_id)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert active_admins(app) == 1
    assert sorted(answers.values()) == [200, 409], answers


def test_an_admin_demoted_a_moment_ago_cannot_demote_the_last_one(app, two_admins):
    """The same interleaving, one step at a time (any database): the check re-reads the admins
    inside the demoting transaction instead of trusting what the request loaded."""
    (a_id, a_token), (b_id, _b_token) = two_admins["a"], two_admins["b"]
    with app.test_request_context():
        b_as_loaded = db.session.get(User, b_id)  # B's request: signed in while still an admin
        a_as_loaded = db.session.get(User, a_id)
        db.session.commit()  # end the read; the objects keep what was loaded
        assert demote(app, a_token, b_id).status_code == 200  # A demotes B meanwhile
        with pytest.raises(user_admin.ActionRefused):
            user_admin.update_user(
                a_as_loaded, role="user", programs=[], active=True, actor=b_as_loaded
            )
        db.session.rollback()
    assert active_admins(app) == 1


def test_the_last_admin_cannot_be_demoted_by_a_former_admin_over_http(app, two_admins):
    (a_id, a_token), (b_id, b_token) = two_admins["a"], two_admins["b"]
    assert demote(app, a_token, b_id).status_code == 200
    assert demote(app, b_token, a_id).status_code == 403
    assert active_admins(app) == 1


# --- admin.denied is throttled per user and path ----------------------------------------------


def denied_rows(app) -> list[tuple[int, str]]:
    def query():
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.event == "admin.denied").order_by(AuditEvent.id)
        ).all()
        return [(row.actor_id, row.details["path"]) for row in rows]

    return read_db(app, query)


def test_admin_denied_is_recorded_once_per_user_and_path_per_window(
    app, client, make_user, login_as
):
    mallory = make_user(email="mallory@example.org")
    login_as(mallory)
    for _ in range(5):
        assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/audit").status_code == 403
    trent = make_user(email="trent@example.org")
    other = app.test_client()
    login_as(trent, on=other)
    assert other.get("/admin/users").status_code == 403
    assert denied_rows(app) == [
        (mallory, "/admin/users"),
        (mallory, "/admin/audit"),
        (trent, "/admin/users"),
    ]

    def age_rows():
        for row in db.session.scalars(select(AuditEvent)):
            row.at -= user_admin.DENIED_WINDOW + timedelta(minutes=1)
        db.session.commit()

    read_db(app, age_rows)  # the window has passed
    assert client.get("/admin/users").status_code == 403
    assert denied_rows(app)[-1] == (mallory, "/admin/users") and len(denied_rows(app)) == 4


def test_admin_denied_rows_are_capped_per_user_whatever_the_paths(app, client, make_user, login_as):
    login_as(make_user(email="mallory@example.org"))
    for user_id in range(1, user_admin.DENIED_PER_WINDOW + 15):
        assert client.get(f"/admin/users/{user_id}").status_code == 403
    assert len(denied_rows(app)) == user_admin.DENIED_PER_WINDOW
