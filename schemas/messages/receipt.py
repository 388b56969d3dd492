"""`receipt`: the recipient's signed acknowledgement, or a refusal with a reason code.

v1 answers one message; v2 answers up to `MAX_RECEIPTED` messages from one sender at once
(what a recipient accepted in one inbox transaction), so a busy endpoint sends one receipt per
batch instead of one per message. The envelope header of a v2 receipt lists the same message
ids in `causation_ids`, so the hub can check and record each without reading the payload.
"""

from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from schemas.base import WireModel
from schemas.errors import LossyDowngradeError
from schemas.registry import MessageSpec, Migration

TYPE = "receipt"
ReasonCode = Annotated[str, Field(pattern=r"^[a-z][a-z_]{2,40}$")]


class ReceiptOutcome(StrEnum):
    """Accepted by the recipient, or refused (by the recipient or by the hub)."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"


MAX_RECEIPTED = 256


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


class ReceiptV2(WireModel):
    """One receipt for several messages from the same sender, each with its own digest,
    time and outcome (a v1 receipt per entry, in one signed envelope). Holds no personal data.
    """

    receipts: Annotated[tuple[ReceiptV1, ...], Field(min_length=1, max_length=MAX_RECEIPTED)]

    @model_validator(mode="after")
    def _distinct(self) -> "ReceiptV2":
        if len({r.message_id for r in self.receipts}) != len(self.receipts):
            raise ValueError("each message is receipted once per receipt")
        # Refusals answer one message each (v1): a batch only ever accepts.
        if any(r.outcome is not ReceiptOutcome.ACCEPTED for r in self.receipts):
            raise ValueError("a batched receipt only accepts (a refusal is a v1 receipt)")
        return self

    @property
    def message_ids(self) -> tuple[UUID, ...]:
        """The receipted message ids, in order."""
        return tuple(r.message_id for r in self.receipts)


def _upgrade(v1: ReceiptV1) -> ReceiptV2:
    return ReceiptV2(receipts=(v1,))


def _downgrade(v2: ReceiptV2) -> ReceiptV1:
    if len(v2.receipts) != 1:
        raise LossyDowngradeError("a v1 receipt answers one message")
    return v2.receipts[0]


SPECS = (MessageSpec(TYPE, 1, ReceiptV1), MessageSpec(TYPE, 2, ReceiptV2))
MIGRATIONS = (
    Migration(TYPE, 1, 2, _upgrade),
    Migration(TYPE, 2, 1, _downgrade),
)
