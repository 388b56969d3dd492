"""Errors of the desk's persistence (protection of fields, the case register), under the
package's root `DeskError`. Every error carries a stable `reason` code; no detail ever holds
personal data, key material or a ciphertext: only opaque references (case refs, enquiry and
duplicate ids) and table/column names.
"""

from adapters.la.errors import DeskError


class StoreError(DeskError):
    """Root of the errors raised by the desk's persistence."""

    reason = "store_error"


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
