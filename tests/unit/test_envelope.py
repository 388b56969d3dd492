"""The envelope (DESIGN.md section 3): sealing and opening, replay, key lifecycle, time and size
limits, message types and schemas, justification, and garbage input.

Attacks built from valid messages are in `test_envelope_attacks.py`.
"""

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from broker import errors
from broker.app import Container
from broker.directory.model import AgencyStatus, KeyUse
from broker.envelope import Draft, Opener, Sealed
from broker.settings import Settings
from schemas.messages.deletion_return import DeletionReturnV1, DeletionReturnV2
from schemas.messages.receipt import ReceiptV1, ReceiptV2
from tests.unit.envelope_helpers import (
    DEFAULT_LIFETIME,
    DELETION_RETURN,
    HEALTH,
    LA,
    MAX_LIFETIME,
    RECEIPT,
    ROTATION_OVERLAP,
    SCHOOL,
    SKEW,
    T0,
    World,
    b64url_decode,
    b64url_json,
    child,
    deletion_return_data,
    deletion_return_v1,
    deletion_return_v2,
    digest,
    justification,
    justification_data,
    receipt_v1,
    replace_char,
    split_jws,
)

SECOND = timedelta(seconds=1)


@pytest.fixture
def world(tmp_path: Any) -> World:
    return World(tmp_path)


def header_kid(sealed: Sealed) -> str:
    """The kid of the outer signature."""
    return str(split_jws(sealed.envelope.header)[0]["kid"])


def jwe_kid(sealed: Sealed) -> str:
    """The kid of the recipient key the JWE is encrypted to."""
    return str(json.loads(b64url_decode(sealed.envelope.jwe.split(".")[0]))["kid"])


# --- the happy path -----------------------------------------------------------------------


def test_a_deletion_return_opens_with_its_payload_and_claims(world: World) -> None:
    payload = deletion_return_v1()
    correlation = uuid.uuid4()
    sealed = world.seal(payload, correlation_id=correlation)

    opened = world.open(sealed)

    assert opened.payload == payload
    assert isinstance(opened.payload, DeletionReturnV1)
    claims = opened.claims
    assert claims == sealed.claims
    assert (claims.iss, claims.aud) == (SCHOOL, LA)
    assert (claims.cme_type, claims.cme_ver) == (DELETION_RETURN, 1)
    assert claims.iat == int(T0.timestamp())
    assert claims.exp == int((T0 + DEFAULT_LIFETIME).timestamp())
    assert claims.correlation_id == correlation
    assert claims.causation_id is None
    assert claims.justification == justification()
    assert claims.jwe_sha256 == digest(sealed.envelope.jwe)
    assert len(claims.subject_refs) == 3  # UPN, NHS number, name + date of birth


def test_the_wire_form_is_the_documented_envelope(world: World) -> None:
    sealed = world.seal()
    envelope = json.loads(sealed.to_json())
    assert set(envelope) == {"cme", "header", "jwe"}
    assert envelope["cme"] == 1
    header, claims = split_jws(envelope["header"])
    assert header == {
        "alg": "Ed25519",
        "kid": world.current_key(SCHOOL).kid,
        "typ": "cme-header+jwt",
    }
    assert claims["jti"] == str(sealed.claims.jti)
    assert len(envelope["jwe"].split(".")) == 5
    assert jwe_kid(sealed) == world.current_key(LA, KeyUse.ENC).kid


def test_the_outer_header_holds_no_personal_data(world: World) -> None:
    payload = deletion_return_v2()
    header = world.seal(payload).envelope.header
    _, claims = split_jws(header)
    text = json.dumps(claims)
    child_data = payload.child
    for value in (
        child_data.forenames,
        child_data.surname,
        child_data.date_of_birth.isoformat(),
        child_data.upn,
        child_data.nhs_number,
        child_data.consistent_identifier,
    ):
        assert str(value) not in text


def test_a_version_2_deletion_return_opens(world: World) -> None:
    payload = deletion_return_v2()
    opened = world.open(world.seal(payload))
    assert opened.payload == payload
    assert isinstance(opened.payload, DeletionReturnV2)
    assert opened.claims.cme_ver == 2
    assert len(opened.claims.subject_refs) == 4  # ... and the consistent identifier


