"""Field encryption (AES-256-GCM bound to row and column, key ids for rotation) and blind
indexes (HMAC-SHA256 over normalised identifiers)."""

import secrets
from datetime import date

import pytest

from adapters.la.protect import (
    Binding,
    BlindIndex,
    FieldCipher,
    IndexKind,
    Protector,
    decode_key,
    new_key,
    normalise_identifier,
    normalise_name,
)
from adapters.la.store_errors import StoreError, Undecryptable, UnknownKeyId
from schemas.child import Address, ChildIdentity

SECRET = "Zephyrine Quillfeather, 12 Marrowbone Lane, ZZ99 3QF"
HERE = Binding("desk_case_child", "identity", "a" * 32)


def cipher(key_id: str = "k1", **keys: bytes) -> FieldCipher:
    return FieldCipher(key_id, keys or {key_id: secrets.token_bytes(32)})


def test_round_trip_and_a_fresh_nonce_each_time() -> None:
    box = cipher()
    first, second = box.seal(SECRET, HERE), box.seal(SECRET, HERE)
    assert first != second  # random nonce: equal values do not look equal at rest
    assert box.open(first, HERE) == box.open(second, HERE) == SECRET
    assert "Zephyrine" not in first


@pytest.mark.parametrize(
    "elsewhere",
    [
        Binding("desk_case_child", "identity", "b" * 32),  # another row
        Binding("desk_case_child", "why", "a" * 32),  # another column
        Binding("desk_event", "identity", "a" * 32),  # another table
    ],
)
def test_a_value_opens_only_where_it_was_sealed(elsewhere: Binding) -> None:
    box = cipher()
    token = box.seal(SECRET, HERE)
    with pytest.raises(Undecryptable) as refused:
        box.open(token, elsewhere)
    assert "Zephyrine" not in str(refused.value)
    assert token not in str(refused.value)


def test_tampering_and_a_wrong_key_are_refused() -> None:
    box = cipher()
    token = box.seal(SECRET, HERE)
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    for bad in (flipped, token[:-10], "v1.k1", "not a token", "v9" + token[2:]):
        with pytest.raises(Undecryptable):
            box.open(bad, HERE)
    with pytest.raises(Undecryptable):
        cipher().open(token, HERE)  # same key id, different key


def test_key_id_prefix_and_rotation() -> None:
    old, new = secrets.token_bytes(32), secrets.token_bytes(32)
    before = FieldCipher("k1", {"k1": old})
    token = before.seal(SECRET, HERE)
    assert token.startswith("v1.k1.")
    after = FieldCipher("k2", {"k1": old, "k2": new})
    assert after.open(token, HERE) == SECRET  # old values still open under their key id
    fresh = after.seal(SECRET, HERE)
    assert fresh.startswith("v1.k2.")
    assert after.key_id_of(fresh) == "k2"
    with pytest.raises(UnknownKeyId):
        FieldCipher("k2", {"k2": new}).open(token, HERE)
    assert issubclass(UnknownKeyId, StoreError)


def test_keys_are_checked_without_echoing_them() -> None:
    with pytest.raises(ValueError, match="32 bytes") as refused:
        decode_key("c2hvcnQ", what="CME_DESK_FIELD_KEY")
    assert "c2hvcnQ" not in str(refused.value)
    with pytest.raises(ValueError, match="base64url"):
        decode_key("not base64 !!")
    assert len(decode_key(new_key())) == 32
    with pytest.raises(ValueError, match="key id"):
        FieldCipher("bad id", {"bad id": secrets.token_bytes(32)})
    with pytest.raises(ValueError, match="current"):
        FieldCipher("k9", {"k1": secrets.token_bytes(32)})


def test_identifiers_are_normalised_before_hashing() -> None:
    index = BlindIndex(secrets.token_bytes(32))
    upn = index.identifier(IndexKind.UPN, "R201100018042")
    assert index.identifier(IndexKind.UPN, " r2011 0001 8042 ") == upn
    assert index.identifier(IndexKind.NHS_NUMBER, "900 000 0009") == index.identifier(
        IndexKind.NHS_NUMBER, "9000000009"
    )
    assert index.identifier(IndexKind.CONSISTENT_ID, "ab 12") == index.identifier(
        IndexKind.CONSISTENT_ID, "AB12"
    )
    # Domain separation: the same text under another kind, or another key, differs.
    assert index.identifier(IndexKind.CONSISTENT_ID, "R201100018042") != upn
    assert BlindIndex(secrets.token_bytes(32)).identifier(IndexKind.UPN, "R201100018042") != upn
    assert len(upn) == 43
    assert "R2011" not in upn
    assert normalise_identifier("\u00a0ab c\t1") == "ABC1"
    with pytest.raises(ValueError, match="not an identifier"):
        index.identifier(IndexKind.SURNAME_DOB, "x")


def test_names_are_normalised_for_the_demographic_key() -> None:
    assert normalise_name("  O'Quillfeather-Zoë ") == "oquillfeatherzoe"
    index = BlindIndex(secrets.token_bytes(32))
    born = date(2014, 3, 9)
    one = ChildIdentity(
        forenames="Zephyrine Maud",
        surname="Quillfeather",
        date_of_birth=born,
        former_surnames=("Brackenwhistle",),
    )
    other = ChildIdentity(forenames="ZEPHYRINE", surname="QUILL FEATHER", date_of_birth=born)
    keys_one, keys_other = index.for_child(one), index.for_child(other)
    assert {kind for kind, _ in keys_one} == {IndexKind.SURNAME_DOB, IndexKind.FORENAME_DOB}
    assert len(keys_one) == 3  # surname, former surname, first forename
    assert keys_other <= keys_one  # same surname and first forename once normalised
    older = other.model_copy(update={"date_of_birth": date(2013, 3, 9)})
    assert not index.for_child(older) & keys_one


def test_a_child_with_identifiers_has_their_digests() -> None:
    index = BlindIndex(secrets.token_bytes(32))
    child = ChildIdentity(
        forenames="Zephyrine",
        surname="Quillfeather",
        date_of_birth=date(2014, 3, 9),
        upn="R201100018042",
        nhs_number="9000000009",
        consistent_identifier="cid-1",
    )
    keys = {kind: digest for kind, digest in index.for_child(child) if kind.is_identifier}
    assert keys == {
        IndexKind.UPN: index.identifier(IndexKind.UPN, "R201100018042"),
        IndexKind.NHS_NUMBER: index.identifier(IndexKind.NHS_NUMBER, "9000000009"),
        IndexKind.CONSISTENT_ID: index.identifier(IndexKind.CONSISTENT_ID, "CID-1"),
    }


def test_models_round_trip_through_the_protector() -> None:
    protector = Protector(cipher(), BlindIndex(secrets.token_bytes(32)))
    child = ChildIdentity(
        forenames="Zephyrine",
        surname="Quillfeather",
        date_of_birth=date(2014, 3, 9),
        addresses=(Address(lines=("12 Marrowbone Lane",), town="Exampleton", postcode="ZZ99 3QF"),),
    )
    token = protector.seal_model(child, HERE)
    assert "Quillfeather" not in token
    assert protector.open_model(token, HERE, ChildIdentity) == child
    assert protector.seal_text(None, HERE) is None
    assert protector.open_text(None, HERE) is None


def test_a_binding_cannot_be_ambiguous() -> None:
    with pytest.raises(ValueError, match="binding parts"):
        Binding("desk_case", "a\x1fb", "row").aad()
    with pytest.raises(ValueError, match="binding parts"):
        Binding("desk_case", "", "row").aad()
