"""Closing a case: each allowed outcome with its evidence, and every refusal path; and the
compulsory school age the age-based closure relies on.
"""

from datetime import date, timedelta
from uuid import UUID

import pytest
from pydantic import ValidationError

from adapters.la.errors import ClosureRefused, DeskError
from adapters.la.model import CaseState
from adapters.la.rules import (
    ClosureEvidence,
    beyond_compulsory_school_age,
    compulsory_school_age_starts,
    is_compulsory_school_age,
    school_leaving_date,
    validate_closure,
)
from schemas.case import ClosureOutcome
from tests.unit.la.desk_builders import TODAY

Outcome = ClosureOutcome
CONFIRMATION = UUID("0b6c1a52-3f43-4b5e-9d1c-6f0e8c4a2b10")
LEFT_IN_2026 = date(2010, 7, 1)  # school leaving date 26 June 2026

ALLOWED = [
    pytest.param(
        Outcome.ON_ROLL,
        {"school": "3314012", "start_date": date(2026, 10, 28)},
        id="on-roll-elsewhere",
    ),
    pytest.param(
        Outcome.ON_ROLL, {"school": "3304001", "start_date": TODAY}, id="on-roll-from-today"
    ),
    pytest.param(
        Outcome.RECEIVING_LA_ACCEPTED,
        {"confirmation_message_id": CONFIRMATION, "responsibility_accepted": True},
        id="receiving-la-accepted",
    ),
    pytest.param(
        Outcome.LEFT_ENGLAND,
        {"how_established": "Confirmed by the school in the new country."},
        id="left-england",
    ),
    pytest.param(
        Outcome.ELECTIVE_HOME_EDUCATION,
        {"ehe_assessed_on": date(2026, 10, 30), "ehe_suitable": True},
        id="suitable-ehe",
    ),
    pytest.param(
        Outcome.DECEASED,
        {"date_of_death": date(2026, 10, 1), "death_source": "registrar"},
        id="deceased",
    ),
    pytest.param(
        Outcome.BEYOND_COMPULSORY_SCHOOL_AGE, {"date_of_birth": LEFT_IN_2026}, id="beyond-age"
    ),
]


@pytest.mark.parametrize(("outcome", "evidence"), ALLOWED)
@pytest.mark.parametrize(
    "state", [CaseState.OPEN, CaseState.AWAITING_RECEIVING_LA, CaseState.NATIONAL_SEARCH]
)
def test_allowed_closures(
    outcome: ClosureOutcome, evidence: dict[str, object], state: CaseState
) -> None:
    given = ClosureEvidence.model_validate(evidence)
    assert validate_closure(outcome, given, state=state, today=TODAY) is outcome
    assert validate_closure(outcome.value, given, state=state, today=TODAY) is outcome


def test_every_outcome_has_an_allowed_closure_in_the_table() -> None:
    assert {param.values[0] for param in ALLOWED} == set(ClosureOutcome)


