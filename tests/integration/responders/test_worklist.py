"""The work list: enquiries without a confident answer wait for a person, with their deadline;
a person's answer stages exactly one locate response, once; overdue items are flagged."""

from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from broker.responder import (
    AlreadyClosed,
    AnswerInvalid,
    LocateAnswer,
    ResponderError,
    WorkItemNotFound,
    WorkKind,
    WorkState,
    WrongKind,
)
from broker.responder.app import ResponderApp, build_responder, open_work_list
from broker.responder.model import NO_SOURCE, SOURCE_FAILED
from broker.responder.source import LocateResult
from broker.responder.tables import WorkItemRow
from schemas.justification import Purpose
from schemas.messages.cme import LocateEnquiryV1, LocateOutcome, LocateResponseV1
from tests.integration.responders.world import HEALTH, HOUSING, LA, ResponderWorld
from tests.unit.responders_builders import CASE_REF, RESPOND_BY, TODAY, address, enquiry


def manual(world: ResponderWorld, agency: str = HEALTH) -> ResponderApp:
    """A responder with no source: every enquiry waits for a person."""
    work = open_work_list(world.container, world.responder_settings)
    return build_responder(world.container, agency, work)


GP_ANSWER = LocateAnswer(LocateOutcome.FOUND, TODAY, registered_gp="M85001")


def test_an_enquiry_waits_with_its_deadline_and_is_answered_once(world: ResponderWorld) -> None:
    responder = manual(world).responder
    opened = world.enquire(responder, enquiry())
    (item,) = responder.work.items(HEALTH)
    assert (item.kind, item.state, item.reason) == (
        WorkKind.LOCATE_ENQUIRY,
        WorkState.PENDING,
        NO_SOURCE,
    )
    assert (item.sender, item.case_ref, item.respond_by) == (LA, CASE_REF, RESPOND_BY)
    assert item.overdue is False
    assert world.replies(HEALTH) == []

    answer = LocateAnswer(
        LocateOutcome.FOUND, TODAY, current_address=address(), registered_gp="M85001"
    )
    sealed = responder.answer(item.item_id, answer, "user:tester")
    (reply,) = world.replies(HEALTH)
    assert reply.recipient == LA
    assert isinstance(reply.payload, LocateResponseV1)
    assert reply.payload.enquiry_message_id == opened.claims.jti
    assert reply.payload.case_ref == CASE_REF
    assert reply.payload.current_address == address()
    assert reply.claims.jti == sealed.claims.jti
    assert reply.claims.causation_id == opened.claims.jti
    assert reply.claims.justification.purpose is Purpose.RESPONSE_TO_ENQUIRY
    assert reply.claims.justification.decided_by_role == "responding-officer"

    with pytest.raises(AlreadyClosed):
        responder.answer(item.item_id, GP_ANSWER, "user:someone-else")
    assert len(world.replies(HEALTH)) == 1
    assert responder.work.items(HEALTH) == []
    (closed,) = responder.work.items(HEALTH, include_closed=True)
    assert (closed.state, closed.outcome, closed.closed_by) == (
        WorkState.ANSWERED,
        "found",
        "user:tester",
    )
    with pytest.raises(AlreadyClosed):
        responder.work.detail(HEALTH, item.item_id)  # the enquiry is no longer kept


def test_the_enquiry_is_forgotten_once_answered(world: ResponderWorld) -> None:
    responder = manual(world).responder
    world.enquire(responder, enquiry())
    (item,) = responder.work.items(HEALTH)
    assert responder.work.detail(HEALTH, item.item_id).payload == enquiry()
    responder.answer(item.item_id, GP_ANSWER, "user:tester")
    with Session(world.container.engine) as session:
        row = session.exec(select(WorkItemRow)).one()
    assert row.payload is None
    assert row.response_message_id is not None


def test_overdue_items_are_flagged_and_come_first(world: ResponderWorld) -> None:
    responder = manual(world).responder
    world.enquire(responder, enquiry(respond_by=TODAY + timedelta(days=10), case_ref="CME-330-2"))
    world.enquire(responder, enquiry(respond_by=TODAY + timedelta(days=1), case_ref="CME-330-1"))
    assert not any(i.overdue for i in responder.work.items(HEALTH))
    world.clock.now += timedelta(days=2)
    first, second = responder.work.items(HEALTH)
    assert (first.case_ref, first.overdue) == ("CME-330-1", True)
    assert (second.case_ref, second.overdue) == ("CME-330-2", False)
    responder.answer(first.item_id, GP_ANSWER, "user:tester")  # a late answer is still sent
    (closed,) = [i for i in responder.work.items(HEALTH, include_closed=True) if i.closed_at]
    assert closed.overdue is False  # answered items are no longer overdue


def test_an_invalid_answer_sends_nothing_and_the_item_waits(world: ResponderWorld) -> None:
    responder = manual(world).responder
    world.enquire(responder, enquiry())
    (item,) = responder.work.items(HEALTH)
    with pytest.raises(AnswerInvalid):
        responder.answer(item.item_id, LocateAnswer(LocateOutcome.FOUND, TODAY), "user:tester")
    with pytest.raises(ResponderError) as caught:
        responder.answer(item.item_id, GP_ANSWER, "x" * 81)
    assert caught.value.reason == "actor_invalid"
    assert world.replies(HEALTH) == []
    assert responder.work.items(HEALTH)[0].state is WorkState.PENDING


def test_another_agency_cannot_see_or_answer_the_item(world: ResponderWorld) -> None:
    health = manual(world, HEALTH).responder
    housing = manual(world, HOUSING).responder
    world.enquire(health, enquiry())
    (item,) = health.work.items(HEALTH)
    assert housing.work.items(HOUSING) == []
    with pytest.raises(WorkItemNotFound):
        housing.answer(item.item_id, GP_ANSWER, "user:tester")
    with pytest.raises(WorkItemNotFound):
        housing.work.detail(HOUSING, item.item_id)
    with pytest.raises(WorkItemNotFound):
        health.answer("000000000000", GP_ANSWER, "user:tester")


def test_an_enquiry_is_answered_not_acknowledged(world: ResponderWorld) -> None:
    responder = manual(world).responder
    world.enquire(responder, enquiry())
    (item,) = responder.work.items(HEALTH)
    with pytest.raises(WrongKind):
        responder.acknowledge(item.item_id, "user:tester")


def test_the_same_enquiry_delivered_twice_waits_once(world: ResponderWorld) -> None:
    responder = manual(world).responder
    wire = world.seal(HEALTH, "cme.locate_enquiry", enquiry())
    world.deliver(responder, wire)
    world.deliver(responder, wire)
    assert len(responder.work.items(HEALTH)) == 1


class BrokenSource:
    """A source with a bug."""

    def locate(self, enquiry: LocateEnquiryV1, today: date) -> LocateResult:
        raise RuntimeError("a bug")


def test_a_failing_source_leaves_the_enquiry_to_a_person(world: ResponderWorld) -> None:
    work = open_work_list(world.container, world.responder_settings)
    responder = build_responder(world.container, HEALTH, work, BrokenSource()).responder
    world.enquire(responder, enquiry())
    assert [i.reason for i in responder.work.items(HEALTH)] == [SOURCE_FAILED]
