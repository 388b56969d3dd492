"""The CME desk's workflow on a real database with real envelopes (no AMQP: see
`test_desk_hub.py` for the same through RabbitMQ and the router)."""

from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from adapters.la.areas import PostcodeAreas
from adapters.la.errors import DeskError, InvalidSaoStep
from adapters.la.model import CaseState, EnquiryState, EnquiryTarget, SaoStep
from adapters.la.records import CaseFilter, EventKind
from adapters.la.rules import ClosureEvidence
from adapters.la.settings import DeskSettings
from broker.directory.model import AgencyStatus
from schemas.case import ClosureOutcome
from schemas.child import SchoolRef
from schemas.domain import DeletionGround, RiskFlag
from schemas.messages import cme, safeguarding
from schemas.messages.cme import (
    CaseStatus,
    CrossBorderConfirmationV1,
    CrossBorderOutcome,
    EnquiriesResult,
    LocateEnquiryV1,
    LocateResponseV1,
)
from tests.clock import Clock
from tests.integration.la.desk_world import (
    HEALTH,
    HOUSING,
    LA,
    NEIGHBOUR,
    SCHOOL,
    SOCIAL_CARE,
    DeskWorld,
    Sent,
)
from tests.unit.la.desk_builders import (
    cross_border_notification,
    deletion_return,
    locate_response,
    non_arrival,
)

OFFICER = "user:cme-officer-1"


def answer_to(asked: Sent, outcome: str) -> LocateResponseV1:
    """A respondent's answer to an enquiry the desk sent."""
    return locate_response(outcome).model_copy(
        update={"enquiry_message_id": UUID(asked.message_id), "case_ref": asked.payload.case_ref}
    )


CORE = {HEALTH, HOUSING, SOCIAL_CARE}


@pytest.fixture
def world(tmp_path: Path, db_url: str, clock: Clock) -> DeskWorld:
    return DeskWorld(tmp_path, db_url, clock)


def only_case(world: DeskWorld) -> str:
    (case,) = world.desk.register.list_cases(CaseFilter(include_closed=True))
    return case.case_ref


def enquiries(world: DeskWorld) -> dict[str, LocateEnquiryV1]:
    return {s.recipient: s.payload for s in world.sent(cme.LOCATE_ENQUIRY)}


def test_a_deletion_with_destination_unknown_opens_a_case_and_asks_the_core_agencies(
    world: DeskWorld,
) -> None:
    world.deliver(SCHOOL, "school.deletion_return", deletion_return(DeletionGround.G))
    case = world.desk.register.show_case(only_case(world))
    assert case.summary.state is CaseState.OPEN
    sent = enquiries(world)
    assert set(sent) == CORE
    # 5 working days from Monday 2 November 2026.
    assert {e.respond_by for e in sent.values()} == {date(2026, 11, 9)}
    assert all(e.case_ref == case.summary.case_ref for e in sent.values())
    # Minimisation: health and housing are not given the UPN.
    assert sent[HEALTH].child.upn is None
    assert not world.sent(safeguarding.ESCALATION)


def test_a_child_protection_plan_escalates_the_same_day_and_shortens_the_sla(
    world: DeskWorld,
) -> None:
    flags = (RiskFlag.CHILD_PROTECTION_PLAN,)
    world.deliver(
        SCHOOL, "school.deletion_return", deletion_return(DeletionGround.G, risk_flags=flags)
    )
    (escalation,) = world.sent(safeguarding.ESCALATION)
    assert escalation.recipient == SOCIAL_CARE
    assert escalation.payload.same_day_required
    assert {e.respond_by for e in enquiries(world).values()} == {date(2026, 11, 4)}
    # The same child notified again: matched, not duplicated; no second escalation.
    world.deliver(
        SCHOOL, "school.deletion_return", deletion_return(DeletionGround.G, risk_flags=flags)
    )
    assert len(world.desk.register.list_cases()) == 1
    assert len(world.sent(safeguarding.ESCALATION)) == 1
    assert len(world.sent(cme.LOCATE_ENQUIRY)) == 3


