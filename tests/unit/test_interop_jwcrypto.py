"""Interoperability: the wire format in docs/wire-format.md, produced and consumed with jwcrypto.

jwcrypto stands in for an agency's own JOSE library: everything done with it here follows the
document only (envelope JSON, outer JWS, digest, JWE, inner JWS, binding claims, subject
references), never the broker's envelope code. Keys come from where an integrator gets them:
the agency's own private JWK files and the public JWKs in the directory.
"""

import base64
import hashlib
import hmac
import json
import time
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jwcrypto import jwe, jwk, jws

from broker import errors
from broker.app import Container
from broker.directory.model import KeyUse
from broker.envelope import Draft
from broker.settings import Settings
from schemas.justification import Justification
from schemas.messages.deletion_return import DeletionReturnV1

SENDER = "school:3304000"
RECIPIENT = "la:330"
MESSAGE_TYPE = "school.deletion_return"
BINDING = ("jti", "iss", "aud", "iat", "exp", "cme_type", "cme_ver")
LIFETIME_S = 14 * 24 * 3600

PAYLOAD: dict[str, Any] = {
    "school": SENDER,
    "ground": "9(1)(g)",
    "deletion_date": "2026-11-20",
    "destination_known": False,
    "child": {
        "forenames": "Ada",
        "surname": "Testchild",
        "date_of_birth": "2015-03-01",
        "upn": "R201100018042",
        "nhs_number": "9434765919",
    },
}


def _justification() -> dict[str, Any]:
    return {
        "decision_id": str(uuid.uuid4()),
        "decided_at": "2026-11-19T10:00:00Z",
        "decided_by_role": "school-adapter",
        "purpose": "statutory_return",
        "lawful_basis": "art6(1)(c)",
        "statutory_gateways": ["SI 2024/208 reg 13(4)"],
        "agreement": {"id": "cme-area-330", "version": 1},
        "data_categories": ["child_identity"],
        "necessity": "Statutory deletion return required by regulation 13.",
        "consent": {"status": "not_sought", "reason": "Statutory duty; consent is not the basis."},
        "retention": {"rule": "case closure + 6 years", "review_date": "2027-11-20"},
    }


@dataclass(frozen=True)
class World:
    """A broker with a sending school and a receiving LA, and their keys as JWKs."""

    container: Container
    sender_private_sig: jwk.JWK
    sender_public_sig: jwk.JWK
    recipient_private_enc: jwk.JWK
    recipient_public_enc: jwk.JWK


def _private_jwk(root: Path, agency: str, kid: str) -> jwk.JWK:
    """A private key from the keystore's JSON file (`<root>/<agency with _>/<kid>.jwk.json`)."""
    path = root / agency.replace(":", "_") / f"{kid}.jwk.json"
    return jwk.JWK(**json.loads(path.read_text()))


@pytest.fixture
def world(tmp_path: Path) -> World:
    container = Container(Settings(data_dir=tmp_path))
    container.directory_store.add_agency(SENDER, "Synthetic Primary")
    container.directory_store.add_agency(RECIPIENT, "LA 330 CME")
    snapshot = container.snapshot()
    now = datetime.now(UTC)
    sig = snapshot.current_key(SENDER, KeyUse.SIG, now)
    enc = snapshot.current_key(RECIPIENT, KeyUse.ENC, now)
    keystore = container.settings.resolved_keystore_dir
    return World(
        container=container,
        sender_private_sig=_private_jwk(keystore, SENDER, sig.kid),
        sender_public_sig=jwk.JWK(**sig.jwk.as_dict(private=False)),
        recipient_private_enc=_private_jwk(keystore, RECIPIENT, enc.kid),
        recipient_public_enc=jwk.JWK(**enc.jwk.as_dict(private=False)),
    )


# --- The document's recipes, with jwcrypto only --------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _protected(compact: str) -> dict[str, Any]:
    segment = compact.split(".")[0]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return decoded


def _jwe_sha256(compact_jwe: str) -> str:
    return _b64url(hashlib.sha256(compact_jwe.encode("ascii")).digest())


