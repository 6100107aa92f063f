"""Subscriptions indexed by customer (or partner), end date and id: the order renewal groups
read them in, so that reading a customer's subscriptions needs no sort.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_INDEXES = {
    "ix_subscriptions_customer_end": "customer_csn",
    "ix_subscriptions_partner_end": "partner_csn",
}


def upgrade() -> None:
    for name, column in _INDEXES.items():
        op.drop_index(name, table_name="subscriptions")
        op.create_index(name, "subscriptions", [column, "end_date", "id"])


def downgrade() -> None:
    for name, column in _INDEXES.items():
        op.drop_index(name, table_name="subscriptions")
        op.create_index(name, "subscriptions", [column, "end_date"])
