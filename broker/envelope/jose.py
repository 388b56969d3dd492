"""Strict JOSE primitives over joserfc: algorithm and header allowlists, size limits, and
joserfc's exceptions translated into the broker's reason codes.

Headers are checked by this module before joserfc sees them, so a forbidden algorithm or
parameter is refused with its own reason rather than whatever the library would do.
"""

import base64
import hashlib
import json
import re
from typing import Any, Final

from joserfc import jwe, jws
from joserfc.errors import JoseError
from joserfc.jwe import JWERegistry
from joserfc.jwk import OKPKey
from joserfc.jws import CompactSignature, JWSRegistry

from broker import errors

# RFC 9864 fully-specified name; the polymorphic "EdDSA" is deprecated and refused.
SIGNING_ALG: Final = "Ed25519"
SIGNING_ALGS: Final = frozenset({SIGNING_ALG})
KEY_AGREEMENT_ALG: Final = "ECDH-ES"
KEY_AGREEMENT_ALGS: Final = frozenset({"ECDH-ES", "ECDH-ES+A256KW"})
CONTENT_ENC: Final = "A256GCM"
CONTENT_ENCS: Final = frozenset({CONTENT_ENC})
JWS_HEADER_PARAMS: Final = frozenset({"alg", "kid", "typ"})
JWE_HEADER_PARAMS: Final = frozenset({"alg", "enc", "kid", "epk", "cty", "typ", "apu", "apv"})
OUTER_TYP: Final = "cme-header+jwt"
INNER_TYP: Final = "cme-inner+jwt"


def b64url(data: bytes) -> str:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url decode (no padding, url alphabet only)."""
    if not _B64URL.fullmatch(text):
        raise errors.Malformed("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64URL: Final = re.compile(r"[A-Za-z0-9_-]*")


def sha256_b64url(text: str) -> str:
    """The digest the outer header commits to: base64url(SHA-256(ASCII of the JWE))."""
    return b64url(hashlib.sha256(text.encode("ascii")).digest())


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise errors.Malformed("duplicate JSON member names")
    return result


def strict_json(data: bytes | str) -> Any:
    """Parse JSON, refusing duplicate member names: another implementation might keep the
    first where Python keeps the last, and then the two would not read the same message."""
    return json.loads(data, object_pairs_hook=_no_duplicate_keys)


def protected_header(compact: str, parts: int) -> dict[str, Any]:
    """Decode the protected header of a compact serialization without trusting it."""
    segments = compact.split(".")
    if len(segments) != parts:
        raise errors.Malformed(f"compact serialization must have {parts} parts")
    try:
        header = strict_json(b64url_decode(segments[0]))
    except (ValueError, UnicodeDecodeError):
        raise errors.Malformed("protected header is not base64url JSON") from None
    if not isinstance(header, dict):
        raise errors.Malformed("protected header is not a JSON object")
    return header


def check_jws_header(header: dict[str, Any], typ: str) -> str:
    """Allowlist a JWS header; returns its kid."""
    _check_params(header, JWS_HEADER_PARAMS)
    if header.get("alg") not in SIGNING_ALGS:
        raise errors.ForbiddenAlgorithm("signature algorithm is not allowed")
    if header.get("typ") != typ:
        raise errors.Malformed("unexpected typ")
    return _kid(header)


def check_jwe_header(header: dict[str, Any]) -> str:
    """Allowlist a JWE header (no compression, ECDH-ES family, A256GCM); returns its kid."""
    _check_params(header, JWE_HEADER_PARAMS)
    if header.get("alg") not in KEY_AGREEMENT_ALGS or header.get("enc") not in CONTENT_ENCS:
        raise errors.ForbiddenAlgorithm("encryption algorithm is not allowed")
    return _kid(header)


def _check_params(header: dict[str, Any], allowed: frozenset[str]) -> None:
    extra = set(header) - allowed
    if extra:
        # Names only from our own allowlist vocabulary: never echo attacker-chosen text.
        raise errors.ForbiddenHeader(f"{len(extra)} header parameter(s) not allowed")


def _kid(header: dict[str, Any]) -> str:
    kid = header.get("kid")
    if not isinstance(kid, str) or not 1 <= len(kid) <= 64:
        raise errors.Malformed("header has no usable kid")
    return kid


class Jose:
    """Signs, verifies, encrypts and decrypts with fixed registries and size limits."""

    def __init__(self, max_bytes: int) -> None:
        self._jws = JWSRegistry(algorithms=sorted(SIGNING_ALGS))
        self._jws.max_payload_length = max_bytes
        self._jwe = JWERegistry(algorithms=[*sorted(KEY_AGREEMENT_ALGS), *sorted(CONTENT_ENCS)])
        self._jwe.max_ciphertext_length = max_bytes

    def sign(self, claims: bytes, key: OKPKey, typ: str) -> str:
        """Compact JWS over `claims` with the sender's Ed25519 key."""
        header = {"alg": SIGNING_ALG, "kid": key.kid, "typ": typ}
        return jws.serialize_compact(header, claims, key, registry=self._jws)

    def parse_jws(self, compact: str, typ: str) -> tuple[CompactSignature, str]:
        """Allowlist the header, then split the compact JWS; returns it (unverified) and its kid.

        The allowlist runs first so a forbidden header gets its own reason code, whatever
        joserfc would make of it.
        """
        kid = check_jws_header(protected_header(compact, 3), typ)
        try:
            parsed = jws.extract_compact(compact.encode("ascii"), registry=self._jws)
        except (JoseError, ValueError):
            raise errors.Malformed("JWS is not well formed") from None
        return parsed, kid

    def verify(self, parsed: CompactSignature, key: OKPKey) -> bytes:
        """Verify a parsed JWS with the key the directory gives for its kid."""
        try:
            valid = jws.validate_compact(parsed, key, registry=self._jws)
        except (JoseError, ValueError):
            valid = False
        if not valid:
            raise errors.BadSignature("signature does not verify")
        return parsed.payload

    def encrypt(self, plaintext: str, key: OKPKey) -> str:
        """Compact JWE to the recipient's X25519 key."""
        header = {"alg": KEY_AGREEMENT_ALG, "enc": CONTENT_ENC, "kid": key.kid, "cty": INNER_TYP}
        return jwe.encrypt_compact(header, plaintext, key, registry=self._jwe)

    def decrypt(self, compact: str, key: OKPKey) -> bytes:
        """Decrypt a compact JWE (header already allowlisted)."""
        try:
            plaintext = jwe.decrypt_compact(compact, key, registry=self._jwe).plaintext
        except (JoseError, ValueError, TypeError):
            raise errors.DecryptFailed("JWE does not decrypt") from None
        if plaintext is None:
            raise errors.DecryptFailed("JWE has no plaintext")
        return plaintext