def _verify(compact: str, key: jwk.JWK, typ: str) -> dict[str, Any]:
    header = _protected(compact)
    assert set(header) == {"alg", "kid", "typ"}
    assert header == {"alg": "Ed25519", "kid": key.thumbprint(), "typ": typ}
    token = jws.JWS()
    token.allowed_algs = ["Ed25519"]
    token.deserialize(compact)
    token.verify(key, alg="Ed25519")
    claims: dict[str, Any] = json.loads(token.payload)
    return claims


def _sign(claims: dict[str, Any], key: jwk.JWK, header: dict[str, Any]) -> str:
    token = jws.JWS(json.dumps(claims, separators=(",", ":")).encode())
    token.allowed_algs = [header["alg"]]
    token.add_signature(key, alg=header["alg"], protected=json.dumps(header))
    compact: str = token.serialize(compact=True)
    return compact


def _encrypt(plaintext: str, key: jwk.JWK, header: dict[str, Any]) -> str:
    token = jwe.JWE(plaintext.encode("ascii"), protected=json.dumps(header))
    token.add_recipient(key)
    compact: str = token.serialize(compact=True)
    return compact


def _decrypt(compact: str, key: jwk.JWK) -> str:
    header = _protected(compact)
    assert header["alg"] in ("ECDH-ES", "ECDH-ES+A256KW")
    assert header["enc"] == "A256GCM"
    assert header["kid"] == key.thumbprint()
    assert set(header) <= {"alg", "enc", "kid", "epk", "cty", "typ", "apu", "apv"}
    token = jwe.JWE()
    token.allowed_algs = ["ECDH-ES", "ECDH-ES+A256KW", "A256GCM"]
    token.deserialize(compact, key=key)
    plaintext: bytes = token.payload
    return plaintext.decode("ascii")


def _sign_raw(claims: dict[str, Any], key: jwk.JWK, header: dict[str, Any]) -> str:
    """A compact JWS with any protected header (for headers jwcrypto will not write)."""
    signing_input = ".".join(_b64url(json.dumps(part).encode()) for part in (header, claims))
    signature = key.get_op_key("sign").sign(signing_input.encode("ascii"))
    return f"{signing_input}.{_b64url(signature)}"


def _build(
    world: World,
    *,
    payload: dict[str, Any] = PAYLOAD,
    binding: dict[str, Any] | None = None,
    inner_claims: dict[str, Any] | None = None,
    outer_claims: dict[str, Any] | None = None,
    outer_header: dict[str, Any] | None = None,
    raw_outer_header: dict[str, Any] | None = None,
    inner_header: dict[str, Any] | None = None,
    jwe_header: dict[str, Any] | None = None,
) -> tuple[str, dict[str, Any]]:
    """Produce an envelope as the document says; returns (envelope JSON, outer claims).

    `binding` changes the binding claims of both layers, `inner_claims` / `outer_claims` one
    layer only; the header arguments replace a layer's protected header.
    """
    sig_kid = world.sender_private_sig.thumbprint()
    now = int(time.time())
    claims = {
        "jti": str(uuid.uuid4()),
        "iss": SENDER,
        "aud": RECIPIENT,
        "iat": now,
        "exp": now + LIFETIME_S,
        "cme_type": MESSAGE_TYPE,
        "cme_ver": 1,
        **(binding or {}),
    }
    inner = {**claims, "payload": payload, **(inner_claims or {})}
    inner_jws = _sign(
        inner,
        world.sender_private_sig,
        inner_header or {"alg": "Ed25519", "kid": sig_kid, "typ": "cme-inner+jwt"},
    )
    compact_jwe = _encrypt(
        inner_jws,
        world.recipient_public_enc,
        jwe_header
        or {
            "alg": "ECDH-ES",
            "enc": "A256GCM",
            "kid": world.recipient_public_enc.thumbprint(),
            "cty": "cme-inner+jwt",
        },
    )
    outer = {
        **claims,
        "correlation_id": str(uuid.uuid4()),
        "causation_id": None,
        "subject_refs": [],
        "justification": _justification(),
        "jwe_sha256": _jwe_sha256(compact_jwe),
        **(outer_claims or {}),
    }
    if raw_outer_header is not None:
        header = _sign_raw(outer, world.sender_private_sig, raw_outer_header)
    else:
        header = _sign(
            outer,
            world.sender_private_sig,
            outer_header or {"alg": "Ed25519", "kid": sig_kid, "typ": "cme-header+jwt"},
        )
    return json.dumps({"cme": 1, "header": header, "jwe": compact_jwe}), outer