def test_a_receipt_opens_and_names_no_child(world: World) -> None:
    original = world.seal()
    receipt = receipt_v1(original.claims.jti, original.claims.jwe_sha256, T0)
    sealed = world.seal(
        receipt,
        sender=LA,
        recipient=SCHOOL,
        message_type=RECEIPT,
        justification=justification(purpose="delivery_receipt", data_categories=["receipt"]),
        causation_id=original.claims.jti,
    )
    opened = world.open(sealed, SCHOOL)
    assert opened.payload == receipt
    assert isinstance(opened.payload, ReceiptV1)
    assert (opened.claims.cme_type, opened.claims.cme_ver) == (RECEIPT, 1)
    assert opened.claims.causation_id == original.claims.jti
    assert opened.claims.subject_refs == ()


# --- subject references -------------------------------------------------------------------


def test_subject_refs_are_stable_for_the_same_child(world: World) -> None:
    first = world.seal(deletion_return_v1(serial=1))
    second = world.seal(deletion_return_v1(serial=1))
    as_v2 = world.seal(deletion_return_v2(serial=1))
    other_child = world.seal(deletion_return_v1(serial=2))

    assert first.claims.jti != second.claims.jti
    assert first.claims.subject_refs == second.claims.subject_refs
    assert set(first.claims.subject_refs) < set(as_v2.claims.subject_refs)
    assert not set(first.claims.subject_refs) & set(other_child.claims.subject_refs)
    assert world.open(second).claims.subject_refs == first.claims.subject_refs


def test_subject_refs_ignore_case_and_accents_of_names(world: World) -> None:
    plain = deletion_return_data(child=child(upn=None, nhs_number=None, forenames="Zoe"))
    accented = deletion_return_data(child=child(upn=None, nhs_number=None, forenames=" ZOË "))
    refs = [
        world.seal(DeletionReturnV1.model_validate(data)).claims.subject_refs
        for data in (plain, accented)
    ]
    assert len(refs[0]) == 1
    assert refs[0] == refs[1]


def test_subject_refs_differ_under_another_pseudonym_key(world: World, tmp_path: Any) -> None:
    other = Container(
        Settings(data_dir=tmp_path, pseudonym_key=SecretStr("another-LAs-pseudonym-key-0123")),
        clock=world.clock,
    )
    payload = deletion_return_v1()
    ours = world.seal(payload)
    theirs = other.sealer(SCHOOL).seal(Draft(LA, DELETION_RETURN, payload, justification()))

    assert len(theirs.claims.subject_refs) == len(ours.claims.subject_refs) == 3
    assert not set(ours.claims.subject_refs) & set(theirs.claims.subject_refs)
    assert world.open(theirs).payload == payload


# --- replay -------------------------------------------------------------------------------


@pytest.mark.parametrize("cache", ["sql", "memory"])
def test_a_second_open_of_the_same_envelope_is_a_replay(world: World, cache: str) -> None:
    sealed = world.seal()
    opener = world.opener(LA, replay=cache)
    opener.open(sealed.to_json())
    with pytest.raises(errors.Replayed) as refused:
        opener.open(sealed.to_json())
    assert refused.value.reason == "replayed"


def test_the_database_replay_cache_outlives_the_opener(world: World) -> None:
    sealed = world.seal()
    world.open(sealed)
    assert world.refusal(sealed) == "replayed"  # a new opener, as after a restart


def test_a_replay_cache_remembers_per_sender(world: World) -> None:
    message_id = uuid.uuid4()
    world.open(world.seal(message_id=message_id))
    receipt = receipt_v1(message_id, "A" * 43, T0)
    from_health = world.seal(
        receipt,
        sender=HEALTH,
        message_type=RECEIPT,
        justification=justification(purpose="delivery_receipt"),
        message_id=message_id,
        causation_id=message_id,
    )
    assert world.open(from_health).claims.jti == message_id


def test_a_batched_receipt_opens_when_its_header_names_what_it_answers(world: World) -> None:
    answered = (uuid.uuid4(), uuid.uuid4())
    receipt = ReceiptV2(receipts=tuple(receipt_v1(i, "A" * 43, T0) for i in answered))
    sealed = world.seal(
        receipt,
        sender=LA,
        recipient=SCHOOL,
        message_type=RECEIPT,
        justification=justification(purpose="delivery_receipt"),
        causation_ids=answered,
    )
    opened = world.open(sealed, SCHOOL)
    assert isinstance(opened.payload, ReceiptV2)
    assert opened.claims.causation_ids == answered


