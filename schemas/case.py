"""The vocabulary of a CME case shared by several messages: case reference, risk flags, and the
outcomes that may close a case (`shared/domain/timescales.md`).
"""

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from schemas.base import DISTINCT
from schemas.domain import RiskFlag

CaseRef = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{2,47}$")]
"""The LA's reference for a CME case, e.g. `CME-330-2025-000123`. An opaque token: it must
never be built from the child's name, date of birth or any identifier."""

RiskFlags = Annotated[tuple[RiskFlag, ...], Field(max_length=len(RiskFlag)), DISTINCT]
"""Vulnerable-group flags known to the sender (each at most once)."""


class ClosureOutcome(StrEnum):
    """The only outcomes that may close a CME case; each needs evidence on the case record."""

    ON_ROLL = "on_roll"
    """On a school roll, in this area or elsewhere."""
    ELECTIVE_HOME_EDUCATION = "elective_home_education"
    """Receiving suitable elective home education."""
    LEFT_ENGLAND = "left_england"
    """Left England, established with reasonable certainty."""
    RECEIVING_LA_ACCEPTED = "receiving_la_accepted"
    """Another LA accepted responsibility (`cme.cross_border_confirmation`)."""
    DECEASED = "deceased"
    BEYOND_COMPULSORY_SCHOOL_AGE = "beyond_compulsory_school_age"
