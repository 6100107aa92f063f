"""PostgreSQL tells every listening server process when users or bearer tokens change.

A statement that updates, deletes or truncates `users` or `api_tokens` sends a notification on
`renewquote_callers` when its transaction commits, whichever process or tool ran it; the server's
workers then forget the callers they keep for tokens (renewquote.api.change_watch). SQLite has no
notifications: there a worker keeps a caller for ten seconds at most.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLES = ("users", "api_tokens")


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION renewquote_callers_changed() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN PERFORM pg_notify('renewquote_callers', ''); RETURN NULL; END $$"
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_changed AFTER UPDATE OR DELETE OR TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION renewquote_callers_changed()"
        )


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_changed ON {table}")
    op.execute("DROP FUNCTION renewquote_callers_changed()")
