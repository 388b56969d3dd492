"""What goes into and comes out of the case register: frozen models, never the tables.

The views hold decrypted personal data (the child, free text, evidence) only where a person
asked to see a case; lists carry codes and references only.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from adapters.la.model import (
    CaseKind,
    CaseState,
    EnquiryState,
    EnquiryTarget,
    MatchKind,
    Priority,
    SaoStep,
    Trigger,
)
from schemas.agency import AgencyId
from schemas.case import CaseRef, ClosureOutcome, RiskFlags
from schemas.child import ChildIdentity
from schemas.domain import CmeReason

ACTOR_PATTERN = r"^[A-Za-z0-9_.:@-]+$"
ACTOR_MAX = 64
Actor = Annotated[str, Field(min_length=1, max_length=ACTOR_MAX, pattern=ACTOR_PATTERN)]
"""Who did something: a case worker's id (`user:jsmith`), `system`, or an agency id."""
FreeText = Annotated[str, Field(min_length=1, max_length=4000)]
"""Free text that may mention the child: always stored encrypted."""
MessageId = Annotated[str, Field(min_length=1, max_length=36)]
Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")]
DetailKey = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]
DetailValue = Annotated[str, Field(max_length=200)] | int | float | bool | None
Detail = dict[DetailKey, DetailValue]
"""Structured event detail: codes, ids, counts. Never names, addresses or identifiers."""


class Record(BaseModel):
    """Base of the register's models: frozen, no unknown fields, input hidden in errors."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


class EventKind(StrEnum):
    """What a timeline entry records."""

    OPENED = "opened"
    MATCHED = "matched"
    """A new notification was matched to this case (identifier or demographic)."""
    POSSIBLE_DUPLICATE = "possible_duplicate"
    DUPLICATE_MERGED = "duplicate_merged"
    DUPLICATE_DISTINCT = "duplicate_distinct"
    ENQUIRY_PLANNED = "enquiry_planned"
    ENQUIRY_SENT = "enquiry_sent"
    ENQUIRY_ANSWERED = "enquiry_answered"
    ENQUIRY_OVERDUE = "enquiry_overdue"
    STATE_CHANGED = "state_changed"
    RISK_CHANGED = "risk_changed"
    OWNER_CHANGED = "owner_changed"
    CLOSED = "closed"
    REOPENED = "reopened"
    SAO_STEP = "sao_step"
    ESCALATED = "escalated"
    MESSAGE_SENT = "message_sent"
    MESSAGE_RECEIVED = "message_received"
    NOTE = "note"


class DuplicateState(StrEnum):
    """A possible duplicate waits for a person, who merges it or declares it distinct."""

    PENDING = "pending"
    MERGED = "merged"
    DISTINCT = "distinct"


class CaseOpening(Record):
    """Everything a new case is opened with, besides the child."""

    kind: CaseKind = CaseKind.CME
    trigger: Trigger
    reason: CmeReason
    risk_flags: RiskFlags = ()
    priority: Priority
    owner: Actor | None = None
    actor: Actor
    why: FreeText | None = None
    message_id: MessageId | None = None


class Match(NamedTuple):
    """How an incoming child matched: kind, the case (None for NONE), confidence 0..1."""

    kind: MatchKind
    case_ref: str | None
    confidence: float


class IntakeResult(Record):
    """What `intake` did: opened a case, attached to one, or queued a possible duplicate."""

    match_kind: MatchKind
    confidence: float
    case_ref: CaseRef | None
    """The case the child is now on (None while a possible duplicate waits)."""
    case_state: CaseState | None = None
    """That case's state: a notification matched to a CLOSED case may call for reopening."""
    opened: bool
    duplicate_id: str | None = None


class EnquiryDraft(Record):
    """A locate enquiry to record (planned, or already sent)."""

    target: EnquiryTarget
    agency_id: AgencyId
    state: EnquiryState = EnquiryState.PLANNED
    message_id: MessageId | None = None
    sent_at: datetime | None = None
    respond_by: date | None = None


class EnquiryChange(Record):
    """Changes to an enquiry; fields left None stay as they are."""

    state: EnquiryState | None = None
    message_id: MessageId | None = None
    sent_at: datetime | None = None
    respond_by: date | None = None
    answered_at: datetime | None = None
    outcome: Code | None = None
    evidence: FreeText | None = None


class CaseFilter(Record):
    """Which cases `list_cases` returns (newest filters first: all must hold)."""

    include_closed: bool = False
    states: tuple[CaseState, ...] = ()
    priority: Priority | None = None
    owner: Actor | None = None
    overdue_on: date | None = None
    """Only cases with an enquiry unanswered past its respond-by date as of this day."""
    limit: int = Field(default=500, ge=1, le=10_000)
    offset: int = Field(default=0, ge=0)


class CaseSummary(Record):
    """A line of the tracking list: codes and counts, no personal data."""

    case_ref: CaseRef
    kind: CaseKind
    trigger: Trigger
    state: CaseState
    reason: CmeReason
    risk_flags: RiskFlags
    priority: Priority
    owner: str | None
    opened_at: datetime
    closed_at: datetime | None
    closure_outcome: ClosureOutcome | None
    open_enquiries: int
    overdue_enquiries: int


class TimelineEntry(Record):
    """One event of a case, decrypted for the person viewing the case."""

    at: datetime
    kind: EventKind
    actor: str
    why: str | None
    evidence: str | None
    message_id: str | None
    detail: Detail


class EnquiryView(Record):
    """A locate enquiry and its answer."""

    enquiry_id: str
    case_ref: CaseRef
    target: EnquiryTarget
    agency_id: str
    message_id: str | None
    state: EnquiryState
    created_at: datetime
    sent_at: datetime | None
    respond_by: date | None
    answered_at: datetime | None
    outcome: str | None
    evidence: str | None


class SaoStepView(Record):
    """A school attendance order step taken."""

    step: SaoStep
    served_on: date
    deadline: date | None
    recorded_at: datetime
    recorded_by: str


class CaseDetail(Record):
    """A whole case for the person working it: the child, the timeline, enquiries, SAO."""

    summary: CaseSummary
    children: tuple[ChildIdentity, ...]
    """Every identity recorded for the child, oldest first."""
    closure_evidence: str | None
    timeline: tuple[TimelineEntry, ...]
    enquiries: tuple[EnquiryView, ...]
    sao_steps: tuple[SaoStepView, ...]

    @property
    def child(self) -> ChildIdentity:
        """The identity the case was opened with."""
        return self.children[0]


class DuplicateView(Record):
    """A possible duplicate for a person to decide (the candidate decrypted)."""

    duplicate_id: str
    existing_case_ref: CaseRef
    candidate: ChildIdentity
    opening: CaseOpening
    confidence: float
    state: DuplicateState
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_why: str | None
    resulting_case_ref: CaseRef | None
