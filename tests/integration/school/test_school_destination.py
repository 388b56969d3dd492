"""Destination checks between two schools: the leaver's return waits for the named new school,
which answers from its own roll; the return records whether the destination was confirmed,
and an unconfirmed one after the deadline goes to the LA flagged `destination_confirmed`
False. Most leavers here are on ground 9(1)(a) (registered at another school: the wait is not
capped by the deletion date; other grounds' are)."""

from datetime import date, timedelta
from pathlib import Path

from adapters.school.rules import Outcome
from adapters.school.store import DeletionState
from schemas.domain import DeletionGround
from schemas.messages import deletion_return, school
from schemas.messages.deletion_return import DeletionReturnV2
from schemas.messages.school import DestinationCheckV1, DestinationConfirmationV1
from tests.integration.school.school_world import SchoolWorld
from tests.unit.school_builders import (
    FAR,
    LA,
    NEW,
    OLD,
    csv_row,
    csv_text,
    leaver,
    named_school,
    new_pupil,
)


def _return(world: SchoolWorld) -> DeletionReturnV2:
    (sent,) = world.sent(deletion_return.TYPE)
    assert sent.recipient == LA
    assert isinstance(sent.payload, DeletionReturnV2)
    return sent.payload


def _answer(world: SchoolWorld) -> DestinationConfirmationV1:
    (sent,) = world.sent(school.DESTINATION_CONFIRMATION)
    assert isinstance(sent.payload, DestinationConfirmationV1)
    return sent.payload


def test_a_registered_pupil_is_confirmed_and_the_return_records_it(world: SchoolWorld) -> None:
    entered = date(2026, 10, 28)
    world.app(NEW).adapter.submit(new_pupil(1, entry_date=entered))
    result = world.app(OLD).adapter.submit(
        leaver(DeletionGround.A, new_school=named_school("3304001"), seed=1)
    )
    assert result.outcome is Outcome.AWAITING_DESTINATION
    (check,) = world.sent(school.DESTINATION_CHECK)
    assert (check.sender, check.recipient) == (OLD, NEW)
    assert isinstance(check.payload, DestinationCheckV1)
    assert check.payload.child.upn is not None  # enough to find the pupil, no more
    assert world.sent(deletion_return.TYPE) == []  # the return waits for the answer

    assert world.deliver() == 1  # the check reaches the new school: it answers at once
    answer = _answer(world)
    assert answer.status.value == "registered"
    assert answer.start_date == entered
    assert answer.check_message_id == check.claims.jti
    assert world.deliver() == 1  # the answer reaches the old school: the return goes

    sent = _return(world)
    assert sent.destination_confirmed is True
    assert sent.new_school is not None
    assert sent.new_school.start_date == entered
    (view,) = world.app(OLD).adapter.deletions()
    assert view.state is DeletionState.RETURNED
    assert view.destination_status == "registered"


def test_a_pupil_not_on_the_roll_is_not_registered_and_flagged(world: SchoolWorld) -> None:
    world.app(OLD).adapter.submit(
        leaver(DeletionGround.A, new_school=named_school("3304001"), seed=2)
    )
    world.deliver()
    assert _answer(world).status.value == "not_registered"
    world.deliver()
    sent = _return(world)
    assert sent.destination_known is True
    assert sent.destination_confirmed is False  # the LA's desk opens a case on this


def test_a_check_for_a_future_start_waits_until_the_pupil_is_entered(world: SchoolWorld) -> None:
    start = date(2026, 11, 4)
    event = leaver(DeletionGround.A, new_school=named_school("3304001", start), seed=3)
    world.app(OLD).adapter.submit(event)
    world.deliver()
    assert world.sent(school.DESTINATION_CONFIRMATION) == []  # not entered yet: kept open
    world.app(NEW).adapter.submit(new_pupil(3, entry_date=start))  # the first day they attend
    assert _answer(world).status.value == "registered"
    world.deliver()
    assert _return(world).destination_confirmed is True


def test_no_answer_by_the_deadline_sends_the_return_unconfirmed(world: SchoolWorld) -> None:
    result = world.app(OLD).adapter.submit(
        leaver(DeletionGround.A, new_school=named_school("3314012"), seed=4)
    )
    (check,) = world.sent(school.DESTINATION_CHECK)
    assert check.recipient == FAR  # a school in another LA: its hub is the bridge's business
    (view,) = world.app(OLD).adapter.deletions()
    assert view.confirm_by == date(2026, 11, 5)
    assert world.app(OLD).adapter.sweep(date(2026, 11, 5)).returns_released == ()
    report = world.app(OLD).adapter.sweep(date(2026, 11, 6))
    assert report.returns_released == (result.deletion_id,)
    assert _return(world).destination_confirmed is False
    (view,) = world.app(OLD).adapter.deletions()
    assert (view.state, view.destination_status) == (DeletionState.RETURNED, "no_answer")
    # A late answer changes nothing: the return has gone.
    world.clock.now += timedelta(days=4)
    world.deliver()
    assert len(world.sent(deletion_return.TYPE)) == 1


