"""School terms as the termly CME statistics count them: `2026-autumn`, `2027-spring`, ...

England's conventional terms, kept simple and identical for every school (one school's own
term dates, with half terms and INSET days, are `adapters.la.calendar.SchoolCalendar`'s
business, not the statistics'):

* autumn `<year>`: 1 September to 31 December of `<year>`;
* spring `<year>`: 1 January to 31 March of `<year>` (not "until Easter": a fixed end keeps
  terms the same length every year and comparable);
* summer `<year>`: 1 April to 31 August of `<year>`.

The three tile the calendar: every day belongs to exactly one term. A school year `2026/27`
is `2026-autumn`, `2027-spring` and `2027-summer`.

Census days are the DfE school census days: autumn the first Thursday in October, spring the
third Thursday in January, summer the third Thursday in May.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

from adapters.la.errors import DeskError

FIRST_YEAR: Final = 2000
LAST_YEAR: Final = 2099
_THURSDAY: Final = 3  # date.weekday()
_TERM_ID: Final = re.compile(r"(?P<year>[0-9]{4})-(?P<season>[a-z]+)")
_FORMAT: Final = "a term id is <year>-autumn, <year>-spring or <year>-summer, e.g. 2026-autumn"


class ReportError(DeskError):
    """The termly report cannot be made (e.g. `term_not_started`, `unreadable_event`)."""

    reason = "report_error"


class TermError(ReportError):
    """A term id that is not `<year>-autumn|spring|summer`, or a year outside 2000-2099.

    Reasons: `term_id_malformed`, `term_season_unknown`, `term_year_out_of_range`.
    """

    reason = "invalid_term"


class TermSeason(StrEnum):
    """The three terms of an English school year, in school-year order."""

    AUTUMN = "autumn"
    SPRING = "spring"
    SUMMER = "summer"


# (first month, last month, census month, which Thursday of the census month)
_SHAPE: Final = {
    TermSeason.AUTUMN: (9, 12, 10, 1),
    TermSeason.SPRING: (1, 3, 1, 3),
    TermSeason.SUMMER: (4, 8, 5, 3),
}


def _nth_thursday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(_THURSDAY - first.weekday()) % 7 + 7 * (n - 1))


def _last_day(year: int, month: int) -> date:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return following - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Term:
    """One statistics term (see the module docstring). `str(term)` is its id.

    Not to be confused with `adapters.la.calendar.Term`, one school's published term dates.
    """

    year: int
    season: TermSeason

    def __post_init__(self) -> None:
        if not FIRST_YEAR <= self.year <= LAST_YEAR:
            raise TermError("term_year_out_of_range", "a term year is between 2000 and 2099")

    @classmethod
    def parse(cls, term_id: str) -> "Term":
        """`2026-autumn` -> Term(2026, AUTUMN); raises `TermError` with a reason code."""
        found = _TERM_ID.fullmatch(term_id)  # not match: "$" would allow a trailing newline
        if found is None:
            raise TermError("term_id_malformed", _FORMAT)
        try:
            season = TermSeason(found["season"])
        except ValueError:
            raise TermError("term_season_unknown", _FORMAT) from None
        return cls(int(found["year"]), season)

    @classmethod
    def containing(cls, day: date) -> "Term":
        """The term `day` falls in (every day is in exactly one)."""
        for season, (first, last, _, _) in _SHAPE.items():
            if first <= day.month <= last:
                return cls(day.year, season)
        raise AssertionError("the terms tile the year")  # pragma: no cover

    @property
    def id(self) -> str:
        """`<year>-<season>`, e.g. `2026-autumn`."""
        return f"{self.year}-{self.season.value}"

    @property
    def label(self) -> str:
        """For people: `Autumn term 2026`."""
        return f"{self.season.value.capitalize()} term {self.year}"

    @property
    def school_year(self) -> str:
        """The school year the term belongs to, e.g. `2026/27` for autumn 2026 and spring 2027."""
        first = self.year if self.season is TermSeason.AUTUMN else self.year - 1
        return f"{first}/{(first + 1) % 100:02d}"

    @property
    def start(self) -> date:
        """The first day of the term."""
        return date(self.year, _SHAPE[self.season][0], 1)

    @property
    def end(self) -> date:
        """The last day of the term (inclusive)."""
        return _last_day(self.year, _SHAPE[self.season][1])

    @property
    def census_day(self) -> date:
        """The DfE school census day of the term: autumn the first Thursday in October,
        spring the third Thursday in January, summer the third Thursday in May."""
        _, _, month, n = _SHAPE[self.season]
        return _nth_thursday(self.year, month, n)

    def previous(self) -> "Term":
        """The term before this one (summer 2027 -> spring 2027 -> autumn 2026)."""
        return Term.containing(self.start - timedelta(days=1))

    def next(self) -> "Term":
        """The term after this one (autumn 2026 -> spring 2027)."""
        return Term.containing(self.end + timedelta(days=1))

    def __str__(self) -> str:
        return self.id
