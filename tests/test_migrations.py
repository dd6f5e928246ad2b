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


def test_0008_people_fills_the_search_column_of_existing_accounts(make_app, tmp_path):
    from sqlalchemy import text

    from acs_auth.services.accounts import user_search

    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/before.db")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade", "0007_session_amr"])
    assert result.exit_code == 0, result.output
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (email, email_key, username, username_key, first_name,"
                " first_name_key, last_name, last_name_key, role, is_active, created_at,"
                " updated_at, visit_count, failed_login_count, source) VALUES"
                " ('Ada@example.org', 'ada@example.org', 'Countess', 'countess', 'Ada',"
                " 'ada', 'Lovelace-Byron', 'lovelace byron', 'user', 1, '2026-01-01',"
                " '2026-01-01', 0, 0, 'csv')"
            )
        )
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert schema_differences(app) == []
    with app.app_context():
        for q in ("a@exam", "COUNTE", "ada lovelace", "ace byr"):
            page, count = user_search.find_users(user_search.UserFilters(q=q))
            assert [u.email for u in page.items] == ["Ada@example.org"], q
            assert str(count) == "1"
        assert page.items[0].programs_edited_at is None
        db.session.remove()
    result = runner.invoke(args=["db", "downgrade", "0007_session_amr"])
    assert result.exit_code == 0, result.output
