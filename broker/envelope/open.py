"""Opening: every check of DESIGN.md section 3, in a fixed order, each with its reason code.

`HeaderVerifier` does what the blind hub can (outer signature, times, digest, known type);
`Opener` adds what only the recipient can (decrypt, inner signature, binding, schema, replay).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from joserfc.jwk import OKPKey
from pydantic import ValidationError

from broker import errors
from broker.clock import Clock, utc_now
from broker.directory.model import AgencyStatus, KeyDirectory, KeyUse, PublicKey
from broker.envelope.config import EnvelopeConfig
from broker.envelope.jose import (
    INNER_TYP,
    OUTER_TYP,
    Jose,
    check_jwe_header,
    protected_header,
    sha256_b64url,
    strict_json,
)
from broker.envelope.replay import ReplayCache
from broker.envelope.wire import BINDING_CLAIMS, Envelope, InnerClaims, OuterClaims
from schemas.base import WireModel
from schemas.errors import (
    SchemaError,
    UnknownMessageTypeError,
    UnknownSchemaVersionError,
)
from schemas.messages.receipt import ReceiptV1, ReceiptV2
from schemas.registry import SchemaRegistry, default_registry

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Verified:
    """An envelope whose outer layer checked out, and the directory key that signed it."""

    envelope: Envelope
    claims: OuterClaims
    signer: PublicKey


@dataclass(frozen=True)
class Opened:
    """A message opened by its recipient."""

    claims: OuterClaims
    payload: WireModel


class HeaderVerifier:
    """Checks the outer layer against the directory; holds no decryption key."""

    def __init__(
        self,
        directory: KeyDirectory,
        *,
        registry: SchemaRegistry | None = None,
        config: EnvelopeConfig | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.directory = directory
        self.registry = registry or default_registry()
        self.config = config or EnvelopeConfig()
        self.jose = Jose(self.config.max_bytes)
        self.clock = clock

    def verify(self, raw: bytes | str) -> Verified:
        """Verify the outer layer. Every failure is an `EnvelopeError` with a reason code."""
        return self.check(self.authenticate(raw))

    def authenticate(self, raw: bytes | str) -> Verified:
        """Who sent it: size, shape, header allowlist, directory key, outer signature.

        After this the claims are the sender's own words; `check` then decides whether they
        are acceptable (the hub can answer a refusal to an authenticated sender).
        """
        with _only_envelope_errors("verify"):
            size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "replace"))
            if size > self.config.max_bytes:
                raise errors.TooLarge("envelope exceeds the size limit")
            envelope = _parse_envelope(raw)
            parsed, kid = self.jose.parse_jws(envelope.header, OUTER_TYP)
            key = self._usable_key(kid, KeyUse.SIG, self.clock())
            claims = _parse_outer(self.jose.verify(parsed, key.jwk))
            if key.agency_id != claims.iss:
                raise errors.ClaimsMismatch("header is not signed by the sender it names")
            return Verified(envelope, claims, key)

    def check(self, verified: Verified) -> Verified:
        """Whether an authenticated message is acceptable: sender active, times, digest, type."""
        with _only_envelope_errors("verify"):
            claims = verified.claims
            if self.directory.agency(claims.iss).status is not AgencyStatus.ACTIVE:
                raise errors.SenderNotActive("sending agency is not active")
            self._check_times(claims, self.clock())
            if sha256_b64url(verified.envelope.jwe) != claims.jwe_sha256:
                raise errors.DigestMismatch("JWE does not match the signed digest")
            self._check_type(claims)
            return verified

    def _usable_key(self, kid: str, use: KeyUse, now: datetime) -> PublicKey:
        key = self.directory.public_key(kid)
        if key.use is not use:
            raise errors.UnknownKey("key is not a key of this use")
        key.check_usable(now, self.config.clock_skew)
        return key

    def _check_times(self, claims: OuterClaims, now: datetime) -> None:
        skew = self.config.clock_skew.total_seconds()
        stamp = now.timestamp()
        if claims.exp <= claims.iat or claims.exp - claims.iat > self._max_lifetime():
            raise errors.Malformed("expiry is not within the allowed lifetime")
        if claims.iat > stamp + skew:
            raise errors.NotYetValid("issued in the future")
        if claims.exp < stamp - skew:
            raise errors.Expired("message has expired")

    def _max_lifetime(self) -> float:
        return self.config.max_lifetime.total_seconds()

    def _check_type(self, claims: OuterClaims) -> None:
        try:
            self.registry.spec(claims.cme_type, claims.cme_ver)
        except UnknownMessageTypeError:
            raise errors.UnknownMessageType("unknown message type") from None
        except UnknownSchemaVersionError:
            raise errors.UnknownSchemaVersion("unknown schema version") from None


@dataclass(frozen=True)
class RecipientIdentity:
    """The opening agency and every private decryption key it holds, by kid."""

    agency_id: str
    decryption_keys: dict[str, OKPKey]


class Opener:
    """Opens messages addressed to one agency."""

    def __init__(
        self,
        recipient: RecipientIdentity,
        verifier: HeaderVerifier,
        replay_cache: ReplayCache | None = None,
    ) -> None:
        self._me = recipient
        self._verifier = verifier
        self._replay = replay_cache

    @property
    def verifier(self) -> HeaderVerifier:
        """The outer-layer verifier this opener uses."""
        return self._verifier

    def open(self, raw: bytes | str) -> Opened:
        """Verify, decrypt and validate; raises an `EnvelopeError` with a reason code."""
        return self.open_authenticated(self._verifier.authenticate(raw))

    def open_authenticated(self, authenticated: Verified) -> Opened:
        """Finish opening a message whose sender `HeaderVerifier.authenticate` established
        (so a refusal from here on can be answered to that sender)."""
        verified = self._verifier.check(authenticated)
        with _only_envelope_errors("open"):
            return self._open(verified)

    def _open(self, verified: Verified) -> Opened:
        claims = verified.claims
        if claims.aud != self._me.agency_id:
            raise errors.WrongRecipient("message is addressed to another agency")
        enc_kid = check_jwe_header(protected_header(verified.envelope.jwe, 5))
        key = self._me.decryption_keys.get(enc_kid)
        if key is None:
            raise errors.WrongRecipient("message is encrypted to another key")
        inner_jws = self._verifier.jose.decrypt(verified.envelope.jwe, key).decode("ascii")
        parsed, inner_kid = self._verifier.jose.parse_jws(inner_jws, INNER_TYP)
        if inner_kid != verified.signer.kid:
            # Both layers are signed with the same key (wire-format.md): anything else is a
            # re-wrapped message, e.g. another agency's inner layer under this sender's header.
            raise errors.ClaimsMismatch("inner layer is signed with another key")
        inner = _parse_inner(self._verifier.jose.verify(parsed, verified.signer.jwk))
        if any(getattr(inner, name) != getattr(claims, name) for name in BINDING_CLAIMS):
            raise errors.ClaimsMismatch("inner and outer claims differ")
        payload = self._validate(claims, inner.payload)
        self._check_parties(claims, payload)
        _check_receipted(claims, payload)
        self._check_replay(claims)
        return Opened(claims, payload)

    def _validate(self, claims: OuterClaims, data: dict[str, Any]) -> WireModel:
        try:
            return self._verifier.registry.validate(claims.cme_type, claims.cme_ver, data)
        except SchemaError as exc:
            raise errors.SchemaInvalid(str(exc)) from None

    def _check_parties(self, claims: OuterClaims, payload: WireModel) -> None:
        """A payload that names its sender or recipient must name the envelope's own: school
        A must not send a return that claims to come from school B."""
        spec = self._verifier.registry.spec(claims.cme_type, claims.cme_ver)
        for field, party in ((spec.sender_field, claims.iss), (spec.recipient_field, claims.aud)):
            if field is not None and getattr(payload, field) != party:
                raise errors.ClaimsMismatch("the payload names other parties than the envelope")

    def _check_replay(self, claims: OuterClaims) -> None:
        if self._replay is None:
            return
        keep_until = datetime.fromtimestamp(claims.exp, tz=utc_now().tzinfo)
        keep_until += timedelta(seconds=self._verifier.config.clock_skew.total_seconds())
        if not self._replay.remember(claims.iss, str(claims.jti), keep_until):
            raise errors.Replayed("message id already accepted")


def _check_receipted(claims: OuterClaims, payload: WireModel) -> None:
    """A receipt must answer exactly the messages its header names: the hub checked and
    recorded those, so a payload receipting others would be a receipt nobody vouched for."""
    if isinstance(payload, ReceiptV2):
        bound = payload.message_ids == claims.causation_ids
    elif isinstance(payload, ReceiptV1):
        bound = claims.causation_id == payload.message_id and not claims.causation_ids
    else:
        return
    if not bound:
        raise errors.ClaimsMismatch("the receipt answers other messages than its header names")


@contextmanager
def _only_envelope_errors(stage: str) -> Iterator[None]:
    """Garbage must never crash a consumer: anything unforeseen becomes `malformed`."""
    try:
        yield
    except errors.EnvelopeError:
        raise
    except Exception as exc:
        # The type name only: an exception's text could quote the attacker's input.
        log.warning("envelope.unexpected_error", stage=stage, error=type(exc).__name__)
        raise errors.Malformed(f"envelope could not be processed ({stage})") from None


def _parse_envelope(raw: bytes | str) -> Envelope:
    try:
        return Envelope.model_validate(strict_json(raw))
    except ValueError:  # ValidationError and JSONDecodeError are ValueErrors
        raise errors.Malformed("not a CME envelope") from None


def _parse_outer(data: bytes) -> OuterClaims:
    try:
        return OuterClaims.model_validate(strict_json(data))
    except ValidationError as exc:
        if any(e["loc"][:1] == ("justification",) for e in exc.errors()):
            raise errors.JustificationInvalid("justification is missing or invalid") from None
        raise errors.Malformed("header claims are not valid") from None
    except ValueError:
        raise errors.Malformed("header claims are not JSON") from None


def _parse_inner(data: bytes) -> InnerClaims:
    try:
        return InnerClaims.model_validate(strict_json(data))
    except ValueError:  # ValidationError is a ValueError
        raise errors.Malformed("inner claims are not valid") from None
