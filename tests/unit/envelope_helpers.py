"""Shared test tools for the envelope unit tests (`test_envelope*.py`).

- `FrozenClock`: a clock the tests move by hand.
- `World`: a broker `Container` over SQLite in a temporary directory, with a school, its LA and
  a GP practice registered, and short-hands to seal, open and take valid messages apart.
- Synthetic payloads and justifications (invented children only, no real data).
- Forging tools that build compact JWS / JWE by hand (with `cryptography`, not the broker's
  envelope code), so an attack test can change exactly one thing of an otherwise valid message.
"""

import base64
import hashlib
import hmac
import json
import os
import struct
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.x509.oid import NameOID
from joserfc import jwe as joserfc_jwe
from joserfc.jwk import OKPKey

from broker import errors
from broker.app import Container
from broker.directory.model import KeyUse, PublicKey
from broker.directory.store import KeyPolicy, SqlDirectoryStore
from broker.envelope import Draft, EnvelopeConfig, MemoryReplayCache, Opened, Opener, Sealed
from broker.envelope.open import HeaderVerifier, RecipientIdentity
from broker.settings import Settings
from schemas.identifiers import nhs_check_digit, upn_check_letter
from schemas.justification import Justification
from schemas.messages.deletion_return import DeletionReturnV1, DeletionReturnV2
from schemas.messages.receipt import ReceiptOutcome, ReceiptV1

SCHOOL = "school:3304000"
LA = "la:330"
HEALTH = "health:M85001"
AGENCIES = {
    SCHOOL: "Synthetic Primary School",
    LA: "LA 330 children missing education service",
    HEALTH: "Synthetic GP practice",
}

DELETION_RETURN = "school.deletion_return"
RECEIPT = "receipt"

OUTER_TYP = "cme-header+jwt"
INNER_TYP = "cme-inner+jwt"

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
"""When every World starts (its keys are created then)."""
SKEW = EnvelopeConfig().clock_skew
DEFAULT_LIFETIME = EnvelopeConfig().default_lifetime
MAX_LIFETIME = EnvelopeConfig().max_lifetime
ROTATION_OVERLAP = KeyPolicy().rotation_overlap


