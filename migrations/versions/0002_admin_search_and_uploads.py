"""Admin console: search keys and indexes, account inactivity reason, pending allowlist uploads

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

"""

import re
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# PostgreSQL uses a b-tree for LIKE 'prefix%' only under the C collation or with this class.
PATTERN_OPS = "varchar_pattern_ops"


def _fold(value):
    """The search key of a name, as acs_auth.models.user.search_key computes it (frozen copy)."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\s\-]+", " ", stripped.casefold()).strip()[:100] or None


def _backfill(table_name, columns):
    """Fill the new key columns of existing rows (none on a fresh database)."""
    bind = op.get_bind()
    table = sa.table(
        table_name,
        sa.column("id", sa.Integer),
        *[sa.column(c, sa.String) for c in columns],
        *[sa.column(f"{c}_key", sa.String) for c in columns],
    )
    rows = bind.execute(sa.select(table.c.id, *[table.c[c] for c in columns])).all()
    if not rows:
        return
    stmt = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("row_id"))
        .values({f"{c}_key": sa.bindparam(f"new_{c}") for c in columns})
    )
    params = [
        {"row_id": row.id, **{f"new_{c}": _fold(row._mapping[c]) for c in columns}} for row in rows
    ]
    bind.execute(stmt, params)


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_name_key", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("last_name_key", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("inactive_reason", sa.String(length=20), nullable=True))
        batch_op.create_index(
            "ix_users_email_key_prefix",
            ["email_key"],
            unique=False,
            postgresql_ops={"email_key": PATTERN_OPS},
        )
        batch_op.create_index(
            "ix_users_first_name_key",
            ["first_name_key"],
            unique=False,
            postgresql_ops={"first_name_key": PATTERN_OPS},
        )
        batch_op.create_index(
            "ix_users_last_name_key",
            ["last_name_key"],
            unique=False,
            postgresql_ops={"last_name_key": PATTERN_OPS},
        )

    with op.batch_alter_table("allowlist_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_name_key", sa.String(length=100), nullable=True))
        batch_op.create_index(
            "ix_allowlist_entries_email_key_prefix",
            ["email_key"],
            unique=False,
            postgresql_ops={"email_key": PATTERN_OPS},
        )
        batch_op.create_index(
            "ix_allowlist_entries_last_name_key",
            ["last_name_key"],
            unique=False,
            postgresql_ops={"last_name_key": PATTERN_OPS},
        )

    _backfill("users", ["first_name", "last_name"])
    _backfill("allowlist_entries", ["last_name"])

    op.create_table(
        "allowlist_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_allowlist_uploads_actor_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allowlist_uploads")),
        sa.UniqueConstraint("token", name=op.f("uq_allowlist_uploads_token")),
    )
    with op.batch_alter_table("allowlist_uploads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_allowlist_uploads_actor_id"), ["actor_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_allowlist_uploads_created_at"), ["created_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("allowlist_uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_allowlist_uploads_created_at"))
        batch_op.drop_index(batch_op.f("ix_allowlist_uploads_actor_id"))
    op.drop_table("allowlist_uploads")

    with op.batch_alter_table("allowlist_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_allowlist_entries_last_name_key")
        batch_op.drop_index("ix_allowlist_entries_email_key_prefix")
        batch_op.drop_column("last_name_key")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_last_name_key")
        batch_op.drop_index("ix_users_first_name_key")
        batch_op.drop_index("ix_users_email_key_prefix")
        batch_op.drop_column("inactive_reason")
        batch_op.drop_column("last_name_key")
        batch_op.drop_column("first_name_key")
