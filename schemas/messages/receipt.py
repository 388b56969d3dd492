"""`receipt`: the recipient's signed acknowledgement, or a refusal with a reason code."""

from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from schemas.base import WireModel
from schemas.registry import MessageSpec

TYPE = "receipt"
ReasonCode = Annotated[str, Field(pattern=r"^[a-z][a-z_]{2,40}$")]


class ReceiptOutcome(StrEnum):
    """Accepted by the recipient, or refused (by the recipient or by the hub)."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"


class ReceiptV1(WireModel):
    """Sent by a recipient (or by the hub, for a refusal) back to the sender of a message. It
    binds the message id and the digest of its JWE, so it proves what was received (non-
    repudiation of receipt). Holds no personal data.
    """

    message_id: UUID
    jwe_sha256: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{43}$")]
    received_at: AwareDatetime
    outcome: ReceiptOutcome
    reason_code: ReasonCode | None = None

    @model_validator(mode="after")
    def _reason_iff_rejected(self) -> "ReceiptV1":
        if (self.outcome is ReceiptOutcome.REJECTED) != (self.reason_code is not None):
            raise ValueError("a rejection needs a reason_code; an acceptance has none")
        return self


SPECS = (MessageSpec(TYPE, 1, ReceiptV1),)
