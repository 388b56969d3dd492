"""Attacks on the envelope (DESIGN.md section 3), each built from a valid message and each
refused with its exact reason code.

Every attack changes one thing of a valid school -> LA deletion return and rebuilds the rest
as the attacker could (or, for sender-side forgeries, as a careless sender would), with the
hand-made JOSE of `envelope_helpers`. `test_the_forging_tools_rebuild_a_message_that_opens`
shows those tools produce messages the broker accepts, so each refusal is for the one change.
"""

import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc.jwk import OKPKey

from broker.directory.model import AgencyStatus, KeyUse
from broker.envelope import Sealed
from tests.unit.envelope_helpers import (
    HEALTH,
    INNER_TYP,
    LA,
    OUTER_TYP,
    ROTATION_OVERLAP,
    SCHOOL,
    SKEW,
    Unwrapped,
    World,
    b64url,
    b64url_decode,
    b64url_json,
    deletion_return_data,
    digest,
    ed25519_jws,
    ed25519_sign,
    envelope_json,
    hs256_jws,
    json_bytes,
    justification_data,
    replace_char,
    self_signed_certificate,
    sig_header,
    split_jws,
    unsecured_jws,
)


@pytest.fixture
def world(tmp_path: Any) -> World:
    return World(tmp_path)


@pytest.fixture
def sealed(world: World) -> Sealed:
    """A valid deletion return from the school to its LA."""
    return world.seal()


@pytest.fixture
def message(world: World, sealed: Sealed) -> Unwrapped:
    """The same message taken apart with the LA's key."""
    return world.unwrap(sealed)


def attacker_key() -> OKPKey:
    """An Ed25519 key the directory has never seen."""
    return OKPKey.generate_key("Ed25519", auto_kid=True)


def with_outer_header(message: Unwrapped, header: str) -> str:
    """The message with its outer JWS replaced (the JWE, hence the digest, unchanged)."""
    return envelope_json(header, message.jwe)


def with_inner_jws(world: World, message: Unwrapped, inner_jws: str) -> str:
    """The message with its inner JWS replaced, re-encrypted to the LA and the outer header
    re-signed by the school over the new digest (a sender-side forgery)."""
    return world.wrap(message.outer_claims, world.encrypt(inner_jws, LA))


def test_the_forging_tools_rebuild_a_message_that_opens(world: World, message: Unwrapped) -> None:
    outer_signature = world.sign(message.outer_claims, SCHOOL)
    assert split_jws(outer_signature) == (message.outer_header, message.outer_claims)
    assert world.open(with_inner_jws(world, message, message.inner_jws)).claims.iss == SCHOOL


# --- forbidden algorithms and header parameters, in both signed layers --------------------

JwsForgery = Callable[[World, dict[str, Any], bytes], str]
"""Builds a compact JWS from the standard header of the layer and its payload."""


def _alg_none(world: World, header: dict[str, Any], payload: bytes) -> str:
    return unsecured_jws(header | {"alg": "none"}, payload)


def _alg_none_capitalised(world: World, header: dict[str, Any], payload: bytes) -> str:
    return unsecured_jws(header | {"alg": "None"}, payload)


def _alg_missing(world: World, header: dict[str, Any], payload: bytes) -> str:
    return ed25519_jws(sig_header(header["kid"], header["typ"], alg=None), payload, _school(world))


def _alg_eddsa(world: World, header: dict[str, Any], payload: bytes) -> str:
    """The real school key, under the deprecated polymorphic name."""
    return ed25519_jws(header | {"alg": "EdDSA"}, payload, _school(world))


def _hs256_with_public_key(world: World, header: dict[str, Any], payload: bytes) -> str:
    """Key confusion: HMAC keyed with the school's public key, which anyone can read."""
    public = b64url_decode(str(world.current_key(SCHOOL).jwk.as_dict(private=False)["x"]))
    return hs256_jws(header | {"alg": "HS256"}, payload, public)


def _hs256_with_public_jwk(world: World, header: dict[str, Any], payload: bytes) -> str:
    public = json_bytes(world.current_key(SCHOOL).jwk.as_dict(private=False))
    return hs256_jws(header | {"alg": "HS256"}, payload, public)