REFUSED = [
    pytest.param(Outcome.ON_ROLL, {"start_date": TODAY}, "on_roll_needs_school", id="no-school"),
    pytest.param(Outcome.ON_ROLL, {"school": "3304001"}, "on_roll_needs_start_date", id="no-start"),
    pytest.param(
        Outcome.ON_ROLL,
        {"school": "3304001", "start_date": date(2026, 11, 9)},
        "on_roll_start_in_future",
        id="start-in-future",
    ),
    pytest.param(
        Outcome.RECEIVING_LA_ACCEPTED,
        {"responsibility_accepted": True},
        "receiving_la_needs_confirmation",
        id="no-confirmation",
    ),
    pytest.param(
        Outcome.RECEIVING_LA_ACCEPTED,
        {"confirmation_message_id": CONFIRMATION, "responsibility_accepted": False},
        "receiving_la_not_accepted",
        id="confirmation-declines",
    ),
    pytest.param(
        Outcome.RECEIVING_LA_ACCEPTED,
        {"confirmation_message_id": CONFIRMATION},
        "receiving_la_not_accepted",
        id="acceptance-not-stated",
    ),
    pytest.param(
        Outcome.LEFT_ENGLAND,
        {"school": "3304001"},
        "left_england_needs_how_established",
        id="left-england-without-note",
    ),
    pytest.param(
        Outcome.ELECTIVE_HOME_EDUCATION,
        {"ehe_suitable": True},
        "ehe_needs_assessment_date",
        id="ehe-no-assessment",
    ),
    pytest.param(
        Outcome.ELECTIVE_HOME_EDUCATION,
        {"ehe_assessed_on": date(2026, 11, 3), "ehe_suitable": True},
        "ehe_assessment_in_future",
        id="ehe-assessment-in-future",
    ),
    pytest.param(
        Outcome.ELECTIVE_HOME_EDUCATION,
        {"ehe_assessed_on": date(2026, 10, 30), "ehe_suitable": False},
        "ehe_not_found_suitable",
        id="ehe-unsuitable",
    ),
    pytest.param(
        Outcome.ELECTIVE_HOME_EDUCATION,
        {"ehe_assessed_on": date(2026, 10, 30)},
        "ehe_not_found_suitable",
        id="ehe-finding-missing",
    ),
    pytest.param(
        Outcome.DECEASED, {"death_source": "registrar"}, "deceased_needs_date", id="no-date"
    ),
    pytest.param(
        Outcome.DECEASED,
        {"date_of_death": date(2026, 10, 1)},
        "deceased_needs_source",
        id="no-source",
    ),
    pytest.param(
        Outcome.DECEASED,
        {"date_of_death": date(2026, 11, 3), "death_source": "registrar"},
        "deceased_date_in_future",
        id="death-in-future",
    ),
    pytest.param(
        Outcome.BEYOND_COMPULSORY_SCHOOL_AGE,
        {"how_established": "Said to be 16."},
        "beyond_age_needs_date_of_birth",
        id="no-date-of-birth",
    ),
    pytest.param(
        Outcome.BEYOND_COMPULSORY_SCHOOL_AGE,
        {"date_of_birth": date(2011, 7, 1)},
        "still_compulsory_school_age",
        id="turns-16-but-leaving-date-not-passed",
    ),
    pytest.param(
        Outcome.BEYOND_COMPULSORY_SCHOOL_AGE,
        {"date_of_birth": date(2010, 9, 1)},
        "still_compulsory_school_age",
        id="already-16-but-in-year-11",
    ),
]


@pytest.mark.parametrize(("outcome", "evidence", "reason"), REFUSED)
def test_refused_closures(
    outcome: ClosureOutcome, evidence: dict[str, object], reason: str
) -> None:
    given = ClosureEvidence.model_validate(evidence)
    with pytest.raises(ClosureRefused) as refused:
        validate_closure(outcome, given, state=CaseState.OPEN, today=TODAY)
    assert refused.value.reason == reason
    assert isinstance(refused.value, DeskError)


GOOD = ClosureEvidence(school="3304001", start_date=TODAY)


@pytest.mark.parametrize(
    ("outcome", "evidence", "state", "reason"),
    [
        pytest.param(Outcome.ON_ROLL, GOOD, CaseState.CLOSED, "case_already_closed", id="closed"),
        pytest.param(None, GOOD, CaseState.OPEN, "no_outcome", id="no-outcome"),
        pytest.param("", GOOD, CaseState.OPEN, "no_outcome", id="empty-outcome"),
        pytest.param("moved_away", GOOD, CaseState.OPEN, "unknown_outcome", id="unknown-outcome"),
        pytest.param(Outcome.ON_ROLL, None, CaseState.OPEN, "missing_evidence", id="no-evidence"),
        pytest.param(
            Outcome.ON_ROLL,
            ClosureEvidence(),
            CaseState.OPEN,
            "missing_evidence",
            id="empty-evidence",
        ),
    ],
)
def test_general_refusals(
    outcome: ClosureOutcome | str | None,
    evidence: ClosureEvidence | None,
    state: CaseState,
    reason: str,
) -> None:
    with pytest.raises(ClosureRefused) as refused:
        validate_closure(outcome, evidence, state=state, today=TODAY)
    assert refused.value.reason == reason