class FrozenClock:
    """A clock that only moves when told to."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        """Move the clock (backwards too, with a negative delta)."""
        self.now += delta


# --- synthetic payloads -------------------------------------------------------------------


def synthetic_upn(serial: int) -> str:
    """A UPN with a correct check letter: LA 330, establishment 4000, a serial number."""
    body = f"330400{serial % 10**6:06d}"
    return upn_check_letter(body) + body


def synthetic_nhs_number(serial: int) -> str:
    """A 10-digit number passing the modulus 11 check (in the 999 test range)."""
    for n in range(serial, serial + 20):
        first_nine = f"999{n % 10**6:06d}"
        check = nhs_check_digit(first_nine)
        if check is not None:
            return f"{first_nine}{check}"
    raise AssertionError("unreachable: a valid check digit exists within 20 numbers")


def child(serial: int = 1, **overrides: Any) -> dict[str, Any]:
    """An invented child (JSON form). Different serials are different children."""
    data: dict[str, Any] = {
        "forenames": ["Ada", "Bryn", "Cerys", "Dylan"][serial % 4],
        "surname": f"Testchild{serial}",
        "date_of_birth": (date(2015, 3, 1) + timedelta(days=serial)).isoformat(),
        "upn": synthetic_upn(serial),
        "nhs_number": synthetic_nhs_number(serial * 37),
    }
    return data | overrides


def deletion_return_data(serial: int = 1, **overrides: Any) -> dict[str, Any]:
    """A deletion return payload (JSON form) from SCHOOL: moved away, destination unknown."""
    data: dict[str, Any] = {
        "school": SCHOOL,
        "ground": "9(1)(g)",
        "deletion_date": "2026-11-20",
        "destination_known": False,
        "child": child(serial),
    }
    return data | overrides


def deletion_return_v1(serial: int = 1) -> DeletionReturnV1:
    """A valid version 1 deletion return."""
    return DeletionReturnV1.model_validate(deletion_return_data(serial))


def deletion_return_v2(serial: int = 1) -> DeletionReturnV2:
    """A valid version 2 deletion return, with a consistent identifier and safeguarding context."""
    data = deletion_return_data(serial)
    data["child"]["consistent_identifier"] = f"CI-SYNTH-{serial:06d}"
    data["safeguarding"] = {
        "risk_flags": ["temporary_accommodation"],
        "designated_safeguarding_lead_informed": True,
        "summary": "Family said to be moving; no forwarding address given.",
    }
    return DeletionReturnV2.model_validate(data)


def receipt_v1(message_id: uuid.UUID, jwe_sha256: str, received_at: datetime) -> ReceiptV1:
    """An acceptance receipt for a message."""
    return ReceiptV1(
        message_id=message_id,
        jwe_sha256=jwe_sha256,
        received_at=received_at,
        outcome=ReceiptOutcome.ACCEPTED,
    )


def justification_data(**overrides: Any) -> dict[str, Any]:
    """A valid justification for a statutory deletion return (JSON form)."""
    data: dict[str, Any] = {
        "decision_id": str(uuid.UUID(int=42)),
        "decided_at": T0.isoformat(),
        "decided_by_role": "school-adapter",
        "purpose": "statutory_return",
        "lawful_basis": "art6(1)(c)",
        "statutory_gateways": ["SI 2024/208 reg 13(4)"],
        "agreement": {"id": "cme-area-330", "version": 1},
        "data_categories": ["child_identity", "parent_contact"],
        "necessity": "Statutory deletion return required by regulation 13.",
        "consent": {"status": "not_sought", "reason": "Statutory duty; consent is not the basis."},
        "retention": {"rule": "case closure + 6 years", "review_date": "2027-11-20"},
    }
    return data | overrides


def justification(**overrides: Any) -> Justification:
    """A valid justification model."""
    return Justification.model_validate(justification_data(**overrides))


# --- compact JOSE by hand -----------------------------------------------------------------


def b64url(data: bytes) -> str:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Inverse of `b64url`."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_json(value: Any) -> str:
    """Base64url of compact JSON."""
    return b64url(json_bytes(value))


def json_bytes(value: Any) -> bytes:
    """Compact JSON, as the broker writes claims."""
    return json.dumps(value, separators=(",", ":")).encode()


def digest(jwe: str) -> str:
    """The documented `jwe_sha256`: base64url(SHA-256(ASCII of the compact JWE))."""
    return b64url(hashlib.sha256(jwe.encode("ascii")).digest())


def sig_header(kid: str, typ: str | None = OUTER_TYP, **changes: Any) -> dict[str, Any]:
    """The standard JWS header, with parameters added or (with a None value) removed."""
    header: dict[str, Any] = {"alg": "Ed25519", "kid": kid, "typ": typ} | changes
    return {k: v for k, v in header.items() if v is not None}


def split_jws(compact: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (unverified) header and JSON payload of a compact JWS."""
    header, payload, _ = compact.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload))


def ed25519_sign(key: OKPKey | Ed25519PrivateKey, data: bytes) -> bytes:
    """An Ed25519 signature with a private key (a JWK or a `cryptography` key)."""
    private = key.private_key if isinstance(key, OKPKey) else key
    assert isinstance(private, Ed25519PrivateKey)
    return private.sign(data)


def ed25519_jws(header: dict[str, Any], payload: bytes, key: OKPKey | Ed25519PrivateKey) -> str:
    """A compact JWS with any header, signed with an Ed25519 private key."""
    signing_input = f"{b64url_json(header)}.{b64url(payload)}"
    return f"{signing_input}.{b64url(ed25519_sign(key, signing_input.encode('ascii')))}"


def hs256_jws(header: dict[str, Any], payload: bytes, secret: bytes) -> str:
    """A compact JWS with an HMAC-SHA256 tag."""
    signing_input = f"{b64url_json(header)}.{b64url(payload)}"
    tag = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(tag)}"


def unsecured_jws(header: dict[str, Any], payload: bytes) -> str:
    """An unsecured JWS (`alg: none`, empty signature)."""
    return f"{b64url_json(header)}.{b64url(payload)}."


