"""A session that comes back after a break (its last_used_at is refreshed) still signs out."""

from datetime import timedelta

from sqlalchemy import update

from acs_auth.extensions import db
from acs_auth.models import AuthSession, utcnow
from tests.support.db import read_db
from tests.support.web import csrf_from


def _age_sessions(app, minutes: int) -> None:
    def age():
        db.session.execute(
            update(AuthSession).values(last_used_at=utcnow() - timedelta(minutes=minutes))
        )
        db.session.commit()

    read_db(app, age)


def test_a_session_back_from_a_break_still_shows_the_account_page(app, client, make_user, login_as):
    login_as(make_user())
    _age_sessions(app, 5)
    assert client.get("/account").status_code == 200


def test_sign_out_after_a_break_ends_the_session_on_the_server(app, client, make_user, login_as):
    public_id = login_as(make_user())
    _age_sessions(app, 5)
    page = client.get("/account")
    assert page.status_code == 200
    captured = client.get_cookie("acs_session").value
    _age_sessions(app, 5)
    client.post("/logout", data={"csrf_token": csrf_from(page.get_data(as_text=True))})

    def revoked_at():
        return db.session.scalar(
            db.select(AuthSession.revoked_at).where(AuthSession.public_id == public_id)
        )

    assert read_db(app, revoked_at) is not None
    client.set_cookie("acs_session", captured)
    assert client.get("/account").status_code == 302