def test_refusals_never_carry_the_evidence() -> None:
    evidence = ClosureEvidence(date_of_birth=date(2011, 7, 1))
    with pytest.raises(ClosureRefused) as refused:
        validate_closure(
            Outcome.BEYOND_COMPULSORY_SCHOOL_AGE, evidence, state=CaseState.OPEN, today=TODAY
        )
    assert "2011" not in str(refused.value)


@pytest.mark.parametrize(
    "evidence",
    [
        pytest.param({"school": "XXXXXXX"}, id="lost-pupil-laestab"),
        pytest.param({"school": "9994000"}, id="unknown-la"),
        pytest.param({"how_established": ""}, id="empty-note"),
        pytest.param({"colour": "blue"}, id="unknown-field"),
    ],
)
def test_malformed_evidence_is_refused_when_built(evidence: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as refused:
        ClosureEvidence.model_validate(evidence)
    assert "XXXXXXX" not in str(refused.value)
    assert "9994000" not in str(refused.value)


# Compulsory school age (Education Act 1996 s8)


@pytest.mark.parametrize(
    ("date_of_birth", "leaving_date"),
    [
        pytest.param(date(2010, 9, 1), date(2027, 6, 25), id="oldest-in-year-turns-16-in-sept"),
        pytest.param(date(2011, 8, 31), date(2027, 6, 25), id="youngest-in-same-year"),
        pytest.param(date(2011, 7, 15), date(2027, 6, 25), id="turns-16-after-leaving-date"),
        pytest.param(date(2010, 6, 26), date(2026, 6, 26), id="16th-birthday-on-leaving-date"),
        pytest.param(date(2012, 2, 29), date(2028, 6, 30), id="leap-day-june-30-is-friday"),
        pytest.param(date(2013, 12, 31), date(2030, 6, 28), id="new-years-eve"),
    ],
)
def test_school_leaving_date_is_the_last_friday_in_june(
    date_of_birth: date, leaving_date: date
) -> None:
    assert school_leaving_date(date_of_birth) == leaving_date
    assert leaving_date.weekday() == 4
    assert leaving_date.month == 6
    assert (leaving_date + timedelta(days=7)).month == 7  # the last Friday of June
    assert is_compulsory_school_age(date_of_birth, leaving_date)
    assert not beyond_compulsory_school_age(date_of_birth, leaving_date)
    assert beyond_compulsory_school_age(date_of_birth, leaving_date + timedelta(days=1))


@pytest.mark.parametrize(
    ("date_of_birth", "starts"),
    [
        pytest.param(date(2021, 1, 10), date(2026, 3, 31), id="spring-birthday"),
        pytest.param(date(2021, 3, 31), date(2026, 3, 31), id="birthday-on-prescribed-day"),
        pytest.param(date(2021, 4, 1), date(2026, 8, 31), id="summer-birthday"),
        pytest.param(date(2021, 9, 1), date(2026, 12, 31), id="autumn-birthday"),
        pytest.param(date(2020, 2, 29), date(2025, 3, 31), id="leap-day"),
    ],
)
def test_compulsory_school_age_starts_on_the_next_prescribed_day(
    date_of_birth: date, starts: date
) -> None:
    assert compulsory_school_age_starts(date_of_birth) == starts
    assert not is_compulsory_school_age(date_of_birth, starts - timedelta(days=1))
    assert is_compulsory_school_age(date_of_birth, starts)
