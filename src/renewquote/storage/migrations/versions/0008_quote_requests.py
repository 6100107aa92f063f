"""Quote requests: a customer asks a partner for a renewal quote on chosen subscriptions.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quote_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_csn", sa.String(length=20), nullable=False),
        sa.Column("partner_csn", sa.String(length=20), nullable=False),
        sa.Column("requested_by", sa.String(length=254), nullable=False),
        sa.Column("subscription_ids", sa.JSON(), nullable=False),
        sa.Column("message", sa.String(length=1000), nullable=True),
        sa.Column("status", sa.String(length=10), server_default="open", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("quote_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("answer", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_csn"],
            ["customers.csn"],
            name=op.f("fk_quote_requests_customer_csn_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["partner_csn"], ["partners.csn"], name=op.f("fk_quote_requests_partner_csn_partners")
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"], ["quotes.id"], name=op.f("fk_quote_requests_quote_id_quotes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote_requests")),
    )
    op.create_index("ix_quote_requests_partner_status", "quote_requests", ["partner_csn", "status"])
    op.create_index("ix_quote_requests_customer", "quote_requests", ["customer_csn"])


def downgrade() -> None:
    op.drop_index("ix_quote_requests_customer", table_name="quote_requests")
    op.drop_index("ix_quote_requests_partner_status", table_name="quote_requests")
    op.drop_table("quote_requests")