@pytest.mark.parametrize(
    "header",
    [
        pytest.param({"causation_ids": ()}, id="header-names-none"),
        pytest.param({"causation_ids": (uuid.uuid4(),)}, id="header-names-another"),
        pytest.param({"causation_id": uuid.uuid4()}, id="v1-style-header"),
    ],
)
def test_a_receipt_answering_other_messages_than_its_header_is_refused(
    world: World, header: dict[str, object]
) -> None:
    """The hub checks and records the header's ids; a payload receipting others would be a
    receipt no hub vouched for."""
    receipt = ReceiptV2(receipts=(receipt_v1(uuid.uuid4(), "A" * 43, T0),))
    sealed = world.seal(
        receipt,
        sender=LA,
        recipient=SCHOOL,
        message_type=RECEIPT,
        justification=justification(purpose="delivery_receipt"),
        **header,
    )
    assert world.refusal(sealed, SCHOOL) == "claims_mismatch"


def test_one_claim_names_what_a_message_answers_not_both(world: World) -> None:
    with pytest.raises(errors.Malformed):
        world.seal(causation_id=uuid.uuid4(), causation_ids=(uuid.uuid4(),))


def test_without_a_replay_cache_the_same_envelope_opens_twice(world: World) -> None:
    sealed = world.seal()
    opener = world.opener(LA, replay="none")
    assert opener.open(sealed.to_json()).claims == opener.open(sealed.to_json()).claims


# --- key lifecycle ------------------------------------------------------------------------


def test_sender_key_rotation_keeps_old_messages_valid_until_they_expire(world: World) -> None:
    """The overlap covers the longest lifetime: a message signed just before a rotation opens
    until its own expiry, and messages after the rotation are signed with the new key."""
    old_kid = world.current_key(SCHOOL).kid
    before = world.seal(lifetime=MAX_LIFETIME)

    world.store.rotate_keys(SCHOOL)
    world.clock.advance(MAX_LIFETIME + SKEW)
    after = world.seal()

    assert header_kid(before) == old_kid
    assert header_kid(after) == world.current_key(SCHOOL).kid != old_kid
    assert world.open(before).payload == world.open(after).payload


def test_after_the_overlap_the_old_sender_key_is_refused(world: World) -> None:
    """The key is checked before the message's own times, so the reason is the key's."""
    before = world.seal(lifetime=MAX_LIFETIME)
    world.store.rotate_keys(SCHOOL)
    world.clock.advance(ROTATION_OVERLAP + SKEW + SECOND)
    assert world.refusal(before) == "expired_key"
    assert world.open(world.seal()).claims.iss == SCHOOL


def test_recipient_key_rotation_old_messages_still_decrypt(world: World) -> None:
    old_enc = world.current_key(LA, KeyUse.ENC).kid
    before = world.seal()
    world.store.rotate_keys(LA)
    after = world.seal()

    assert jwe_kid(before) == old_enc
    assert jwe_kid(after) == world.current_key(LA, KeyUse.ENC).kid != old_enc
    assert world.open(before).payload == world.open(after).payload


def test_a_suspended_sender_is_refused_until_reinstated(world: World) -> None:
    sealed = world.seal()
    world.store.set_status(SCHOOL, AgencyStatus.SUSPENDED)
    assert world.refusal(sealed) == "sender_not_active"
    world.store.set_status(SCHOOL, AgencyStatus.ACTIVE)
    assert world.open(sealed).claims.iss == SCHOOL


def test_a_revoked_agency_is_refused_at_once(world: World) -> None:
    sealed = world.seal()
    world.store.set_status(SCHOOL, AgencyStatus.REVOKED)
    assert world.refusal(sealed) == "revoked_key"


def test_a_revoked_key_is_refused_at_once(world: World) -> None:
    sealed = world.seal()
    world.store.revoke_key(world.current_key(SCHOOL).kid)
    assert world.refusal(sealed) == "revoked_key"