def _norm(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).casefold()
    return "".join(c for c in folded if c.isalnum())


def _subject_refs(child: dict[str, Any], key: bytes) -> list[str]:
    """The document's subject-reference recipe, written out independently."""
    identifiers = [
        f"{name}:{_norm(child[name])}"
        for name in ("upn", "nhs_number", "consistent_identifier")
        if child.get(name)
    ]
    if child.get("forenames") and child.get("surname") and child.get("date_of_birth"):
        parts = (child["forenames"], child["surname"], child["date_of_birth"])
        identifiers.append("name_dob:" + "|".join(_norm(p) for p in parts))
    refs = {
        _b64url(hmac.new(key, i.encode("utf-8"), hashlib.sha256).digest()[:16]) for i in identifiers
    }
    return sorted(refs)


# --- (a) sealed by the broker, consumed with jwcrypto ---------------------------------------


def test_broker_message_is_verified_and_decrypted_with_jwcrypto(world: World) -> None:
    payload = DeletionReturnV1.model_validate(PAYLOAD)
    justification = Justification.model_validate(_justification())
    sealed = world.container.sealer(SENDER).seal(
        Draft(RECIPIENT, MESSAGE_TYPE, payload, justification)
    )

    envelope = json.loads(sealed.to_json())
    assert set(envelope) == {"cme", "header", "jwe"}
    assert envelope["cme"] == 1

    outer = _verify(envelope["header"], world.sender_public_sig, "cme-header+jwt")
    assert outer["iss"] == SENDER
    assert outer["aud"] == RECIPIENT
    assert outer["cme_type"] == MESSAGE_TYPE
    assert outer["cme_ver"] == 1
    assert outer["jwe_sha256"] == _jwe_sha256(envelope["jwe"])
    assert 0 < outer["exp"] - outer["iat"] <= 30 * 24 * 3600
    assert outer["justification"]["purpose"] == "statutory_return"

    jwe_header = _protected(envelope["jwe"])
    assert jwe_header["alg"] == "ECDH-ES"
    assert jwe_header["cty"] == "cme-inner+jwt"
    assert jwe_header["epk"]["crv"] == "X25519"
    inner_jws = _decrypt(envelope["jwe"], world.recipient_private_enc)

    inner = _verify(inner_jws, world.sender_public_sig, "cme-inner+jwt")
    assert {k: inner[k] for k in BINDING} == {k: outer[k] for k in BINDING}
    assert set(inner) == {*BINDING, "payload"}
    assert inner["payload"] == payload.model_dump(mode="json")
    assert DeletionReturnV1.model_validate(inner["payload"]) == payload


def test_subject_refs_follow_the_documented_recipe(world: World) -> None:
    payload = DeletionReturnV1.model_validate(PAYLOAD)
    justification = Justification.model_validate(_justification())
    sealed = world.container.sealer(SENDER).seal(
        Draft(RECIPIENT, MESSAGE_TYPE, payload, justification)
    )
    key = world.container.settings.pseudonym_key.get_secret_value().encode("utf-8")
    outer = _verify(
        json.loads(sealed.to_json())["header"], world.sender_public_sig, "cme-header+jwt"
    )
    assert outer["subject_refs"] == _subject_refs(payload.model_dump(mode="json")["child"], key)
    assert len(outer["subject_refs"]) == 3


