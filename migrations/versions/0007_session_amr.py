"""The sign-in seam: the methods of each sign-in, and pending sign-ins awaiting a second factor

Revision ID: 0007_session_amr
Revises: 0006
Create Date: 2026-12-05

auth_sessions.amr records how the session's person signed in (RFC 8176 values, space-separated;
every existing session was opened with a password, hence the server default 'pwd'). Access
tokens and the OpenID Connect provider's ID tokens carry it as ``amr``.

signin_challenges holds the pending state between "first factor checked" and "signed in": the
SHA-256 of a random handle, the account, the channel, the methods so far, the remember-me
choice, where to go next, a fingerprint of the account's state and when it began (it lives
SIGNIN_PENDING_MINUTES); ``used_at`` makes each one single-use.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007_session_amr"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("amr", sa.String(length=40), server_default="pwd", nullable=False)
        )
    op.create_table(
        "signin_challenges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("amr", sa.String(length=40), nullable=False),
        sa.Column("remember", sa.Boolean(), nullable=False),
        sa.Column("next_url", sa.String(length=2048), nullable=True),
        sa.Column("account_state", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_signin_challenges_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signin_challenges")),
        sa.UniqueConstraint("digest", name=op.f("uq_signin_challenges_digest")),
    )
    with op.batch_alter_table("signin_challenges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signin_challenges_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_signin_challenges_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("signin_challenges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signin_challenges_user_id"))
        batch_op.drop_index(batch_op.f("ix_signin_challenges_created_at"))
    op.drop_table("signin_challenges")
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_column("amr")
