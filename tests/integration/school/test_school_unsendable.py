"""A message the school cannot send (the other party suspended or revoked, no agreement in force)
never blocks anything else: a check's answer is given up (`unanswerable`), a waiting deletion
return is kept (`return_unsent`) and sent again by the sweep. And an answer racing the sweep
sends the return once."""

from datetime import date

import pytest
from sqlmodel import Session

from adapters.school import store
from adapters.school.rules import Outcome
from adapters.school.store import CheckState, DeletionState
from broker.directory.model import AgencyStatus
from schemas.domain import DeletionGround
from schemas.messages import deletion_return, school
from schemas.messages.deletion_return import DeletionReturnV2
from schemas.messages.school import DestinationCheckV1, DestinationConfirmationV1
from tests.integration.school.school_world import SchoolWorld
from tests.unit.school_builders import LA, NEW, OLD, leaver, named_school, new_pupil

A = DeletionGround.A
START = date(2026, 11, 4)


def _returns(world: SchoolWorld) -> list[DeletionReturnV2]:
    sent = [s.payload for s in world.sent(deletion_return.TYPE)]
    assert all(isinstance(p, DeletionReturnV2) for p in sent)
    return sent


def test_a_check_answer_that_cannot_go_does_not_stop_the_new_pupil_return(
    world: SchoolWorld,
) -> None:
    world.app(OLD).adapter.submit(leaver(A, new_school=named_school("3304001", START), seed=1))
    world.deliver()  # the new school keeps the check open until the pupil is entered
    world.set_status(OLD, AgencyStatus.SUSPENDED)

    result = world.app(NEW).adapter.submit(new_pupil(1, entry_date=START))

    assert result.outcome is Outcome.SENT
    assert len(world.sent(school.NEW_PUPIL_RETURN)) == 1  # the statutory return still goes
    assert world.sent(school.DESTINATION_CONFIRMATION) == []
    (check,) = world.check_rows(NEW)
    assert (check.state, check.status, check.problem) == (
        CheckState.UNANSWERABLE,
        "registered",
        "wrong_recipient",
    )
    assert check.answer_message_id is None


def test_a_check_received_that_cannot_be_answered_is_filed_not_retried(
    world: SchoolWorld,
) -> None:
    world.app(OLD).adapter.submit(leaver(A, new_school=named_school("3304001"), seed=2))
    opened = world.open_staged(school.DESTINATION_CHECK)
    assert isinstance(opened.payload, DestinationCheckV1)
    world.set_status(OLD, AgencyStatus.REVOKED)  # after the check left, before the answer
    with Session(world.container.engine) as session:
        world.app(NEW).adapter.handle(session, opened)  # raises nothing: no endless retry
        session.commit()
    (check,) = world.check_rows(NEW)
    assert (check.state, check.problem) == (CheckState.UNANSWERABLE, "wrong_recipient")
    assert world.sent(school.DESTINATION_CONFIRMATION) == []


@pytest.mark.parametrize("suspended", [NEW, LA])
def test_in_a_sweep_one_message_that_cannot_go_never_holds_up_the_others(
    world: SchoolWorld, suspended: str
) -> None:
    old = world.app(OLD).adapter
    # The old school waits for a school in another area (no answer: released on the 6th) ...
    waiting = old.submit(leaver(A, new_school=named_school("3314012"), seed=3))
    # ... and holds a check from the new school, open until the 6th.
    world.app(NEW).adapter.submit(leaver(A, new_school=named_school("3304000", START), seed=4))
    world.deliver()
    world.set_status(suspended, AgencyStatus.SUSPENDED)

    report = old.sweep(date(2026, 11, 7))

    (view,) = old.deletions()
    (check,) = world.check_rows(OLD)
    if suspended == NEW:  # the answer cannot go; the return does
        assert (report.returns_released, report.checks_answered) == ((waiting.deletion_id,), 0)
        assert (check.state, check.problem) == (CheckState.UNANSWERABLE, "wrong_recipient")
        assert view.state is DeletionState.RETURNED
        assert [r.destination_confirmed for r in _returns(world)] == [False]
    else:  # the return cannot go; the answer does
        assert (report.returns_released, report.checks_answered) == ((), 1)
        assert check.state == CheckState.ANSWERED
        assert (view.state, view.problem) == (DeletionState.RETURN_UNSENT, "wrong_recipient")
        assert view.late is None
        world.set_status(LA, AgencyStatus.ACTIVE)
        assert old.sweep(date(2026, 11, 9)).returns_released == (waiting.deletion_id,)
        (view,) = old.deletions()
        assert (view.state, view.problem, view.late) == (DeletionState.RETURNED, None, True)
        assert [r.destination_confirmed for r in _returns(world)] == [False]


def test_an_answer_whose_return_cannot_go_is_kept_and_sent_by_the_next_sweep(
    world: SchoolWorld,
) -> None:
    old = world.app(OLD).adapter
    old.submit(leaver(A, new_school=named_school("3304001"), seed=5))
    world.deliver()  # the new school answers: not registered
    world.set_status(LA, AgencyStatus.SUSPENDED)
    assert world.deliver() == 1  # the answer is filed; the handler does not fail

    (view,) = old.deletions()
    assert (view.state, view.destination_status, view.problem) == (
        DeletionState.RETURN_UNSENT,
        "not_registered",
        "wrong_recipient",
    )
    assert old.sweep().returns_released == ()  # still suspended: kept, tried again later
    world.set_status(LA, AgencyStatus.ACTIVE)
    assert old.sweep().returns_released == (view.deletion_id,)
    (sent,) = _returns(world)
    assert sent.destination_confirmed is False
    (view,) = old.deletions()
    assert (view.state, view.destination_status, view.late) == (
        DeletionState.RETURNED,
        "not_registered",
        False,
    )


def test_an_answer_racing_the_sweep_sends_the_return_once(world: SchoolWorld) -> None:
    old = world.app(OLD).adapter
    old.submit(leaver(A, new_school=named_school("3304001"), seed=6))
    world.deliver()  # the new school's answer is staged, not yet delivered
    answer = world.open_staged(school.DESTINATION_CONFIRMATION)
    assert isinstance(answer.payload, DestinationConfirmationV1)
    with Session(world.container.engine) as handler:
        # The inbox handler has read the deletion while it was still waiting ...
        (row,) = store.deletions(handler, OLD)
        assert row.state == DeletionState.AWAITING_DESTINATION
        # ... when another process's sweep sends the return and commits.
        assert old.sweep(date(2026, 11, 6)).returns_released == (row.uid,)
        old.leavers.destination_answered(handler, answer, answer.payload)
        handler.commit()
    assert len(_returns(world)) == 1
    (view,) = old.deletions()
    assert (view.state, view.destination_status) == (DeletionState.RETURNED, "no_answer")
