"""Errors of the desk's persistence (protection of fields, the case register).

`StoreError` is a local root for now, meant to move under the package's `DeskError`
(adapters/la/errors.py): it already takes the same arguments (`reason`, `detail`), so the move
is a change of base class and the removal of `__init__` here. Every error carries a stable
`reason` code; no detail ever holds personal data, key material or a ciphertext: only opaque
references (case refs, enquiry and duplicate ids) and table/column names.
"""


class StoreError(Exception):
    """Root of the errors raised by the desk's persistence."""

    reason: str = "store_error"

    def __init__(self, reason: str | None = None, detail: str | None = None) -> None:
        self.reason = reason or type(self).reason
        self.detail = detail
        super().__init__(f"{self.reason}: {detail}" if detail else self.reason)


class ProtectionError(StoreError):
    """A protected field could not be sealed or opened."""

    reason = "protection_error"


class UnknownKeyId(ProtectionError):
    """The ciphertext names a key id this desk does not hold (retired and removed, or foreign)."""

    reason = "unknown_key_id"


class Undecryptable(ProtectionError):
    """Authentication failed: wrong key, tampered bytes, or moved from another row or column."""

    reason = "undecryptable"


class CaseNotFound(StoreError):
    """No case with this reference."""

    reason = "case_not_found"


class EnquiryNotFound(StoreError):
    """No enquiry with this id."""

    reason = "enquiry_not_found"


class DuplicateNotFound(StoreError):
    """No possible-duplicate entry with this id."""

    reason = "duplicate_not_found"


class AlreadyDecided(StoreError):
    """The possible duplicate was already decided (by someone else, or twice)."""

    reason = "already_decided"


class CaseStateConflict(StoreError):
    """The change does not fit the case's current state (e.g. closing a closed case)."""

    reason = "case_state_conflict"
