"""The hash chain: how an entry commits to everything before it.

    entry_hash = base64url(SHA-256(prev_hash_bytes || canonical_json(fields)))

`prev_hash_bytes` are the 32 raw bytes of the previous entry's hash (base64url-decoded); the
first entry's `prev_hash` is `GENESIS_HASH` = base64url(SHA-256("cme-ledger-genesis")).
`fields` are the entry's columns named in `HASHED_FIELDS` (everything but the two hashes),
with `recorded_at` as UTC ISO 8601 text to the microsecond and `subject_refs` and
`justification` as their stored JSON text, so any change to a stored byte changes the hash.
Canonical JSON is `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`
encoded as UTF-8. `seq` is inside the hash, so moving an entry to another position breaks it.
"""

import base64
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from broker.directory.tables import as_utc
from broker.envelope.jose import b64url

HASHED_FIELDS: Final = (
    "seq",
    "recorded_at",
    "event",
    "message_id",
    "sender",
    "recipient",
    "message_type",
    "schema_version",
    "subject_refs",
    "justification",
    "jwe_sha256",
    "reason_code",
    "rule",
    "related_message_id",
    "actor",
)
"""The columns an entry's hash covers, besides the previous hash."""

GENESIS_HASH: Final = b64url(hashlib.sha256(b"cme-ledger-genesis").digest())
"""`prev_hash` of entry 1."""


def canonical_json(value: Any) -> str:
    """The one JSON spelling the ledger hashes and signs."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def time_text(value: datetime) -> str:
    """A stored time as hashed: UTC, ISO 8601, always with microseconds."""
    return as_utc(value).astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """The hash of an entry whose columns are `fields` (extra keys are ignored), following the
    entry whose hash is `prev_hash`."""
    hashed = {name: fields[name] for name in HASHED_FIELDS}
    hashed["recorded_at"] = time_text(hashed["recorded_at"])
    return entry_hash_of_values(prev_hash, hashed)


def entry_hash_of_values(prev_hash: str, hashed: Mapping[str, Any]) -> str:
    """`entry_hash` for fields already in hashed form (the verifier's fast path)."""
    digest = hashlib.sha256(base64.urlsafe_b64decode(prev_hash + "="))
    digest.update(canonical_json(hashed).encode("utf-8"))
    return b64url(digest.digest())
