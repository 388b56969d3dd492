"""The shared at-rest cipher (AES-256-GCM, domain-separated associated data, key ids)."""

import secrets
from collections.abc import Callable

import pytest

from broker.fieldcipher import (
    FieldCipherError,
    KeyedCipher,
    MalformedToken,
    NotAuthentic,
    UnknownKeyId,
    decode_key,
    join_aad,
    new_key,
)

SECRET = "Zephyrine Quillfeather, 12 Marrowbone Lane"
AAD = join_aad("table", "column", "row1")
DOMAIN = "test/field/v1"


def cipher(current: str = "k1", **keys: bytes) -> KeyedCipher:
    return KeyedCipher(current, keys or {current: secrets.token_bytes(32)}, domain=DOMAIN)


def test_round_trip_with_a_fresh_nonce_each_time() -> None:
    box = cipher()
    first, second = box.seal(SECRET, AAD), box.seal(SECRET, AAD)
    assert first != second
    assert box.open(first, AAD) == box.open(second, AAD) == SECRET
    assert "Zephyrine" not in first
    assert box.open_bytes(box.seal_bytes(b"\x00\xff", AAD), AAD) == b"\x00\xff"


def test_a_wrong_aad_or_domain_fails() -> None:
    key = secrets.token_bytes(32)
    box = cipher(k1=key)
    token = box.seal(SECRET, AAD)
    with pytest.raises(NotAuthentic):
        box.open(token, join_aad("table", "column", "row2"))
    other_domain = KeyedCipher("k1", {"k1": key}, domain="other/field/v1")
    with pytest.raises(NotAuthentic):
        other_domain.open(token, AAD)


def test_tampering_and_malformed_tokens_fail() -> None:
    box = cipher()
    token = box.seal(SECRET, AAD)
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    for bad in (flipped, token[:-10]):
        with pytest.raises(NotAuthentic):
            box.open(bad, AAD)
    for bad in ("v1.k1", "not a token", "v9" + token[2:]):
        with pytest.raises(MalformedToken):
            box.open(bad, AAD)


def test_an_unknown_key_id_fails() -> None:
    token = cipher("k1").seal(SECRET, AAD)
    with pytest.raises(UnknownKeyId):
        cipher("k2").open(token, AAD)


def test_rotation_old_key_opens_and_new_values_use_the_current_id() -> None:
    old, new = secrets.token_bytes(32), secrets.token_bytes(32)
    token = cipher("k1", k1=old).seal(SECRET, AAD)
    assert token.startswith("v1.k1.")
    rotated = cipher("k2", k1=old, k2=new)
    assert rotated.current_key_id == "k2"
    assert rotated.open(token, AAD) == SECRET
    fresh = rotated.seal(SECRET, AAD)
    assert fresh.startswith("v1.k2.")
    assert rotated.key_id_of(fresh) == "k2"
    assert rotated.key_id_of(token) == "k1"
    assert rotated.key_id_of("not a token") == ""


def test_errors_hold_no_plaintext_key_or_token() -> None:
    key = secrets.token_bytes(32)
    box = cipher(k1=key)
    token = box.seal(SECRET, AAD)
    attempts: tuple[Callable[[], object], ...] = (
        lambda: box.open(token, join_aad("elsewhere")),
        lambda: cipher().open(token, AAD),
        lambda: cipher("k9").open(token, AAD),
        lambda: box.open(token[:-4], AAD),
    )
    for attempt in attempts:
        with pytest.raises(FieldCipherError) as refused:
            attempt()
        text = str(refused.value) + repr(refused.value)
        for secret in (SECRET, "Zephyrine", token, token.split(".")[2], key.hex()):
            assert secret not in text
        assert refused.value.__cause__ is None
        assert refused.value.reason


def test_keys_and_key_ids_are_checked_without_echoing_them() -> None:
    assert len(decode_key(new_key())) == 32
    with pytest.raises(ValueError, match="exactly 32 bytes") as refused:
        decode_key("c2hvcnQ", what="SOME_KEY")
    assert "c2hvcnQ" not in str(refused.value)
    assert "SOME_KEY" in str(refused.value)
    with pytest.raises(ValueError, match="base64url"):
        decode_key("not base64 !!")
    with pytest.raises(ValueError, match="key id"):
        cipher("bad id")
    with pytest.raises(ValueError, match="current"):
        KeyedCipher("k9", {"k1": secrets.token_bytes(32)}, domain=DOMAIN)
    with pytest.raises(ValueError, match="32 bytes"):
        KeyedCipher("k1", {"k1": b"short"}, domain=DOMAIN)
    with pytest.raises(ValueError, match="separator"):
        join_aad("a\x1fb")
    with pytest.raises(ValueError, match="separator"):
        join_aad("")
