"""What the health adapter works with: a patient search and the patients it returns, reduced to
what an answer may use. In-process values, separate from the wire models."""

from dataclasses import dataclass
from datetime import date

from schemas.child import Address


@dataclass(frozen=True)
class PatientQuery:
    """A demographic search, as the NHS Personal Demographics Service takes it."""

    family: str
    given: str
    birth_date: date
    nhs_number: str | None = None


@dataclass(frozen=True)
class PatientRecord:
    """One patient the source returned. `address` is the current home (or temporary) address
    and `gp_practice` the current registered GP practice's ODS code, where known."""

    key: str | None
    """The source's own id for the patient (to recognise one patient found twice). None (or
    empty) when the source gave none: such a record is never de-duplicated and never answered
    automatically, since it cannot be told apart from another patient."""
    birth_date: date | None
    nhs_number: str | None
    restricted: bool
    """Flagged sensitive (NHS "restricted"): where the child lives must not be disclosed."""
    gp_practice: str | None = None
    address: Address | None = None
    last_updated: date | None = None


@dataclass(frozen=True)
class PatientSearch:
    """A search's result. `too_many`: the source found more patients than it returned (or, as
    PDS does, refused to return several): the search is ambiguous."""

    patients: tuple[PatientRecord, ...]
    too_many: bool = False
