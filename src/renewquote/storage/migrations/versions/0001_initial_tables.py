"""initial tables

Revision ID: 0001
Revises:
Create Date: 2026-11-28 06:59:55.273313
"""

import sqlalchemy as sa
from alembic import op

import renewquote.storage.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "countries",
        sa.Column("code", sa.String(length=2), nullable=False),
        sa.Column("self_service_quotes", sa.Boolean(), nullable=False),
        sa.Column("tax_rate", renewquote.storage.types.ExactDecimal(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_countries")),
    )
    op.create_table(
        "currencies",
        sa.Column("code", sa.String(length=3), nullable=False),
        sa.Column("card_limit", renewquote.storage.types.ExactDecimal(), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_currencies")),
    )
    op.create_table(
        "offerings",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_offerings")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("available_at", sa.DateTime(), nullable=False),
        sa.Column("processed_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_pending", ["processed_at", "available_at"], unique=False)

    op.create_table(
        "promotions",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("percent_off", renewquote.storage.types.ExactDecimal(), nullable=True),
        sa.Column("amount_off", renewquote.storage.types.ExactDecimal(), nullable=True),
        sa.Column("starts", sa.Date(), nullable=True),
        sa.Column("ends", sa.Date(), nullable=True),
        sa.Column("offerings", sa.JSON(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("currencies", sa.JSON(), nullable=False),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("quote_types", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_promotions")),
    )
    with op.batch_alter_table("promotions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_promotions_ends"), ["ends"], unique=False)

    op.create_table(
        "customers",
        sa.Column("csn", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("address_line1", sa.String(length=200), nullable=False),
        sa.Column("address_line2", sa.String(length=200), nullable=True),
        sa.Column("city", sa.String(length=200), nullable=False),
        sa.Column("postal_code", sa.String(length=20), nullable=False),
        sa.Column("pays_by_invoice", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["country"], ["countries.code"], name=op.f("fk_customers_country_countries")
        ),
        sa.PrimaryKeyConstraint("csn", name=op.f("pk_customers")),
    )
    op.create_table(
        "partners",
        sa.Column("csn", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["country"], ["countries.code"], name=op.f("fk_partners_country_countries")
        ),
        sa.PrimaryKeyConstraint("csn", name=op.f("pk_partners")),
    )
    op.create_table(
        "prices",
        sa.Column("offering_code", sa.String(length=40), nullable=False),
        sa.Column("term", sa.String(length=10), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("new_price", renewquote.storage.types.ExactDecimal(), nullable=False),
        sa.Column("renewal_price", renewquote.storage.types.ExactDecimal(), nullable=False),
        sa.ForeignKeyConstraint(
            ["currency"], ["currencies.code"], name=op.f("fk_prices_currency_currencies")
        ),
        sa.ForeignKeyConstraint(
            ["offering_code"], ["offerings.code"], name=op.f("fk_prices_offering_code_offerings")
        ),
        sa.PrimaryKeyConstraint("offering_code", "term", "currency", name=op.f("pk_prices")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("customer_csn", sa.String(length=20), nullable=True),
        sa.Column("partner_csn", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_csn"], ["customers.csn"], name=op.f("fk_users_customer_csn_customers")
        ),
        sa.ForeignKeyConstraint(
            ["partner_csn"], ["partners.csn"], name=op.f("fk_users_partner_csn_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_customer_csn"), ["customer_csn"], unique=False)
        batch_op.create_index(batch_op.f("ix_users_partner_csn"), ["partner_csn"], unique=False)

    op.create_table(
        "quotes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("customer_csn", sa.String(length=20), nullable=False),
        sa.Column("partner_csn", sa.String(length=20), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("purchase_method", sa.String(length=10), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("address_line1", sa.String(length=200), nullable=False),
        sa.Column("address_line2", sa.String(length=200), nullable=True),
        sa.Column("city", sa.String(length=200), nullable=False),
        sa.Column("postal_code", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("tax_rate", renewquote.storage.types.ExactDecimal(), nullable=False),
        sa.Column("subtotal", renewquote.storage.types.ExactDecimal(), nullable=False),
        sa.Column("discount_total", renewquote.storage.types.ExactDecimal(), nullable=False),
        sa.Column("tax", renewquote.storage.types.ExactDecimal(), nullable=False),
        sa.Column("total", renewquote.storage.types.ExactDecimal(), nullable=False),
        sa.Column("expires_at", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("replaces_quote_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_quotes_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["currency"], ["currencies.code"], name=op.f("fk_quotes_currency_currencies")
        ),
        sa.ForeignKeyConstraint(
            ["customer_csn"], ["customers.csn"], name=op.f("fk_quotes_customer_csn_customers")
        ),
        sa.ForeignKeyConstraint(
            ["partner_csn"], ["partners.csn"], name=op.f("fk_quotes_partner_csn_partners")
        ),
        sa.ForeignKeyConstraint(
            ["replaces_quote_id"], ["quotes.id"], name=op.f("fk_quotes_replaces_quote_id_quotes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quotes")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("quotes", schema=None) as batch_op:
        batch_op.create_index("ix_quotes_customer_status", ["customer_csn", "status"], unique=False)
        batch_op.create_index("ix_quotes_partner_status", ["partner_csn", "status"], unique=False)
        batch_op.create_index("ix_quotes_status_expires", ["status", "expires_at"], unique=False)

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quote_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", renewquote.storage.types.ExactDecimal(), nullable=False),
        sa.Column("payment_method", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(
            ["currency"], ["currencies.code"], name=op.f("fk_orders_currency_currencies")
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"], ["quotes.id"], name=op.f("fk_orders_quote_id_quotes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("quote_id", name=op.f("uq_orders_quote_id")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "quote_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quote_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["quote_id"], ["quotes.id"], name=op.f("fk_quote_events_quote_id_quotes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote_events")),
    )
    with op.batch_alter_table("quote_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quote_events_quote_id"), ["quote_id"], unique=False)

    op.create_table(
        "quote_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quote_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["quote_id"], ["quotes.id"], name=op.f("fk_quote_recipients_quote_id_quotes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote_recipients")),
    )
    with op.batch_alter_table("quote_recipients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quote_recipients_quote_id"), ["quote_id"], unique=False
        )

    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("customer_csn", sa.String(length=20), nullable=False),
        sa.Column("offering_code", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=10), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("purchase_method", sa.String(length=10), nullable=False),
        sa.Column("partner_csn", sa.String(length=20), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("payment_method", sa.String(length=10), nullable=False),
        sa.Column("auto_renew", sa.Boolean(), nullable=False),
        sa.Column("renewed_by_order", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["currency"], ["currencies.code"], name=op.f("fk_subscriptions_currency_currencies")
        ),
        sa.ForeignKeyConstraint(
            ["customer_csn"],
            ["customers.csn"],
            name=op.f("fk_subscriptions_customer_csn_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["offering_code"],
            ["offerings.code"],
            name=op.f("fk_subscriptions_offering_code_offerings"),
        ),
        sa.ForeignKeyConstraint(
            ["partner_csn"], ["partners.csn"], name=op.f("fk_subscriptions_partner_csn_partners")
        ),
        sa.ForeignKeyConstraint(
            ["renewed_by_order"],
            ["orders.id"],
            name=op.f("fk_subscriptions_renewed_by_order_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_subscriptions_customer_end", ["customer_csn", "end_date"], unique=False
        )
        batch_op.create_index(
            "ix_subscriptions_partner_end", ["partner_csn", "end_date"], unique=False
        )

    op.create_table(
        "quote_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quote_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("subscription_id", sa.String(length=40), nullable=True),
        sa.Column("align_to_subscription_id", sa.String(length=40), nullable=True),
        sa.Column("offering_code", sa.String(length=40), nullable=False),
        sa.Column("offering_name", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=10), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("unit_price", renewquote.storage.types.ExactDecimal(), nullable=False),
        sa.Column("subtotal", renewquote.storage.types.ExactDecimal(), nullable=False),
        sa.Column("promotion_code", sa.String(length=40), nullable=True),
        sa.Column("promotion_name", sa.String(length=200), nullable=True),
        sa.Column("promotion_why", sa.String(length=400), nullable=True),
        sa.Column("discount", renewquote.storage.types.ExactDecimal(), nullable=False),
        sa.Column("amount", renewquote.storage.types.ExactDecimal(), nullable=False),
        sa.Column("tax", renewquote.storage.types.ExactDecimal(), nullable=False),
        sa.ForeignKeyConstraint(
            ["align_to_subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_quote_lines_align_to_subscription_id_subscriptions"),
        ),
        sa.ForeignKeyConstraint(
            ["offering_code"],
            ["offerings.code"],
            name=op.f("fk_quote_lines_offering_code_offerings"),
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"], ["quotes.id"], name=op.f("fk_quote_lines_quote_id_quotes")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_quote_lines_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote_lines")),
    )
    with op.batch_alter_table("quote_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quote_lines_quote_id"), ["quote_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_quote_lines_subscription_id"), ["subscription_id"], unique=False
        )

    op.create_table(
        "subscription_renewals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.String(length=40), nullable=False),
        sa.Column("previous_end_date", sa.Date(), nullable=False),
        sa.Column("new_end_date", sa.Date(), nullable=False),
        sa.Column("previous_quantity", sa.Integer(), nullable=False),
        sa.Column("new_quantity", sa.Integer(), nullable=False),
        sa.Column("previous_term", sa.String(length=10), nullable=False),
        sa.Column("new_term", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_subscription_renewals_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_subscription_renewals_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_renewals")),
        sa.UniqueConstraint(
            "subscription_id",
            "previous_end_date",
            name=op.f("uq_subscription_renewals_subscription_id_previous_end_date"),
        ),
    )
    with op.batch_alter_table("subscription_renewals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subscription_renewals_order_id"), ["order_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("subscription_renewals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscription_renewals_order_id"))

    op.drop_table("subscription_renewals")
    with op.batch_alter_table("quote_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quote_lines_subscription_id"))
        batch_op.drop_index(batch_op.f("ix_quote_lines_quote_id"))

    op.drop_table("quote_lines")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index("ix_subscriptions_partner_end")
        batch_op.drop_index("ix_subscriptions_customer_end")

    op.drop_table("subscriptions")
    with op.batch_alter_table("quote_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quote_recipients_quote_id"))

    op.drop_table("quote_recipients")
    with op.batch_alter_table("quote_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quote_events_quote_id"))

    op.drop_table("quote_events")
    op.drop_table("orders")
    with op.batch_alter_table("quotes", schema=None) as batch_op:
        batch_op.drop_index("ix_quotes_status_expires")
        batch_op.drop_index("ix_quotes_partner_status")
        batch_op.drop_index("ix_quotes_customer_status")

    op.drop_table("quotes")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_partner_csn"))
        batch_op.drop_index(batch_op.f("ix_users_customer_csn"))

    op.drop_table("users")
    op.drop_table("prices")
    op.drop_table("partners")
    op.drop_table("customers")
    with op.batch_alter_table("promotions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promotions_ends"))

    op.drop_table("promotions")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending")

    op.drop_table("outbox")
    op.drop_table("offerings")
    op.drop_table("currencies")
    op.drop_table("countries")
