"""What goes into the ledger (`LedgerRecord`) and what comes out (entries, checkpoints,
verification reports, export filters). Plain values, no database."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID, uuid4

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from broker.envelope.wire import SubjectRef
from schemas.justification import Justification


class LedgerEvent(StrEnum):
    """What happened to a message."""

    ROUTED = "routed"
    REFUSED = "refused"
    RECEIPTED = "receipted"
    DEAD_LETTERED = "dead_lettered"
    DELIVERED = "delivered"


def _uuid_text(value: object) -> object:
    # The router holds message ids as UUIDs (OuterClaims.jti); the ledger stores their text.
    return str(value) if isinstance(value, UUID) else value


MessageId = Annotated[str, BeforeValidator(_uuid_text), Field(min_length=1, max_length=64)]
Short = Annotated[str, Field(min_length=1, max_length=64)]


class LedgerRecord(BaseModel):
    """One event to append: message metadata and the full justification, never a payload.

    `subject_refs` must be keyed pseudonyms (22-character base64url), so an identity in clear
    cannot slip into the ledger through them. `justification` is None for events that carry
    none (for example a refusal because the justification was missing or invalid: an invalid
    one is not recorded, since it was never checked to be free of personal data). Invalid
    input raises pydantic's `ValidationError` (a `ValueError`) at construction.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    event: LedgerEvent
    message_id: MessageId
    sender: Short
    recipient: Short
    message_type: Short
    schema_version: Annotated[int, Field(ge=0, le=9999)]
    subject_refs: tuple[SubjectRef, ...] = Field(default=(), max_length=64)
    justification: Justification | None = None
    jwe_sha256: Annotated[str, Field(max_length=64)]
    reason_code: Short | None = None
    """The refusal or failure reason code (`refused`, `dead_lettered`)."""
    rule: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    """The agreement rule that permitted the share, or the rule a refusal names."""
    related_message_id: MessageId | None = None
    """Another message this event involves, e.g. the receipt's own id on `receipted`."""

    @classmethod
    def unverified(
        cls, event: LedgerEvent, reason: str, rule: str, sender: str = "unauthenticated"
    ) -> "LedgerRecord":
        """An entry about a message whose claims could not be verified: none of them is
        recorded, not even its id (a fresh one stands in). `sender`: the agency that handed
        it over, when the hub knows that much (an authenticated caller at the gateway)."""
        return cls(
            event=event,
            message_id=str(uuid4()),
            sender=sender,
            recipient="unknown",
            message_type="unknown",
            schema_version=0,
            jwe_sha256="",
            reason_code=reason,
            rule=rule,
        )


@dataclass(frozen=True)
class LedgerEntry:
    """An entry as stored (for `history`, `track` and export). `event` and `justification`
    are kept as stored, not re-validated, so a view of an old or damaged ledger still reads."""

    seq: int
    recorded_at: datetime
    event: str
    message_id: str
    sender: str
    recipient: str
    message_type: str
    schema_version: int
    subject_refs: tuple[str, ...]
    justification: dict[str, Any] | None
    jwe_sha256: str
    reason_code: str | None
    rule: str | None
    related_message_id: str | None
    actor: str
    prev_hash: str
    entry_hash: str


@dataclass(frozen=True)
class LedgerCheckpoint:
    """A signed checkpoint: the hub's compact JWS over {seq, entry_hash, signed_at, hub}."""

    seq: int
    entry_hash: str
    signed_at: datetime
    kid: str
    signature: str


@dataclass(frozen=True)
class LedgerFilter:
    """Export filters; every one given must match. Times are UTC-compared: `since` is
    inclusive, `until` exclusive (naive datetimes are taken as UTC)."""

    agency: str | None = None
    """Sender or recipient."""
    since: datetime | None = None
    until: datetime | None = None
    message_type: str | None = None
    subject: str | None = None
    """A subject pseudonym the entry's subject_refs contains."""


class Problem(StrEnum):
    """Stable codes for what `verify` found wrong."""

    HASH_MISMATCH = "hash_mismatch"
    """The entry's content does not give its stored hash: the entry was changed."""
    CHAIN_BROKEN = "chain_broken"
    """The entry does not link to the one before it (it, or its predecessor, was replaced)."""
    SEQ_GAP = "seq_gap"
    """Sequence numbers are not contiguous from 1: an entry was removed (or an odd one added)."""
    CHECKPOINT_SIGNATURE_INVALID = "checkpoint_signature_invalid"
    """A checkpoint's signature does not verify against the hub's key, or its row was changed."""
    CHECKPOINT_MISMATCH = "checkpoint_mismatch"
    """The entry at a signed checkpoint has another hash: history up to it was rewritten."""
    TRUNCATED = "truncated"
    """The ledger ends before the last signed checkpoint: its tail was removed."""


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of `SqlLedger.verify`. When not ok, `first_bad_seq` is the lowest sequence
    number found bad and `problem` says how; `message` is for people, the code for programs."""

    ok: bool
    entries_checked: int
    checkpoints_checked: int
    first_bad_seq: int | None
    problem: Problem | None
    message: str
