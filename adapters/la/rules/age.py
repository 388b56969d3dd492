"""Compulsory school age (Education Act 1996 s8), from the date of birth alone.

A child is of compulsory school age from the first "prescribed day" (31 August, 31 December,
31 March: the Education (Start of Compulsory School Age) Order 1998) on or after their fifth
birthday, until the school leaving date of the school year in which they turn 16: the last
Friday in June (the Education (School Leaving Date) Order 1997). A child whose 16th birthday
falls after that Friday but before the school year ends (1 September) still leaves on it.
"""

import calendar
from datetime import date, timedelta

_PRESCRIBED_DAYS = ((3, 31), (8, 31), (12, 31))
_FRIDAY = 4


def _birthday(date_of_birth: date, years: int) -> date:
    """The birthday at age `years`; 29 February birthdays fall on 1 March in common years
    (Family Law Reform Act 1969 s9: an age is attained at the start of the anniversary)."""
    year = date_of_birth.year + years
    if (date_of_birth.month, date_of_birth.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 3, 1)
    return date_of_birth.replace(year=year)


def compulsory_school_age_starts(date_of_birth: date) -> date:
    """The first day of compulsory school age: the prescribed day on or after the 5th birthday."""
    fifth = _birthday(date_of_birth, 5)
    for month, day in _PRESCRIBED_DAYS:
        prescribed = date(fifth.year, month, day)
        if prescribed >= fifth:
            return prescribed
    return date(fifth.year + 1, 3, 31)  # unreachable: 31 December is always on or after


def school_leaving_date(date_of_birth: date) -> date:
    """The last day of compulsory school age: the last Friday in June of the school year
    (1 September to 31 August) in which the child turns 16."""
    sixteenth = _birthday(date_of_birth, 16)
    # A birthday from September on belongs to the school year that ends the next summer.
    june_year = sixteenth.year + 1 if sixteenth.month >= 9 else sixteenth.year
    last_of_june = date(june_year, 6, 30)
    return last_of_june - timedelta(days=(last_of_june.weekday() - _FRIDAY) % 7)


def is_compulsory_school_age(date_of_birth: date, on: date) -> bool:
    """True when the child is of compulsory school age on `on` (both end days included)."""
    return compulsory_school_age_starts(date_of_birth) <= on <= school_leaving_date(date_of_birth)


def beyond_compulsory_school_age(date_of_birth: date, on: date) -> bool:
    """True once the school leaving date has passed (the child ceases to be of compulsory
    school age at the end of that day)."""
    return on > school_leaving_date(date_of_birth)
