"""The adapter's own tables: migrated beside the broker's, matching their models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from adapters.school.db import VERSION_TABLE, autogenerate_filters, migrate_school
from adapters.school.tables import SchoolTable
from tests.integration.school.school_world import SchoolWorld


def test_migrations_sit_beside_the_brokers_and_match_the_tables(world: SchoolWorld) -> None:
    engine = world.container.engine
    migrate_school(engine)  # idempotent
    tables = set(inspect(engine).get_table_names())
    assert {"alembic_version", "school_alembic_version", "outbox_message", "school_event"} <= (
        tables
    )
    with engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM school_alembic_version"))
        assert version.all() == [("s0002",)]
        context = MigrationContext.configure(
            connection, opts={"version_table": VERSION_TABLE, **autogenerate_filters()}
        )
        assert compare_metadata(context, SchoolTable.metadata) == []
