"""Alembic environment: migrates the database the caller's configuration names."""

from alembic import context
from sqlalchemy import create_engine

from renewquote.storage.tables import Base

config = context.config
connection = config.attributes.get("connection")


def run(conn):
    context.configure(
        connection=conn,
        target_metadata=Base.metadata,
        render_as_batch=conn.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
