"""Reg 9(1)(h) and (i): the deletion is held until the LA's `cme.enquiries_complete`, which
releases it (enquiries exhausted) or stops it (child located)."""

from datetime import date

from sqlmodel import Session, select

from adapters.school.store import DeletionState
from adapters.school.tables import LaDecisionRow
from broker.agreements import ShareIntent, justify
from broker.envelope import Draft, Opened
from schemas.child import PupilSummary
from schemas.domain import DeletionGround
from schemas.messages import cme
from schemas.messages.cme import EnquiriesCompleteV1, EnquiriesResult
from tests.integration.school.school_world import NEIGHBOUR, SchoolWorld
from tests.unit.school_builders import OLD, child, leaver

CASE = "CME-330-2026-000042"


def _complete(
    seed: int, result: EnquiriesResult, ground: DeletionGround | None = None
) -> EnquiriesCompleteV1:
    pupil = child(seed)
    return EnquiriesCompleteV1(
        school=OLD,
        case_ref=CASE,
        child=PupilSummary(
            forenames=pupil.forenames,
            surname=pupil.surname,
            date_of_birth=pupil.date_of_birth,
            upn=pupil.upn,
        ),
        result=result,
        completed_on=date(2026, 11, 20),
        deletion_ground=ground,
    )


def _decisions(world: SchoolWorld) -> list[LaDecisionRow]:
    with Session(world.container.engine) as session:
        return list(session.exec(select(LaDecisionRow)))


def test_exhausted_enquiries_release_the_held_deletion(world: SchoolWorld) -> None:
    adapter = world.app().adapter
    adapter.submit(leaver(DeletionGround.I, seed=1))
    adapter.submit(leaver(DeletionGround.H, seed=2))
    (held_i, held_h) = adapter.deletions([DeletionState.HELD_FOR_ENQUIRIES])
    assert held_i.pupil.surname == child(1).surname  # the school's staff see who it is

    exhausted = _complete(1, EnquiriesResult.ENQUIRIES_EXHAUSTED, DeletionGround.I)
    world.from_la(OLD, cme.ENQUIRIES_COMPLETE, exhausted)

    states = {view.deletion_id: view for view in adapter.deletions()}
    assert states[held_i.deletion_id].state is DeletionState.MAY_DELETE
    assert states[held_i.deletion_id].case_ref == CASE
    assert states[held_h.deletion_id].state is DeletionState.HELD_FOR_ENQUIRIES
    (decision,) = _decisions(world)
    assert decision.result == "enquiries_exhausted"
    assert decision.deletion_uid == held_i.deletion_id


def test_a_located_child_must_not_be_deleted_on_that_ground(world: SchoolWorld) -> None:
    adapter = world.app().adapter
    adapter.submit(leaver(DeletionGround.H, seed=3))
    world.from_la(OLD, cme.ENQUIRIES_COMPLETE, _complete(3, EnquiriesResult.CHILD_LOCATED))
    (view,) = adapter.deletions()
    assert view.state is DeletionState.MUST_NOT_DELETE


def test_only_the_schools_own_la_releases_a_deletion(world: SchoolWorld) -> None:
    adapter = world.app().adapter
    adapter.submit(leaver(DeletionGround.I, seed=4))
    message = _complete(4, EnquiriesResult.ENQUIRIES_EXHAUSTED)
    # No agreement lets LA 331 send this to a 330 school; were it delivered, it is ignored.
    opened_as_neighbour = _seal_unjustified(world, NEIGHBOUR, message)
    with Session(world.container.engine) as session:
        adapter.handle(session, opened_as_neighbour)
        session.commit()
    (view,) = adapter.deletions()
    assert view.state is DeletionState.HELD_FOR_ENQUIRIES


def test_an_unmatched_decision_is_recorded_without_touching_other_pupils(
    world: SchoolWorld,
) -> None:
    adapter = world.app().adapter
    adapter.submit(leaver(DeletionGround.I, seed=5))
    world.from_la(OLD, cme.ENQUIRIES_COMPLETE, _complete(6, EnquiriesResult.ENQUIRIES_EXHAUSTED))
    (view,) = adapter.deletions()
    assert view.state is DeletionState.HELD_FOR_ENQUIRIES
    (decision,) = _decisions(world)
    assert decision.deletion_uid is None


def _seal_unjustified(world: SchoolWorld, sender: str, payload: EnquiriesCompleteV1) -> Opened:
    """The message as if a hub had let it through: sealed by `sender` with the LA's
    justification (the router would refuse it; the handler must not rely on that)."""
    intent = ShareIntent("la:330", OLD, cme.ENQUIRIES_COMPLETE, payload, "cme-officer", "Test.")
    reason = justify(world.container.agreements, intent, world.clock())
    sealed = world.container.sealer(sender).seal(
        Draft(OLD, cme.ENQUIRIES_COMPLETE, payload, reason)
    )
    return world.container.opener(OLD).open(sealed.to_json())
