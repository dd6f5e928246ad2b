"""Which factors a person has, and the stamp that changes with them (services/factors/state.py)."""

from __future__ import annotations

from acs_auth.extensions import db
from acs_auth.models import RecoveryCode, TotpFactor, User, utcnow
from acs_auth.services import factors
from tests.support.db import read_db


def _state(app, user_id):
    def read():
        user = db.session.get(User, user_id)
        return factors.enrolled(user), factors.has_second_factor(user), factors.factor_stamp(user)

    return read_db(app, read)


def _add(app, *rows):
    with app.app_context():
        db.session.add_all(rows)
        db.session.commit()


def test_nothing_enrolled_then_a_confirmed_authenticator_counts(app, make_user):
    user_id = make_user()
    assert _state(app, user_id)[:2] == (set(), False)
    _add(app, TotpFactor(user_id=user_id, secret="x"))
    assert _state(app, user_id)[:2] == (set(), False), "an unconfirmed enrolment is no factor"
    with app.app_context():
        db.session.query(TotpFactor).update({"confirmed_at": utcnow()})
        db.session.commit()
    assert _state(app, user_id)[:2] == ({"totp"}, True)


def test_recovery_codes_alone_are_no_second_factor(app, make_user):
    user_id = make_user()
    _add(app, RecoveryCode(user_id=user_id, code_hash="a" * 64))
    assert _state(app, user_id)[:2] == ({"recovery_codes"}, False)


def test_the_stamp_changes_with_factors_and_password_but_not_with_a_code_used(app, make_user):
    user_id = make_user()
    first = _state(app, user_id)[2]
    _add(app, TotpFactor(user_id=user_id, secret="x", confirmed_at=utcnow()))
    with_totp = _state(app, user_id)[2]
    assert with_totp != first
    _add(app, *(RecoveryCode(user_id=user_id, code_hash=f"{n:064}") for n in range(3)))
    with_codes = _state(app, user_id)[2]
    assert with_codes != with_totp
    with app.app_context():
        code = db.session.query(RecoveryCode).order_by(RecoveryCode.id.desc()).first()
        code.used_at = utcnow()
        db.session.commit()
    assert _state(app, user_id)[2] == with_codes
    with app.app_context():
        db.session.get(User, user_id).password_hash = "$2b$04$" + "x" * 53
        db.session.commit()
    assert _state(app, user_id)[2] != with_codes