def _embedded_jwk(world: World, header: dict[str, Any], payload: bytes) -> str:
    key = attacker_key()
    return ed25519_jws(header | {"jwk": key.as_dict(private=False)}, payload, key)


def _jku(world: World, header: dict[str, Any], payload: bytes) -> str:
    key = attacker_key()
    jku = "https://attacker.example/.well-known/jwks.json"
    return ed25519_jws(header | {"jku": jku}, payload, key)


def _x5u(world: World, header: dict[str, Any], payload: bytes) -> str:
    key = attacker_key()
    return ed25519_jws(header | {"x5u": "https://attacker.example/school.pem"}, payload, key)


def _x5c(world: World, header: dict[str, Any], payload: bytes) -> str:
    private = Ed25519PrivateKey.generate()
    x5c = [self_signed_certificate(private)]
    return ed25519_jws(header | {"x5c": x5c}, payload, private)


def _unknown_crit(world: World, header: dict[str, Any], payload: bytes) -> str:
    changes = {"crit": ["urn:attacker:ignore-expiry"], "urn:attacker:ignore-expiry": True}
    return ed25519_jws(header | changes, payload, _school(world))


def _b64_false(world: World, header: dict[str, Any], payload: bytes) -> str:
    """RFC 7797 unencoded payload (signed over the raw bytes), with the school's real key."""
    return _unencoded(world, header | {"b64": False, "crit": ["b64"]}, payload)


def _b64_false_without_crit(world: World, header: dict[str, Any], payload: bytes) -> str:
    return _unencoded(world, header | {"b64": False}, payload)


def _unencoded(world: World, header: dict[str, Any], payload: bytes) -> str:
    protected = b64url_json(header)
    signature = ed25519_sign(_school(world), protected.encode("ascii") + b"." + payload)
    return f"{protected}.{b64url(payload)}.{b64url(signature)}"


def _school(world: World) -> OKPKey:
    return world.private_key(SCHOOL)


HEADER_ATTACKS = [
    pytest.param(_alg_none, "forbidden_algorithm", id="alg-none"),
    pytest.param(_alg_none_capitalised, "forbidden_algorithm", id="alg-None"),
    pytest.param(_alg_missing, "forbidden_algorithm", id="alg-missing"),
    pytest.param(_alg_eddsa, "forbidden_algorithm", id="alg-EdDSA"),
    pytest.param(_hs256_with_public_key, "forbidden_algorithm", id="HS256-public-key"),
    pytest.param(_hs256_with_public_jwk, "forbidden_algorithm", id="HS256-public-jwk"),
    pytest.param(_embedded_jwk, "forbidden_header", id="jwk"),
    pytest.param(_jku, "forbidden_header", id="jku"),
    pytest.param(_x5u, "forbidden_header", id="x5u"),
    pytest.param(_x5c, "forbidden_header", id="x5c"),
    pytest.param(_unknown_crit, "forbidden_header", id="crit"),
    pytest.param(_b64_false, "forbidden_header", id="b64-false"),
    pytest.param(_b64_false_without_crit, "forbidden_header", id="b64-false-without-crit"),
]


@pytest.mark.parametrize(("forge", "reason"), HEADER_ATTACKS)
def test_outer_header_attack(
    world: World, message: Unwrapped, forge: JwsForgery, reason: str
) -> None:
    header = forge(world, message.outer_header, json_bytes(message.outer_claims))
    assert world.refusal(with_outer_header(message, header)) == reason


@pytest.mark.parametrize(("forge", "reason"), HEADER_ATTACKS)
def test_inner_jws_attack(world: World, message: Unwrapped, forge: JwsForgery, reason: str) -> None:
    inner = forge(world, message.inner_header, json_bytes(message.inner_claims))
    assert world.refusal(with_inner_jws(world, message, inner)) == reason