def _with_length(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def ecdh_es_jwe(
    plaintext: bytes, recipient: OKPKey, *, deflate: bool = False, **header_changes: Any
) -> str:
    """A compact ECDH-ES + A256GCM JWE to an X25519 public key, built by hand (RFC 7516/7518).

    `deflate=True` compresses the plaintext and sets `zip: DEF`; other header parameters can be
    added (or removed with a None value). The key derivation always follows ECDH-ES/A256GCM.
    """
    ephemeral = X25519PrivateKey.generate()
    epk = {"kty": "OKP", "crv": "X25519", "x": b64url(ephemeral.public_key().public_bytes_raw())}
    header: dict[str, Any] = {
        "alg": "ECDH-ES",
        "enc": "A256GCM",
        "kid": recipient.kid,
        "cty": INNER_TYP,
        "epk": epk,
    }
    if deflate:
        compressor = zlib.compressobj(wbits=-15)
        plaintext = compressor.compress(plaintext) + compressor.flush()
        header["zip"] = "DEF"
    header = {k: v for k, v in (header | header_changes).items() if v is not None}
    public = recipient.public_key
    assert isinstance(public, X25519PublicKey)
    shared = ephemeral.exchange(public)
    other_info = (
        _with_length(b"A256GCM") + _with_length(b"") + _with_length(b"") + struct.pack(">I", 256)
    )
    cek = ConcatKDFHash(hashes.SHA256(), 32, other_info).derive(shared)
    iv = os.urandom(12)
    protected = b64url_json(header)
    sealed = AESGCM(cek).encrypt(iv, plaintext, protected.encode("ascii"))
    return ".".join((protected, "", b64url(iv), b64url(sealed[:-16]), b64url(sealed[-16:])))


def envelope_json(header: str, jwe: str) -> str:
    """The wire envelope around an outer JWS and a JWE."""
    return json.dumps({"cme": 1, "header": header, "jwe": jwe})


def replace_char(text: str, index: int) -> str:
    """`text` with the base64url character at `index` changed to another one."""
    new = "B" if text[index] == "A" else "A"
    return text[:index] + new + text[index + 1 :]


def self_signed_certificate(key: Ed25519PrivateKey) -> str:
    """A base64 (not url) DER X.509 certificate for `key`, as an `x5c` entry carries it."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "school:3304000")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(T0 - timedelta(days=1))
        .not_valid_after(T0 + timedelta(days=365))
        .sign(key, None)
    )
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode("ascii")


# --- the world ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Unwrapped:
    """A valid message taken apart by someone holding the recipient's private key."""

    header: str
    jwe: str
    outer_header: dict[str, Any]
    outer_claims: dict[str, Any]
    inner_jws: str
    inner_header: dict[str, Any]
    inner_claims: dict[str, Any]

    @property
    def binding(self) -> dict[str, Any]:
        """The binding claims (both layers carry them)."""
        return {k: v for k, v in self.inner_claims.items() if k != "payload"}

    @property
    def payload(self) -> dict[str, Any]:
        """The message payload (JSON form)."""
        return dict(self.inner_claims["payload"])


class World:
    """Three agencies in a fresh directory, and a clock frozen at T0 that tests move."""

    def __init__(self, data_dir: Path, **settings: Any) -> None:
        self.clock = FrozenClock()
        self.container = Container(Settings(data_dir=data_dir, **settings), clock=self.clock)
        for agency, name in AGENCIES.items():
            self.store.add_agency(agency, name, home_la="330")

    @property
    def store(self) -> SqlDirectoryStore:
        """The directory store (rotate, suspend, revoke)."""
        return self.container.directory_store

    # sealing and opening

    def seal(
        self,
        payload: Any = None,
        *,
        sender: str = SCHOOL,
        recipient: str = LA,
        message_type: str = DELETION_RETURN,
        **draft: Any,
    ) -> Sealed:
        """Seal with the sender's current key (a deletion return v1 unless told otherwise)."""
        draft.setdefault("justification", justification())
        return self.container.sealer(sender).seal(
            Draft(recipient, message_type, payload or deletion_return_v1(), **draft)
        )

    def opener(self, agency: str = LA, replay: str = "sql") -> Opener:
        """An opener over a fresh directory snapshot; `replay`: "sql", "memory" or "none"."""
        if replay == "sql":
            return self.container.opener(agency)
        verifier = HeaderVerifier(
            self.container.snapshot(), config=self.container.envelope_config, clock=self.clock
        )
        identity = RecipientIdentity(agency, self.container.keystore.load_all(agency))
        cache = MemoryReplayCache(self.clock) if replay == "memory" else None
        return Opener(identity, verifier, cache)

    def open(self, raw: str | bytes | Sealed, agency: str = LA) -> Opened:
        """Open with a fresh opener (fresh snapshot, the database replay cache)."""
        return self.opener(agency).open(wire(raw))

    def refusal(self, raw: str | bytes | Sealed, agency: str = LA) -> str:
        """The reason code `agency` refuses the message with (fails the test if it opens)."""
        try:
            self.open(raw, agency)
        except errors.EnvelopeError as exc:
            return exc.reason
        raise AssertionError("the message was accepted")

    # keys

    def current_key(self, agency: str, use: KeyUse = KeyUse.SIG) -> PublicKey:
        """The agency's current public key of this use."""
        return self.container.snapshot().current_key(agency, use, self.clock())

    def private_key(self, agency: str, kid: str | None = None) -> OKPKey:
        """A private key from the keystore (default: the current signing key)."""
        return self.container.keystore.load(agency, kid or self.current_key(agency).kid)

    # taking messages apart and forging new ones

    def unwrap(self, raw: str | Sealed, recipient: str = LA) -> Unwrapped:
        """Decrypt a message as its recipient would, without checking anything."""
        envelope = json.loads(wire(raw))
        outer_header, outer_claims = split_jws(envelope["header"])
        jwe_header = json.loads(b64url_decode(envelope["jwe"].split(".")[0]))
        key = self.private_key(recipient, jwe_header["kid"])
        inner_jws = joserfc_jwe.decrypt_compact(envelope["jwe"], key).plaintext
        assert inner_jws is not None
        inner_header, inner_claims = split_jws(inner_jws.decode("ascii"))
        return Unwrapped(
            header=envelope["header"],
            jwe=envelope["jwe"],
            outer_header=outer_header,
            outer_claims=outer_claims,
            inner_jws=inner_jws.decode("ascii"),
            inner_header=inner_header,
            inner_claims=inner_claims,
        )

    def sign(
        self,
        claims: dict[str, Any],
        signer: str = SCHOOL,
        typ: str | None = OUTER_TYP,
        **header: Any,
    ) -> str:
        """A compact JWS over `claims` with the signer's current key (header changes allowed)."""
        key = self.private_key(signer)
        return ed25519_jws(sig_header(str(key.kid), typ, **header), json_bytes(claims), key)

    def encrypt(self, inner_jws: str, to: str = LA, **jwe_header: Any) -> str:
        """A JWE of `inner_jws` to the agency's current encryption key."""
        key = self.current_key(to, KeyUse.ENC).jwk
        return ecdh_es_jwe(inner_jws.encode("ascii"), key, **jwe_header)

    def wrap(self, outer_claims: dict[str, Any], jwe: str, signer: str = SCHOOL) -> str:
        """An envelope whose outer header commits to `jwe` and is signed by `signer`."""
        return envelope_json(self.sign(outer_claims | {"jwe_sha256": digest(jwe)}, signer), jwe)

    def binding(
        self,
        *,
        sender: str = SCHOOL,
        recipient: str = LA,
        message_type: str = DELETION_RETURN,
        version: int = 1,
        lifetime: timedelta = DEFAULT_LIFETIME,
    ) -> dict[str, Any]:
        """Fresh binding claims for a hand-made message, issued now."""
        now = self.clock()
        return {
            "jti": str(uuid.uuid4()),
            "iss": sender,
            "aud": recipient,
            "iat": int(now.timestamp()),
            "exp": int((now + lifetime).timestamp()),
            "cme_type": message_type,
            "cme_ver": version,
        }

    def forge(
        self,
        binding: dict[str, Any],
        payload: dict[str, Any],
        *,
        outer: dict[str, Any] | None = None,
    ) -> str:
        """A whole message made by hand, signed by `binding["iss"]` (both layers) and
        encrypted to `binding["aud"]`. `outer` adds to or replaces outer claims."""
        inner_jws = self.sign(binding | {"payload": payload}, binding["iss"], INNER_TYP)
        jwe = self.encrypt(inner_jws, binding["aud"])
        outer_claims = binding | {"justification": justification_data(), "subject_refs": []}
        return self.wrap(outer_claims | (outer or {}), jwe, binding["iss"])


def wire(raw: str | bytes | Sealed) -> str | bytes:
    """The wire form of a sealed message (or the raw text itself)."""
    return raw.to_json() if isinstance(raw, Sealed) else raw
