"""The gateway's HTTP bodies (frozen wire models; the envelope itself is `Envelope`)."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from broker.envelope.wire import Envelope
from schemas.base import WireModel

MESSAGE_ID = "0b6d2d0e-6f1c-4d43-9a53-3f0d1d6b8e51"
AGENCY = "school:3304001"


class ErrorDetail(WireModel):
    """What went wrong, in words that never include a stack trace, SQL, a key id or a path."""

    code: str = Field(description="stable reason code", examples=["assertion_expired"])
    message: str = Field(examples=["client assertion has expired"])
    request_id: str = Field(description="quote it to the hub's operators")


class ErrorBody(WireModel):
    """Every error response has this body."""

    error: ErrorDetail


class SubmitResult(WireModel):
    """`published`: RabbitMQ confirmed it into the hub (201). `queued`: the hub is not
    reachable; the envelope is stored and will be published (202)."""

    message_id: str = Field(examples=[MESSAGE_ID])
    status: Literal["published", "queued"]


class InboxMessage(WireModel):
    """A message for the caller, as the hub delivered it: open and verify it yourself."""

    message_id: str = Field(examples=[MESSAGE_ID])
    sender: str = Field(examples=[AGENCY])
    message_type: str = Field(examples=["school.off_roll_notice"])
    received_at: datetime
    envelope: Envelope


class Inbox(WireModel):
    """Unacknowledged messages, oldest first. `hub_reachable` False: RabbitMQ did not answer,
    so only messages already taken into the gateway are listed."""

    messages: list[InboxMessage]
    hub_reachable: bool


class Acknowledged(WireModel):
    """The message is removed from the caller's mailbox (acknowledging twice is harmless)."""

    message_id: str


class TrackEvent(WireModel):
    """One ledger entry about the message (metadata only)."""

    seq: int
    recorded_at: datetime
    event: str = Field(examples=["routed"])
    message_id: str
    sender: str
    recipient: str
    message_type: str
    reason_code: str | None = None
    related_message_id: str | None = None


class Track(WireModel):
    """The life of a message in the hub's ledger."""

    message_id: str
    events: list[TrackEvent]


class SignedDirectory(WireModel):
    """The directory of agencies and public keys, signed by the hub (compact JWS, `typ`
    `cme-directory+jwt`): verify it with the hub key you pinned."""

    directory: str


class Health(WireModel):
    """Liveness or readiness, with each dependency's state."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, bool] = Field(default_factory=dict)