@pytest.mark.parametrize(
    ("outer_typ", "inner_typ"),
    [
        pytest.param(INNER_TYP, INNER_TYP, id="outer-typed-inner"),
        pytest.param(OUTER_TYP, OUTER_TYP, id="inner-typed-outer"),
        pytest.param("JWT", INNER_TYP, id="outer-typed-JWT"),
        pytest.param(None, INNER_TYP, id="outer-untyped"),
    ],
)
def test_a_jws_of_the_wrong_layer_is_refused(
    world: World, message: Unwrapped, outer_typ: str | None, inner_typ: str
) -> None:
    """Cross-layer confusion: a signature made for one layer is not accepted in the other."""
    inner = world.sign(message.inner_claims, SCHOOL, inner_typ)
    jwe = world.encrypt(inner, LA)
    outer = message.outer_claims | {"jwe_sha256": digest(jwe)}
    header = world.sign(outer, SCHOOL, outer_typ)
    assert world.refusal(envelope_json(header, jwe)) == "malformed"


# --- the JWE header -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        pytest.param({"deflate": True}, "forbidden_header", id="zip-DEF"),
        pytest.param({"jku": "https://attacker.example/jwks"}, "forbidden_header", id="jku"),
        pytest.param({"crit": ["urn:attacker:x"]}, "forbidden_header", id="crit"),
        pytest.param({"alg": "dir"}, "forbidden_algorithm", id="alg-dir"),
        pytest.param({"alg": "RSA1_5"}, "forbidden_algorithm", id="alg-RSA1_5"),
        pytest.param({"enc": "A128GCM"}, "forbidden_algorithm", id="enc-A128GCM"),
        pytest.param({"enc": "A128CBC-HS256"}, "forbidden_algorithm", id="enc-CBC"),
    ],
)
def test_jwe_header_attack(
    world: World, message: Unwrapped, changes: dict[str, Any], reason: str
) -> None:
    """A sender-side forgery: the school signs a header over a JWE it built this way."""
    jwe = world.encrypt(message.inner_jws, LA, **changes)
    assert world.refusal(world.wrap(message.outer_claims, jwe)) == reason


def test_a_jwe_to_another_agencys_key_is_refused(world: World, message: Unwrapped) -> None:
    """Addressed to the LA, but encrypted to the GP practice's key."""
    raw = world.wrap(message.outer_claims, world.encrypt(message.inner_jws, HEALTH))
    assert world.refusal(raw, LA) == "wrong_recipient"
    assert world.refusal(raw, HEALTH) == "wrong_recipient"


# --- re-addressing and surreptitious forwarding -------------------------------------------


def test_inner_jws_reencrypted_to_another_recipient_under_the_old_header(
    world: World, message: Unwrapped
) -> None:
    """The LA re-encrypts the school's inner JWS to health and keeps the school's header. The
    header commits to the original JWE, so the hub already refuses it (before the recipient
    could see that it is addressed to the LA)."""
    raw = envelope_json(message.header, world.encrypt(message.inner_jws, HEALTH))
    assert world.refusal(raw, HEALTH) == "digest_mismatch"


def test_inner_jws_reencrypted_under_a_header_the_forwarder_signs_as_the_sender(
    world: World, message: Unwrapped
) -> None:
    """... and re-signs the header with its own key, still claiming to be the school."""
    jwe = world.encrypt(message.inner_jws, HEALTH)
    raw = world.wrap(message.outer_claims | {"aud": HEALTH}, jwe, signer=LA)
    assert world.refusal(raw, HEALTH) == "claims_mismatch"


@pytest.mark.parametrize(
    "outer_changes",
    [
        pytest.param({"iss": LA, "aud": HEALTH}, id="as-itself"),
        pytest.param({"iss": LA, "aud": HEALTH, "jti": str(uuid.uuid4())}, id="new-id"),
    ],
)
def test_surreptitious_forwarding_is_refused(
    world: World, message: Unwrapped, outer_changes: dict[str, Any]
) -> None:
    """The LA, a legitimate recipient, passes the school's signed message on to health as
    its own: the inner layer is signed by the school, not by the outer `iss`."""
    jwe = world.encrypt(message.inner_jws, HEALTH)
    raw = world.wrap(message.outer_claims | outer_changes, jwe, signer=LA)
    assert world.refusal(raw, HEALTH) == "claims_mismatch"


