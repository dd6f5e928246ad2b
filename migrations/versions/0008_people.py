"""Admin search on one computed column; programs an administrator set by hand

Revision ID: 0008_people
Revises: 0007_session_amr
Create Date: 2026-12-05

users.search_text is a generated column (STORED on PostgreSQL, VIRTUAL on SQLite) joining the
lower-cased email, the username and "first last" search keys, so every write path keeps it
current without application code. On PostgreSQL one pg_trgm GIN index on it replaces the four
of 0006: a search is one index scan instead of a BitmapOr of four, which the planner priced as
high as a sequential scan. SQLite gets a plain index, which a count scans instead of the table.

users.programs_edited_at records that an administrator set the account's programs by hand, so
that the next import asks before replacing them.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008_people"
down_revision = "0007_session_amr"
branch_labels = None
depends_on = None

# A frozen copy of acs_auth.models.user.SEARCH_TEXT.
SEARCH_TEXT = (
    "email_key || '\n' || coalesce(username_key, '') || '\n'"
    " || coalesce(first_name_key, '') || ' ' || coalesce(last_name_key, '')"
)
SEARCH_INDEX = "ix_users_search"
OLD_INDEXES = (
    ("ix_users_email_key_prefix", "email_key"),
    ("ix_users_last_name_key", "last_name_key"),
    ("ix_users_first_name_key", "first_name_key"),
    ("ix_users_username_key_search", "username_key"),
)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    op.add_column("users", sa.Column("programs_edited_at", sa.DateTime(timezone=True)))
    # STORED on PostgreSQL (the only kind it has), VIRTUAL on SQLite (the only kind ALTER TABLE
    # may add there); existing rows are computed by the ALTER itself.
    computed = sa.Computed(SEARCH_TEXT, persisted=True if _postgresql() else None)
    op.add_column("users", sa.Column("search_text", sa.Text(), computed))
    for name, _column in OLD_INDEXES:
        op.drop_index(name, table_name="users")
    if _postgresql():
        op.create_index(
            SEARCH_INDEX,
            "users",
            ["search_text"],
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )
    else:
        op.create_index(SEARCH_INDEX, "users", ["search_text"])


def downgrade():
    op.drop_index(SEARCH_INDEX, table_name="users")
    for name, column in OLD_INDEXES:
        if _postgresql():
            op.create_index(
                name,
                "users",
                [column],
                postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"},
            )
        else:
            op.create_index(name, "users", [column])
    op.drop_column("users", "search_text")
    op.drop_column("users", "programs_edited_at")
