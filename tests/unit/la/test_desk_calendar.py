"""Working days (England and Wales bank holidays, LA closures) and school days (terms, half
terms, INSET days). Every bank holiday asserted here was checked against the `holidays`
library, which is the calendars' only source of bank holidays.
"""

from datetime import date, timedelta

import pytest
import yaml
from pydantic import ValidationError

from adapters.la.calendar import SchoolCalendar, WorkingDayCalendar, bank_holidays
from adapters.la.errors import CalendarError

CALENDAR = WorkingDayCalendar()

KNOWN_BANK_HOLIDAYS = [
    pytest.param(date(2026, 5, 4), id="2026-early-may"),
    pytest.param(date(2026, 12, 25), id="2026-christmas-friday"),
    pytest.param(date(2026, 12, 28), id="2026-boxing-day-substitute-monday"),
    pytest.param(date(2027, 1, 1), id="2027-new-year"),
    pytest.param(date(2027, 3, 26), id="2027-good-friday"),
    pytest.param(date(2027, 3, 29), id="2027-easter-monday"),
    pytest.param(date(2027, 12, 27), id="2027-christmas-substitute-monday"),
    pytest.param(date(2027, 12, 28), id="2027-boxing-day-substitute-tuesday"),
]


@pytest.mark.parametrize("day", KNOWN_BANK_HOLIDAYS)
def test_known_bank_holidays_are_not_working_days(day: date) -> None:
    assert day in bank_holidays(day.year)
    assert day.weekday() < 5  # a weekday: only the bank holiday makes it a day off
    assert not CALENDAR.is_working_day(day)


def test_boxing_day_2026_falls_on_a_saturday_and_moves_to_monday() -> None:
    assert date(2026, 12, 26).weekday() == 5
    assert date(2026, 12, 28) in bank_holidays(2026)


@pytest.mark.parametrize(
    "day",
    [date(2026, 11, 2), date(2026, 12, 24), date(2026, 12, 29), date(2027, 3, 25)],
    ids=["ordinary-monday", "christmas-eve", "between-christmas-and-new-year", "maundy-thursday"],
)
def test_ordinary_weekdays_are_working_days(day: date) -> None:
    assert CALENDAR.is_working_day(day)


@pytest.mark.parametrize("day", [date(2026, 11, 7), date(2026, 11, 8)], ids=["saturday", "sunday"])
def test_weekends_are_not_working_days(day: date) -> None:
    assert not CALENDAR.is_working_day(day)


@pytest.mark.parametrize(
    ("start", "n", "deadline"),
    [
        pytest.param(date(2026, 11, 2), 5, date(2026, 11, 9), id="monday-plus-5-is-monday"),
        pytest.param(date(2026, 11, 6), 5, date(2026, 11, 13), id="friday-plus-5-is-friday"),
        pytest.param(date(2026, 11, 6), 1, date(2026, 11, 9), id="over-a-weekend"),
        pytest.param(date(2026, 11, 7), 1, date(2026, 11, 9), id="from-a-saturday"),
        pytest.param(date(2026, 12, 23), 2, date(2026, 12, 29), id="over-christmas-2026"),
        pytest.param(date(2026, 12, 23), 5, date(2027, 1, 4), id="over-new-year-2027"),
        pytest.param(date(2027, 3, 25), 1, date(2027, 3, 30), id="over-easter-2027"),
        pytest.param(date(2027, 3, 24), 2, date(2027, 3, 30), id="into-easter-2027"),
        pytest.param(date(2026, 11, 2), 0, date(2026, 11, 2), id="zero-is-start"),
        pytest.param(date(2026, 11, 2), 10, date(2026, 11, 16), id="ten-days"),
    ],
)
def test_add_working_days(start: date, n: int, deadline: date) -> None:
    assert CALENDAR.add_working_days(start, n) == deadline
    assert CALENDAR.working_days_between(start, deadline) == n


def test_working_days_between_counts_after_the_first_day_up_to_the_second() -> None:
    assert CALENDAR.working_days_between(date(2026, 12, 23), date(2026, 12, 30)) == 3
    assert CALENDAR.working_days_between(date(2026, 12, 30), date(2026, 12, 23)) == -3
    assert CALENDAR.working_days_between(date(2026, 11, 2), date(2026, 11, 2)) == 0


def test_working_days_between_inverts_add_working_days_over_a_year() -> None:
    start = date(2026, 11, 2)
    for offset in range(0, 370, 7):
        day = start + timedelta(days=offset)
        for n in (1, 2, 5, 10):
            assert CALENDAR.working_days_between(day, CALENDAR.add_working_days(day, n)) == n


def test_la_closure_days_are_skipped() -> None:
    closed = WorkingDayCalendar.with_closures(
        [date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)]
    )
    assert not closed.is_working_day(date(2026, 12, 30))
    # 24 Dec, then 25 and 28 Dec (bank holidays), 29-31 Dec (closed), 1 Jan: 4 Jan.
    assert closed.add_working_days(date(2026, 12, 23), 2) == date(2027, 1, 4)
    assert CALENDAR.add_working_days(date(2026, 12, 23), 2) == date(2026, 12, 29)


