"""The Alembic migrations build exactly the schema the code declares, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from openbureau.schema_migrations import current_revision, head_revision
from openbureau.tables import metadata


def test_migrations_match_the_declared_tables(bureau):
    assert current_revision(bureau.engine) == head_revision()
    with bureau.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