def test_a_deletion_that_carries_no_cme_risk_opens_nothing(world: DeskWorld) -> None:
    world.deliver(SCHOOL, "school.deletion_return", deletion_return(DeletionGround.K))
    assert world.desk.register.list_cases(CaseFilter(include_closed=True)) == []
    assert world.sent() == []


def test_a_locate_response_files_its_answer_on_the_enquiry(world: DeskWorld) -> None:
    world.deliver(SCHOOL, "school.non_arrival", non_arrival())
    health = next(s for s in world.sent(cme.LOCATE_ENQUIRY) if s.recipient == HEALTH)
    answer = answer_to(health, "found")
    world.deliver(HEALTH, cme.LOCATE_RESPONSE, answer)
    case = world.desk.register.show_case(only_case(world))
    filed = {e.agency_id: e for e in case.enquiries}
    assert filed[HEALTH].state is EnquiryState.ANSWERED
    assert filed[HEALTH].outcome == "found"
    assert "M85002" in (filed[HEALTH].evidence or "")
    assert filed[HOUSING].state is EnquiryState.SENT


def test_a_child_found_in_another_area_gets_a_cross_border_proposal(
    tmp_path: Path, db_url: str, clock: Clock
) -> None:
    areas = PostcodeAreas({"ZZ99": "331"})  # the responder's address is in LA 331's area
    world = DeskWorld(tmp_path, db_url, clock, areas=areas)
    world.deliver(SCHOOL, "school.non_arrival", non_arrival())
    health = next(s for s in world.sent(cme.LOCATE_ENQUIRY) if s.recipient == HEALTH)
    world.deliver(HEALTH, cme.LOCATE_RESPONSE, answer_to(health, "found"))
    notes = [e for e in world.desk.register.show_case(only_case(world)).timeline
             if e.kind is EventKind.NOTE]  # fmt: skip
    assert [n.detail for n in notes] == [{"proposed_cross_border_to": NEIGHBOUR}]
    assert world.sent(cme.CROSS_BORDER_NOTIFICATION) == []  # an officer decides


def test_an_answer_from_another_agency_than_the_one_asked_is_not_filed(world: DeskWorld) -> None:
    world.deliver(SCHOOL, "school.non_arrival", non_arrival())
    health = next(s for s in world.sent(cme.LOCATE_ENQUIRY) if s.recipient == HEALTH)
    answer = answer_to(health, "not_found")
    world.deliver(HOUSING, cme.LOCATE_RESPONSE, answer)
    case = world.desk.register.show_case(only_case(world))
    assert all(e.state is EnquiryState.SENT for e in case.enquiries)


def test_overdue_enquiries_are_chased_then_go_to_the_lead(world: DeskWorld, clock: Clock) -> None:
    world.deliver(SCHOOL, "school.non_arrival", non_arrival())
    assert world.desk.sweep().chased == []  # nothing due yet
    clock.now += timedelta(days=8)  # Tuesday 10 November: past the 9 November deadline
    report = world.desk.sweep()
    assert len(report.chased) == 3
    assert len(world.sent(cme.LOCATE_ENQUIRY)) == 6
    assert world.desk.sweep().chased == []  # idempotent: chased once
    # Chased enquiries put the case on the lead's overdue list.
    overdue = world.desk.register.list_cases(CaseFilter(overdue_on=clock.now.date()))
    assert [c.case_ref for c in overdue] == [only_case(world)]
    clock.now += timedelta(days=8)  # the chase's final deadline (5 working days) passed too
    report = world.desk.sweep()
    assert len(report.to_lead) == 3
    assert world.desk.sweep().to_lead == []
    overdue = world.desk.register.list_cases(CaseFilter(overdue_on=clock.now.date()))
    assert [c.case_ref for c in overdue] == [only_case(world)]


