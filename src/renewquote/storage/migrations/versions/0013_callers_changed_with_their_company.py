"""PostgreSQL also tells the listening server processes when customers or countries change.

A worker keeps, with who a bearer token belongs to, the country of the user's company and
whether it lets customers quote themselves (lists of renewals judge them). A statement that
updates, deletes or truncates `customers` or `countries` now notifies `renewquote_callers` as
migration 0010's triggers do for users and tokens, so that workers forget what they keep.
SQLite has no notifications: there a worker keeps a caller for ten seconds at most.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLES = ("customers", "countries")


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for table in TABLES:
        # The function of migration 0010.
        op.execute(
            f"CREATE TRIGGER {table}_changed AFTER UPDATE OR DELETE OR TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION renewquote_callers_changed()"
        )


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_changed ON {table}")
