"""The endpoint's own tables: a transactional outbox and an idempotent inbox."""

from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from broker.directory.tables import UtcDateTime


class OutboxRow(SQLModel, table=True):
    """A sealed message waiting to be (or already) published, and its receipt when it comes.

    Staged in the same transaction as the state change that caused it, so "change + send"
    is atomic; a pump publishes it afterwards (at least once).
    """

    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    agency_id: str = Field(max_length=64, index=True)
    message_id: str = Field(max_length=36, unique=True)
    recipient: str = Field(max_length=64)
    message_type: str = Field(max_length=64)
    wire: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_type=UtcDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)
    receipt_outcome: str | None = Field(default=None, max_length=12)
    receipt_reason: str | None = Field(default=None, max_length=64)
    receipt_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class InboxRow(SQLModel, table=True):
    """A message this endpoint has processed: the primary key makes processing happen once.

    `receipt_due`: accepted, its receipt not staged yet. Receipts go out in batches a moment
    later (one per sender and agreement), so a crash in between only delays them.
    """

    __tablename__ = "inbox_message"
    __table_args__ = (Index("ix_inbox_message_receipt_due", "agency_id", "receipt_due"),)

    agency_id: str = Field(primary_key=True, max_length=64)
    sender: str = Field(primary_key=True, max_length=64)
    message_id: str = Field(primary_key=True, max_length=36)
    message_type: str = Field(max_length=64)
    jwe_sha256: str = Field(max_length=43)
    received_at: datetime = Field(sa_type=UtcDateTime)
    receipt_due: bool = False
    agreement_id: str | None = Field(default=None, max_length=80)
    agreement_version: int | None = None
