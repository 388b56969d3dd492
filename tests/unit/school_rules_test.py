"""SI 2024/208 as the school adapter applies it (pure rules, no I/O)."""

from dataclasses import replace
from datetime import date

import pytest

from adapters.school.calendar import SchoolCalendar
from adapters.school.rules import (
    attendance_decision,
    check_answer_by,
    confirm_by,
    holds_deletion,
    is_top_year_leaver,
    latest_wait,
    leaver_decision,
    needs_destination_check,
    new_pupil_decision,
    non_arrival_decision,
    sickness_decision,
)
from schemas.domain import DeletionGround
from tests.unit.school_builders import (
    OLD,
    PRIMARY,
    TODAY,
    absence,
    leaver,
    named_school,
    new_pupil,
    non_arrival,
    sickness,
)

FIRST_DAY = date(2026, 9, 3)
LAST_DAY = date(2027, 7, 21)


@pytest.mark.parametrize("ground", list(DeletionGround))
def test_every_reg_9_ground_needs_a_deletion_return_due_by_the_deletion(
    ground: DeletionGround,
) -> None:
    decision = leaver_decision(leaver(ground), PRIMARY)
    assert decision.required
    assert decision.reason == f"ground_{ground.value[-2]}"
    assert decision.due_on == TODAY


@pytest.mark.parametrize("ground", list(DeletionGround))
def test_only_grounds_h_and_i_hold_the_deletion_for_joint_enquiries(
    ground: DeletionGround,
) -> None:
    assert holds_deletion(leaver(ground)) is (ground in (DeletionGround.H, DeletionGround.I))


def test_there_are_fifteen_grounds() -> None:
    assert len(DeletionGround) == 15


@pytest.mark.parametrize(
    ("deletion_date", "year_group", "exempt"),
    [
        (LAST_DAY, "6", True),  # the last day of the year
        (date(2027, 8, 31), "6", True),  # the summer holiday
        (date(2027, 7, 20), "6", False),  # before the end of the year
        (date(2027, 9, 2), "6", False),  # the next year has begun
        (LAST_DAY, "5", False),  # not the top year
        (LAST_DAY, None, False),  # the year group is not known
    ],
)
def test_top_year_leavers_at_the_end_of_the_year_are_exempt(
    deletion_date: date, year_group: str | None, exempt: bool
) -> None:
    event = leaver(DeletionGround.L, deletion_date=deletion_date, year_group=year_group)
    decision = leaver_decision(event, PRIMARY)
    assert decision.required is not exempt
    if exempt:
        assert decision.reason == "top_year_end_of_year"


def test_without_a_configured_top_year_no_leaver_is_exempt() -> None:
    policy = replace(PRIMARY, top_year=None)
    event = leaver(DeletionGround.L, deletion_date=LAST_DAY, year_group="6")
    assert not is_top_year_leaver(event, policy)


def test_the_default_year_end_is_used_without_term_dates() -> None:
    policy = replace(PRIMARY, calendar=SchoolCalendar())
    on_16_july = leaver(DeletionGround.L, deletion_date=date(2027, 7, 16), year_group="6")
    on_1_july = leaver(DeletionGround.L, deletion_date=date(2027, 7, 1), year_group="6")
    assert is_top_year_leaver(on_16_july, policy)
    assert not is_top_year_leaver(on_1_july, policy)


@pytest.mark.parametrize(
    ("entry_date", "year_group", "exempt"),
    [
        (FIRST_DAY, "R", True),  # the most junior class, on the first day
        (date(2026, 9, 1), "R", True),  # entered just before the first day
        (date(2026, 9, 4), "R", False),  # the second day
        (FIRST_DAY, "1", False),  # not the most junior class
        (date(2026, 8, 1), "R", False),  # long before the year starts
    ],
)
def test_junior_class_first_day_exemption(entry_date: date, year_group: str, exempt: bool) -> None:
    event = new_pupil(entry_date=entry_date, year_group=year_group)
    decision = new_pupil_decision(event, PRIMARY)
    assert decision.required is not exempt


def test_the_la_can_ask_for_junior_class_returns() -> None:
    event = new_pupil(entry_date=FIRST_DAY, year_group="R")
    policy = replace(PRIMARY, la_wants_junior_returns=True)
    assert new_pupil_decision(event, policy).required


def test_the_new_pupil_return_is_due_by_the_end_of_the_fifth_day_after_entry() -> None:
    decision = new_pupil_decision(new_pupil(entry_date=date(2026, 10, 30)), PRIMARY)
    assert decision.due_on == date(2026, 11, 4)