def test_every_closure_refusal_and_the_allowed_closure(world: DeskWorld) -> None:
    world.deliver(SCHOOL, "school.non_arrival", non_arrival())
    ref = only_case(world)
    refusals = [
        (None, ClosureEvidence(school="3304001", start_date=date(2026, 11, 1)), "no_outcome"),
        ("gone", ClosureEvidence(school="3304001"), "unknown_outcome"),
        (ClosureOutcome.ON_ROLL, None, "missing_evidence"),
        (ClosureOutcome.ON_ROLL, ClosureEvidence(start_date=date(2026, 11, 1)),
         "on_roll_needs_school"),
        (ClosureOutcome.ON_ROLL, ClosureEvidence(school="3304001", start_date=date(2026, 12, 1)),
         "on_roll_start_in_future"),
        (ClosureOutcome.RECEIVING_LA_ACCEPTED,
         ClosureEvidence(confirmation_message_id=UUID("7c2b8e8a-0d0c-4f6e-9d43-0a7c5e1f2b3c"),
                         responsibility_accepted=True), "confirmation_not_received"),
        (ClosureOutcome.BEYOND_COMPULSORY_SCHOOL_AGE, ClosureEvidence(how_established="said so"),
         "still_compulsory_school_age"),
    ]  # fmt: skip
    for outcome, evidence, reason in refusals:
        with pytest.raises(DeskError) as refused:
            world.desk.close_case(ref, outcome, evidence, OFFICER, "Trying to close.")
        assert refused.value.reason == reason, (outcome, reason)
    assert world.desk.register.show_case(ref).summary.state is CaseState.OPEN
    evidence = ClosureEvidence(school="3304001", start_date=date(2026, 11, 2))
    world.desk.close_case(ref, ClosureOutcome.ON_ROLL, evidence, OFFICER, "Started at 3304001.")
    case = world.desk.register.show_case(ref)
    assert case.summary.state is CaseState.CLOSED
    assert case.summary.closure_outcome is ClosureOutcome.ON_ROLL
    closed = [e for e in case.timeline if e.kind is EventKind.CLOSED]
    assert closed[-1].actor == OFFICER
    (status,) = world.sent(cme.CASE_STATUS)
    assert (status.recipient, status.payload.status) == (SCHOOL, CaseStatus.CLOSED)
    with pytest.raises(DeskError) as again:
        world.desk.close_case(ref, ClosureOutcome.ON_ROLL, evidence, OFFICER, "Twice.")
    assert again.value.reason == "case_already_closed"
    world.desk.reopen_case(ref, OFFICER, "The school says the child never arrived.")
    assert world.desk.register.show_case(ref).summary.state is CaseState.OPEN
    assert [s.payload.status for s in world.sent(cme.CASE_STATUS)] == [
        CaseStatus.CLOSED,
        CaseStatus.REOPENED,
    ]


def notify_neighbour(world: DeskWorld) -> tuple[str, str]:
    world.deliver(SCHOOL, "school.deletion_return", deletion_return(DeletionGround.G))
    ref = only_case(world)
    message_id = world.desk.notify_cross_border(ref, NEIGHBOUR, OFFICER, "Found with a GP there.")
    return ref, message_id


def test_cross_border_accepted_then_closed_with_that_confirmation(world: DeskWorld) -> None:
    ref, notification = notify_neighbour(world)
    assert world.desk.register.show_case(ref).summary.state is CaseState.AWAITING_RECEIVING_LA
    (sent,) = world.sent(cme.CROSS_BORDER_NOTIFICATION)
    assert sent.recipient == NEIGHBOUR
    assert sent.payload.respond_by == date(2026, 11, 16)  # 10 working days
    school = SchoolRef(laestab="3314012", name="Example Park Academy")
    confirmation = CrossBorderConfirmationV1(
        notification_message_id=UUID(notification), case_ref=ref,
        outcome=CrossBorderOutcome.ON_ROLL, accepts_responsibility=True, school=school,
    )  # fmt: skip
    opened = world.deliver(NEIGHBOUR, cme.CROSS_BORDER_CONFIRMATION, confirmation)
    assert world.desk.register.show_case(ref).summary.state is CaseState.OPEN
    evidence = ClosureEvidence(
        confirmation_message_id=opened.claims.jti, responsibility_accepted=True
    )
    world.desk.close_case(ref, ClosureOutcome.RECEIVING_LA_ACCEPTED, evidence, OFFICER, "Accepted.")
    assert world.desk.register.show_case(ref).summary.state is CaseState.CLOSED


