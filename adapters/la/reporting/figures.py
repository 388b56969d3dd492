"""The termly CME report as a frozen model: codes, counts, day counts and agency ids only.

Nothing here identifies a child: no names, identifiers, addresses, free text or case refs
(a case ref is opaque but still points at one child, so it stays out of statistics).

Cohorts (each counted once per case; the definitions live in `adapters.la.reporting.compute`):

* `open_on_census_day`: on the tracking list at the end of the census day (None while the
  census day is still ahead);
* `ever_open`: on the list at any moment of the term (up to `as_of`);
* `opened`: cases opened in the term; `closed`: cases with a closure in the term;
* `open_at_end`: still on the list at the end of the term (or of `as_of`).

Duration bands count whole calendar days in England (Europe/London dates); each band holds
its lower edge and not its upper: 13 days is "under 2 weeks", 14 days "2-4 weeks", 28 days
"4-8 weeks", ..., 364 days (52 weeks) and more "over 52 weeks".
"""

import math
import statistics
from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from typing import Annotated, Final, Self

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator, model_validator

from adapters.la.reporting.terms import Term, TermError
from schemas.agency import AgencyId
from schemas.case import ClosureOutcome
from schemas.domain import CmeReason, RiskFlag

Count = Annotated[int, Field(ge=0)]


class DurationBand(StrEnum):
    """How long a case has been (or was) on the list, in weeks (see the module docstring)."""

    UNDER_2_WEEKS = "under_2_weeks"
    WEEKS_2_TO_4 = "2_to_4_weeks"
    WEEKS_4_TO_8 = "4_to_8_weeks"
    WEEKS_8_TO_12 = "8_to_12_weeks"
    WEEKS_12_TO_26 = "12_to_26_weeks"
    WEEKS_26_TO_52 = "26_to_52_weeks"
    OVER_52_WEEKS = "over_52_weeks"

    @property
    def from_days(self) -> int:
        """The band's lower edge in days (inclusive)."""
        return _BAND_FROM_DAYS[self]

    @property
    def label(self) -> str:
        """For people: `under 2 weeks`, `2-4 weeks`, ..., `over 52 weeks`."""
        return _BAND_LABELS[self]


_BAND_FROM_DAYS: Final = {
    DurationBand.UNDER_2_WEEKS: 0,
    DurationBand.WEEKS_2_TO_4: 14,
    DurationBand.WEEKS_4_TO_8: 28,
    DurationBand.WEEKS_8_TO_12: 56,
    DurationBand.WEEKS_12_TO_26: 84,
    DurationBand.WEEKS_26_TO_52: 182,
    DurationBand.OVER_52_WEEKS: 364,
}
_BAND_LABELS: Final = {
    DurationBand.UNDER_2_WEEKS: "under 2 weeks",
    DurationBand.WEEKS_2_TO_4: "2-4 weeks",
    DurationBand.WEEKS_4_TO_8: "4-8 weeks",
    DurationBand.WEEKS_8_TO_12: "8-12 weeks",
    DurationBand.WEEKS_12_TO_26: "12-26 weeks",
    DurationBand.WEEKS_26_TO_52: "26-52 weeks",
    DurationBand.OVER_52_WEEKS: "over 52 weeks",
}


def band_for(days: int) -> DurationBand:
    """The band of a duration in whole days (lower edge inclusive, upper exclusive)."""
    if days < 0:
        raise ValueError("a duration is not negative")
    return max((band for band in DurationBand if band.from_days <= days), key=lambda b: b.from_days)


def median(days: Sequence[int]) -> float | None:
    """The median (the mean of the two middle values for an even count); None when empty."""
    return float(statistics.median(days)) if days else None


def p90(days: Sequence[int]) -> int | None:
    """The 90th percentile by nearest rank: the smallest value with at least 90% of the values
    at or below it (always an observed duration, never interpolated); None when empty."""
    if not days:
        return None
    return sorted(days)[math.ceil(0.9 * len(days)) - 1]


def _term(value: object) -> Term:
    if isinstance(value, Term):
        return value
    if not isinstance(value, str):
        raise ValueError("a term is a term id string")
    try:
        return Term.parse(value)
    except TermError as error:
        # Pydantic turns ValueError, not the desk's errors, into a validation error.
        raise ValueError(error.detail) from None


