"""A minimal Flask-Security-Too JSON sign-in: the peer of bench/bench_login_peer.py.

Runs in its own virtualenv (bench/.venv-fst, bench/peer_fst/requirements.txt), never in the
app's. ``POST /login?include_auth_token`` with ``{"email": ..., "password": ...}`` answers 200
with the user and an authentication token, as acs_auth's ``POST /api/auth/login`` answers with a
token pair. Passwords are bcrypt at cost 12, the app's cost. Flask-Security-Too's defaults
otherwise: nothing is written to the database at sign-in (no trackable columns).

    DATABASE_URL=sqlite:////tmp/fst.db bench/.venv-fst/bin/python app.py seed EMAIL PASSWORD
    DATABASE_URL=... ../.venv-fst/bin/gunicorn -w 2 app:app    # in bench/peer_fst
"""

from __future__ import annotations

import os
import sys

from flask import Flask
from flask_security import Security, SQLAlchemyUserDatastore, hash_password
from flask_security.models import fsqla_v3 as fsqla
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config.update(
    SECRET_KEY=os.environ.get("SECRET_KEY", "bench-only-secret"),
    SECURITY_PASSWORD_SALT=os.environ.get("SECURITY_PASSWORD_SALT", "bench-only-salt"),
    SQLALCHEMY_DATABASE_URI=os.environ["DATABASE_URL"],
    SECURITY_PASSWORD_HASH="bcrypt",
    SECURITY_PASSWORD_HASH_OPTIONS={"bcrypt": {"rounds": int(os.environ.get("ROUNDS", "12"))}},
    # A JSON client, like acs_auth's API (which needs no CSRF token either).
    WTF_CSRF_ENABLED=False,
    SECURITY_CSRF_IGNORE_UNAUTH_ENDPOINTS=True,
)
db = SQLAlchemy(app)
fsqla.FsModels.set_db_info(db)


class Role(db.Model, fsqla.FsRoleMixin):
    pass


class User(db.Model, fsqla.FsUserMixin):
    pass


security = Security(app, SQLAlchemyUserDatastore(db, User, Role))


def seed(email: str, password: str) -> None:
    """Create the tables afresh with one user."""
    with app.app_context():
        db.drop_all()
        db.create_all()
        security.datastore.create_user(email=email, password=hash_password(password))
        db.session.commit()


if __name__ == "__main__":
    if sys.argv[1:2] == ["seed"]:
        seed(sys.argv[2], sys.argv[3])
