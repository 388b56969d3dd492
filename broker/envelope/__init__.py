"""The JOSE envelope: seal and open messages (DESIGN.md section 3, docs/wire-format.md)."""

from broker.envelope.config import MAX_ENVELOPE_BYTES, EnvelopeConfig
from broker.envelope.open import HeaderVerifier, Opened, Opener, RecipientIdentity, Verified
from broker.envelope.pseudonym import Pseudonymiser
from broker.envelope.replay import MemoryReplayCache, ReplayCache, SqlReplayCache
from broker.envelope.seal import Draft, Sealed, Sealer, SenderIdentity
from broker.envelope.wire import Envelope, InnerClaims, OuterClaims

__all__ = [
    "MAX_ENVELOPE_BYTES",
    "Draft",
    "Envelope",
    "EnvelopeConfig",
    "HeaderVerifier",
    "InnerClaims",
    "MemoryReplayCache",
    "Opened",
    "Opener",
    "OuterClaims",
    "Pseudonymiser",
    "RecipientIdentity",
    "ReplayCache",
    "Sealed",
    "Sealer",
    "SenderIdentity",
    "SqlReplayCache",
    "Verified",
]
