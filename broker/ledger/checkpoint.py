"""Signed checkpoints: the hub vouches for the chain head at a sequence number.

A checkpoint is a compact JWS (`typ: cme-ledger-checkpoint+jwt`, Ed25519) over the canonical
JSON of {seq, entry_hash, signed_at, hub}. The chain alone shows that history is consistent;
a checkpoint also pins it, so rewriting everything up to a checkpoint, or cutting the tail
below it, is detected by anyone holding the directory, without trusting the database.
"""

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Final

from joserfc.jwk import OKPKey
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from broker import errors
from broker.directory.model import KeyDirectory, KeyStatus, KeyUse
from broker.envelope.jose import Jose
from broker.ledger.chain import canonical_json, time_text
from broker.ledger.errors import LedgerError
from broker.ledger.model import LedgerCheckpoint
from schemas.agency import AgencyKind

CHECKPOINT_TYP: Final = "cme-ledger-checkpoint+jwt"
_MAX_BYTES: Final = 4096
# Signing and verifying happen on hub machines with synchronised clocks; this only absorbs
# the gap between reading the clock and a key's not_before on a freshly registered hub.
_SKEW: Final = timedelta(minutes=5)
_JOSE: Final = Jose(_MAX_BYTES)
_HUB_PREFIX: Final = f"{AgencyKind.HUB.value}:"


class CheckpointInvalid(LedgerError):
    """A checkpoint does not verify, or its row differs from what was signed."""

    reason = "checkpoint_signature_invalid"


@dataclass(frozen=True)
class CheckpointSigner:
    """The hub's identity for signing checkpoints: its id, and its Ed25519 signing key (with
    private part) whose kid is `kid`."""

    hub_id: str
    kid: str
    key: OKPKey = field(repr=False)

    def __post_init__(self) -> None:
        if self.key.kid != self.kid:
            raise LedgerError("the signing key's kid differs from the signer's kid")

    def sign(self, seq: int, entry_hash: str, signed_at: datetime) -> LedgerCheckpoint:
        """A checkpoint for the entry `seq` whose hash is `entry_hash`."""
        claims = {
            "seq": seq,
            "entry_hash": entry_hash,
            "signed_at": time_text(signed_at),
            "hub": self.hub_id,
        }
        signature = _JOSE.sign(canonical_json(claims).encode(), self.key, CHECKPOINT_TYP)
        return LedgerCheckpoint(seq, entry_hash, signed_at, self.kid, signature)


class CheckpointClaims(BaseModel):
    """The signed content of a checkpoint."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    seq: Annotated[int, Field(ge=1)]
    entry_hash: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{43}$")]
    signed_at: Annotated[AwareDatetime, Field(strict=False)]
    hub: Annotated[str, Field(max_length=64)]


def verify_checkpoint(
    checkpoint: LedgerCheckpoint, directory: KeyDirectory, hubs: Collection[str] | None
) -> CheckpointClaims:
    """Check the signature against the directory and the row against the signed claims.

    The key must be a signing key of the hub named in the claims, not revoked, and valid when
    the checkpoint says it was signed (a rotated-out key still vouches for its old
    checkpoints). `hubs` limits which hubs are trusted; None trusts any agency of kind hub.
    Raises `CheckpointInvalid` with a reason.
    """
    try:
        parsed, kid = _JOSE.parse_jws(checkpoint.signature, CHECKPOINT_TYP)
        key = directory.public_key(kid)
    except errors.BrokerError as exc:
        raise CheckpointInvalid(f"signature is unusable ({exc.reason})") from None
    if kid != checkpoint.kid:
        raise CheckpointInvalid("the row's kid differs from the signature's")
    if key.use is not KeyUse.SIG:
        raise CheckpointInvalid("not signed with a signing key")
    try:
        claims = CheckpointClaims.model_validate(json.loads(_JOSE.verify(parsed, key.jwk)))
    except errors.BadSignature:
        raise CheckpointInvalid("signature does not verify") from None
    except (ValidationError, ValueError):
        raise CheckpointInvalid("signed content is malformed") from None
    trusted = claims.hub in hubs if hubs is not None else claims.hub.startswith(_HUB_PREFIX)
    if not trusted or key.agency_id != claims.hub:
        raise CheckpointInvalid("not signed by a trusted hub's signing key")
    if key.status is KeyStatus.REVOKED:
        # Fail safe: a revoked hub key may have been compromised, so nothing it signed counts.
        raise CheckpointInvalid("signed by a revoked key")
    if claims.signed_at + _SKEW < key.not_before or (
        key.not_after is not None and claims.signed_at - _SKEW > key.not_after
    ):
        raise CheckpointInvalid("signed outside the key's validity window")
    row = (checkpoint.seq, checkpoint.entry_hash, time_text(checkpoint.signed_at))
    if row != (claims.seq, claims.entry_hash, time_text(claims.signed_at)):
        raise CheckpointInvalid("the row differs from its signed content")
    return claims
