"""Housing's rules without I/O: a unique, confident match in a current stay gives the current
address, a move without a forwarding address the moved-out date; anything else (a forwarding
address included) goes to a person."""

from datetime import date
from typing import Any

import pytest

from adapters.housing.model import TenancyRecord, Tenure
from adapters.housing.rules import (
    CONFIDENTIAL_ADDRESS,
    CONFIDENTIAL_NOTE,
    CURRENT_TENANCY,
    MOVED_OUT,
    TEMPORARY_NOTE,
    decide,
)
from adapters.housing.source import HousingSource
from broker.responder import Answered, Referred
from broker.responder.model import (
    CONFLICTING_RECORDS,
    LOCATION_UNCERTAIN,
    NO_MATCH,
    QUESTION_NOT_ANSWERABLE,
    SEVERAL_MATCHES,
)
from broker.responder.records import SubjectKey
from schemas.messages.cme import LocateOutcome, LocateQuestion
from tests.unit.responders_builders import TODAY, address, enquiry

FORWARDING = address("9 New Lane", "ZZ99 5NL")


def stay(**overrides: Any) -> TenancyRecord:
    fields: dict[str, Any] = {
        "person_id": "P-1",
        "tenure": Tenure.TENANCY,
        "address": address(),
        "start_date": date(2024, 4, 1),
        "last_updated": date(2026, 9, 14),
    }
    fields.update(overrides)
    return TenancyRecord(**fields)


def answered(result: object) -> Answered:
    assert isinstance(result, Answered), result
    return result


def test_a_current_tenancy_gives_the_current_address() -> None:
    result = answered(decide(enquiry(), [stay()], TODAY))
    assert result.basis == CURRENT_TENANCY
    assert result.answer.outcome is LocateOutcome.FOUND
    assert result.answer.current_address == address()
    assert result.answer.evidence_date == date(2026, 9, 14)
    assert result.answer.note is None
    assert result.answer.registered_gp is None


def test_temporary_accommodation_is_said_in_the_note() -> None:
    ta = stay(tenure=Tenure.TEMPORARY_ACCOMMODATION, last_updated=None)
    result = answered(decide(enquiry(), [ta], TODAY))
    assert result.answer.note == TEMPORARY_NOTE
    assert result.answer.evidence_date == date(2024, 4, 1)  # the start, when never updated


@pytest.mark.parametrize("moved_out", [date(2019, 3, 1), date(2026, 9, 30)])
def test_a_forwarding_address_goes_to_a_person_with_the_address_shown(moved_out: date) -> None:
    """What the household said at move-out is not where the child lives now, and the LA reads
    any `found` as the child located: a person judges it."""
    left = stay(moved_out=moved_out, forwarding_address=FORWARDING)
    result = decide(enquiry(), [left], TODAY)
    assert isinstance(result, Referred), result
    assert result.reason == LOCATION_UNCERTAIN
    finding = result.finding
    assert finding is not None
    assert finding.address == FORWARDING
    assert finding.evidence_date == moved_out
    assert moved_out.isoformat() in finding.note
    assert finding.registered_gp is None


def test_a_move_without_a_forwarding_address_is_not_found_with_the_date() -> None:
    earlier = stay(moved_out=date(2025, 1, 31), forwarding_address=FORWARDING)
    later = stay(start_date=date(2025, 2, 1), moved_out=date(2026, 9, 30))
    result = answered(decide(enquiry(), [earlier, later], TODAY))
    assert result.basis == MOVED_OUT
    assert result.answer.outcome is LocateOutcome.NOT_FOUND
    assert result.answer.current_address is None
    assert result.answer.evidence_date == date(2026, 9, 30)
    assert result.answer.note == "Moved out on 2026-09-30; no forwarding address is known."


def test_a_move_out_date_still_ahead_is_a_current_stay() -> None:
    leaving = stay(moved_out=date(2026, 12, 1))
    assert answered(decide(enquiry(), [leaving], TODAY)).basis == CURRENT_TENANCY


def test_no_one_several_people_or_two_current_homes_go_to_a_person() -> None:
    assert decide(enquiry(), [], TODAY) == Referred(NO_MATCH)
    assert decide(enquiry(), [stay(), stay(person_id="P-2")], TODAY) == Referred(SEVERAL_MATCHES)
    two_homes = [stay(), stay(tenure=Tenure.TEMPORARY_ACCOMMODATION, address=FORWARDING)]
    assert decide(enquiry(), two_homes, TODAY) == Referred(CONFLICTING_RECORDS)


def test_a_confidential_address_is_withheld_and_put_before_a_person() -> None:
    result = answered(decide(enquiry(), [stay(confidential=True)], TODAY))
    assert result.answer.outcome is LocateOutcome.KNOWN_WITHHELD
    assert result.answer.current_address is None
    assert result.answer.note == CONFIDENTIAL_NOTE
    assert result.alert == CONFIDENTIAL_ADDRESS


def test_without_an_address_question_housing_has_nothing_to_say() -> None:
    only_gp = enquiry(questions=(LocateQuestion.REGISTERED_GP,))
    assert decide(only_gp, [stay()], TODAY) == Referred(QUESTION_NOT_ANSWERABLE)


class FakeHousingRecords:
    """Returns fixed records and remembers the key it was asked about."""

    def __init__(self, records: list[TenancyRecord]) -> None:
        self.records = records
        self.asked: list[SubjectKey] = []

    def find(self, child: SubjectKey) -> list[TenancyRecord]:
        self.asked.append(child)
        return self.records


def test_the_source_asks_with_current_and_former_surnames() -> None:
    records = FakeHousingRecords([stay()])
    result = HousingSource(records).locate(enquiry(former_surnames=("Brackenridge",)), TODAY)
    assert answered(result).basis == CURRENT_TENANCY
    (key,) = records.asked
    assert key.surnames == frozenset({"thistlewood", "brackenridge"})
    assert key.forename == "isla"
