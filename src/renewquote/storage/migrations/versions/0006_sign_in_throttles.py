"""Sign-in failures counted per subject in one row each, locked while an attempt is judged.

The attempts table was read, then the password checked, then the attempt written: concurrent
attempts all read the same count. A row per subject is locked (and counted) before the
password is checked instead.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_throttles",
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("subject", name=op.f("pk_sign_in_throttles")),
    )
    op.drop_index("ix_sign_in_attempts_subject_at", table_name="sign_in_attempts")
    op.drop_table("sign_in_attempts")


def downgrade() -> None:
    op.create_table(
        "sign_in_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_attempts")),
    )
    op.create_index(
        "ix_sign_in_attempts_subject_at", "sign_in_attempts", ["subject", "at"], unique=False
    )
    op.drop_table("sign_in_throttles")
