"""Who is calling: a client assertion signed with the agency's own registered key
(private_key_jwt style, RFC 7523), or a client certificate forwarded by the TLS proxy.

No shared passwords: both prove possession of a signing key the hub's directory holds for the
agency, so revoking the key or suspending the agency in the directory shuts the door at once.

A client assertion is a compact JWS (alg `Ed25519`, `typ` `client-authentication+jwt`, `kid`
of the agency's signing key) over `{"iss": agency, "sub": agency, "aud": <gateway audience>,
"iat", "exp", "jti"}`, living at most five minutes and used once.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote
from uuid import uuid4

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from joserfc.jwk import OKPKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from broker.clock import Clock, utc_now
from broker.directory.model import AgencyStatus, DirectorySnapshot, KeyDirectory, KeyUse, PublicKey
from broker.envelope.jose import Jose, b64url, sha256_b64url
from broker.envelope.replay import ReplayCache
from broker.errors import EnvelopeError
from broker.gateway.errors import Forbidden, Unauthenticated

ASSERTION_TYP = "client-authentication+jwt"
MAX_ASSERTION_BYTES = 4096


class ClientAssertion(BaseModel):
    """The claims of a client assertion (other registered claims are ignored)."""

    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)

    iss: str = Field(max_length=64)
    sub: str = Field(max_length=64)
    aud: str | list[str]
    iat: int = Field(ge=0, strict=True)
    exp: int = Field(ge=0, strict=True)
    jti: str = Field(min_length=8, max_length=128)


@dataclass(frozen=True)
class AssertionPolicy:
    """What an acceptable assertion looks like."""

    audience: str
    max_lifetime: timedelta = timedelta(minutes=5)
    clock_skew: timedelta = timedelta(seconds=60)


def make_assertion(
    agency_id: str,
    key: OKPKey,
    audience: str,
    now: datetime,
    lifetime: timedelta = timedelta(minutes=2),
) -> str:
    """A client assertion for `agency_id`, signed with its signing key (`key.kid` must be the
    kid the directory holds). For Python agencies and tests."""
    issued = int(now.timestamp())
    claims = {
        "iss": agency_id,
        "sub": agency_id,
        "aud": audience,
        "iat": issued,
        "exp": issued + int(lifetime.total_seconds()),
        "jti": str(uuid4()),
    }
    return Jose(MAX_ASSERTION_BYTES).sign(json.dumps(claims).encode(), key, ASSERTION_TYP)


class AssertionVerifier:
    """Authenticates a client assertion against the directory; each assertion works once."""

    def __init__(
        self,
        directory: Callable[[], DirectorySnapshot],
        replay: ReplayCache,
        policy: AssertionPolicy,
        clock: Clock = utc_now,
    ) -> None:
        self._directory = directory
        self._replay = replay
        self._policy = policy
        self._clock = clock
        self._jose = Jose(MAX_ASSERTION_BYTES)

    def authenticate(self, token: str) -> str:
        """The agency the assertion proves, or `Unauthenticated` / `Forbidden`."""
        if len(token) > MAX_ASSERTION_BYTES:
            raise Unauthenticated("assertion_malformed", "client assertion is too long")
        directory, now = self._directory(), self._clock()
        key = self._signing_key(token, directory, now)
        claims = self._claims(token, key)
        if not claims.iss == claims.sub == key.agency_id:
            raise Unauthenticated("assertion_invalid", "iss and sub must name the key's agency")
        audiences = [claims.aud] if isinstance(claims.aud, str) else claims.aud
        if self._policy.audience not in audiences:
            raise Unauthenticated("assertion_invalid", "assertion is for another audience")
        self._check_times(claims, now)
        _require_active(directory, key.agency_id)
        self._remember(claims)
        return key.agency_id

    def _signing_key(self, token: str, directory: KeyDirectory, now: datetime) -> PublicKey:
        try:
            _parsed, kid = self._jose.parse_jws(token, ASSERTION_TYP)
            key = directory.public_key(kid)
            if key.use is not KeyUse.SIG:
                raise Unauthenticated("assertion_invalid", "not signed with a signing key")
            key.check_usable(now, self._policy.clock_skew)
        except EnvelopeError as exc:
            raise Unauthenticated(
                _assertion_reason(exc), "client assertion is not usable"
            ) from None
        return key

    def _claims(self, token: str, key: PublicKey) -> ClientAssertion:
        try:
            parsed, _kid = self._jose.parse_jws(token, ASSERTION_TYP)
            return ClientAssertion.model_validate_json(self._jose.verify(parsed, key.jwk))
        except EnvelopeError as exc:
            raise Unauthenticated(
                _assertion_reason(exc), "client assertion is not usable"
            ) from None
        except ValidationError:
            raise Unauthenticated(
                "assertion_malformed", "client assertion claims are invalid"
            ) from None

    def _check_times(self, claims: ClientAssertion, now: datetime) -> None:
        skew = self._policy.clock_skew.total_seconds()
        stamp = now.timestamp()
        if not 0 < claims.exp - claims.iat <= self._policy.max_lifetime.total_seconds():
            raise Unauthenticated("assertion_invalid", "assertion lifetime is not allowed")
        if claims.iat > stamp + skew:
            raise Unauthenticated("assertion_invalid", "assertion is issued in the future")
        if claims.exp < stamp - skew:
            raise Unauthenticated("assertion_expired", "client assertion has expired")

    def _remember(self, claims: ClientAssertion) -> None:
        # The replay cache keys are short: a digest of the jti (the jti is the caller's text).
        expires = datetime.fromtimestamp(claims.exp, UTC) + self._policy.clock_skew
        if not self._replay.remember(
            f"assertion:{claims.iss}"[:64], sha256_b64url(claims.jti)[:36], expires
        ):
            raise Unauthenticated("assertion_replayed", "client assertion was already used")


class ProxyCertificateAuthenticator:
    """Authenticates the client certificate a TLS-terminating proxy verified and forwarded
    (URL-encoded PEM, as nginx's `$ssl_client_escaped_cert`). The certificate must be issued
    directly by one of the agencies' CAs (checked here again: the header alone proves nothing
    if something other than the proxy reaches the gateway), and its public key must be a
    registered signing key of the agency: the directory, not the certificate's names, says
    who it is."""

    def __init__(
        self,
        directory: Callable[[], DirectorySnapshot],
        issuers: Sequence[x509.Certificate],
        clock: Clock = utc_now,
    ) -> None:
        self._directory = directory
        self._issuers = tuple(issuers)
        self._clock = clock

    def authenticate(self, forwarded: str) -> str:
        """The agency whose key the certificate carries, or `Unauthenticated` / `Forbidden`."""
        now = self._clock()
        certificate = _certificate(forwarded)
        if not any(_issued_by(certificate, issuer) for issuer in self._issuers):
            raise Unauthenticated("certificate_invalid", "client certificate is not from our CA")
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise Unauthenticated("certificate_expired", "client certificate is not valid now")
        public = certificate.public_key()
        if not isinstance(public, Ed25519PublicKey):
            raise Unauthenticated("certificate_invalid", "client certificate key is not Ed25519")
        x = b64url(public.public_bytes(Encoding.Raw, PublicFormat.Raw))
        directory = self._directory()
        agency = _agency_with_key(directory, x, now)
        _require_active(directory, agency)
        return agency


def load_issuers(pem: bytes) -> list[x509.Certificate]:
    """The CA certificates (PEM, one or more) that issue agencies' client certificates."""
    return x509.load_pem_x509_certificates(pem)


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _certificate(forwarded: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(unquote(forwarded).encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise Unauthenticated("certificate_invalid", "client certificate is not PEM") from None


def _agency_with_key(directory: DirectorySnapshot, x: str, now: datetime) -> str:
    for key in directory.public_keys():
        if key.use is KeyUse.SIG and key.jwk.as_dict(private=False).get("x") == x:
            try:
                key.check_usable(now, timedelta(0))
            except EnvelopeError:
                continue
            return key.agency_id
    raise Unauthenticated("certificate_unknown", "client certificate key is not registered")


def _require_active(directory: KeyDirectory, agency_id: str) -> None:
    if directory.agency(agency_id).status is not AgencyStatus.ACTIVE:
        raise Forbidden("agency_not_active", "the agency is suspended or revoked")


_REASONS = {
    "revoked_key": "assertion_revoked_key",
    "expired_key": "assertion_expired_key",
    "unknown_key": "assertion_invalid",
    "bad_signature": "assertion_invalid",
}


def _assertion_reason(exc: EnvelopeError) -> str:
    """A revoked or expired key is worth telling the caller; every other key or signature
    problem looks the same from outside (no oracle for which kids exist)."""
    return _REASONS.get(exc.reason, "assertion_malformed")