@pytest.mark.parametrize(("days", "required"), [(9, False), (10, True), (25, True)])
def test_attendance_return_from_ten_school_days(days: int, required: bool) -> None:
    decision = attendance_decision(absence(days))
    assert decision.required is required


def test_an_authorised_absence_code_is_not_an_attendance_event() -> None:
    with pytest.raises(ValueError, match="absence_codes"):
        absence(12, codes=("G", "C"))


@pytest.mark.parametrize(("days", "required"), [(14, False), (15, True)])
def test_sickness_return_from_fifteen_expected_school_days(days: int, required: bool) -> None:
    assert sickness_decision(sickness(days)).required is required


def test_non_arrival_always_needs_a_return() -> None:
    assert non_arrival_decision(non_arrival()).required


def test_a_named_other_school_is_checked_but_not_this_one_nor_an_unknown_one() -> None:
    assert needs_destination_check(leaver(new_school=named_school("3304001")), PRIMARY)
    assert needs_destination_check(leaver(new_school=named_school("3314012")), PRIMARY)
    assert not needs_destination_check(leaver(new_school=named_school(OLD[7:])), PRIMARY)
    lost = leaver(new_school={"school": {"laestab": "XXXXXXX"}})
    assert not needs_destination_check(lost, PRIMARY)
    assert not lost.destination_known
    assert not needs_destination_check(leaver(), PRIMARY)


def test_the_return_waits_a_few_school_days_after_the_start_but_never_too_long() -> None:
    # Monday 2 November: 3 school days -> Thursday 5th.
    assert confirm_by(PRIMARY, TODAY, None) == date(2026, 11, 5)
    assert confirm_by(PRIMARY, TODAY, date(2026, 11, 9)) == date(2026, 11, 12)
    # A start six weeks away is capped at 10 school days from today.
    assert confirm_by(PRIMARY, TODAY, date(2026, 12, 14)) == date(2026, 11, 16)


def test_the_new_school_keeps_a_check_open_only_for_a_start_still_to_come() -> None:
    assert check_answer_by(PRIMARY, TODAY, None) is None
    assert check_answer_by(PRIMARY, TODAY, date(2026, 10, 1)) is None
    assert check_answer_by(PRIMARY, TODAY, date(2026, 11, 6)) == date(2026, 11, 10)


def test_school_days_skip_weekends_bank_holidays_and_closures() -> None:
    calendar = SchoolCalendar(closures=frozenset({date(2026, 12, 29)}))
    # Thursday 24 December 2026: Christmas (Fri), Boxing Day substitute (Mon 28th), closure.
    assert calendar.add_school_days(date(2026, 12, 24), 1) == date(2026, 12, 30)
    assert calendar.first_day(2028) == date(2028, 9, 1)  # a Friday, no term dates
    with pytest.raises(ValueError, match="between 0 and 400"):
        calendar.add_school_days(TODAY, 401)


@pytest.mark.parametrize("ground", [DeletionGround.H, DeletionGround.I])
def test_the_top_year_exemption_never_covers_a_deletion_held_for_joint_enquiries(
    ground: DeletionGround,
) -> None:
    event = leaver(ground, deletion_date=LAST_DAY, year_group="6")
    assert is_top_year_leaver(event, PRIMARY)
    decision = leaver_decision(event, PRIMARY)
    assert decision.required  # the return starts the LA's side of the joint enquiries
    assert decision.reason == f"ground_{ground.value[-2]}"
    assert holds_deletion(event)


def test_a_return_waits_no_later_than_the_eve_of_the_deletion_except_under_ground_a() -> None:
    # Deleted on Wednesday 4 November: the sweep sends it on the 4th at the latest.
    on_4th = date(2026, 11, 4)
    assert latest_wait(leaver(DeletionGround.G, deletion_date=on_4th)) == date(2026, 11, 3)
    assert latest_wait(leaver(DeletionGround.H, deletion_date=on_4th)) == date(2026, 11, 3)
    assert latest_wait(leaver(DeletionGround.A, deletion_date=on_4th)) is None
    assert confirm_by(PRIMARY, TODAY, None, date(2026, 11, 3)) == date(2026, 11, 3)
    assert confirm_by(PRIMARY, TODAY, None, None) == date(2026, 11, 5)
    # Deleted today: no time to wait (a day before today).
    assert confirm_by(PRIMARY, TODAY, None, latest_wait(leaver())) < TODAY
