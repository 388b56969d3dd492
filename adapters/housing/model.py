"""What the housing adapter works with: tenancy and temporary-accommodation records of the
people in a household. In-process values, separate from the wire models."""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from schemas.child import Address


class Tenure(StrEnum):
    """How the household is housed."""

    TENANCY = "tenancy"
    TEMPORARY_ACCOMMODATION = "temporary_accommodation"


@dataclass(frozen=True)
class TenancyRecord:
    """A household member's stay at one address (one row of the housing records).

    `person_id` is the housing system's own reference for the person: several records of one
    person (a move from temporary accommodation to a tenancy) are one match, not several.
    """

    person_id: str
    tenure: Tenure
    address: Address
    start_date: date | None = None
    moved_out: date | None = None
    forwarding_address: Address | None = None
    confidential: bool = False
    """The address must not be disclosed (e.g. a refuge)."""
    last_updated: date | None = None

    def current_on(self, today: date) -> bool:
        """Still living there on `today`."""
        return self.moved_out is None or self.moved_out > today