def test_forwarding_with_the_inner_layer_resigned_is_refused(
    world: World, message: Unwrapped
) -> None:
    """The forwarder re-signs the inner layer too, but cannot change what the school's claims
    said without it showing: they no longer match its own outer header."""
    inner = world.sign(message.inner_claims, LA, INNER_TYP)
    jwe = world.encrypt(inner, HEALTH)
    raw = world.wrap(message.outer_claims | {"iss": LA, "aud": HEALTH}, jwe, signer=LA)
    assert world.refusal(raw, HEALTH) == "claims_mismatch"


def test_a_header_resigned_by_another_agency_is_refused(world: World, message: Unwrapped) -> None:
    """Health signs the school's header claims with its own key, keeping `iss` = school."""
    raw = world.wrap(message.outer_claims, message.jwe, signer=HEALTH)
    assert world.refusal(raw) == "claims_mismatch"


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("jti", str(uuid.uuid4())),
        ("iss", LA),
        ("aud", HEALTH),
        ("iat", -60),
        ("exp", +60),
        ("cme_type", "receipt"),
        ("cme_ver", 2),
    ],
)
def test_inner_claims_that_differ_from_the_outer_are_refused(
    world: World, message: Unwrapped, claim: str, value: Any
) -> None:
    """Both layers signed by the school, but one binding claim differs between them."""
    if claim in ("iat", "exp"):
        value = message.inner_claims[claim] + value
    inner = world.sign(message.inner_claims | {claim: value}, SCHOOL, INNER_TYP)
    assert world.refusal(with_inner_jws(world, message, inner)) == "claims_mismatch"


# --- tampering on the way -----------------------------------------------------------------


def test_a_jwe_swapped_for_another_messages_jwe_is_refused(
    world: World, message: Unwrapped
) -> None:
    other = world.seal()
    assert world.refusal(envelope_json(message.header, other.envelope.jwe)) == "digest_mismatch"


@pytest.mark.parametrize("segment", [0, 2, 3, 4], ids=["header", "iv", "ciphertext", "tag"])
def test_a_tampered_jwe_is_refused(world: World, message: Unwrapped, segment: int) -> None:
    parts = message.jwe.split(".")
    parts[segment] = replace_char(parts[segment], len(parts[segment]) // 2)
    raw = envelope_json(message.header, ".".join(parts))
    assert world.refusal(raw) == "digest_mismatch"


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"aud": HEALTH}, id="re-addressed"),
        pytest.param({"jti": str(uuid.uuid4())}, id="new-id"),
        pytest.param({"exp": 2**33}, id="longer-life"),
        pytest.param({"subject_refs": []}, id="subject-hidden"),
        pytest.param({"correlation_id": str(uuid.uuid4())}, id="correlation"),
    ],
)
def test_a_tampered_outer_payload_is_refused(
    world: World, message: Unwrapped, changes: dict[str, Any]
) -> None:
    protected, _, signature = message.header.split(".")
    payload = b64url(json_bytes(message.outer_claims | changes))
    raw = with_outer_header(message, f"{protected}.{payload}.{signature}")
    assert world.refusal(raw) == "bad_signature"


@pytest.mark.parametrize("segment", [0, 2], ids=["protected-header", "signature"])
def test_a_tampered_outer_signature_or_header_is_refused(
    world: World, message: Unwrapped, segment: int
) -> None:
    parts = message.header.split(".")
    if segment == 0:  # the same header, encoded differently
        parts[0] = b64url(json.dumps(message.outer_header, indent=1).encode())
    else:
        parts[2] = replace_char(parts[2], 10)
    assert world.refusal(with_outer_header(message, ".".join(parts))) == "bad_signature"


def test_a_header_signed_by_an_impostor_under_the_senders_kid_is_refused(
    world: World, message: Unwrapped
) -> None:
    header = ed25519_jws(message.outer_header, json_bytes(message.outer_claims), attacker_key())
    assert world.refusal(with_outer_header(message, header)) == "bad_signature"


# --- keys ---------------------------------------------------------------------------------


