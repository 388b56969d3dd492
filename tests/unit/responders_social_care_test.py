"""Social care's rules without I/O: known or not, and whether a child protection plan or
looked-after status applies, in fixed wording; never where the child lives."""

from datetime import date

import pytest

from adapters.social_care.model import KnownChild
from adapters.social_care.rules import (
    KNOWN,
    NOTE_CP_PLAN,
    NOTE_CP_PLAN_AND_LOOKED_AFTER,
    NOTE_KNOWN,
    NOTE_LOOKED_AFTER,
    STATUTORY_STATUS,
    decide,
)
from broker.responder import Answered, Referred
from broker.responder.model import NO_MATCH, SEVERAL_MATCHES
from schemas.messages.cme import LocateOutcome
from tests.unit.responders_builders import TODAY, enquiry


@pytest.mark.parametrize(
    ("cp_plan", "looked_after", "note"),
    [
        (False, False, NOTE_KNOWN),
        (True, False, NOTE_CP_PLAN),
        (False, True, NOTE_LOOKED_AFTER),
        (True, True, NOTE_CP_PLAN_AND_LOOKED_AFTER),
    ],
)
def test_a_known_child_is_answered_with_its_status_and_nothing_else(
    cp_plan: bool, looked_after: bool, note: str
) -> None:
    child = KnownChild("C-1", cp_plan, looked_after, date(2026, 10, 20))
    result = decide(enquiry(), [child], TODAY)
    assert isinstance(result, Answered)
    assert result.basis == KNOWN
    answer = result.answer
    assert answer.outcome is LocateOutcome.KNOWN_WITHHELD
    assert (answer.current_address, answer.registered_gp) == (None, None)
    assert answer.note == note
    assert answer.evidence_date == date(2026, 10, 20)
    statutory = cp_plan or looked_after
    assert answer.refer_to_social_care is statutory
    assert result.alert == (STATUTORY_STATUS if statutory else None)


def test_rows_of_one_child_are_one_match() -> None:
    rows = [KnownChild("C-1", last_updated=date(2025, 1, 1)), KnownChild("C-1", True)]
    result = decide(enquiry(), rows, TODAY)
    assert isinstance(result, Answered)
    assert result.answer.note == NOTE_CP_PLAN
    assert result.answer.evidence_date == date(2025, 1, 1)


def test_unknown_or_ambiguous_children_go_to_a_person() -> None:
    assert decide(enquiry(), [], TODAY) == Referred(NO_MATCH)
    two = [KnownChild("C-1"), KnownChild("C-2")]
    assert decide(enquiry(), two, TODAY) == Referred(SEVERAL_MATCHES)