def test_an_opener_built_before_a_revocation_keeps_its_snapshot(world: World) -> None:
    """Revocation takes effect for every opener built after it (each takes a fresh snapshot)."""
    sealed = world.seal()
    stale = world.opener(LA)
    world.store.revoke_key(world.current_key(SCHOOL).kid)
    assert stale.open(sealed.to_json()).claims.iss == SCHOOL
    assert world.refusal(sealed) == "revoked_key"


@pytest.mark.parametrize(
    ("draft", "reason"),
    [
        pytest.param(
            {"recipient": "la:331"},
            "wrong_recipient",
            id="unknown-recipient",
        ),
        pytest.param(
            {"message_type": RECEIPT},
            "unknown_schema_version",
            id="payload-not-of-type",
        ),
        pytest.param(
            {"message_type": "school.unheard_of"},
            "unknown_message_type",
            id="unknown-type",
        ),
        pytest.param({"lifetime": timedelta(days=31)}, "malformed", id="lifetime-over-maximum"),
    ],
)
def test_sealing_an_impossible_draft_raises_an_envelope_error(
    world: World, draft: dict[str, Any], reason: str
) -> None:
    """`Sealer.seal` promises an `EnvelopeError` with a reason code, never another error."""
    with pytest.raises(errors.EnvelopeError) as refused:
        world.seal(**draft)
    assert refused.value.reason == reason


def test_sealing_to_a_recipient_without_a_usable_key_is_refused(world: World) -> None:
    world.store.revoke_key(world.current_key(LA, KeyUse.ENC).kid)
    with pytest.raises(errors.WrongRecipient):
        world.seal()


@pytest.mark.parametrize("status", [AgencyStatus.SUSPENDED, AgencyStatus.REVOKED])
def test_sealing_to_an_inactive_recipient_is_refused(world: World, status: AgencyStatus) -> None:
    world.store.set_status(LA, status)
    with pytest.raises(errors.WrongRecipient):
        world.seal()


# --- times --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after_expiry", "outcome"),
    [(SKEW - SECOND, "opens"), (SKEW, "opens"), (SKEW + SECOND, "expired")],
)
def test_an_expired_message_is_refused_after_the_clock_skew(
    world: World, after_expiry: timedelta, outcome: str
) -> None:
    sealed = world.seal(lifetime=timedelta(hours=1))
    world.clock.advance(timedelta(hours=1) + after_expiry)
    assert _outcome(world, sealed) == outcome


@pytest.mark.parametrize(
    ("ahead", "outcome"),
    [(SKEW - SECOND, "opens"), (SKEW, "opens"), (SKEW + SECOND, "not_yet_valid")],
)
def test_a_message_from_the_future_is_refused_beyond_the_clock_skew(
    world: World, ahead: timedelta, outcome: str
) -> None:
    world.clock.advance(timedelta(hours=1))
    sealed = world.seal()  # by a sender whose clock is `ahead` of the recipient's
    world.clock.advance(-ahead)
    assert _outcome(world, sealed) == outcome


def test_a_lifetime_over_the_maximum_is_refused_at_open(world: World) -> None:
    raw = world.forge(world.binding(lifetime=timedelta(days=31)), deletion_return_data())
    assert world.refusal(raw) == "malformed"


def _outcome(world: World, sealed: Sealed) -> str:
    try:
        world.open(sealed)
    except errors.EnvelopeError as exc:
        return exc.reason
    return "opens"


# --- size ---------------------------------------------------------------------------------


@pytest.mark.parametrize("as_bytes", [False, True])
def test_an_envelope_over_the_size_limit_is_refused(world: World, as_bytes: bool) -> None:
    raw = world.seal().to_json()
    limit = world.container.envelope_config.max_bytes
    at_limit = raw + " " * (limit - len(raw))  # JSON allows trailing whitespace
    over = at_limit + " "
    if as_bytes:
        assert world.refusal(over.encode()) == "too_large"
        assert world.open(at_limit.encode()).claims.iss == SCHOOL
    else:
        assert world.refusal(over) == "too_large"
        assert world.open(at_limit).claims.iss == SCHOOL