@pytest.mark.parametrize("layer", ["outer", "inner"])
def test_an_unknown_kid_is_refused(world: World, message: Unwrapped, layer: str) -> None:
    key = attacker_key()
    if layer == "outer":
        header = ed25519_jws(sig_header(str(key.kid)), json_bytes(message.outer_claims), key)
        raw = with_outer_header(message, header)
    else:
        inner = ed25519_jws(
            sig_header(str(key.kid), INNER_TYP), json_bytes(message.inner_claims), key
        )
        raw = with_inner_jws(world, message, inner)
    # The inner layer must name the outer layer's key; any other kid is a re-wrapped message.
    assert world.refusal(raw) == ("unknown_key" if layer == "outer" else "claims_mismatch")


@pytest.mark.parametrize("layer", ["outer", "inner"])
def test_an_encryption_kid_in_a_signature_header_is_refused(
    world: World, message: Unwrapped, layer: str
) -> None:
    """Signed with the school's real signing key, but naming its encryption key's kid."""
    enc_kid = world.current_key(SCHOOL, KeyUse.ENC).kid
    school = world.private_key(SCHOOL)
    if layer == "outer":
        claims = json_bytes(message.outer_claims)
        raw = with_outer_header(message, ed25519_jws(sig_header(enc_kid), claims, school))
    else:
        claims = json_bytes(message.inner_claims)
        inner = ed25519_jws(sig_header(enc_kid, INNER_TYP), claims, school)
        raw = with_inner_jws(world, message, inner)
    assert world.refusal(raw) == ("unknown_key" if layer == "outer" else "claims_mismatch")


@pytest.mark.parametrize("revoke", ["key", "agency"])
def test_a_stolen_key_is_useless_once_revoked(world: World, revoke: str) -> None:
    """The thief signs a brand-new message with the school's key after the revocation."""
    stolen_kid = world.current_key(SCHOOL).kid
    if revoke == "key":
        world.store.revoke_key(stolen_kid)
    else:
        world.store.set_status(SCHOOL, AgencyStatus.REVOKED)
    assert world.private_key(SCHOOL, stolen_kid)  # the thief still holds it
    raw = _fresh_message_signed_with(world, stolen_kid)
    assert world.refusal(raw) == "revoked_key"


def test_an_old_key_is_useless_after_the_rotation_overlap(world: World) -> None:
    old_kid = world.current_key(SCHOOL).kid
    world.store.rotate_keys(SCHOOL)
    world.clock.advance(ROTATION_OVERLAP + SKEW + timedelta(seconds=1))
    raw = _fresh_message_signed_with(world, old_kid)
    assert world.refusal(raw) == "expired_key"


def _fresh_message_signed_with(world: World, kid: str) -> str:
    """A new, otherwise valid message from the school, both layers signed with `kid`."""
    key = world.private_key(SCHOOL, kid)
    binding = world.binding()
    inner = ed25519_jws(
        sig_header(kid, INNER_TYP), json_bytes(binding | {"payload": deletion_return_data()}), key
    )
    jwe = world.encrypt(inner, LA)
    outer = binding | {"justification": justification_data(), "jwe_sha256": digest(jwe)}
    return envelope_json(ed25519_jws(sig_header(kid), json_bytes(outer), key), jwe)


# --- delivery -----------------------------------------------------------------------------


@pytest.mark.parametrize("agency", [HEALTH, SCHOOL])
def test_a_message_opened_by_another_agency_is_refused(
    world: World, sealed: Sealed, agency: str
) -> None:
    assert world.refusal(sealed, agency) == "wrong_recipient"


def test_a_replayed_message_is_refused(world: World, sealed: Sealed) -> None:
    world.open(sealed)
    assert world.refusal(sealed) == "replayed"


def test_a_resent_message_id_is_refused_even_in_a_new_envelope(world: World) -> None:
    """The same message id from the same sender, sealed again (new JWE, new signature)."""
    binding = world.binding()
    world.open(world.forge(binding, deletion_return_data()))
    assert world.refusal(world.forge(binding, deletion_return_data())) == "replayed"
