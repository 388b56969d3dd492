"""Working days and school days: the two clocks the CME process runs on.

"Day" and "school day" differ in law (`shared/domain/timescales.md`): SLAs for locate
enquiries and cross-border notifications count the LA's working days (weekends, England and
Wales bank holidays and the LA's own closure days off), while absence thresholds count one
school's days (its terms, minus INSET days, weekends and bank holidays). Statutory notice
periods in calendar days (e.g. Education Act 1996 s437) need neither.

Bank holidays come from the `holidays` library, never from dates written here.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from itertools import pairwise
from typing import Annotated, Final

import holidays
from pydantic import BaseModel, ConfigDict, Field, model_validator

from adapters.la.errors import CalendarError
from schemas.identifiers import Laestab

_ONE_DAY: Final = timedelta(days=1)
_MAX_DAYS: Final = 400
"""Longest count the calendars walk (more than a school year): a bound against a runaway loop."""


@cache
def bank_holidays(year: int) -> frozenset[date]:
    """England and Wales bank holidays of `year`, with substitute days (e.g. Boxing Day moved
    to Monday when 26 December is a Saturday). England and Wales share one list.
    """
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def _is_weekday_not_bank_holiday(day: date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays(day.year)


def _check_count(n: int) -> None:
    if n < 0:
        raise CalendarError("negative_day_count", "count forward only: n must not be negative")
    if n > _MAX_DAYS:
        raise CalendarError("day_count_too_large", "day counts above 400 are not supported")


def _add_open_days(is_open: Callable[[date], bool], start: date, n: int) -> date:
    """The `n`th open day after `start` (`start` itself not counted); `start` when n is 0."""
    _check_count(n)
    current = start
    while n:
        current += _ONE_DAY
        if is_open(current):
            n -= 1
    return current


def _open_days_between(is_open: Callable[[date], bool], a: date, b: date) -> int:
    """Open days in (a, b]; negative when b is before a. Inverse of `_add_open_days`."""
    if b < a:
        return -_open_days_between(is_open, b, a)
    count = 0
    current = a
    while current < b:
        current += _ONE_DAY
        if is_open(current):
            count += 1
    return count


@dataclass(frozen=True, slots=True)
class WorkingDayCalendar:
    """An LA's working days: Monday to Friday, minus England and Wales bank holidays and the
    LA's own `closures` (e.g. days between Christmas and New Year when its offices shut).
    """

    closures: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def with_closures(cls, closures: Iterable[date]) -> "WorkingDayCalendar":
        """A calendar with the LA's own closure days added."""
        return cls(frozenset(closures))

    def is_working_day(self, day: date) -> bool:
        """True on a weekday that is neither a bank holiday nor an LA closure day."""
        return day not in self.closures and _is_weekday_not_bank_holiday(day)

    def add_working_days(self, start: date, n: int) -> date:
        """The deadline `n` working days after `start`: `start` itself is not counted, so 5
        working days after a Friday is the next Friday (bank holidays and closures skipped).
        """
        return _add_open_days(self.is_working_day, start, n)

    def working_days_between(self, a: date, b: date) -> int:
        """Working days after `a` up to and including `b` (negative when `b` is before `a`), so
        that `working_days_between(a, add_working_days(a, n)) == n`.
        """
        return _open_days_between(self.is_working_day, a, b)


class Term(BaseModel):
    """One term or half term, first and last day inclusive. Half-term holidays are the gaps
    between consecutive terms (schools publish six half terms a year)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> "Term":
        if self.end < self.start:
            raise ValueError("a term ends on or after its start")
        return self


class SchoolCalendar(BaseModel):
    """One school's calendar: its terms and INSET (training) days, loadable from a mapping
    such as `{school: "3304000", terms: [{start, end}], inset_days: [...]}` read from YAML or
    JSON by the caller. A school day is a weekday inside a term that is neither an INSET day
    nor a bank holiday.

    Outside the first and last day of its terms the calendar does not know what is a school
    day (next year's terms may not be published yet), so it refuses rather than guesses.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    school: Laestab
    terms: Annotated[tuple[Term, ...], Field(min_length=1, max_length=30)]
    inset_days: Annotated[tuple[date, ...], Field(max_length=60)] = ()

    @model_validator(mode="after")
    def _consistent(self) -> "SchoolCalendar":
        ordered = sorted(self.terms, key=lambda term: term.start)
        for earlier, later in pairwise(ordered):
            if later.start <= earlier.end:
                raise ValueError("terms must not overlap")
        if len(set(self.inset_days)) != len(self.inset_days):
            raise ValueError("an INSET day is listed twice")
        if any(not self._in_term(day) for day in self.inset_days):
            # Most likely a typo in the dates: an INSET day outside term changes nothing.
            raise ValueError("every INSET day falls inside a term")
        return self

    @property
    def first_day(self) -> date:
        """The first day the calendar covers (start of its earliest term)."""
        return min(term.start for term in self.terms)

    @property
    def last_day(self) -> date:
        """The last day the calendar covers (end of its latest term)."""
        return max(term.end for term in self.terms)

    def covers(self, day: date) -> bool:
        """True when the calendar can say whether `day` is a school day."""
        return self.first_day <= day <= self.last_day

    def _in_term(self, day: date) -> bool:
        return any(term.start <= day <= term.end for term in self.terms)

    def is_school_day(self, day: date) -> bool:
        """True on a weekday in term that is neither an INSET day nor a bank holiday.

        Raises `CalendarError` (`outside_school_calendar`) for a day the calendar does not cover.
        """
        if not self.covers(day):
            raise CalendarError("outside_school_calendar", "the school's terms do not cover it")
        return (
            self._in_term(day) and day not in self.inset_days and _is_weekday_not_bank_holiday(day)
        )

    def add_school_days(self, start: date, n: int) -> date:
        """The `n`th school day after `start` (`start` not counted). Raises `CalendarError`
        when the count runs past the last published term.
        """
        return _add_open_days(self.is_school_day, start, n)

    def school_days_between(self, a: date, b: date) -> int:
        """School days after `a` up to and including `b` (negative when `b` is before `a`)."""
        return _open_days_between(self.is_school_day, a, b)
