"""auto renew held by quote

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 08:55:40.964277
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("auto_renew_held_by", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_subscriptions_auto_renew_held_by"), ["auto_renew_held_by"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_subscriptions_auto_renew_held_by_quotes"),
            "quotes",
            ["auto_renew_held_by"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_subscriptions_auto_renew_held_by_quotes"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_subscriptions_auto_renew_held_by"))
        batch_op.drop_column("auto_renew_held_by")