def test_the_size_limit_counts_bytes_for_text_input(world: World) -> None:
    limit = world.container.envelope_config.max_bytes
    filler = "é" * (limit // 2)  # within the limit in characters, over it in bytes
    raw = json.dumps({"cme": 1, "header": filler, "jwe": "x" * 10}, ensure_ascii=False)
    assert len(raw) <= limit < len(raw.encode())
    assert world.refusal(raw) == "too_large"


def test_a_huge_payload_is_refused_at_seal(tmp_path: Any) -> None:
    world = World(tmp_path, max_envelope_bytes=4096)
    address = {"lines": ["Flat 1, Synthetic House, " + "x" * 150] * 4, "town": "Testtown"}
    payload = DeletionReturnV1.model_validate(
        deletion_return_data(child=child(addresses=[address] * 5))
    )
    with pytest.raises(errors.TooLarge) as refused:
        world.seal(payload)
    assert refused.value.reason == "too_large"
    assert world.open(world.seal()).claims.iss == SCHOOL  # a normal message still fits


# --- message types, schemas and justification ---------------------------------------------


@pytest.mark.parametrize(
    ("message_type", "version", "reason"),
    [
        ("school.unheard_of", 1, "unknown_message_type"),
        ("unheard_of", 1, "unknown_message_type"),
        (DELETION_RETURN, 99, "unknown_schema_version"),
        (RECEIPT, 3, "unknown_schema_version"),
    ],
)
def test_an_unknown_type_or_version_in_a_signed_header_is_refused(
    world: World, message_type: str, version: int, reason: str
) -> None:
    binding = world.binding(message_type=message_type, version=version)
    raw = world.forge(binding, deletion_return_data())
    assert world.refusal(raw) == reason


def test_a_hand_made_message_opens(world: World) -> None:
    """Control for the forgeries below: the hand tools make messages the broker accepts."""
    raw = world.forge(world.binding(), deletion_return_data())
    assert world.open(raw).payload == deletion_return_v1()


def _without(data: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != key}


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(_without(deletion_return_data(), "child"), id="child-missing"),
        pytest.param(deletion_return_data(ground="9(1)(z)"), id="unknown-ground"),
        pytest.param(deletion_return_data(child=child(upn="A330400000001")), id="upn-check-letter"),
        pytest.param(deletion_return_data(child=child(nhs_number="9999999990")), id="nhs-mod-11"),
        pytest.param(deletion_return_data(favourite_colour="blue"), id="unknown-field"),
        pytest.param(deletion_return_data(destination_known=True), id="destination-rule"),
        pytest.param(deletion_return_data(school=LA), id="not-a-school"),
        pytest.param({}, id="empty"),
    ],
)
def test_a_payload_failing_its_schema_is_refused(world: World, payload: dict[str, Any]) -> None:
    raw = world.forge(world.binding(), payload)
    assert world.refusal(raw) == "schema_invalid"


def test_a_v2_payload_sent_as_v1_is_refused(world: World) -> None:
    payload = deletion_return_v2().model_dump(mode="json")
    assert world.refusal(world.forge(world.binding(version=1), payload)) == "schema_invalid"
    assert world.open(world.forge(world.binding(version=2), payload)).claims.cme_ver == 2


@pytest.mark.parametrize(
    "outer",
    [
        pytest.param({"justification": None}, id="null"),
        pytest.param({"justification": "statutory"}, id="not-an-object"),
        pytest.param({"justification": justification_data(purpose="curiosity")}, id="purpose"),
        pytest.param(
            {"justification": justification_data(consent={"status": "not_sought"})},
            id="consent-without-reason",
        ),
        pytest.param(
            {"justification": justification_data(decision="partial")}, id="partial-no-reasons"
        ),
        pytest.param({"justification": justification_data(statutory_gateways=[])}, id="no-gateway"),
        pytest.param(
            {"justification": justification_data(decided_at="2026-11-20T09:30:00")},
            id="naive-time",
        ),
        pytest.param({"justification": justification_data(child="Ada")}, id="extra-field"),
    ],
)
def test_an_invalid_justification_is_refused(world: World, outer: dict[str, Any]) -> None:
    raw = world.forge(world.binding(), deletion_return_data(), outer=outer)
    assert world.refusal(raw) == "justification_invalid"


def test_a_missing_justification_is_refused(world: World) -> None:
    message = world.unwrap(world.seal())
    outer = _without(message.outer_claims, "justification")
    assert world.refusal(world.wrap(outer, message.jwe)) == "justification_invalid"


