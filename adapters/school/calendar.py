"""The school year and school days, as far as the adapter's rules need them.

Two rules depend on the school year: the new pupil return exemption for pupils joining the
most junior class on its first day, and the deletion return exemption for top-year leavers at
its end. A school configures its own first and last day of each year (its published term
dates); without them the adapter assumes the first weekday on or after 1 September and a
summer term ending on 15 July (`DEFAULT_YEAR_END`), and says so in the docs.

School days count the waits of the destination check: weekdays minus England and Wales bank
holidays (from the `holidays` library) and the school's configured closure days. Half terms
are not modelled: a wait across one is longer in calendar days, never shorter.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Final

import holidays

_ONE_DAY: Final = timedelta(days=1)
_MAX_DAYS: Final = 400
DEFAULT_YEAR_END: Final = (7, 15)
"""(month, day) from which a leaver is "at the end of the year" when no last day is set."""


@cache
def bank_holidays(year: int) -> frozenset[date]:
    """England and Wales bank holidays of `year` (substitute days included)."""
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


@dataclass(frozen=True, slots=True)
class SchoolYearDates:
    """A school year's first and last day (the start of the autumn term, the end of the
    summer term)."""

    first_day: date
    last_day: date


@dataclass(frozen=True, slots=True)
class SchoolCalendar:
    """One school's years and closures."""

    years: Mapping[int, SchoolYearDates] = field(default_factory=dict)
    """Keyed by the calendar year in which each school year begins (its autumn term)."""
    closures: frozenset[date] = frozenset()

    def first_day(self, year: int) -> date:
        """The first day of the school year that began in `year`."""
        configured = self.years.get(year)
        if configured is not None:
            return configured.first_day
        day = date(year, 9, 1)
        while not self.is_school_day(day):
            day += _ONE_DAY
        return day

    def last_day(self, year: int) -> date:
        """The last day of the school year that began in `year`."""
        configured = self.years.get(year)
        if configured is not None:
            return configured.last_day
        month, day = DEFAULT_YEAR_END
        return date(year + 1, month, day)

    def is_school_day(self, day: date) -> bool:
        """A weekday that is neither a bank holiday nor a closure day of the school."""
        return (
            day.weekday() < 5 and day not in bank_holidays(day.year) and (day not in self.closures)
        )

    def add_school_days(self, start: date, n: int) -> date:
        """The `n`th school day after `start` (`start` itself not counted)."""
        if not 0 <= n <= _MAX_DAYS:
            raise ValueError("a school-day count is between 0 and 400")
        current = start
        while n:
            current += _ONE_DAY
            if self.is_school_day(current):
                n -= 1
        return current
