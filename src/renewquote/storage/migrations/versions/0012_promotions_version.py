"""The database marks every change to promotions, on SQLite and PostgreSQL alike.

`data_versions` holds one row per subject; triggers give the `promotions` row a new random
`version` in the same transaction as any statement that inserts, updates or deletes promotions
(truncates too, on PostgreSQL), whoever runs it (`renewquote load`, an administrator's SQL).
A process keeps the promotions it read with the version it read first, and reads them again
when the version it sees with a quote's other facts differs
(renewquote.storage.repository.running_promotions). Random, not counted up: a table emptied and
filled again (a restore, a test) never brings back a version a process still holds.

This replaces the notification of migration 0011, which only a listening PostgreSQL server
could hear; the trigger still sends it, for workers of the previous release during a rolling
upgrade (they keep promotions until told).

A later migration that rebuilds `promotions` on SQLite (batch mode) must create the three
triggers again.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# SQLite triggers fire per row and per kind of statement; it has no TRUNCATE.
SQLITE_TRIGGERS = {
    "promotions_inserted": "INSERT",
    "promotions_updated": "UPDATE",
    "promotions_deleted": "DELETE",
}
# A new version for the `promotions` row, created if missing.
SQLITE_MARK = (
    "INSERT INTO data_versions (subject, version) VALUES ('promotions', random())"
    " ON CONFLICT (subject) DO UPDATE SET version = excluded.version"
)
POSTGRES_MARK = (
    "INSERT INTO data_versions (subject, version)"
    " VALUES ('promotions', floor(random() * 9e18)::bigint)"
    " ON CONFLICT (subject) DO UPDATE SET version = excluded.version"
)


def upgrade() -> None:
    op.create_table(
        "data_versions",
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject", name=op.f("pk_data_versions")),
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER promotions_changed ON promotions")
        op.execute("DROP FUNCTION renewquote_promotions_changed()")
        op.execute(
            "CREATE FUNCTION renewquote_promotions_changed() RETURNS trigger LANGUAGE plpgsql"
            f" AS $$ BEGIN {POSTGRES_MARK}; PERFORM pg_notify('renewquote_promotions', '');"
            " RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER promotions_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
            " ON promotions FOR EACH STATEMENT EXECUTE FUNCTION renewquote_promotions_changed()"
        )
        op.execute(POSTGRES_MARK)
    else:
        for name, event in SQLITE_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON promotions BEGIN {SQLITE_MARK}; END"
            )
        op.execute(SQLITE_MARK)


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER promotions_changed ON promotions")
        op.execute("DROP FUNCTION renewquote_promotions_changed()")
        # Migration 0011's notification, as it was.
        op.execute(
            "CREATE FUNCTION renewquote_promotions_changed() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN PERFORM pg_notify('renewquote_promotions', ''); RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER promotions_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
            " ON promotions FOR EACH STATEMENT EXECUTE FUNCTION renewquote_promotions_changed()"
        )
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("data_versions")
