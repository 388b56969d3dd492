"""Encryption at rest of the enquiries a work list holds (AES-256-GCM).

A waiting enquiry carries the child's names, date of birth and last known address: the work
list stores it only while a person still has to act on it, and only as a token sealed under the
responder's work key. The associated data binds the token to its agency and row id, so a token
copied into another row (or another agency's list) does not open. Tokens are text,
``v1.<key id>.<base64url(nonce || ciphertext || tag)>``: the key id lets the key rotate (new
tokens use the current key; older ones open under a retired key kept until they are answered).

Random 96-bit nonces: a work list seals far fewer values than NIST SP 800-38D's 2^32 limit.
"""

import base64
import binascii
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from broker.responder.errors import WorkItemUndecryptable

KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
FORMAT_VERSION: Final = "v1"
KEY_ID_PATTERN: Final = r"^[A-Za-z0-9_-]{1,16}$"
_KEY_ID_RE = re.compile(KEY_ID_PATTERN)
_AAD_PREFIX: Final = b"cme-responder/work-item/v1"


def decode_key(text: str, *, what: str = "key") -> bytes:
    """A 32-byte key from base64url text (padding optional); errors name `what`, not the value."""
    stripped = text.strip()
    try:
        raw = base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} must be base64url text") from None
    if len(raw) != KEY_BYTES:
        raise ValueError(f"{what} must decode to exactly {KEY_BYTES} bytes")
    return raw


def new_key() -> str:
    """A fresh random key as base64url text (for operators: `CME_RESPONDER_WORK_KEY=...`)."""
    return _b64(secrets.token_bytes(KEY_BYTES))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class ItemBinding:
    """Where a sealed enquiry lives: the responding agency and the work item's id."""

    agency_id: str
    item_id: str

    def aad(self) -> bytes:
        """The associated data; unambiguous because no part may hold the separator."""
        parts = (self.agency_id, self.item_id)
        if any(not part or "\x1f" in part for part in parts):
            raise ValueError("binding parts must be non-empty and free of the separator")
        return b"\x1f".join((_AAD_PREFIX, *(part.encode() for part in parts)))


class WorkCipher:
    """AES-256-GCM for work-list payloads, with key ids for rotation."""

    def __init__(self, current_key_id: str, keys: Mapping[str, bytes]) -> None:
        if current_key_id not in keys:
            raise ValueError("the current work key id has no key")
        for key_id, key in keys.items():
            if not _KEY_ID_RE.match(key_id):
                raise ValueError("a work key id must be 1-16 of A-Z a-z 0-9 _ -")
            if len(key) != KEY_BYTES:
                raise ValueError(f"a work key must be {KEY_BYTES} bytes")
        self._current = current_key_id
        self._aead = {key_id: AESGCM(key) for key_id, key in keys.items()}

    def seal(self, plaintext: bytes, binding: ItemBinding) -> str:
        """Encrypt under the current key; the token opens only with the same binding."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead[self._current].encrypt(nonce, plaintext, binding.aad())
        return f"{FORMAT_VERSION}.{self._current}.{_b64(nonce + sealed)}"

    def open(self, token: str, binding: ItemBinding) -> bytes:
        """Decrypt a token sealed for `binding`, under whichever known key it names."""
        parts = token.split(".", 2)
        if len(parts) != 3 or parts[0] != FORMAT_VERSION:
            raise WorkItemUndecryptable("not a work-list token of a known version")
        aead = self._aead.get(parts[1])
        if aead is None:
            raise WorkItemUndecryptable("sealed under a key id this responder lacks")
        body = parts[2]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], binding.aad())
        except (InvalidTag, binascii.Error, ValueError):
            raise WorkItemUndecryptable(
                "did not authenticate (wrong key, altered, or moved)"
            ) from None
