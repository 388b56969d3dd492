"""The work list's table (on SQLModel's default metadata, migrated by the broker's history:
`broker/migrations/versions/0005_responder.py`). Separate from the wire models on purpose."""

from datetime import date, datetime

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from broker.directory.tables import UtcDateTime


class WorkItemRow(SQLModel, table=True):
    """One message a responding agency received that a person must (or did) act on.

    Every locate enquiry gets a row, answered automatically or not: the unique key on (agency,
    sender, message id, kind) makes a re-delivered enquiry a no-op, and a closed row is the
    audit entry the agreement's retention rule keeps ("the respondent deletes the enquiry once
    answered, keeping an audit entry"). `payload` holds the encrypted enquiry while the item is
    pending and is cleared when it closes.
    """

    __tablename__ = "responder_work_item"
    __table_args__ = (
        UniqueConstraint(
            "agency_id", "sender", "message_id", "kind", name="uq_responder_work_item_message"
        ),
        Index("ix_responder_work_item_agency_state", "agency_id", "state"),
    )

    id: str = Field(primary_key=True, max_length=24)
    agency_id: str = Field(max_length=64)
    kind: str = Field(max_length=20)
    state: str = Field(max_length=12)
    sender: str = Field(max_length=64)
    message_id: str = Field(max_length=36)
    message_type: str = Field(max_length=64)
    schema_version: int
    correlation_id: str | None = Field(default=None, max_length=36)
    case_ref: str | None = Field(default=None, max_length=48)
    reason: str = Field(max_length=40)
    same_day: bool = False
    respond_by: date | None = None
    received_at: datetime = Field(sa_type=UtcDateTime)
    payload: str | None = Field(default=None, sa_type=Text)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    closed_by: str | None = Field(default=None, max_length=80)
    outcome: str | None = Field(default=None, max_length=16)
    response_message_id: str | None = Field(default=None, max_length=36)
