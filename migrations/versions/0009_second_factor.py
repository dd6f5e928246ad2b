"""Second factors: authenticator apps (TOTP) and recovery codes

Revision ID: 0009_second_factor
Revises: 0008_people
Create Date: 2026-12-05

totp_factors holds one authenticator per account, its key encrypted with MFA_ENCRYPTION_KEYS
(Fernet) and the time step of its last accepted code (replay refusal); recovery_codes holds
the SHA-256 of each one-time code and when it was used.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0009_second_factor"
down_revision = "0008_people"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "totp_factors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_step", sa.BigInteger(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_totp_factors_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_totp_factors")),
        sa.UniqueConstraint("user_id", name=op.f("uq_totp_factors_user_id")),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_recovery_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    op.create_index(
        "ix_recovery_codes_user_id_code_hash", "recovery_codes", ["user_id", "code_hash"]
    )


def downgrade():
    op.drop_index("ix_recovery_codes_user_id_code_hash", table_name="recovery_codes")
    op.drop_table("recovery_codes")
    op.drop_table("totp_factors")
