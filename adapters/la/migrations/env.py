"""Alembic environment of the desk: runs on the connection `adapters.la.db.migrate_desk` hands
over.

The desk keeps its own version table so its history and the broker's (`alembic_version`) live
side by side in one database. The desk's tables have a metadata of their own; the filters keep
autogenerate off the broker's tables in a shared database (it would propose dropping them).
"""

from alembic import context

from adapters.la.db import VERSION_TABLE, autogenerate_filters
from adapters.la.tables import DeskTable

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=DeskTable.metadata,
    version_table=VERSION_TABLE,
    **autogenerate_filters(),
)
with context.begin_transaction():
    context.run_migrations()
