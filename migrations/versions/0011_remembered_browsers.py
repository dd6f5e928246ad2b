"""Remembered browsers: "remember this browser" skips the second sign-in step for a while

Revision ID: 0011_remembered_browsers
Revises: 0010_passkeys
Create Date: 2026-12-05

One row per browser a person chose to remember (MFA_REMEMBER_DAYS): its public id (named by a
signed cookie), a device label for /account, a digest of the account's factor stamp (a changed
password or set of factors voids it), created, expires, revoked.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0011_remembered_browsers"
down_revision = "0010_passkeys"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "remembered_browsers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("stamp", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_remembered_browsers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remembered_browsers")),
        sa.UniqueConstraint("public_id", name=op.f("uq_remembered_browsers_public_id")),
    )
    op.create_index(
        op.f("ix_remembered_browsers_user_id"), "remembered_browsers", ["user_id"], unique=False
    )
    op.create_index(
        op.f("ix_remembered_browsers_expires_at"),
        "remembered_browsers",
        ["expires_at"],
        unique=False,
    )


def downgrade():
    op.drop_index(op.f("ix_remembered_browsers_expires_at"), table_name="remembered_browsers")
    op.drop_index(op.f("ix_remembered_browsers_user_id"), table_name="remembered_browsers")
    op.drop_table("remembered_browsers")
