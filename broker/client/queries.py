"""The agency client's hot-path statements, built once and executed on plain connections.

Every message passes through these (stage, publish, mark published, inbox check and insert),
often one per transaction; building a statement and running it through the ORM each time
cost more than the database work itself.
"""

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, insert, select, update
from sqlmodel import col

from broker.client.tables import InboxRow, OutboxRow


class StagedRow(NamedTuple):
    """What the pump needs of a staged outbox row."""

    id: int
    message_id: str
    wire: str


class DueRow(NamedTuple):
    """An accepted message still owed a receipt (`DUE` rows)."""

    sender: str
    message_id: str
    jwe_sha256: str
    agreement_id: str | None
    agreement_version: int | None
    received_at: datetime


STAGE = insert(OutboxRow)
UNPUBLISHED = (
    select(col(OutboxRow.id), col(OutboxRow.message_id), col(OutboxRow.wire))
    .where(col(OutboxRow.agency_id) == bindparam("agency"), col(OutboxRow.published_at).is_(None))
    .order_by(col(OutboxRow.id))
    .limit(bindparam("limit"))
)
"""The oldest staged rows of `agency`, at most `limit`."""
PUBLISHED = (
    update(OutboxRow)
    .where(col(OutboxRow.id).in_(bindparam("ids", expanding=True)))
    .values(published_at=bindparam("at"))
)
"""Mark rows `ids` confirmed by the broker `at`."""
RECEIVE = insert(InboxRow)
RECEIVED = select(col(InboxRow.sender), col(InboxRow.message_id)).where(
    col(InboxRow.agency_id) == bindparam("agency"),
    col(InboxRow.message_id).in_(bindparam("ids", expanding=True)),
)
"""(sender, message id) of those of `ids` that `agency`'s inbox already holds."""
SENT = select(col(OutboxRow.message_id)).where(
    col(OutboxRow.agency_id) == bindparam("agency"),
    col(OutboxRow.message_id).in_(bindparam("ids", expanding=True)),
)
"""Those of `ids` that `agency` sent."""
RECEIPTED = (
    update(OutboxRow)
    .where(
        col(OutboxRow.agency_id) == bindparam("agency"),
        col(OutboxRow.message_id) == bindparam("message"),
    )
    .values(receipt_outcome=bindparam("outcome"), receipt_reason=bindparam("reason"))
    .values(receipt_at=bindparam("at"))
)
"""Record the receipt of sent `message` (executed with one parameter set per receipt)."""
DUE = (
    select(
        col(InboxRow.sender),
        col(InboxRow.message_id),
        col(InboxRow.jwe_sha256),
        col(InboxRow.agreement_id),
        col(InboxRow.agreement_version),
        col(InboxRow.received_at),
    )
    .where(col(InboxRow.agency_id) == bindparam("agency"), col(InboxRow.receipt_due))
    .limit(bindparam("limit"))
)
"""At most `limit` of `agency`'s accepted messages still owed a receipt, as `DueRow`s."""
ANSWERED = (
    update(InboxRow)
    .where(
        col(InboxRow.agency_id) == bindparam("agency"),
        col(InboxRow.sender) == bindparam("from"),
        col(InboxRow.message_id) == bindparam("message"),
    )
    .values(receipt_due=False)
)
"""The receipt of `message` `from` its sender is staged (one parameter set per message)."""
