"""The gateway's tables: envelopes accepted over HTTPS waiting for RabbitMQ, and each
agency's mailbox of messages taken off its queue and not yet acknowledged.

Messages are identified by (sender, message id), as the router's replay cache and the AMQP
inbox do: one sender cannot shadow another's message by reusing its id.
"""

from datetime import datetime

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from broker.directory.tables import UtcDateTime


class GatewayOutboxRow(SQLModel, table=True):
    """An envelope an agency submitted: stored before the gateway answers 201 or 202, so a
    RabbitMQ outage delays it and loses nothing."""

    __tablename__ = "gateway_outbox"
    __table_args__ = (UniqueConstraint("sender", "message_id", name="uq_gateway_outbox_message"),)

    id: int | None = Field(default=None, primary_key=True)
    sender: str = Field(max_length=64)
    message_id: str = Field(max_length=36)
    wire: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_type=UtcDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)


class MailboxRow(SQLModel, table=True):
    """A message delivered to an agency that polls over HTTPS. Taken off the agency's queue
    only after this row commits; kept (without its envelope) once acknowledged, so a
    redelivery of the same message is recognised and not shown again. `id` keeps the order
    in which they were taken."""

    __tablename__ = "gateway_mailbox"
    __table_args__ = (
        UniqueConstraint("agency_id", "sender", "message_id", name="uq_gateway_mailbox_message"),
        Index("ix_gateway_mailbox_pending", "agency_id", "acked_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    agency_id: str = Field(max_length=64)
    sender: str = Field(max_length=64)
    message_id: str = Field(max_length=36)
    message_type: str = Field(max_length=64)
    wire: str | None = Field(default=None, sa_type=Text)
    received_at: datetime = Field(sa_type=UtcDateTime)
    acked_at: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)
