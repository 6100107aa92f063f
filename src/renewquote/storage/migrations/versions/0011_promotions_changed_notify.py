"""PostgreSQL tells every listening server process when promotions change.

A statement that inserts, updates, deletes or truncates `promotions` sends a notification on
`renewquote_promotions` when its transaction commits, whichever process or tool ran it (a book
loaded with `renewquote load`, an administrator's SQL); the server's workers then forget the
running promotions they keep (renewquote.storage.repository.running_promotions). SQLite has no
notifications: there every quote reads them.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION renewquote_promotions_changed() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN PERFORM pg_notify('renewquote_promotions', ''); RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER promotions_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
        " ON promotions FOR EACH STATEMENT EXECUTE FUNCTION renewquote_promotions_changed()"
    )


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER promotions_changed ON promotions")
    op.execute("DROP FUNCTION renewquote_promotions_changed()")
