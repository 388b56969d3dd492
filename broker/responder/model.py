"""The vocabulary of a responder's work list: what waits for a person, why, and until when.

These are in-process values (frozen dataclasses), separate from the table (`tables.py`) and
from the wire models (`schemas/`).
"""

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Final
from uuid import UUID

from broker.envelope import Opened
from schemas.base import WireModel
from schemas.child import Address


class WorkKind(StrEnum):
    """What a work item asks of a person."""

    LOCATE_ENQUIRY = "locate_enquiry"
    """A `cme.locate_enquiry` to answer with a `cme.locate_response`."""
    ESCALATION = "escalation"
    """A `safeguarding.escalation` for children's social care's front door to take on."""
    ALERT = "alert"
    """An enquiry answered automatically that a person should still see (a restricted record,
    a child with a child protection plan): acknowledged, never answered again."""

    @property
    def is_answered(self) -> bool:
        """True when closing it sends a message (a locate response)."""
        return self is WorkKind.LOCATE_ENQUIRY


class WorkState(StrEnum):
    """Where a work item is."""

    PENDING = "pending"
    ANSWERED = "answered"
    """A locate response was staged (by the source automatically, or by a person)."""
    ACKNOWLEDGED = "acknowledged"
    """A person took the escalation or alert on."""


# Why an item waits for a person (stable reason codes, shown on the list and in logs).
NO_MATCH: Final = "no_match"
SEVERAL_MATCHES: Final = "several_matches"
CONFLICTING_RECORDS: Final = "conflicting_records"
NOTHING_TO_DISCLOSE: Final = "nothing_to_disclose"
QUESTION_NOT_ANSWERABLE: Final = "question_not_answerable"
NO_SOURCE: Final = "no_source"
SOURCE_FAILED: Final = "source_failed"
SOURCE_UNAVAILABLE: Final = "source_unavailable"
"""The source failed moments ago: the circuit breaker did not call it again (`guard.py`)."""
LOCATION_UNCERTAIN: Final = "location_uncertain"
"""One child matched, but the records do not say where the child lives now (a forwarding
address left at a move-out, a GP registration without an address): a person judges it,
with what the records hold (`Finding`) in front of them."""
AUTO_ANSWER_REFUSED: Final = "auto_answer_refused"
ESCALATION_RECEIVED: Final = "escalation_received"

SYSTEM_ACTOR: Final = "system:records-check"
"""Who closed an item the source answered automatically."""


@dataclass(frozen=True)
class InboundRef:
    """The message a work item is about: who sent it, its id, and its thread."""

    agency_id: str
    """The responding agency (the message's recipient)."""
    sender: str
    message_id: UUID
    message_type: str
    schema_version: int
    correlation_id: UUID | None = None

    @classmethod
    def of(cls, agency_id: str, opened: Opened) -> "InboundRef":
        """The reference of an opened message received by `agency_id`."""
        claims = opened.claims
        return cls(
            agency_id=agency_id,
            sender=claims.iss,
            message_id=claims.jti,
            message_type=claims.cme_type,
            schema_version=claims.cme_ver,
            correlation_id=claims.correlation_id,
        )


@dataclass(frozen=True)
class Finding:
    """What the records hold about the one matched child when it does not settle where the
    child is now. Never sent on its own: the LA reads any `found` as "the child is located"
    (it stops a school's deletion), so a person judges this and answers. Personal data: kept
    encrypted with the enquiry, and only while the item is pending."""

    evidence_date: date
    """When the records last confirmed it (e.g. the day the household moved out)."""
    note: str
    """Fixed wording: what this is and why it was not sent as found."""
    address: Address | None = None
    registered_gp: str | None = None


@dataclass(frozen=True)
class NewWorkItem:
    """An item to put on the list. `payload` (the enquiry or escalation) is stored encrypted,
    and only while the item is pending: pass None for an item closed on arrival."""

    kind: WorkKind
    inbound: InboundRef
    reason: str
    respond_by: date | None
    case_ref: str | None = None
    same_day: bool = False
    payload: WireModel | None = None
    finding: Finding | None = None
    """What the source found but would not send (kept encrypted with `payload`)."""


@dataclass(frozen=True)
class Closure:
    """How an item was closed: by whom, when, with what outcome and which response."""

    state: WorkState
    actor: str
    outcome: str | None = None
    response_message_id: UUID | None = None


@dataclass(frozen=True)
class WorkItemSummary:
    """A work-list line: no personal data (the case ref is an opaque token)."""

    item_id: str
    kind: WorkKind
    state: WorkState
    sender: str
    case_ref: str | None
    reason: str
    received_at: datetime
    respond_by: date | None
    same_day: bool
    overdue: bool
    """Still pending after its respond-by day."""
    closed_at: datetime | None = None
    closed_by: str | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class WorkItemDetail:
    """An item with its decrypted message (personal data: for the person acting on it)."""

    summary: WorkItemSummary
    inbound: InboundRef
    payload: WireModel
    finding: Finding | None = None
    """What the records hold that the source would not send on its own, for the person."""
