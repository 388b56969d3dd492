"""The termly report's vocabulary: term ids, term dates and DfE census days, duration bands
and their edges, median and nearest-rank p90, and the report model's own consistency checks.
"""

from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from adapters.la.errors import DeskError
from adapters.la.reporting import (
    AgencySla,
    DurationBand,
    ReportError,
    Term,
    TermError,
    TermSeason,
    TimeToLocate,
    band_for,
)
from adapters.la.reporting.figures import median, p90

# Census days published by DfE for these terms.
KNOWN_CENSUS_DAYS = [
    pytest.param("2024-autumn", date(2024, 10, 3), id="autumn-2024"),
    pytest.param("2025-spring", date(2025, 1, 16), id="spring-2025"),
    pytest.param("2025-summer", date(2025, 5, 15), id="summer-2025"),
    pytest.param("2025-autumn", date(2025, 10, 2), id="autumn-2025"),
    pytest.param("2026-spring", date(2026, 1, 15), id="spring-2026"),
    pytest.param("2026-autumn", date(2026, 10, 1), id="autumn-2026-on-the-1st"),
    pytest.param("2027-spring", date(2027, 1, 21), id="spring-2027"),
    pytest.param("2027-summer", date(2027, 5, 20), id="summer-2027"),
]


@pytest.mark.parametrize(("term_id", "census"), KNOWN_CENSUS_DAYS)
def test_census_days_are_the_dfe_ones(term_id: str, census: date) -> None:
    assert Term.parse(term_id).census_day == census


@pytest.mark.parametrize(
    ("term_id", "start", "end"),
    [
        ("2026-autumn", date(2026, 9, 1), date(2026, 12, 31)),
        ("2027-spring", date(2027, 1, 1), date(2027, 3, 31)),
        ("2027-summer", date(2027, 4, 1), date(2027, 8, 31)),
        ("2028-spring", date(2028, 1, 1), date(2028, 3, 31)),
    ],
)
def test_term_dates(term_id: str, start: date, end: date) -> None:
    term = Term.parse(term_id)
    assert (term.start, term.end) == (start, end)
    assert str(term) == term.id == term_id


def test_a_parsed_term_has_its_parts_and_words() -> None:
    term = Term.parse("2027-spring")
    assert term == Term(2027, TermSeason.SPRING)
    assert term.label == "Spring term 2027"
    assert term.school_year == "2026/27"
    assert Term.parse("2026-autumn").school_year == "2026/27"
    assert Term.parse("2099-autumn").school_year == "2099/00"


def test_terms_tile_the_calendar_and_census_days_are_thursdays_in_term() -> None:
    term = Term.parse("2000-spring")
    while term.year < 2099:
        following = term.next()
        assert following.start == term.end + timedelta(days=1)
        assert following.previous() == term
        assert term.census_day.weekday() == 3
        assert term.start <= term.census_day <= term.end
        term = following


@pytest.mark.parametrize(
    ("day", "term_id"),
    [
        (date(2026, 8, 31), "2026-summer"),
        (date(2026, 9, 1), "2026-autumn"),
        (date(2026, 12, 31), "2026-autumn"),
        (date(2027, 1, 1), "2027-spring"),
        (date(2027, 3, 31), "2027-spring"),
        (date(2027, 4, 1), "2027-summer"),
    ],
)
def test_the_term_containing_a_day(day: date, term_id: str) -> None:
    assert Term.containing(day) == Term.parse(term_id)


@pytest.mark.parametrize(
    ("term_id", "reason"),
    [
        ("2026-winter", "term_season_unknown"),
        ("2026-easter", "term_season_unknown"),
        ("26-autumn", "term_id_malformed"),
        ("2026autumn", "term_id_malformed"),
        ("2026-Autumn", "term_id_malformed"),
        (" 2026-autumn", "term_id_malformed"),
        ("2026-autumn\n", "term_id_malformed"),
        ("", "term_id_malformed"),
        ("autumn-2026", "term_id_malformed"),
        ("1999-autumn", "term_year_out_of_range"),
        ("2100-spring", "term_year_out_of_range"),
    ],
)
def test_bad_term_ids_are_refused_with_a_reason(term_id: str, reason: str) -> None:
    with pytest.raises(TermError) as refused:
        Term.parse(term_id)
    assert refused.value.reason == reason
    assert isinstance(refused.value, ReportError)
    assert isinstance(refused.value, DeskError)
    assert refused.value.detail


def test_a_term_built_directly_checks_its_year() -> None:
    with pytest.raises(TermError, match="term_year_out_of_range"):
        Term(1999, TermSeason.AUTUMN)


@pytest.mark.parametrize(
    ("days", "band"),
    [
        (0, DurationBand.UNDER_2_WEEKS),
        (13, DurationBand.UNDER_2_WEEKS),
        (14, DurationBand.WEEKS_2_TO_4),
        (27, DurationBand.WEEKS_2_TO_4),
        (28, DurationBand.WEEKS_4_TO_8),
        (55, DurationBand.WEEKS_4_TO_8),
        (56, DurationBand.WEEKS_8_TO_12),
        (83, DurationBand.WEEKS_8_TO_12),
        (84, DurationBand.WEEKS_12_TO_26),
        (181, DurationBand.WEEKS_12_TO_26),
        (182, DurationBand.WEEKS_26_TO_52),
        (363, DurationBand.WEEKS_26_TO_52),
        (364, DurationBand.OVER_52_WEEKS),
        (5000, DurationBand.OVER_52_WEEKS),
    ],
)
def test_duration_bands_hold_their_lower_edge(days: int, band: DurationBand) -> None:
    assert band_for(days) is band


def test_duration_bands_are_in_order_with_labels() -> None:
    edges = [band.from_days for band in DurationBand]
    assert edges == sorted(edges) == [0, 14, 28, 56, 84, 182, 364]
    assert [band.label for band in DurationBand][:2] == ["under 2 weeks", "2-4 weeks"]
    with pytest.raises(ValueError, match="negative"):
        band_for(-1)


@pytest.mark.parametrize(
    ("days", "expected_median", "expected_p90"),
    [
        ([], None, None),
        ([7], 7.0, 7),
        ([18, 28, 36, 275], 32.0, 275),
        (list(range(1, 11)), 5.5, 9),
        (list(range(1, 12)), 6.0, 10),
        ([5, 5, 5, 100], 5.0, 100),
    ],
)
def test_median_and_nearest_rank_p90(
    days: list[int], expected_median: float | None, expected_p90: int | None
) -> None:
    assert median(days) == expected_median
    assert p90(days) == expected_p90
    assert TimeToLocate.of(days) == TimeToLocate(
        located=len(days), median_days=expected_median, p90_days=expected_p90
    )


def test_agency_compliance_counts_only_what_is_due() -> None:
    row = AgencySla.of("health:RX1", on_time=1, late=1, overdue=1, pending=4)
    assert row.compliance_pct == 33.3
    assert AgencySla.of("la:202", 0, 0, 0, 2).compliance_pct is None
    with pytest.raises(ValidationError):
        AgencySla.of("not an agency", 1, 0, 0, 0)
