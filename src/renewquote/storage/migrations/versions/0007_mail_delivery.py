"""Mail delivery: each recipient's link and delivery state, outbox rows claimed under a lease.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("quote_recipients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("link_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("link_expires_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("message_id", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("delivery", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("delivery_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("delivery_error", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("viewed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("view_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_index("ix_quote_recipients_link_hash", ["link_hash"], unique=True)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=10), nullable=False, server_default="pending")
        )
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))
        batch_op.drop_index("ix_outbox_pending")
        batch_op.create_index("ix_outbox_due", ["status", "available_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")
        batch_op.create_index("ix_outbox_pending", ["processed_at", "available_at"], unique=False)
        batch_op.drop_column("lease_until")
        batch_op.drop_column("status")
    with op.batch_alter_table("quote_recipients", schema=None) as batch_op:
        batch_op.drop_index("ix_quote_recipients_link_hash")
        for name in (
            "view_count",
            "viewed_at",
            "delivery_error",
            "delivery_at",
            "delivery",
            "message_id",
            "link_expires_at",
            "link_hash",
        ):
            batch_op.drop_column(name)
