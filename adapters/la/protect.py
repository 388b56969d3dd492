"""Protection at rest of the child's identity and contact details (DESIGN.md section 9).

Two mechanisms, with two separate keys:

* **Field encryption**: AES-256-GCM with a random 96-bit nonce per value. The associated data
  is the value's *binding* (table, column and the row's own opaque id), so a ciphertext copied
  into another row or column fails to open. Tokens are text, ``v1.<key id>.<base64url(nonce ||
  ciphertext || tag)>``: the key id lets the field key rotate (new values use the current key,
  old ones still open with a retired key the desk keeps until they are re-encrypted). The
  cipher itself is the broker's shared `broker.fieldcipher`.
* **Blind indexes**: HMAC-SHA256 under the index key over a normalised identifier, so the
  register can find "every case with this UPN" by equality without storing the UPN. Each
  digest is domain-separated by its kind, so a UPN and an NHS number never collide.

Why two keys, not one master key through HKDF: they have different lives. The field key
rotates routinely (cheap: old tokens keep opening under their key id); the index key cannot
rotate without recomputing every index, and losing one must not give away the other.

Random 96-bit nonces are safe for far more than 2^32 values per key (NIST SP 800-38D's limit
for random nonces); a desk writes a few million values a year at most.
"""

import hmac
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, TypeVar

from pydantic import BaseModel

from adapters.la.store_errors import Undecryptable, UnknownKeyId
from broker import fieldcipher
from broker.fieldcipher import KEY_BYTES as KEY_BYTES
from broker.fieldcipher import KEY_ID_PATTERN as KEY_ID_PATTERN
from broker.fieldcipher import KeyedCipher, b64url, join_aad
from broker.fieldcipher import decode_key as decode_key
from broker.fieldcipher import new_key as new_key
from schemas.child import ChildIdentity

_FIELD_DOMAIN: Final = "cme-desk/field/v1"
_INDEX_PREFIX: Final = "cme-desk/index/v1"
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Binding:
    """Where a protected value lives: its table, its column and its row's opaque id.

    It becomes the AES-GCM associated data, so a value opens only where it was sealed.
    """

    table: str
    column: str
    row: str

    def aad(self) -> bytes:
        """The associated data: unambiguous, since no part may contain the separator."""
        return join_aad(self.table, self.column, self.row)

    def describe(self) -> str:
        """Table and column only (the row id stays out of messages)."""
        return f"{self.table}.{self.column}"


class FieldCipher:
    """AES-256-GCM for single values, with key ids for rotation (`broker.fieldcipher`)."""

    def __init__(self, current_key_id: str, keys: Mapping[str, bytes]) -> None:
        self._cipher = KeyedCipher(current_key_id, keys, domain=_FIELD_DOMAIN, label="field key")

    @property
    def current_key_id(self) -> str:
        """The key id new values are sealed under."""
        return self._cipher.current_key_id

    def seal(self, plaintext: str, binding: Binding) -> str:
        """Encrypt under the current key; the token opens only with the same binding."""
        return self._cipher.seal(plaintext, binding.aad())

    def open(self, token: str, binding: Binding) -> str:
        """Decrypt a token sealed for `binding`, under whichever known key it names."""
        try:
            return self._cipher.open(token, binding.aad())
        except fieldcipher.MalformedToken:
            raise Undecryptable(
                detail=f"{binding.describe()}: not a protected-field token of a known version"
            ) from None
        except fieldcipher.UnknownKeyId:
            raise UnknownKeyId(
                detail=f"{binding.describe()}: sealed under a key id this desk lacks"
            ) from None
        except fieldcipher.NotAuthentic:
            raise Undecryptable(
                detail=f"{binding.describe()}: did not authenticate (wrong key, altered, or moved)"
            ) from None

    def key_id_of(self, token: str) -> str:
        """The key id a token names (for re-encryption sweeps after a rotation)."""
        return self._cipher.key_id_of(token)