# --- garbage never crashes ----------------------------------------------------------------

B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
SEGMENTS = st.text(B64URL_ALPHABET, max_size=60)
HEADERS = st.dictionaries(
    st.sampled_from(["alg", "kid", "typ", "crit", "enc", "epk", "zip", "jwk"]),
    JSON_VALUES,
    max_size=5,
) | st.fixed_dictionaries(
    {
        "alg": st.sampled_from(["Ed25519", "EdDSA", "none", "ECDH-ES"]),
        "kid": st.text(max_size=70),
        "typ": st.sampled_from(["cme-header+jwt", "cme-inner+jwt", "JWT"]),
    }
)
COMPACT = st.one_of(
    st.lists(SEGMENTS, min_size=1, max_size=6).map(".".join),
    st.tuples(HEADERS, JSON_VALUES, st.binary(max_size=64)).map(
        lambda t: f"{b64url_json(t[0])}.{b64url_json(t[1])}.{b64url_json(t[2].hex())}"
    ),
)
ENVELOPES = st.fixed_dictionaries(
    {"cme": st.sampled_from([1, 0, "1", None]), "header": COMPACT, "jwe": COMPACT}
)
GARBAGE = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=400),
    JSON_VALUES.map(json.dumps),
    ENVELOPES.map(json.dumps),
    ENVELOPES.map(lambda e: json.dumps(e).encode()),
)


@pytest.fixture(scope="module")
def garbage_world(tmp_path_factory: Any) -> tuple[World, Opener, str]:
    """A world, an opener and a valid envelope that opener has already accepted."""
    world = World(tmp_path_factory.mktemp("garbage"))
    raw = world.seal().to_json()
    opener = world.opener(LA)
    opener.open(raw)
    return world, opener, raw


def _refuses_cleanly(opener: Opener, raw: str | bytes, *, may_be_a_replay: bool = True) -> None:
    """Refused with an `EnvelopeError` and a documented reason; any other exception fails.
    The opener has already accepted the valid envelope, so a mutation that was wrongly
    accepted would show up as `replayed`: only a harmless re-encoding may."""
    with pytest.raises(errors.EnvelopeError) as refused:
        opener.open(raw)
    assert refused.value.reason in errors.ENVELOPE_REASONS
    if not may_be_a_replay:
        assert refused.value.reason != "replayed"


@settings(max_examples=200, deadline=None)
@given(raw=GARBAGE)
def test_garbage_is_refused_with_a_reason_code(
    garbage_world: tuple[World, Opener, str], raw: str | bytes
) -> None:
    _refuses_cleanly(garbage_world[1], raw)


@settings(max_examples=200, deadline=None)
@given(
    field=st.sampled_from(["header", "jwe"]),
    data=st.data(),
    replacement=st.sampled_from(B64URL_ALPHABET + ".") | st.characters(),
)
def test_a_mutated_valid_envelope_is_refused_with_a_reason_code(
    garbage_world: tuple[World, Opener, str], field: str, data: Any, replacement: str
) -> None:
    _, opener, raw = garbage_world
    envelope = json.loads(raw)
    text = envelope[field]
    position = data.draw(st.integers(0, len(text) - 1), label="position")
    if replacement == text[position]:
        replacement = replace_char(text, position)[position]
    envelope[field] = text[:position] + replacement + text[position + 1 :]
    # The last character of the header's signature carries padding bits: changing only
    # those re-encodes the same signature (base64url malleability), the same message.
    same_signature_bytes = field == "header" and position == len(text) - 1
    _refuses_cleanly(opener, json.dumps(envelope), may_be_a_replay=same_signature_bytes)


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_a_truncated_or_spliced_envelope_is_refused_with_a_reason_code(
    garbage_world: tuple[World, Opener, str], data: Any
) -> None:
    _, opener, raw = garbage_world
    start = data.draw(st.integers(0, len(raw)), label="start")
    end = data.draw(st.integers(start, len(raw)), label="end")
    insert = data.draw(st.text(max_size=5), label="insert")
    spliced = raw[:start] + insert + raw[end:]
    if spliced != raw:
        _refuses_cleanly(opener, spliced)
