"""Flask extensions, created unbound here and bound to the app in create_app()."""

from pathlib import Path

from flask_bcrypt import Bcrypt
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_mail import Mail
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

from acs_auth.ratelimits import client_ip

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
login_manager = LoginManager()
csrf = CSRFProtect()
bcrypt = Bcrypt()
mail = Mail()
limiter = Limiter(client_ip)


def init_migrations(app) -> None:
    """Bind Flask-Migrate (the ``flask db`` commands) to ``app``, once.

    Imported on demand: Flask-Migrate brings Alembic (≈12 MB per process), which no request
    needs, so the web workers never load it (docs/performance.md, "Worker memory").
    """
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        Migrate(app, db, directory=str(MIGRATIONS))
