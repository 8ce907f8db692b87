"""Alembic environment: runs on the connection handed over by carebank.database, or on a URL."""
from alembic import context
from sqlalchemy import create_engine

from carebank.core.database import Base, configure_engine
from carebank.features import import_models

import_models()  # every table on the metadata

config = context.config
target_metadata = Base.metadata


def run_migrations(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    configure_engine(engine)
    with engine.begin() as conn:
        run_migrations(conn)
