"""Alembic environment of the school adapter: runs on the connection
`adapters.school.db.migrate_school` hands over, with its own version table."""

from alembic import context

from adapters.school.db import VERSION_TABLE, autogenerate_filters
from adapters.school.tables import SchoolTable

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SchoolTable.metadata,
    version_table=VERSION_TABLE,
    **autogenerate_filters(),
)
with context.begin_transaction():
    context.run_migrations()
