"""The migrations build exactly the tables the models describe, on SQLite and PostgreSQL: a
model change without its migration (or a migration that drifted) fails here, not in production."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from carebank.core.database import Base
from carebank.core.extensions import db


def test_the_migrated_schema_is_the_models_schema(app):
    with app.app_context(), db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    assert differences == []
