"""One shape of "an account": the ORM row, the API's caller and the lifecycle's row agree."""

from __future__ import annotations

from acs_auth.extensions import db
from acs_auth.models import Account, User
from acs_auth.services.allowlist import lifecycle
from acs_auth.services.signin import api_auth
from tests.support.db import read_db


def test_the_orm_row_the_api_caller_and_the_lifecycle_row_are_one_shape(app, make_user):
    make_user(email="Ada@Example.org", programs=("P2", "P1"))

    def shapes():
        user = db.session.scalar(db.select(User))
        caller = api_auth.snapshot(user)
        (row,) = lifecycle.accounts_for_keys([user.email_key]).values()
        return [user, caller, row], user.program_ids, caller.program_ids

    shapes_, orm_programs, caller_programs = read_db(app, shapes)
    assert all(isinstance(shape, Account) for shape in shapes_)
    seen = {(s.id, s.email, s.role, s.is_active) for s in shapes_}
    assert seen == {(shapes_[0].id, "Ada@example.org", "user", True)}
    # One encoding of a person's programs: unique LO Root IDs, sorted.
    assert orm_programs == caller_programs == ["P1", "P2"]
