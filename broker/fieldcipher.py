"""AES-256-GCM encryption of single values at rest, with key ids for rotation.

The one implementation behind the CME desk's protected fields, the responders' work list and
the school adapter's held payloads. Each caller names a *domain* (folded into the associated
data, so a token of one store never opens in another) and gives the associated data of the
value's place (its row, column, agency...), so a token copied elsewhere fails to open.

Tokens are text, ``v1.<key id>.<base64url(nonce || ciphertext || tag)>``: the key id lets the
key rotate (new values use the current key; older ones open under a retired key kept until
they are re-encrypted). Random 96-bit nonces are safe for far more values per key than any of
these stores writes (NIST SP 800-38D's 2^32 limit for random nonces).

Errors carry a stable `reason` and a fixed sentence: never a plaintext, a key or a token.
"""

import base64
import binascii
import re
import secrets
from collections.abc import Mapping
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from broker.errors import BrokerError

KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
FORMAT_VERSION: Final = "v1"
KEY_ID_PATTERN: Final = r"^[A-Za-z0-9_-]{1,16}$"
_KEY_ID_RE = re.compile(KEY_ID_PATTERN)
_SEPARATOR: Final = b"\x1f"


def b64url(raw: bytes) -> str:
    """Unpadded base64url text."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decode_key(text: str, *, what: str = "key") -> bytes:
    """A 32-byte key from base64url text (padding optional); errors name `what`, not the value."""
    try:
        raw = _unb64url(text.strip())
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} must be base64url text") from None
    if len(raw) != KEY_BYTES:
        raise ValueError(f"{what} must decode to exactly {KEY_BYTES} bytes")
    return raw


def new_key() -> str:
    """A fresh random 32-byte key as base64url text (for operators' settings)."""
    return b64url(secrets.token_bytes(KEY_BYTES))


class FieldCipherError(BrokerError):
    """A token could not be opened. Subclasses name the exact reason."""

    reason = "field_cipher_error"
    message = "the value could not be opened"

    def __init__(self) -> None:
        super().__init__(self.message)


class MalformedToken(FieldCipherError):
    """Not a token of this format, or of an unknown version."""

    reason = "malformed_token"
    message = "not a protected-value token of a known version"


class UnknownKeyId(FieldCipherError):
    """The token names a key id this cipher does not hold (retired and removed, or foreign)."""

    reason = "unknown_key_id"
    message = "sealed under a key id this cipher lacks"


class NotAuthentic(FieldCipherError):
    """Authentication failed: wrong key, altered bytes, or moved to another place."""

    reason = "not_authentic"
    message = "did not authenticate (wrong key, altered, or moved)"


class KeyedCipher:
    """AES-256-GCM under the current key of a key ring; tokens name their key id."""

    def __init__(
        self,
        current_key_id: str,
        keys: Mapping[str, bytes],
        *,
        domain: str,
        label: str = "key",
    ) -> None:
        """`domain` is folded into every associated data; `label` names the keys in errors
        (for example "field key": "a field key must be 32 bytes")."""
        if not domain or "\x1f" in domain:
            raise ValueError("the domain must be non-empty and free of the separator")
        if current_key_id not in keys:
            raise ValueError(f"the current {label} id has no key")
        for key_id, key in keys.items():
            if not _KEY_ID_RE.match(key_id):
                raise ValueError(f"a {label} id must be 1-16 of A-Z a-z 0-9 _ -")
            if len(key) != KEY_BYTES:
                raise ValueError(f"a {label} must be {KEY_BYTES} bytes")
        self._current = current_key_id
        self._domain = domain.encode()
        self._aead = {key_id: AESGCM(bytes(key)) for key_id, key in keys.items()}

    @property
    def current_key_id(self) -> str:
        """The key id new values are sealed under."""
        return self._current

    def seal_bytes(self, plaintext: bytes, aad: bytes) -> str:
        """Encrypt under the current key; the token opens only with the same `aad`."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead[self._current].encrypt(nonce, plaintext, self._full_aad(aad))
        return f"{FORMAT_VERSION}.{self._current}.{b64url(nonce + sealed)}"

    def open_bytes(self, token: str, aad: bytes) -> bytes:
        """Decrypt a token sealed with `aad`, under whichever known key it names."""
        parts = token.split(".", 2)
        if len(parts) != 3 or parts[0] != FORMAT_VERSION:
            raise MalformedToken
        aead = self._aead.get(parts[1])
        if aead is None:
            raise UnknownKeyId
        try:
            raw = _unb64url(parts[2])
            return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], self._full_aad(aad))
        except (InvalidTag, binascii.Error, ValueError):
            raise NotAuthentic from None

    def seal(self, plaintext: str, aad: bytes) -> str:
        """Encrypt text (UTF-8) under the current key."""
        return self.seal_bytes(plaintext.encode(), aad)

    def open(self, token: str, aad: bytes) -> str:
        """Decrypt a token of text sealed with `aad`."""
        try:
            return self.open_bytes(token, aad).decode()
        except UnicodeDecodeError:
            raise NotAuthentic from None

    @staticmethod
    def key_id_of(token: str) -> str:
        """The key id a token names ('' when it is not a token): for re-encryption sweeps."""
        parts = token.split(".", 2)
        return parts[1] if len(parts) == 3 else ""

    def _full_aad(self, aad: bytes) -> bytes:
        return self._domain + _SEPARATOR + aad


def join_aad(*parts: str) -> bytes:
    """Associated data from parts, unambiguous because no part may be empty or hold the
    separator."""
    if any(not part or "\x1f" in part for part in parts):
        raise ValueError("binding parts must be non-empty and free of the separator")
    return _SEPARATOR.join(part.encode() for part in parts)