TermId = Annotated[Term, PlainValidator(_term), PlainSerializer(str, return_type=str)]
"""A `Term`, written as its id (`2026-autumn`) in JSON."""


class Figures(BaseModel):
    """Base of the report's models: frozen, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Cohorts(Figures):
    """One breakdown row's counts in each cohort (see the module docstring)."""

    open_on_census_day: Count | None
    ever_open: Count
    opened: Count
    closed: Count


class ReasonRow(Cohorts):
    """Cases by CME reason (the reason recorded on the case)."""

    reason: CmeReason


class RiskFlagRow(Cohorts):
    """Cases by vulnerable group: a case counts in each of its risk flags' rows, and in the
    `None` row when it has none, so the rows add up to more than the cases."""

    risk_flag: RiskFlag | None


class DurationRow(Figures):
    """Cases by how long they had been on the list: on census day, at closure, at the end."""

    band: DurationBand
    open_on_census_day: Count | None
    closed: Count
    open_at_end: Count


class OutcomeRow(Figures):
    """Cases closed in the term by outcome (the last closure in the term of each case)."""

    outcome: ClosureOutcome
    closed: Count


class AgencySla(Figures):
    """One agency's locate enquiries due in the term and how they were answered."""

    agency_id: AgencyId
    on_time: Count
    """Answered on or before the respond-by date."""
    late: Count
    """Answered after the respond-by date."""
    overdue: Count
    """Unanswered, past the respond-by date."""
    pending: Count
    """Unanswered, not yet due (only while the term runs)."""
    compliance_pct: float | None
    """on_time / (on_time + late + overdue), in percent to 1 decimal; None when none is due."""

    @classmethod
    def of(cls, agency_id: str, on_time: int, late: int, overdue: int, pending: int) -> Self:
        """The row, with its compliance worked out."""
        due = on_time + late + overdue
        pct = round(100 * on_time / due, 1) if due else None
        return cls.model_validate(
            {
                "agency_id": agency_id,
                "on_time": on_time,
                "late": late,
                "overdue": overdue,
                "pending": pending,
                "compliance_pct": pct,
            }
        )


class Summary(Figures):
    """The headline figures (cross-border definitions in `adapters.la.reporting.compute`)."""

    open_on_census_day: Count | None
    ever_open: Count
    opened: Count
    closed: Count
    reopened: Count
    open_at_end: Count
    cross_border_in: Count
    cross_border_out: Count
    cross_border_out_notified: Count
    cross_border_out_accepted: Count


class TimeToLocate(Figures):
    """Days from the start of a case's time on the list to a closure with a located outcome."""

    located: Count
    median_days: float | None
    p90_days: Count | None

    @classmethod
    def of(cls, days: Sequence[int]) -> Self:
        """Median and nearest-rank p90 of the durations."""
        return cls(located=len(days), median_days=median(days), p90_days=p90(days))


class TermReport(Figures):
    """Every figure of one term's CME analysis (see `termly_report`)."""

    term: TermId
    start: date
    end: date
    census_day: date
    as_of: date
    """Caseload figures count up to the end of this day (the term's last day once it ended)."""
    made_on: date
    """The day the report was made: enquiry SLA status is judged on this day."""
    complete: bool
    """The term has ended: its figures will not change (except late answers to enquiries)."""
    summary: Summary
    by_reason: tuple[ReasonRow, ...]
    by_duration: tuple[DurationRow, ...]
    by_risk_flag: tuple[RiskFlagRow, ...]
    by_outcome: tuple[OutcomeRow, ...]
    enquiry_sla: tuple[AgencySla, ...]
    time_to_locate: TimeToLocate

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        # A report read back from JSON must describe its own term: dates edited by hand or a
        # file renamed to another term would otherwise pass unnoticed.
        if (self.start, self.end, self.census_day) != (
            self.term.start,
            self.term.end,
            self.term.census_day,
        ):
            raise ValueError("start, end and census_day must be the term's")
        if not self.start <= self.as_of <= self.end or self.made_on < self.as_of:
            raise ValueError("as_of falls in the term, on or before made_on")
        if self.complete != (self.made_on > self.end):
            raise ValueError("complete means made after the term's last day")
        return self
