"""Alembic environment: runs on the connection `broker.db.migrate` hands over."""

from alembic import context
from sqlmodel import SQLModel

import broker.directory.tables  # noqa: F401  (registers the tables on the metadata)
from broker.client import tables as _client_tables  # noqa: F401  (and the endpoint tables)
from broker.gateway import tables as _gateway_tables  # noqa: F401  (the HTTPS gateway)
from broker.ledger import tables as _ledger_tables  # noqa: F401  (the same, for the ledger)
from broker.responder import tables as _responder_tables  # noqa: F401  (the work list)

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=SQLModel.metadata)
with context.begin_transaction():
    context.run_migrations()
