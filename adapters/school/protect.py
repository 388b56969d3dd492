"""What the adapter keeps about pupils, and how: keyed digests to match, sealed payloads to send.

The adapter's tables never hold a pupil's identity in clear:

* **Digests** (HMAC-SHA256 under the index key) let it recognise a pupil (the roll that
  answers destination checks, held deletions that `cme.enquiries_complete` releases) and an
  event it has already processed (the idempotency key of an imported row), by equality, without
  storing the identifiers. Each digest is domain-separated by its kind.
* **Sealed payloads** (AES-256-GCM under the field key, a random 96-bit nonce per value, the
  row's table, column and uid as associated data) keep the deletion return a held leaver will
  need, so a ciphertext copied into another row does not open. The cipher is the broker's
  shared `broker.fieldcipher` (tokens ``v1.k1.<base64url>``; one key id for now).

Two keys, not one, for the same reason as the CME desk's: the field key may rotate, the index
key cannot without recomputing every digest.
"""

import hmac
import unicodedata
from dataclasses import dataclass
from datetime import date
from hashlib import sha256
from typing import Final

from adapters.school.errors import SchoolError
from broker import fieldcipher
from broker.fieldcipher import KEY_BYTES as KEY_BYTES
from broker.fieldcipher import KeyedCipher, b64url, join_aad
from broker.fieldcipher import decode_key as decode_key
from broker.fieldcipher import new_key as new_key
from schemas.child import ChildCore, PupilSummary

_FIELD_KEY_ID: Final = "k1"
_FIELD_DOMAIN: Final = "cme-school/field/v1"
_INDEX_PREFIX: Final = "cme-school/index/v1"


def _normal(text: str) -> str:
    """Case, accents, spaces and punctuation do not make another pupil."""
    folded = unicodedata.normalize("NFKD", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


@dataclass(frozen=True, slots=True)
class PupilKeys:
    """The digests a pupil is recognised by: the UPN's (when known) and a demographic one
    (first forename, surname, date of birth)."""

    upn: str | None
    person: str


class Protector:
    """Digests under the index key; sealed values under the field key."""

    def __init__(self, field_key: bytes, index_key: bytes) -> None:
        if len(field_key) != KEY_BYTES or len(index_key) != KEY_BYTES:
            raise ValueError("keys are 32 bytes")
        self._cipher = KeyedCipher(
            _FIELD_KEY_ID, {_FIELD_KEY_ID: field_key}, domain=_FIELD_DOMAIN, label="field key"
        )
        self._index_key = index_key

    def digest(self, kind: str, *parts: str) -> str:
        """HMAC-SHA256 of `parts`, domain-separated by `kind` (43 characters of base64url)."""
        message = "\x1f".join((_INDEX_PREFIX, kind, *parts)).encode()
        return b64url(hmac.new(self._index_key, message, sha256).digest())

    def pupil_keys(self, child: ChildCore | PupilSummary) -> PupilKeys:
        """The digests of a pupil as the roll and the held deletions record them."""
        upn = self.digest("upn", child.upn.upper()) if child.upn else None
        return PupilKeys(upn, self.person_key(child.forenames, child.surname, child.date_of_birth))

    def person_key(self, forenames: str, surname: str, date_of_birth: date) -> str:
        """First forename, surname and date of birth, normalised."""
        first = forenames.split()[0] if forenames.split() else forenames
        return self.digest("person", _normal(first), _normal(surname), date_of_birth.isoformat())

    def seal(self, plaintext: str, table: str, column: str, row: str) -> str:
        """An AES-GCM token bound to (table, column, row)."""
        return self._cipher.seal(plaintext, join_aad(table, column, row))

    def open(self, token: str, table: str, column: str, row: str) -> str:
        """The plaintext of a token sealed for (table, column, row)."""
        try:
            return self._cipher.open(token, join_aad(table, column, row))
        except fieldcipher.MalformedToken:
            raise SchoolError("undecryptable", "not a sealed value of this adapter") from None
        except fieldcipher.FieldCipherError:
            raise SchoolError("undecryptable", "wrong key, or sealed for another row") from None
