"""Wire models of the envelope (see docs/wire-format.md).

On the wire an envelope is a small JSON object holding two compact JOSE strings:

    {"cme": 1, "header": <outer JWS>, "jwe": <JWE whose plaintext is the inner JWS>}

The outer JWS's payload is `OuterClaims` (readable by the hub, no personal data); the inner
JWS's payload is `InnerClaims` (binding claims + the message payload), readable only by the
recipient.
"""

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field, model_validator

from schemas.agency import AgencyId
from schemas.base import WireModel
from schemas.justification import Justification
from schemas.messages.receipt import MAX_RECEIPTED

MessageType = Annotated[str, Field(pattern=r"^[a-z_]+(\.[a-z_]+)?$", max_length=64)]
# strict: "1700000000" (a string) is not a NumericDate, in either layer.
SchemaVersion = Annotated[int, Field(ge=1, le=999, strict=True)]
NumericDate = Annotated[int, Field(ge=0, le=2**40, strict=True)]
SubjectRef = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{22}$")]
Digest = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{43}$")]


class BindingClaims(WireModel):
    """Claims present in both layers; the recipient checks they are equal."""

    jti: UUID
    iss: AgencyId
    aud: AgencyId
    iat: NumericDate
    exp: NumericDate
    cme_type: MessageType
    cme_ver: SchemaVersion


class OuterClaims(BindingClaims):
    """What the hub can read and route on: ids, parties, times, justification, pseudonyms."""

    correlation_id: UUID | None = None
    causation_id: UUID | None = None
    causation_ids: tuple[UUID, ...] = Field(default=(), max_length=MAX_RECEIPTED)
    """The messages a batched receipt (receipt v2) answers; empty otherwise."""
    subject_refs: tuple[SubjectRef, ...] = Field(default=(), max_length=8)
    justification: Justification
    jwe_sha256: Digest

    @model_validator(mode="after")
    def _one_kind_of_causation(self) -> "OuterClaims":
        if self.causation_id is not None and self.causation_ids:
            raise ValueError("causation_id and causation_ids are exclusive")
        return self


BINDING_CLAIMS = tuple(BindingClaims.model_fields)
"""Names of the claims both layers carry and the recipient compares."""


class InnerClaims(BindingClaims):
    """Signed by the sender and encrypted to the recipient: binding claims + payload."""

    payload: dict[str, Any]


CompactJose = Annotated[str, Field(min_length=10, pattern=r"^[A-Za-z0-9_.-]+$")]


class Envelope(WireModel):
    """The message as it travels (AMQP body, HTTPS request body, a file)."""

    cme: Literal[1] = 1
    header: CompactJose
    jwe: CompactJose