def test_calendars_are_immutable_values() -> None:
    assert WorkingDayCalendar() == CALENDAR
    with pytest.raises(AttributeError):
        CALENDAR.closures = frozenset({date(2026, 1, 1)})  # type: ignore[misc]


@pytest.mark.parametrize(
    ("n", "reason"), [(-1, "negative_day_count"), (401, "day_count_too_large")]
)
def test_add_working_days_refuses_bad_counts(n: int, reason: str) -> None:
    with pytest.raises(CalendarError) as refused:
        CALENDAR.add_working_days(date(2026, 11, 2), n)
    assert refused.value.reason == reason


# School calendar: six half terms of a school in LA 330, 2026/27.

SCHOOL_YAML = """
school: "3304000"
terms:
  - {start: 2026-09-03, end: 2026-10-23}
  - {start: 2026-11-02, end: 2026-12-18}
  - {start: 2027-01-05, end: 2027-02-12}
  - {start: 2027-02-22, end: 2027-03-26}
  - {start: 2027-04-12, end: 2027-05-28}
  - {start: 2027-06-07, end: 2027-07-21}
inset_days: [2026-09-03, 2026-11-02, 2027-01-05]
"""


def school_calendar() -> SchoolCalendar:
    return SchoolCalendar.model_validate(yaml.safe_load(SCHOOL_YAML))


def test_a_school_calendar_loads_from_yaml() -> None:
    calendar = school_calendar()
    assert calendar.school == "3304000"
    assert len(calendar.terms) == 6
    assert calendar.first_day == date(2026, 9, 3)
    assert calendar.last_day == date(2027, 7, 21)


@pytest.mark.parametrize(
    ("day", "school_day"),
    [
        pytest.param(date(2026, 9, 3), False, id="inset-first-day"),
        pytest.param(date(2026, 9, 4), True, id="first-teaching-day"),
        pytest.param(date(2026, 10, 28), False, id="october-half-term"),
        pytest.param(date(2026, 11, 2), False, id="inset-after-half-term"),
        pytest.param(date(2026, 11, 3), True, id="tuesday-in-term"),
        pytest.param(date(2026, 11, 7), False, id="saturday-in-term"),
        pytest.param(date(2026, 12, 23), False, id="christmas-holiday"),
        pytest.param(date(2027, 3, 26), False, id="good-friday-inside-the-term"),
        pytest.param(date(2027, 5, 3), False, id="early-may-bank-holiday-in-term"),
        pytest.param(date(2027, 5, 4), True, id="day-after-may-day"),
    ],
)
def test_is_school_day(day: date, school_day: bool) -> None:
    assert school_calendar().is_school_day(day) is school_day


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        pytest.param(date(2026, 10, 22), 2, date(2026, 11, 3), id="over-half-term-and-inset"),
        pytest.param(date(2026, 12, 17), 2, date(2027, 1, 6), id="over-christmas-and-inset"),
        pytest.param(date(2027, 3, 25), 1, date(2027, 4, 12), id="over-easter"),
        pytest.param(date(2026, 11, 3), 10, date(2026, 11, 17), id="ten-school-days"),
    ],
)
def test_add_school_days(start: date, n: int, expected: date) -> None:
    calendar = school_calendar()
    assert calendar.add_school_days(start, n) == expected
    assert calendar.school_days_between(start, expected) == n


def test_school_days_in_the_autumn_term() -> None:
    calendar = school_calendar()
    # Friday 4 Sep, then seven whole weeks to Friday 23 Oct (3 Sep, INSET, is the start).
    assert calendar.school_days_between(date(2026, 9, 3), date(2026, 10, 23)) == 1 + 7 * 5
    # The half-term week adds nothing.
    assert calendar.school_days_between(date(2026, 10, 23), date(2026, 11, 1)) == 0


def test_a_school_calendar_refuses_dates_it_does_not_cover() -> None:
    calendar = school_calendar()
    with pytest.raises(CalendarError) as refused:
        calendar.is_school_day(date(2027, 9, 6))
    assert refused.value.reason == "outside_school_calendar"
    with pytest.raises(CalendarError):
        calendar.add_school_days(date(2027, 7, 20), 5)
    with pytest.raises(CalendarError):
        calendar.school_days_between(date(2026, 8, 1), date(2026, 9, 10))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            {"terms": [{"start": "2026-09-03", "end": "2026-09-01"}]}, id="end-before-start"
        ),
        pytest.param(
            {
                "terms": [
                    {"start": "2026-09-03", "end": "2026-10-23"},
                    {"start": "2026-10-20", "end": "2026-12-18"},
                ]
            },
            id="overlapping-terms",
        ),
        pytest.param({"inset_days": ["2026-10-28"]}, id="inset-in-half-term"),
        pytest.param({"inset_days": ["2026-11-02", "2026-11-02"]}, id="inset-repeated"),
        pytest.param({"terms": []}, id="no-terms"),
        pytest.param({"school": "9994000"}, id="unknown-la-in-laestab"),
        pytest.param({"holidays": []}, id="unknown-field"),
    ],
)
def test_a_bad_school_calendar_is_refused(change: dict[str, object]) -> None:
    data = {**yaml.safe_load(SCHOOL_YAML), **change}
    with pytest.raises(ValidationError):
        SchoolCalendar.model_validate(data)
