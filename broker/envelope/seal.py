"""Sealing: sign the payload and binding claims, encrypt to the recipient, sign the header."""

from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID, uuid4

from joserfc.jwk import OKPKey
from pydantic import ValidationError

from broker import errors
from broker.clock import Clock, utc_now
from broker.directory.model import AgencyStatus, KeyDirectory, KeyUse
from broker.envelope.config import EnvelopeConfig
from broker.envelope.jose import INNER_TYP, OUTER_TYP, Jose, sha256_b64url
from broker.envelope.pseudonym import Pseudonymiser
from broker.envelope.wire import Envelope, InnerClaims, OuterClaims
from schemas.base import WireModel
from schemas.errors import UnknownMessageTypeError, UnknownSchemaVersionError
from schemas.justification import Justification
from schemas.registry import SchemaRegistry, default_registry, describe_errors


@dataclass(frozen=True)
class Draft:
    """A message to send: who to, what, and why."""

    recipient: str
    message_type: str
    payload: WireModel
    justification: Justification
    message_id: UUID = field(default_factory=uuid4)
    correlation_id: UUID | None = None
    causation_id: UUID | None = None
    causation_ids: tuple[UUID, ...] = ()
    lifetime: timedelta | None = None


@dataclass(frozen=True)
class Sealed:
    """A sealed message: the wire envelope and the header claims the hub will see."""

    envelope: Envelope
    claims: OuterClaims
    wire: str
    """The envelope as it goes on the wire (JSON text)."""

    def to_json(self) -> str:
        """The envelope as it goes on the wire."""
        return self.wire


@dataclass(frozen=True)
class SenderIdentity:
    """The sending agency and its current private signing key (from its own keystore)."""

    agency_id: str
    signing_key: OKPKey


class Sealer:
    """Seals drafts for one sending agency."""

    def __init__(
        self,
        sender: SenderIdentity,
        directory: KeyDirectory,
        pseudonymiser: Pseudonymiser,
        *,
        registry: SchemaRegistry | None = None,
        config: EnvelopeConfig | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._sender = sender
        self._directory = directory
        self._pseudonymiser = pseudonymiser
        self._registry = registry or default_registry()
        self._config = config or EnvelopeConfig()
        self._jose = Jose(self._config.max_bytes)
        self._clock = clock

    def seal(self, draft: Draft) -> Sealed:
        """Seal a draft. Raises an `EnvelopeError` (never sends anything)."""
        version = self._version(draft)
        now = self._clock()
        lifetime = draft.lifetime or self._config.default_lifetime
        if lifetime > self._config.max_lifetime:
            raise errors.Malformed("message lifetime exceeds the maximum")
        try:
            active = self._directory.agency(draft.recipient).status is AgencyStatus.ACTIVE
        except errors.AgencyNotFound:
            active = False
        if not active:
            raise errors.WrongRecipient("recipient is not an active agency in the directory")
        try:
            recipient_key = self._directory.current_key(draft.recipient, KeyUse.ENC, now)
        except errors.KeyNotAvailable:
            raise errors.WrongRecipient("recipient has no usable encryption key") from None
        binding: dict[str, object] = {
            "jti": draft.message_id,
            "iss": self._sender.agency_id,
            "aud": draft.recipient,
            "iat": int(now.timestamp()),
            "exp": int((now + lifetime).timestamp()),
            "cme_type": draft.message_type,
            "cme_ver": version,
        }
        payload = draft.payload.model_dump(mode="json")
        inner = InnerClaims.model_validate({**binding, "payload": payload})
        inner_jws = self._jose.sign(_json(inner), self._sender.signing_key, INNER_TYP)
        jwe = self._jose.encrypt(inner_jws, recipient_key.jwk)
        try:
            outer = OuterClaims.model_validate(
                {
                    **binding,
                    "correlation_id": draft.correlation_id,
                    "causation_id": draft.causation_id,
                    "causation_ids": draft.causation_ids,
                    "subject_refs": self._pseudonymiser.refs_for(payload),
                    "justification": draft.justification,
                    "jwe_sha256": sha256_b64url(jwe),
                }
            )
        except ValidationError as exc:
            raise errors.Malformed(f"header claims are not valid: {describe_errors(exc)}") from None
        header = self._jose.sign(_json(outer), self._sender.signing_key, OUTER_TYP)
        envelope = Envelope(header=header, jwe=jwe)
        wire = envelope.model_dump_json()
        if len(wire) > self._config.max_bytes:
            raise errors.TooLarge("sealed envelope exceeds the size limit")
        return Sealed(envelope, outer, wire)

    def _version(self, draft: Draft) -> int:
        try:
            return self._registry.version_of(draft.message_type, draft.payload)
        except UnknownMessageTypeError:
            raise errors.UnknownMessageType("unknown message type") from None
        except UnknownSchemaVersionError:
            raise errors.UnknownSchemaVersion("payload is not a model of this type") from None


def _json(model: WireModel) -> bytes:
    return model.model_dump_json().encode()  # compact UTF-8 JSON, serialised in Rust
