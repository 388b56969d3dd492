"""Events submitted through the Python call API become justified statutory returns to the
school's LA, once; exempt and below-threshold events send nothing."""

from datetime import date

import pytest

from adapters.school.app import build_school
from adapters.school.rules import Outcome
from adapters.school.store import DeletionState
from schemas.domain import DeletionGround
from schemas.justification import LawfulBasis, Purpose
from schemas.messages import deletion_return, school
from schemas.messages.deletion_return import DeletionReturnV2
from schemas.messages.school import NewPupilReturnV1
from tests.integration.school.school_world import SETTINGS, SchoolWorld
from tests.unit.school_builders import (
    LA,
    NEW,
    OLD,
    absence,
    leaver,
    named_school,
    new_pupil,
    non_arrival,
    sickness,
)


def test_a_new_pupil_return_goes_to_the_la_justified_by_reg_13(world: SchoolWorld) -> None:
    event = new_pupil(entry_date=date(2026, 10, 26))
    result = world.app().adapter.submit(event)
    assert result.outcome is Outcome.SENT
    assert result.due_on == date(2026, 10, 31)
    assert result.late  # today is 2 November
    (sent,) = world.sent(school.NEW_PUPIL_RETURN)
    assert sent.recipient == LA
    assert str(sent.claims.jti) == str(result.message_ids[0])
    payload = sent.payload
    assert isinstance(payload, NewPupilReturnV1)
    assert payload.school == OLD
    assert payload.child == event.child
    reason = sent.claims.justification
    assert reason.lawful_basis is LawfulBasis.LEGAL_OBLIGATION
    assert reason.purpose is Purpose.STATUTORY_RETURN
    assert any(g.startswith("SI 2024/208 reg 13") for g in reason.statutory_gateways)
    assert reason.agreement.id == "cme-area-330"
    assert "child" in reason.data_categories


@pytest.mark.parametrize("ground", list(DeletionGround))
def test_every_ground_sends_a_deletion_return_and_only_h_and_i_hold_the_deletion(
    world: SchoolWorld, ground: DeletionGround
) -> None:
    result = world.app().adapter.submit(leaver(ground))
    assert result.outcome is Outcome.SENT
    (sent,) = world.sent(deletion_return.TYPE)
    assert isinstance(sent.payload, DeletionReturnV2)
    assert sent.payload.ground is ground
    assert sent.payload.destination_confirmed is None
    assert sent.claims.justification.lawful_basis is LawfulBasis.LEGAL_OBLIGATION
    held = world.app().adapter.deletions([DeletionState.HELD_FOR_ENQUIRIES])
    assert [h.ground for h in held] == ([ground.value] if ground.needs_joint_enquiries else [])
    assert (result.deletion_id is not None) is ground.needs_joint_enquiries


def test_the_other_returns_and_their_thresholds(world: SchoolWorld) -> None:
    adapter = world.app().adapter
    assert adapter.submit(non_arrival(1)).outcome is Outcome.SENT
    assert adapter.submit(absence(12, seed=2)).outcome is Outcome.SENT
    assert adapter.submit(absence(9, seed=3)).outcome is Outcome.NOT_REQUIRED
    assert adapter.submit(sickness(15, seed=4)).outcome is Outcome.SENT
    assert adapter.submit(sickness(5, seed=5)).outcome is Outcome.NOT_REQUIRED
    types = [s.message_type for s in world.sent()]
    assert types == [school.NON_ARRIVAL, school.ATTENDANCE_RETURN, school.SICKNESS_RETURN]
    (illness,) = world.sent(school.SICKNESS_RETURN)
    assert illness.claims.justification.special_category is not None  # health data: Art 9


def test_a_spell_below_the_threshold_is_returned_once_it_passes_it(world: SchoolWorld) -> None:
    adapter = world.app().adapter
    assert adapter.submit(absence(9)).outcome is Outcome.NOT_REQUIRED
    assert adapter.submit(absence(10)).outcome is Outcome.SENT  # the same spell, a day on
    assert adapter.submit(absence(11)).outcome is Outcome.DUPLICATE  # one return per spell
    assert len(world.sent(school.ATTENDANCE_RETURN)) == 1


def test_exempt_events_send_nothing(world: SchoolWorld) -> None:
    adapter = world.app().adapter
    junior = new_pupil(1, entry_date=date(2026, 9, 3), year_group="R")
    top_year = leaver(DeletionGround.L, 2, deletion_date=date(2027, 7, 21), year_group="6")
    assert adapter.submit(junior).reason == "junior_class_first_day"
    assert adapter.submit(top_year).outcome is Outcome.EXEMPT
    assert world.sent() == []


def test_the_same_event_submitted_twice_is_sent_once(world: SchoolWorld) -> None:
    adapter = world.app().adapter
    first = adapter.submit(leaver(DeletionGround.G))
    again = adapter.submit(leaver(DeletionGround.G))
    assert first.outcome is Outcome.SENT
    assert again.outcome is Outcome.DUPLICATE
    assert len(world.sent()) == 1
    # The MIS's own event id keys it instead, when the file gives one.
    assert adapter.submit(non_arrival(), event_id="MIS-7").outcome is Outcome.SENT
    assert adapter.submit(non_arrival(), event_id="MIS-7").outcome is Outcome.DUPLICATE


def test_a_mapping_is_validated_into_its_event(world: SchoolWorld) -> None:
    data = leaver(new_school=named_school("XXXXXXX") | {"start_date": None}).model_dump()
    result = world.app().adapter.submit_data(data)
    assert result.outcome is Outcome.SENT
    (sent,) = world.sent(deletion_return.TYPE)
    assert sent.payload.destination_known is False


def test_an_independent_school_cites_recognised_legitimate_interests_where_it_may(
    world: SchoolWorld,
) -> None:
    """No public task: a non-arrival (Art 6(1)(e) or (ea) in the agreement) cites (ea); a
    statutory return stays a legal obligation (c)."""
    independent = SETTINGS.model_copy(update={"independent": True})
    app = build_school(world.container, independent, NEW)
    assert app.adapter.submit(non_arrival(1)).outcome is Outcome.SENT
    assert app.adapter.submit(absence(12, seed=2)).outcome is Outcome.SENT
    bases = {s.message_type: s.claims.justification.lawful_basis for s in world.sent(sender=NEW)}
    assert bases[school.NON_ARRIVAL] is LawfulBasis.RECOGNISED_LEGITIMATE_INTEREST
    assert bases[school.ATTENDANCE_RETURN] is LawfulBasis.LEGAL_OBLIGATION
    maintained = {s.message_type: s.claims.justification.lawful_basis
                  for s in world.sent(sender=world.app().adapter.school_id)}  # fmt: skip
    assert all(b is not LawfulBasis.RECOGNISED_LEGITIMATE_INTEREST for b in maintained.values())