def test_kids_are_rfc7638_thumbprints(world: World) -> None:
    directory_keys = world.container.snapshot().public_keys()
    assert len(directory_keys) == 4
    for key in directory_keys:
        public = jwk.JWK(**key.jwk.as_dict(private=False))
        assert public.thumbprint() == key.kid
        assert public["kty"] == "OKP"
        assert public["crv"] == {"sig": "Ed25519", "enc": "X25519"}[public["use"]]


# --- (b) built with jwcrypto, opened by the broker ------------------------------------------


@pytest.mark.parametrize("key_agreement", ["ECDH-ES", "ECDH-ES+A256KW"])
def test_jwcrypto_message_is_opened_by_the_broker(world: World, key_agreement: str) -> None:
    jwe_header = {
        "alg": key_agreement,
        "enc": "A256GCM",
        "kid": world.recipient_public_enc.thumbprint(),
        "cty": "cme-inner+jwt",
    }
    raw, outer = _build(world, jwe_header=jwe_header)

    opened = world.container.opener(RECIPIENT).open(raw)

    assert opened.payload == DeletionReturnV1.model_validate(PAYLOAD)
    assert opened.payload.model_dump(mode="json", exclude_defaults=True) == PAYLOAD
    assert str(opened.claims.jti) == outer["jti"]
    assert opened.claims.iss == SENDER
    assert opened.claims.jwe_sha256 == outer["jwe_sha256"]
    assert opened.claims.justification == Justification.model_validate(outer["justification"])


def test_jwcrypto_message_is_refused_the_second_time(world: World) -> None:
    raw, _ = _build(world)
    opener = world.container.opener(RECIPIENT)
    opener.open(raw)
    with pytest.raises(errors.EnvelopeError) as refused:
        opener.open(raw)
    assert refused.value.reason == "replayed"


# --- (c) jwcrypto messages the document forbids are refused with its reason codes ----------


def _refusal(world: World, raw: str) -> str:
    with pytest.raises(errors.EnvelopeError) as refused:
        world.container.opener(RECIPIENT).open(raw)
    reason = refused.value.reason
    assert reason in errors.ENVELOPE_REASONS
    return reason


def test_eddsa_outer_signature_is_refused(world: World) -> None:
    header = {"alg": "EdDSA", "kid": world.sender_private_sig.thumbprint(), "typ": "cme-header+jwt"}
    raw, _ = _build(world, outer_header=header)
    assert _refusal(world, raw) == "forbidden_algorithm"


def test_eddsa_inner_signature_is_refused(world: World) -> None:
    header = {"alg": "EdDSA", "kid": world.sender_private_sig.thumbprint(), "typ": "cme-inner+jwt"}
    raw, _ = _build(world, inner_header=header)
    assert _refusal(world, raw) == "forbidden_algorithm"


def test_compressed_jwe_is_refused(world: World) -> None:
    header = {
        "alg": "ECDH-ES",
        "enc": "A256GCM",
        "kid": world.recipient_public_enc.thumbprint(),
        "cty": "cme-inner+jwt",
        "zip": "DEF",
    }
    raw, _ = _build(world, jwe_header=header)
    assert _refusal(world, raw) == "forbidden_header"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"alg": "none"}, "forbidden_algorithm"),
        ({"alg": "HS256"}, "forbidden_algorithm"),
        ({"alg": None}, "forbidden_algorithm"),
        ({"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "AA"}}, "forbidden_header"),
        ({"jku": "https://example.invalid/jwks"}, "forbidden_header"),
        ({"x5u": "https://example.invalid/cert"}, "forbidden_header"),
        ({"x5c": ["AA"]}, "forbidden_header"),
        ({"x5t": "AA"}, "forbidden_header"),
        ({"crit": ["exp"], "exp": 1}, "forbidden_header"),
        ({"zip": "DEF"}, "forbidden_header"),
        ({"cty": "JWT"}, "forbidden_header"),
        ({"nonstandard": 1}, "forbidden_header"),
        ({"b64": False, "crit": ["b64"]}, "forbidden_header"),
        ({"b64": False}, "forbidden_header"),
        ({"typ": "JWT"}, "malformed"),
        ({"typ": "cme-inner+jwt"}, "malformed"),
        ({"kid": "not-a-directory-kid"}, "unknown_key"),
    ],
    ids=[
        "alg-none",
        "alg-HS256",
        "alg-missing",
        "jwk",
        "jku",
        "x5u",
        "x5c",
        "x5t",
        "crit",
        "zip",
        "cty",
        "unknown-param",
        "b64-with-crit",
        "b64-without-crit",
        "typ-JWT",
        "typ-inner",
        "unknown-kid",
    ],
)
def test_outer_header_outside_the_allowlist_is_refused(
    world: World, change: dict[str, Any], reason: str
) -> None:
    header = {
        "alg": "Ed25519",
        "kid": world.sender_private_sig.thumbprint(),
        "typ": "cme-header+jwt",
    }
    header.update(change)
    header = {k: v for k, v in header.items() if v is not None}
    raw, _ = _build(world, raw_outer_header=header)
    assert _refusal(world, raw) == reason


