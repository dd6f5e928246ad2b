"""Alembic migrations: they build exactly the models' schema, and go down and up again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from acs_auth.extensions import db, init_migrations


def schema_differences(app) -> list:
    """What autogenerate would put into a new migration for the migrated test database."""
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_models_and_migrations_agree(app):
    differences = schema_differences(app)
    assert differences == [], (
        "The models differ from the migrated schema; add a migration "
        "(flask --app wsgi db migrate -m '...'):\n" + "\n".join(map(str, differences))
    )


def table_names(app) -> set[str]:
    with app.app_context():
        return set(inspect(db.engine).get_table_names())


def test_upgrade_downgrade_upgrade_on_a_fresh_sqlite_file(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/fresh.db")
    runner = app.test_cli_runner()
    model_tables = set(db.metadata.tables)

    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert model_tables <= table_names(app)

    result = runner.invoke(args=["db", "downgrade", "base"])
    assert result.exit_code == 0, result.output
    assert table_names(app) & model_tables == set()

    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert model_tables <= table_names(app)
    assert schema_differences(app) == []


def test_the_migration_history_is_linear(app):
    from alembic.script import ScriptDirectory

    with app.app_context():
        init_migrations(app)
        config = app.extensions["migrate"].migrate.get_config()
        heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}; merge them"
