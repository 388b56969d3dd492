"""How the new school's roll answers a destination check (pure: rows in, answer out)."""

from datetime import date

from adapters.school.checks import roll_answer
from adapters.school.protect import PupilKeys
from adapters.school.tables import PupilRow
from schemas.messages.school import RegistrationStatus

ENTERED = date(2026, 10, 28)


def row(upn: str | None, person: str, entered: date = ENTERED) -> PupilRow:
    return PupilRow(school_id="school:3304001", upn_key=upn, person_key=person, entry_date=entered)


def test_a_upn_match_is_registered_whatever_the_names() -> None:
    rows = [row("u1", "p-other"), row(None, "p1"), row(None, "p1")]
    assert roll_answer(rows, PupilKeys("u1", "p1")) == (RegistrationStatus.REGISTERED, ENTERED)


def test_one_demographic_match_without_a_conflicting_upn_is_registered() -> None:
    assert roll_answer([row(None, "p1")], PupilKeys("u1", "p1"))[0] is RegistrationStatus.REGISTERED
    assert roll_answer([row("u9", "p1")], PupilKeys(None, "p1"))[0] is RegistrationStatus.REGISTERED


def test_several_candidates_or_a_different_upn_are_not_known() -> None:
    assert roll_answer([row(None, "p1"), row(None, "p1")], PupilKeys(None, "p1")) == (
        RegistrationStatus.NOT_KNOWN,
        None,
    )
    assert roll_answer([row("u2", "p1")], PupilKeys("u1", "p1"))[0] is RegistrationStatus.NOT_KNOWN


def test_nobody_on_the_roll_is_not_registered() -> None:
    assert roll_answer([], PupilKeys("u1", "p1")) == (RegistrationStatus.NOT_REGISTERED, None)