class IndexKind(StrEnum):
    """What a blind index digest stands for (part of the HMAC input: domain separation)."""

    UPN = "upn"
    NHS_NUMBER = "nhs"
    CONSISTENT_ID = "cid"
    SURNAME_DOB = "sdob"
    """Normalised surname (current or former) + date of birth: the demographic key."""
    FORENAME_DOB = "fdob"
    """Normalised first forename + date of birth: finds a child whose surname changed."""

    @property
    def is_identifier(self) -> bool:
        """True for the keys that identify a child with certainty."""
        return self in IDENTIFIER_KINDS


IDENTIFIER_KINDS: Final = frozenset({IndexKind.UPN, IndexKind.NHS_NUMBER, IndexKind.CONSISTENT_ID})


def normalise_identifier(value: str) -> str:
    """Upper case, compatibility-folded, every space removed (`r201 100 018042` == UPN)."""
    folded = unicodedata.normalize("NFKC", value).upper()
    return "".join(char for char in folded if not char.isspace())


def normalise_name(value: str) -> str:
    """Accents stripped, case folded, letters and digits only (`O'Brien-Zoë` -> `obrienzoe`)."""
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return "".join(char for char in bare.casefold() if char.isalnum())


def first_forename(forenames: str) -> str:
    """The first of the forenames, normalised ('' when there is none)."""
    tokens = forenames.replace("-", " ").split()
    return normalise_name(tokens[0]) if tokens else ""


class BlindIndex:
    """Keyed digests of normalised identifiers (HMAC-SHA256, base64url, 43 characters)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < KEY_BYTES:
            raise ValueError(f"the index key must be at least {KEY_BYTES} bytes")
        self._key = key

    def digest(self, kind: IndexKind, normalised: str) -> str:
        """The digest of an already normalised value of `kind`."""
        message = f"{_INDEX_PREFIX}|{kind.value}|{normalised}".encode()
        return b64url(hmac.digest(self._key, message, "sha256"))

    def identifier(self, kind: IndexKind, value: str) -> str:
        """The digest of a UPN, NHS number or consistent identifier as written anywhere."""
        if not kind.is_identifier:
            raise ValueError("not an identifier kind")
        return self.digest(kind, normalise_identifier(value))

    def for_child(self, child: ChildIdentity) -> frozenset[tuple[IndexKind, str]]:
        """Every digest a child is findable by: its identifiers and its demographic keys."""
        found: set[tuple[IndexKind, str]] = set()
        for kind, value in (
            (IndexKind.UPN, child.upn),
            (IndexKind.NHS_NUMBER, child.nhs_number),
            (IndexKind.CONSISTENT_ID, child.consistent_identifier),
        ):
            if value and normalise_identifier(value):
                found.add((kind, self.identifier(kind, value)))
        dob = child.date_of_birth.isoformat()
        for surname in (child.surname, *child.former_surnames):
            if normalised := normalise_name(surname):
                found.add(
                    (
                        IndexKind.SURNAME_DOB,
                        self.digest(IndexKind.SURNAME_DOB, f"{normalised}|{dob}"),
                    )
                )
        if forename := first_forename(child.forenames):
            found.add(
                (IndexKind.FORENAME_DOB, self.digest(IndexKind.FORENAME_DOB, f"{forename}|{dob}"))
            )
        return frozenset(found)


class Protector:
    """What the register needs: the field cipher and the blind index, with model helpers."""

    def __init__(self, cipher: FieldCipher, index: BlindIndex) -> None:
        self.cipher = cipher
        self.index = index

    def seal_text(self, text: str | None, binding: Binding) -> str | None:
        """Encrypt free text (None stays None)."""
        return None if text is None else self.cipher.seal(text, binding)

    def open_text(self, token: str | None, binding: Binding) -> str | None:
        """Decrypt free text (None stays None)."""
        return None if token is None else self.cipher.open(token, binding)

    def seal_model(self, model: BaseModel, binding: Binding) -> str:
        """Encrypt a model's JSON."""
        return self.cipher.seal(model.model_dump_json(), binding)

    def open_model(self, token: str, binding: Binding, model: type[M]) -> M:
        """Decrypt and validate a model (validation errors hide their input)."""
        return model.model_validate_json(self.cipher.open(token, binding))