def test_cross_border_declined_keeps_the_case_open(world: DeskWorld) -> None:
    ref, notification = notify_neighbour(world)
    confirmation = CrossBorderConfirmationV1(
        notification_message_id=UUID(notification), case_ref=ref,
        outcome=CrossBorderOutcome.NOT_FOUND_AT_ADDRESS, accepts_responsibility=False,
    )  # fmt: skip
    opened = world.deliver(NEIGHBOUR, cme.CROSS_BORDER_CONFIRMATION, confirmation)
    evidence = ClosureEvidence(
        confirmation_message_id=opened.claims.jti, responsibility_accepted=True
    )
    with pytest.raises(DeskError) as refused:
        world.desk.close_case(ref, ClosureOutcome.RECEIVING_LA_ACCEPTED, evidence, OFFICER, "No.")
    assert refused.value.reason == "confirmation_not_received"
    assert world.desk.register.show_case(ref).summary.state is CaseState.OPEN


def test_cross_border_without_an_answer_goes_to_the_lead(world: DeskWorld, clock: Clock) -> None:
    ref, _ = notify_neighbour(world)
    assert world.desk.sweep().cross_border_escalated == []
    clock.now += timedelta(days=15)  # past 16 November
    assert world.desk.sweep().cross_border_escalated == [ref]
    assert world.desk.sweep().cross_border_escalated == []
    assert world.desk.register.show_case(ref).summary.state is CaseState.AWAITING_RECEIVING_LA


def test_an_inbound_notification_opens_a_case_and_the_officer_answers_it(world: DeskWorld) -> None:
    notification = cross_border_notification(to_la=LA, from_la=NEIGHBOUR)
    opened = world.deliver(NEIGHBOUR, cme.CROSS_BORDER_NOTIFICATION, notification)
    ref = only_case(world)
    assert ref != notification.case_ref
    school = SchoolRef(laestab="3304001", name="Example School")
    world.desk.answer_cross_border(
        ref, CrossBorderOutcome.ON_ROLL, True, OFFICER, "On roll here.", school=school
    )
    (answer,) = world.sent(cme.CROSS_BORDER_CONFIRMATION)
    assert answer.recipient == NEIGHBOUR
    assert answer.payload.case_ref == notification.case_ref
    assert answer.payload.notification_message_id == opened.claims.jti
    assert answer.payload.accepts_responsibility


def test_joint_enquiries_exhausted_tell_the_school(world: DeskWorld, clock: Clock) -> None:
    world.deliver(SCHOOL, "school.deletion_return", deletion_return(DeletionGround.I))
    for asked in world.sent(cme.LOCATE_ENQUIRY):
        answer = answer_to(asked, "not_found")
        world.deliver(asked.recipient, cme.LOCATE_RESPONSE, answer)
    assert world.desk.sweep().schools_told == [only_case(world)]
    (told,) = world.sent(cme.ENQUIRIES_COMPLETE)
    assert told.recipient == SCHOOL
    assert told.payload.result is EnquiriesResult.ENQUIRIES_EXHAUSTED
    assert told.payload.deletion_ground is DeletionGround.I
    assert world.desk.sweep().schools_told == []


def test_school_attendance_order_steps_keep_their_order_and_deadlines(world: DeskWorld) -> None:
    world.deliver(SCHOOL, "school.non_arrival", non_arrival())
    ref = only_case(world)
    with pytest.raises(DeskError):
        world.desk.record_sao_step(ref, SaoStep.ORDER_SERVED, date(2026, 11, 2), OFFICER, "Early.")
    world.desk.record_sao_step(ref, SaoStep.S437_1_NOTICE, date(2026, 11, 2), OFFICER, "Served.")
    with pytest.raises(InvalidSaoStep):  # the parent's 15 days are still running
        world.desk.record_sao_step(
            ref, SaoStep.INTENDED_SCHOOL_NOTICE, date(2026, 11, 10), OFFICER, "Too soon."
        )
    (step,) = world.desk.register.show_case(ref).sao_steps
    assert step.deadline == date(2026, 11, 16)  # 15 days beginning with the day of service


