"""`flask cleanup`: old ended sessions and old sent mail go; everything else stays."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import AuditEvent, AuthSession, OutboxMessage, utcnow
from tests.support.db import read_db


def add_session(app, user_id: int, label: str, *, expires_days: float, revoked_days=None) -> None:
    now = utcnow()
    with app.app_context():
        db.session.add(
            AuthSession(
                public_id=f"{label}-{secrets.token_hex(4)}",
                user_id=user_id,
                kind="browser",
                created_at=now - timedelta(days=60),
                last_used_at=now - timedelta(days=60),
                expires_at=now + timedelta(days=expires_days),
                revoked_at=None if revoked_days is None else now + timedelta(days=revoked_days),
                user_agent=label,
            )
        )
        db.session.commit()


def add_mail(app, label: str, *, sent_days=None, failed_days=None, created_days=-60) -> None:
    now = utcnow()
    with app.app_context():
        db.session.add(
            OutboxMessage(
                to=f"{label}@example.org",
                subject=label,
                kind="password_setup",
                text=label,
                created_at=now + timedelta(days=created_days),
                next_attempt_at=now + timedelta(days=created_days),
                sent_at=None if sent_days is None else now + timedelta(days=sent_days),
                failed_at=None if failed_days is None else now + timedelta(days=failed_days),
            )
        )
        db.session.commit()


def session_labels(app) -> set[str]:
    return set(read_db(app, lambda: db.session.scalars(select(AuthSession.user_agent)).all()))


def mail_labels(app) -> set[str]:
    return set(read_db(app, lambda: db.session.scalars(select(OutboxMessage.subject)).all()))


@pytest.fixture
def old_and_new(app, make_user):
    user_id = make_user()
    add_session(app, user_id, "expired-long-ago", expires_days=-40)
    add_session(app, user_id, "revoked-long-ago", expires_days=5, revoked_days=-40)
    add_session(app, user_id, "expired-recently", expires_days=-5)
    add_session(app, user_id, "revoked-recently", expires_days=5, revoked_days=-2)
    add_session(app, user_id, "live", expires_days=5)
    add_mail(app, "sent-long-ago", sent_days=-40)
    add_mail(app, "sent-recently", sent_days=-5)
    add_mail(app, "queued-long-ago")
    add_mail(app, "failed-long-ago", failed_days=-40)
    return user_id


def test_cleanup_deletes_old_sessions_and_sent_mail_only(app, runner, old_and_new):
    result = runner.invoke(args=["cleanup", "--days", "30"])
    assert result.exit_code == 0, result.output
    assert messages.CLI_CLEANUP_DONE.format(sessions=2, mail=1, days=30) in result.output
    assert session_labels(app) == {"expired-recently", "revoked-recently", "live"}
    assert mail_labels(app) == {"sent-recently", "queued-long-ago", "failed-long-ago"}


def test_cleanup_defaults_to_thirty_days_and_is_audited(app, runner, old_and_new):
    result = runner.invoke(args=["cleanup"])
    assert messages.CLI_CLEANUP_DONE.format(sessions=2, mail=1, days=30) in result.output
    events = read_db(app, lambda: db.session.scalars(select(AuditEvent)).all())
    cleanup = [e for e in events if e.event == "maintenance.cleanup"]
    assert len(cleanup) == 1 and cleanup[0].details["sessions"] == 2


def test_cleanup_again_removes_nothing_more(app, runner, old_and_new):
    runner.invoke(args=["cleanup"])
    result = runner.invoke(args=["cleanup"])
    assert messages.CLI_CLEANUP_DONE.format(sessions=0, mail=0, days=30) in result.output


def test_cleanup_with_zero_days_keeps_live_sessions_and_queued_mail(app, runner, old_and_new):
    result = runner.invoke(args=["cleanup", "--days", "0"])
    assert result.exit_code == 0
    assert session_labels(app) == {"live"}
    assert mail_labels(app) == {"queued-long-ago", "failed-long-ago"}


@pytest.mark.parametrize("days", ["-1", "thirty", "99999999999"])
def test_cleanup_rejects_bad_days(app, runner, old_and_new, days):
    result = runner.invoke(args=["cleanup", "--days", days])
    assert result.exit_code == 2
    assert len(session_labels(app)) == 5
