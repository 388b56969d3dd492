"""The desk's database tables (prefixed `desk_`), separate from its frozen read models.

What is in clear and what is not: everything that identifies or describes the child (the
identity, free text that may mention the child, evidence) is an AES-GCM token (`protect`),
bound to its row's `uid`. Codes (kind, state, reason, risk flags, priority, outcome), dates,
agency ids, message ids and the case workers' ids stay in clear, because lists, overdue
sweeps and the termly statistics filter and count on them. A case ref is opaque.

Times are stored timezone-aware (UTC); SQLite gives them back naive: read through `as_utc`.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from broker.directory.tables import UtcDateTime


class DeskTable(SQLModel, registry=registry()):
    """Base of the desk's tables: a metadata of their own, so the broker's migrations and
    the desk's never see each other's tables even when one process imports both."""


class CaseRow(DeskTable, table=True):
    """A case on the tracking list (one child). Closure fields describe the current closure;
    earlier ones live on in the timeline."""

    __tablename__ = "desk_case"
    __table_args__ = (Index("ix_desk_case_state_priority", "state", "priority"),)

    id: int | None = Field(default=None, primary_key=True)
    case_ref: str = Field(max_length=48, unique=True)
    kind: str = Field(max_length=20)
    trigger: str = Field(max_length=24)
    state: str = Field(max_length=24)
    reason: str = Field(max_length=40)
    risk_flags: list[str] = Field(default_factory=list, sa_type=JSON)
    priority: str = Field(max_length=8)
    owner: str | None = Field(default=None, max_length=64, index=True)
    opened_at: datetime = Field(sa_type=UtcDateTime, index=True)
    opened_by: str = Field(max_length=64)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    closed_by: str | None = Field(default=None, max_length=64)
    closure_outcome: str | None = Field(default=None, max_length=40)
    closure_evidence: str | None = Field(default=None, sa_type=Text)  # encrypted


class CaseCounterRow(DeskTable, table=True):
    """The sequence behind case refs, one counter per scope (`<LA code>-<year>`)."""

    __tablename__ = "desk_case_counter"

    scope: str = Field(primary_key=True, max_length=16)
    value: int


class CaseChildRow(DeskTable, table=True):
    """One recorded identity of a case's child (the first at opening, more as notifications
    or merged duplicates bring a new address or identifier)."""

    __tablename__ = "desk_case_child"

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=32, unique=True)
    case_id: int = Field(foreign_key="desk_case.id", index=True)
    identity: str = Field(sa_type=Text)  # encrypted ChildIdentity JSON
    recorded_at: datetime = Field(sa_type=UtcDateTime)
    message_id: str | None = Field(default=None, max_length=36)


class ChildKeyRow(DeskTable, table=True):
    """A blind index digest of one child identity (identifier or demographic key).

    A separate table, not columns on the child row, because one identity has several
    demographic keys (each former surname, and the forename key).
    """

    __tablename__ = "desk_child_key"

    id: int | None = Field(default=None, primary_key=True)
    child_id: int = Field(foreign_key="desk_case_child.id", index=True)
    case_id: int = Field(foreign_key="desk_case.id", index=True)
    kind: str = Field(max_length=8)
    digest: str = Field(max_length=43, index=True)


class EnquiryRow(DeskTable, table=True):
    """A locate enquiry to another agency, and its answer."""

    __tablename__ = "desk_enquiry"
    __table_args__ = (Index("ix_desk_enquiry_state_respond_by", "state", "respond_by"),)

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=32, unique=True)
    case_id: int = Field(foreign_key="desk_case.id", index=True)
    target: str = Field(max_length=20)
    agency_id: str = Field(max_length=64)
    message_id: str | None = Field(default=None, max_length=36, index=True)
    state: str = Field(max_length=12)
    created_at: datetime = Field(sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    respond_by: date | None = None
    answered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    outcome: str | None = Field(default=None, max_length=40)
    evidence: str | None = Field(default=None, sa_type=Text)  # encrypted


class EventRow(DeskTable, table=True):
    """One entry of a case's timeline (append only). `detail` holds codes and ids only."""

    __tablename__ = "desk_event"
    __table_args__ = (Index("ix_desk_event_case_at", "case_id", "at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=32, unique=True)
    case_id: int = Field(foreign_key="desk_case.id")
    at: datetime = Field(sa_type=UtcDateTime)
    kind: str = Field(max_length=32)
    actor: str = Field(max_length=64)
    why: str | None = Field(default=None, sa_type=Text)  # encrypted
    evidence: str | None = Field(default=None, sa_type=Text)  # encrypted
    message_id: str | None = Field(default=None, max_length=36)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class DuplicateRow(DeskTable, table=True):
    """An incoming child that may be an existing case's child: held for a person to decide.

    `opening` keeps what the case would be opened with (codes only) so a "distinct" decision
    can open it; the candidate identity and the opening's free text are encrypted.
    """

    __tablename__ = "desk_possible_duplicate"

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=32, unique=True)
    existing_case_id: int = Field(foreign_key="desk_case.id", index=True)
    candidate: str = Field(sa_type=Text)  # encrypted ChildIdentity JSON
    opening: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    why: str | None = Field(default=None, sa_type=Text)  # encrypted
    confidence: float
    state: str = Field(max_length=12, index=True)
    created_at: datetime = Field(sa_type=UtcDateTime)
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    decision_why: str | None = Field(default=None, sa_type=Text)  # encrypted
    resulting_case_id: int | None = Field(default=None, foreign_key="desk_case.id")


class SaoStepRow(DeskTable, table=True):
    """A step of the school attendance order route taken on a case."""

    __tablename__ = "desk_sao_step"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="desk_case.id", index=True)
    step: str = Field(max_length=24)
    served_on: date
    deadline: date | None = None
    recorded_at: datetime = Field(sa_type=UtcDateTime)
    recorded_by: str = Field(max_length=64)