def test_a_respondent_out_of_reach_is_noted_and_the_others_are_asked(
    tmp_path: Path, db_url: str, clock: Clock
) -> None:
    """The police are configured but not registered in the directory: the case still opens,
    the core agencies are asked, and the timeline says which enquiry could not go."""
    world = DeskWorld(tmp_path, db_url, clock, settings=DeskSettings(police_agency="police:20"))
    flags = (RiskFlag.TEMPORARY_ACCOMMODATION,)
    world.deliver(
        SCHOOL, "school.deletion_return", deletion_return(DeletionGround.G, risk_flags=flags)
    )
    assert {s.recipient for s in world.sent(cme.LOCATE_ENQUIRY)} == CORE
    notes = [e.detail for e in world.desk.register.show_case(only_case(world)).timeline
             if e.kind is EventKind.NOTE]  # fmt: skip
    assert notes == [{"recipient": "police:20", "not_sent": "wrong_recipient"}]


def test_the_police_are_asked_only_when_configured(world: DeskWorld) -> None:
    world.deliver(SCHOOL, "school.non_arrival", non_arrival())
    assert {s.payload.case_ref for s in world.sent(cme.LOCATE_ENQUIRY)}
    targets = {e.target for e in world.desk.register.show_case(only_case(world)).enquiries}
    assert EnquiryTarget.POLICE not in targets


def test_an_answer_to_the_first_copy_after_a_chase_is_still_filed(
    world: DeskWorld, clock: Clock
) -> None:
    world.deliver(SCHOOL, "school.non_arrival", non_arrival())
    first = next(s for s in world.sent(cme.LOCATE_ENQUIRY) if s.recipient == HEALTH)
    clock.now += timedelta(days=8)
    assert len(world.desk.sweep().chased) == 3
    world.deliver(HEALTH, cme.LOCATE_RESPONSE, answer_to(first, "not_found"))
    filed = {e.agency_id: e for e in world.desk.register.show_case(only_case(world)).enquiries}
    assert filed[HEALTH].state is EnquiryState.ANSWERED
    chase = [s for s in world.sent(cme.LOCATE_ENQUIRY) if s.recipient == HOUSING][-1]
    world.deliver(HOUSING, cme.LOCATE_RESPONSE, answer_to(chase, "not_found"))
    filed = {e.agency_id: e for e in world.desk.register.show_case(only_case(world)).enquiries}
    assert filed[HOUSING].state is EnquiryState.ANSWERED


def test_joint_enquiries_with_an_unsent_enquiry_are_not_complete(
    tmp_path: Path, db_url: str, clock: Clock
) -> None:
    """9(1)(i) with police configured but unreachable: everyone else says not found, yet the
    school is not told it may delete; the lead is told instead."""
    world = DeskWorld(tmp_path, db_url, clock, settings=DeskSettings(police_agency="police:20"))
    flags = (RiskFlag.TEMPORARY_ACCOMMODATION,)
    world.deliver(
        SCHOOL, "school.deletion_return", deletion_return(DeletionGround.I, risk_flags=flags)
    )
    for asked in world.sent(cme.LOCATE_ENQUIRY):
        world.deliver(asked.recipient, cme.LOCATE_RESPONSE, answer_to(asked, "not_found"))
    report = world.desk.sweep()
    assert report.schools_told == []
    assert report.to_lead == [only_case(world)]
    assert world.desk.sweep().to_lead == []


def test_an_escalation_that_cannot_be_sent_still_files_the_case(
    world: DeskWorld,
) -> None:
    world.container.directory_store.set_status(SOCIAL_CARE, AgencyStatus.SUSPENDED)
    flags = (RiskFlag.CHILD_PROTECTION_PLAN,)
    world.deliver(
        SCHOOL, "school.deletion_return", deletion_return(DeletionGround.G, risk_flags=flags)
    )
    case = world.desk.register.show_case(only_case(world))
    escalated = [e.detail for e in case.timeline if e.kind is EventKind.ESCALATED]
    assert escalated == [{"scope": "escalation_not_sent"}]
    assert {s.recipient for s in world.sent(cme.LOCATE_ENQUIRY)} == {HEALTH, HOUSING}
