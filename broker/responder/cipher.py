"""Encryption at rest of the enquiries a work list holds (AES-256-GCM, `broker.fieldcipher`).

A waiting enquiry carries the child's names, date of birth and last known address: the work
list stores it only while a person still has to act on it, and only as a token sealed under the
responder's work key. The associated data binds the token to its agency and row id, so a token
copied into another row (or another agency's list) does not open. Tokens are text,
``v1.<key id>.<base64url(nonce || ciphertext || tag)>``: the key id lets the key rotate (new
tokens use the current key; older ones open under a retired key kept until they are answered).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from broker import fieldcipher
from broker.fieldcipher import KEY_BYTES as KEY_BYTES
from broker.fieldcipher import KEY_ID_PATTERN as KEY_ID_PATTERN
from broker.fieldcipher import KeyedCipher, join_aad
from broker.fieldcipher import decode_key as decode_key
from broker.fieldcipher import new_key as new_key
from broker.responder.errors import WorkItemUndecryptable

_DOMAIN: Final = "cme-responder/work-item/v1"
_REFUSALS: Final[dict[type[fieldcipher.FieldCipherError], str]] = {
    fieldcipher.MalformedToken: "not a work-list token of a known version",
    fieldcipher.UnknownKeyId: "sealed under a key id this responder lacks",
    fieldcipher.NotAuthentic: "did not authenticate (wrong key, altered, or moved)",
}


@dataclass(frozen=True)
class ItemBinding:
    """Where a sealed enquiry lives: the responding agency and the work item's id."""

    agency_id: str
    item_id: str

    def aad(self) -> bytes:
        """The associated data; unambiguous because no part may hold the separator."""
        return join_aad(self.agency_id, self.item_id)


class WorkCipher:
    """AES-256-GCM for work-list payloads, with key ids for rotation."""

    def __init__(self, current_key_id: str, keys: Mapping[str, bytes]) -> None:
        self._cipher = KeyedCipher(current_key_id, keys, domain=_DOMAIN, label="work key")

    def seal(self, plaintext: bytes, binding: ItemBinding) -> str:
        """Encrypt under the current key; the token opens only with the same binding."""
        return self._cipher.seal_bytes(plaintext, binding.aad())

    def open(self, token: str, binding: ItemBinding) -> bytes:
        """Decrypt a token sealed for `binding`, under whichever known key it names."""
        try:
            return self._cipher.open_bytes(token, binding.aad())
        except fieldcipher.FieldCipherError as refused:
            detail = _REFUSALS.get(type(refused), "the enquiry did not open")
            raise WorkItemUndecryptable(detail) from None
