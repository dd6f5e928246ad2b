"""Admin search matches any part of a name, email or username: pg_trgm GIN indexes

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

On PostgreSQL the three varchar_pattern_ops indexes of 0002 (prefix search only) become
trigram GIN indexes, which serve LIKE '%text%' and LIKE 'text%' alike, and username_key gets
one too. Other databases get a plain index on username_key, so the schema matches the models.
CREATE EXTENSION needs a role allowed to create it (pg_trgm is a trusted extension since
PostgreSQL 13: the database owner may).
"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PATTERN_INDEXES = (
    ("ix_users_email_key_prefix", "email_key"),
    ("ix_users_last_name_key", "last_name_key"),
    ("ix_users_first_name_key", "first_name_key"),
)
USERNAME_INDEX = ("ix_users_username_key_search", "username_key")


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if not _postgresql():
        op.create_index(USERNAME_INDEX[0], "users", [USERNAME_INDEX[1]])
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, _column in PATTERN_INDEXES:
        op.drop_index(name, table_name="users")
    for name, column in (*PATTERN_INDEXES, USERNAME_INDEX):
        op.create_index(
            name,
            "users",
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )


def downgrade():
    op.drop_index(USERNAME_INDEX[0], table_name="users")
    if not _postgresql():
        return
    for name, column in PATTERN_INDEXES:
        op.drop_index(name, table_name="users")
        op.create_index(name, "users", [column], postgresql_ops={column: "varchar_pattern_ops"})
