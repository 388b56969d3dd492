"""Keyed pseudonyms of the child a message is about (DESIGN.md section 4).

Each identifier the payload holds (UPN, NHS number, consistent identifier, and name + date of
birth) becomes HMAC-SHA256 under an LA-held key, truncated to 128 bits. A DPO who holds the
key can compute the pseudonyms of a child's known identifiers and find every message about
them in the ledger; without the key the references reveal nothing.
"""

import hmac
import unicodedata
from typing import Any

from broker.envelope.jose import b64url


def _norm(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).casefold()
    return "".join(c for c in folded if c.isalnum())


def child_identifiers(child: dict[str, Any]) -> list[str]:
    """Normalised identifier strings for a child record (a dumped child model)."""
    found = [
        f"{field}:{_norm(str(child[field]))}"
        for field in ("upn", "nhs_number", "consistent_identifier")
        if child.get(field)
    ]
    names = (child.get("forenames"), child.get("surname"), child.get("date_of_birth"))
    if all(names):
        found.append("name_dob:" + "|".join(_norm(str(v)) for v in names))
    return found


class Pseudonymiser:
    """Computes subject references with the LA's pseudonym key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("pseudonym key must be at least 16 bytes")
        self._key = key

    def ref(self, identifier: str) -> str:
        """One subject reference (22 base64url characters)."""
        return b64url(hmac.digest(self._key, identifier.encode(), "sha256")[:16])

    def refs_for(self, payload: dict[str, Any]) -> tuple[str, ...]:
        """Sorted references for the child in a dumped payload (empty when it names none)."""
        child = payload.get("child")
        if not isinstance(child, dict):
            return ()
        return tuple(sorted({self.ref(i) for i in child_identifiers(child)}))
