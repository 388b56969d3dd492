"""Alembic environment: runs on the connection `broker.db.migrate` hands over."""

from alembic import context
from sqlmodel import SQLModel

import broker.directory.tables  # noqa: F401  (registers the tables on the metadata)

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=SQLModel.metadata)
with context.begin_transaction():
    context.run_migrations()