def test_outer_header_signed_with_the_raw_signer_is_accepted(world: World) -> None:
    """The raw signer above is a real Ed25519 JWS: only the header changes make it fail."""
    header = {
        "alg": "Ed25519",
        "kid": world.sender_private_sig.thumbprint(),
        "typ": "cme-header+jwt",
    }
    raw, _ = _build(world, raw_outer_header=header)
    world.container.opener(RECIPIENT).open(raw)


Changes = Callable[[World, int], dict[str, Any]]
"""Arguments for `_build`, from the world and the current time."""


def _jwe_to_another_key(world: World, _now: int) -> dict[str, Any]:
    kid = world.sender_private_sig.thumbprint()  # a kid the recipient holds no key for
    return {"jwe_header": {"alg": "ECDH-ES", "enc": "A256GCM", "kid": kid}}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        pytest.param(
            lambda _w, _n: {"outer_claims": {"jwe_sha256": "A" * 43}},
            "digest_mismatch",
            id="digest",
        ),
        pytest.param(lambda _w, _n: {"binding": {"aud": "la:331"}}, "wrong_recipient", id="aud"),
        pytest.param(_jwe_to_another_key, "wrong_recipient", id="jwe-kid"),
        pytest.param(
            lambda _w, _n: {"inner_claims": {"aud": "la:331"}},
            "claims_mismatch",
            id="re-addressed",
        ),
        pytest.param(
            lambda _w, n: {"inner_claims": {"iat": n - 60}}, "claims_mismatch", id="inner-iat"
        ),
        pytest.param(
            lambda _w, _n: {"binding": {"iss": "la:331"}}, "claims_mismatch", id="iss-not-signer"
        ),
        pytest.param(
            lambda _w, _n: {"outer_claims": {"justification": {"purpose": "curiosity"}}},
            "justification_invalid",
            id="justification",
        ),
        pytest.param(
            lambda _w, _n: {"outer_claims": {"sub": "x"}}, "malformed", id="unknown-claim"
        ),
        pytest.param(
            lambda _w, n: {"binding": {"iat": n + 600, "exp": n + 3600}},
            "not_yet_valid",
            id="future",
        ),
        pytest.param(
            lambda _w, n: {"binding": {"iat": n - 86400, "exp": n - 600}},
            "expired",
            id="expired",
        ),
        pytest.param(
            lambda _w, n: {"binding": {"exp": n + 31 * 86400}}, "malformed", id="lifetime"
        ),
        pytest.param(
            lambda _w, _n: {"binding": {"cme_type": "school.unheard_of"}},
            "unknown_message_type",
            id="type",
        ),
        pytest.param(
            lambda _w, _n: {"binding": {"cme_ver": 99}}, "unknown_schema_version", id="version"
        ),
        pytest.param(
            lambda _w, _n: {"payload": {**PAYLOAD, "colour": "blue"}},
            "schema_invalid",
            id="payload",
        ),
    ],
)
def test_documented_checks_refuse_with_their_reason(
    world: World, changes: Changes, reason: str
) -> None:
    raw, _ = _build(world, **changes(world, int(time.time())))
    assert _refusal(world, raw) == reason