def test_a_lapsed_open_check_is_answered_not_registered(world: SchoolWorld) -> None:
    start = date(2026, 11, 4)
    world.app(OLD).adapter.submit(
        leaver(DeletionGround.A, new_school=named_school("3304001", start), seed=5)
    )
    world.deliver()
    assert world.app(NEW).adapter.sweep(date(2026, 11, 6)).checks_answered == 0
    assert world.app(NEW).adapter.sweep(date(2026, 11, 7)).checks_answered == 1
    assert _answer(world).status.value == "not_registered"


def test_two_pupils_alike_but_for_the_upn_are_not_known(world: SchoolWorld) -> None:
    twin = new_pupil(6)
    other_upn = "R201100018042"  # a valid UPN of another pupil (published test vector)
    world.app(NEW).adapter.submit(
        twin.model_copy(update={"child": twin.child.model_copy(update={"upn": other_upn})})
    )
    world.app(OLD).adapter.submit(
        leaver(DeletionGround.A, new_school=named_school("3304001"), seed=6)
    )
    world.deliver()
    assert _answer(world).status.value == "not_known"


def test_a_held_ground_waits_for_the_check_then_for_the_la(world: SchoolWorld) -> None:
    world.app(NEW).adapter.submit(new_pupil(7))
    # Deleted on Friday 13th: the return may wait for the answer until the 12th.
    world.app(OLD).adapter.submit(
        leaver(
            DeletionGround.H,
            new_school=named_school("3304001"),
            seed=7,
            deletion_date=date(2026, 11, 13),
        )
    )
    world.deliver()
    world.deliver()
    assert _return(world).destination_confirmed is True
    (view,) = world.app(OLD).adapter.deletions()
    assert view.state is DeletionState.HELD_FOR_ENQUIRIES


def test_a_school_that_cannot_be_asked_does_not_hold_up_the_return(world: SchoolWorld) -> None:
    # 3304999 is not in the directory; 2014000 is in an area no agreement covers.
    for seed, laestab in ((8, "3304999"), (9, "2014000")):
        result = world.app(OLD).adapter.submit(
            leaver(DeletionGround.A, new_school=named_school(laestab), seed=seed)
        )
        assert (result.outcome, result.reason) == (Outcome.SENT, "destination_not_checkable")
    returns = [s.payload for s in world.sent(deletion_return.TYPE)]
    assert [r.destination_confirmed for r in returns] == [None, None]  # not checked
    assert world.sent(school.DESTINATION_CHECK) == []


def test_a_roll_load_answers_checks_and_never_counts_a_pupil_twice(
    world: SchoolWorld, tmp_path: Path
) -> None:
    roll = tmp_path / "roll.csv"
    rows = [csv_row("on_roll", 10, event_date="2024-09-04"), csv_row("on_roll", 11)]
    roll.write_text(csv_text(rows), encoding="utf-8")
    report = world.app(NEW).importer.import_file(roll)
    assert [r.outcome for _, r in report.results] == [Outcome.RECORDED, Outcome.RECORDED]
    assert world.sent() == []  # no return for a pupil already on the roll
    world.app(NEW).adapter.submit(new_pupil(11))  # the same pupil's new pupil event
    for seed in (10, 11):
        world.app(OLD).adapter.submit(
            leaver(DeletionGround.A, new_school=named_school("3304001"), seed=seed)
        )
    world.deliver()
    answers = [s.payload.status.value for s in world.sent(school.DESTINATION_CONFIRMATION)]
    assert answers == ["registered", "registered"]


def test_a_return_waits_no_later_than_the_deletion_date(world: SchoolWorld) -> None:
    # Ground g, deleted on Wednesday 4th: the wait ends on the 3rd, not on Thursday 5th.
    event = leaver(new_school=named_school("3314012"), seed=12, deletion_date=date(2026, 11, 4))
    result = world.app(OLD).adapter.submit(event)
    assert result.outcome is Outcome.AWAITING_DESTINATION
    (view,) = world.app(OLD).adapter.deletions()
    assert view.confirm_by == date(2026, 11, 3)
    # The sweep on the deletion date sends it (no later than the deletion), unconfirmed.
    assert world.app(OLD).adapter.sweep(date(2026, 11, 4)).returns_released == (result.deletion_id,)
    assert _return(world).destination_confirmed is False
    (view,) = world.app(OLD).adapter.deletions()
    assert view.late is False


def test_a_deletion_dated_today_leaves_no_time_to_ask(world: SchoolWorld) -> None:
    result = world.app(OLD).adapter.submit(leaver(new_school=named_school("3304001"), seed=13))
    assert (result.outcome, result.reason) == (Outcome.SENT, "no_time_to_confirm")
    assert world.sent(school.DESTINATION_CHECK) == []
    assert _return(world).destination_confirmed is False  # the LA's desk checks it itself


def test_lateness_is_worked_out_when_the_return_actually_goes(world: SchoolWorld) -> None:
    # Ground a waits for the registration elsewhere, past the deletion date if need be.
    result = world.app(OLD).adapter.submit(
        leaver(DeletionGround.A, new_school=named_school("3314012"), seed=14)
    )
    assert not result.late  # the event came in time ...
    world.app(OLD).adapter.sweep(date(2026, 11, 6))
    (view,) = world.app(OLD).adapter.deletions()
    assert view.late is True  # ... the return went after the deletion date
