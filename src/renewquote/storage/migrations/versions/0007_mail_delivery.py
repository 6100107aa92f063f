"""Delivery: each recipient's links and mail state, outbox rows claimed under a lease, reminders,
webhook endpoints and the events published to them, the terms quoted automatically.

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
    with op.batch_alter_table("quotes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminded_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("quote_recipients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("delivery_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("delivery_error", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("viewed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("view_count", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "quote_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("link_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["quote_recipients.id"],
            name=op.f("fk_quote_links_recipient_id_quote_recipients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote_links")),
    )
    with op.batch_alter_table("quote_links", schema=None) as batch_op:
        batch_op.create_index("ix_quote_links_link_hash", ["link_hash"], unique=True)
        batch_op.create_index("ix_quote_links_recipient_id", ["recipient_id"], unique=False)
    with op.batch_alter_table("quote_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("published_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_quote_events_published_at", ["published_at"], unique=False)
    # Events from before webhooks existed are not news: none is posted.
    op.execute("UPDATE quote_events SET published_at = at")
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("partner_csn", sa.String(length=20), nullable=True),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("disabled_at", sa.DateTime(), nullable=True),
        sa.Column("disabled_why", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_csn"],
            ["partners.csn"],
            name=op.f("fk_webhook_endpoints_partner_csn_partners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_endpoints_partner_csn", ["partner_csn"], unique=False)
    op.create_table(
        "automatic_quote_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.String(length=40), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_automatic_quote_terms_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automatic_quote_terms")),
        sa.UniqueConstraint(
            "subscription_id",
            "end_date",
            name=op.f("uq_automatic_quote_terms_subscription_id_end_date"),
        ),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=10), nullable=False, server_default="pending")
        )
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))
        batch_op.drop_index("ix_outbox_pending")
        batch_op.create_index("ix_outbox_due", ["status", "available_at"], unique=False)
    # The rows earlier releases queued (quote.sent, quote.ordered, quote.cancelled) were
    # delivered by nothing; their events reach webhooks from the audit trail now.
    op.execute(
        "UPDATE outbox SET status = 'failed', processed_at = created_at, "
        "last_error = 'queued before mail and webhooks were delivered' "
        "WHERE topic LIKE 'quote.%'"
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")
        batch_op.create_index("ix_outbox_pending", ["processed_at", "available_at"], unique=False)
        batch_op.drop_column("lease_until")
        batch_op.drop_column("status")
    op.drop_table("automatic_quote_terms")
    op.drop_table("webhook_endpoints")
    with op.batch_alter_table("quote_events", schema=None) as batch_op:
        batch_op.drop_index("ix_quote_events_published_at")
        batch_op.drop_column("published_at")
    op.drop_table("quote_links")
    with op.batch_alter_table("quote_recipients", schema=None) as batch_op:
        for name in ("view_count", "viewed_at", "delivery_error", "delivery_at", "delivery"):
            batch_op.drop_column(name)
    with op.batch_alter_table("quotes", schema=None) as batch_op:
        batch_op.drop_column("reminded_at")
