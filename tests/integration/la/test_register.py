"""The case register on SQLite and PostgreSQL: opening and matching, the possible-duplicate
queue, the timeline, enquiries, closure and reopening, SAO steps, and the transaction rules."""

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, event, inspect, text
from sqlmodel import Session

from adapters.la.db import VERSION_TABLE, autogenerate_filters, migrate_desk
from adapters.la.model import (
    CaseState,
    EnquiryState,
    EnquiryTarget,
    MatchKind,
    Priority,
    SaoStep,
    Trigger,
)
from adapters.la.records import (
    CaseFilter,
    CaseOpening,
    DuplicateState,
    EnquiryChange,
    EnquiryDraft,
    EventKind,
)
from adapters.la.register import CaseRegister
from adapters.la.store_errors import AlreadyDecided, CaseStateConflict, Undecryptable
from adapters.la.tables import DeskTable
from schemas.case import ClosureOutcome
from schemas.domain import CmeReason, RiskFlag
from tests.clock import Clock
from tests.integration.la.children import address, child, nhs_number, upn

OFFICER = "user:cme-officer-1"


def opening(**overrides: object) -> CaseOpening:
    """A deletion-return opening, unless told otherwise."""
    fields: dict[str, object] = {
        "trigger": Trigger.DELETION_RETURN,
        "reason": CmeReason.UNKNOWN,
        "priority": Priority.MEDIUM,
        "actor": "system",
        "why": "Deletion return under 9(1)(i) with destination unknown.",
        "message_id": "0d9f3c3e-6a0e-4f55-9b8f-6a8a6a9c0001",
    }
    fields.update(overrides)
    return CaseOpening.model_validate(fields)


def test_migrations_sit_beside_the_brokers_and_match_the_tables(desk_engine: Engine) -> None:
    migrate_desk(desk_engine)  # idempotent
    tables = set(inspect(desk_engine).get_table_names())
    assert {"alembic_version", "desk_alembic_version", "outbox_message", "desk_case"} <= tables
    with desk_engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM desk_alembic_version")).all() == [
            ("d0001",)
        ]
        context = MigrationContext.configure(
            connection,
            opts={"version_table": VERSION_TABLE, **autogenerate_filters()},
        )
        assert compare_metadata(context, DeskTable.metadata) == []


def test_case_refs_come_from_a_sequence(register: CaseRegister) -> None:
    first = register.open_case(child(), opening())
    second = register.open_case(child(forenames="Orrin"), opening())
    assert (first, second) == ("CME-330-2026-000001", "CME-330-2026-000002")


def test_concurrent_openings_never_share_a_ref(register: CaseRegister) -> None:
    def open_some(worker: int) -> list[str]:
        return [
            register.open_case(child(forenames=f"Kid{worker}x{n}"), opening()) for n in range(5)
        ]

    with ThreadPoolExecutor(max_workers=6) as pool:
        refs = [ref for batch in pool.map(open_some, range(6)) for ref in batch]
    assert sorted(refs) == [f"CME-330-2026-{n:06d}" for n in range(1, 31)]


@pytest.mark.parametrize(
    ("stored", "incoming"),
    [
        ({"upn": upn(1)}, {"upn": upn(1).lower()}),
        ({"nhs_number": nhs_number(123)}, {"nhs_number": nhs_number(123)}),
        ({"consistent_identifier": "CID-77 AB"}, {"consistent_identifier": "cid-77ab"}),
    ],
)
def test_open_and_match_by_each_identifier(
    register: CaseRegister, stored: dict[str, str], incoming: dict[str, str]
) -> None:
    case_ref = register.open_case(child(**stored), opening())
    # A different name and no address: the identifier alone decides, with certainty.
    other = child(forenames="Zeph", surname="Quill-Feather", addresses=(), **incoming)
    assert register.match(other) == (MatchKind.IDENTIFIER, case_ref, 1.0)
    assert register.match(child(forenames="Orrin", surname="Vantablack", addresses=()))[0] is (
        MatchKind.NONE
    )


def test_an_identifier_match_prefers_the_open_case(register: CaseRegister) -> None:
    old = register.open_case(child(upn=upn(2)), opening())
    register.close_case(old, ClosureOutcome.ON_ROLL, "On roll at school 3304001.", OFFICER, "ok")
    new = register.open_case(child(upn=upn(2)), opening())
    assert register.match(child(upn=upn(2))).case_ref == new


def test_demographic_match_attaches_to_the_case(register: CaseRegister) -> None:
    case_ref = register.open_case(child(), opening())
    incoming = child(forenames="ZEPHYRINE", addresses=(address("17 Marrowbone Lane, Flat 2"),))
    kind, found, confidence = register.match(incoming)
    assert (kind, found) == (MatchKind.DEMOGRAPHIC, case_ref)
    assert confidence >= 0.9
    result = register.intake(incoming, opening(trigger=Trigger.REFERRAL))
    assert (result.case_ref, result.case_state, result.opened, result.match_kind) == (
        case_ref,
        CaseState.OPEN,
        False,
        MatchKind.DEMOGRAPHIC,
    )
    shown = register.show_case(case_ref)
    assert shown.children == (child(), incoming)  # the new address is kept
    assert [e.kind for e in shown.timeline] == [EventKind.OPENED, EventKind.MATCHED]
    assert shown.timeline[1].detail["match_kind"] == "demographic"


def test_an_uncertain_match_waits_for_a_person_and_merges_only_when_decided(
    register: CaseRegister,
) -> None:
    case_ref = register.open_case(child(), opening())
    moved = child(addresses=(address("4 Nowhere Row", "ZZ99 1AB"),))  # same name and birth date
    kind, found, confidence = register.match(moved)
    assert (kind, found) == (MatchKind.POSSIBLE, case_ref)
    assert 0.6 <= confidence < 0.9

    result = register.intake(moved, opening(trigger=Trigger.REFERRAL, why="Referred by GP."))
    assert result.match_kind is MatchKind.POSSIBLE
    assert result.case_ref is None
    assert not result.opened
    assert result.duplicate_id
    assert len(register.list_cases()) == 1  # no case opened
    assert register.show_case(case_ref).children == (child(),)  # and nothing merged
    [queued] = register.possible_duplicates()
    assert (queued.existing_case_ref, queued.candidate, queued.state) == (
        case_ref,
        moved,
        DuplicateState.PENDING,
    )
    assert queued.opening.why == "Referred by GP."
    assert queued.opening.trigger is Trigger.REFERRAL

    merged_into = register.decide_duplicate(
        result.duplicate_id, DuplicateState.MERGED, OFFICER, "Same child: mother confirmed."
    )
    assert merged_into == case_ref
    assert register.show_case(case_ref).children == (child(), moved)
    assert register.possible_duplicates() == []
    [decided] = register.possible_duplicates(state=None)
    assert (decided.state, decided.decided_by, decided.resulting_case_ref) == (
        DuplicateState.MERGED,
        OFFICER,
        case_ref,
    )
    assert decided.decision_why == "Same child: mother confirmed."
    with pytest.raises(AlreadyDecided):
        register.decide_duplicate(result.duplicate_id, DuplicateState.DISTINCT, OFFICER, "no")
    kinds = [e.kind for e in register.show_case(case_ref).timeline]
    assert kinds == [EventKind.OPENED, EventKind.POSSIBLE_DUPLICATE, EventKind.DUPLICATE_MERGED]


def test_a_distinct_decision_opens_a_case_for_the_candidate(register: CaseRegister) -> None:
    case_ref = register.open_case(child(), opening())
    moved = child(addresses=(address("4 Nowhere Row", "ZZ99 1AB"),))
    result = register.intake(moved, opening(priority=Priority.HIGH))
    assert result.duplicate_id is not None
    new_ref = register.decide_duplicate(
        result.duplicate_id, DuplicateState.DISTINCT, OFFICER, "Different child, same name."
    )
    assert new_ref != case_ref
    shown = register.show_case(new_ref)
    assert shown.children == (moved,)
    assert shown.summary.priority is Priority.HIGH
    assert register.show_case(case_ref).children == (child(),)
    assert register.show_case(case_ref).timeline[-1].kind is EventKind.DUPLICATE_DISTINCT
    assert [e.kind for e in shown.timeline] == [EventKind.OPENED, EventKind.DUPLICATE_DISTINCT]
    assert shown.timeline[1].detail["other_case"] == case_ref


def test_a_twin_is_not_matched(register: CaseRegister) -> None:
    register.open_case(child(), opening())
    twin = child(forenames="Orrin")  # same surname, birth date and address
    assert register.match(twin)[0] is MatchKind.NONE
    result = register.intake(twin, opening())
    assert result.opened
    assert result.match_kind is MatchKind.NONE


def test_timeline_keeps_order_even_within_one_instant(register: CaseRegister, clock: Clock) -> None:
    case_ref = register.open_case(child(), opening())
    for n in range(5):  # the hand clock does not move: insertion order must hold
        register.add_event(case_ref, EventKind.NOTE, OFFICER, why=f"note {n}", detail={"n": n})
    clock.now += timedelta(hours=1)
    register.add_event(case_ref, EventKind.ESCALATED, OFFICER, detail={"to": "social_care:330"})
    timeline = register.show_case(case_ref).timeline
    assert [e.kind for e in timeline] == [EventKind.OPENED] + [EventKind.NOTE] * 5 + [
        EventKind.ESCALATED
    ]
    assert [e.why for e in timeline[1:6]] == [f"note {n}" for n in range(5)]
    assert timeline[-1].at == clock.now
    with pytest.raises(ValueError, match="detail") as refused:
        register.add_event(case_ref, EventKind.NOTE, OFFICER, detail={"Zephyrine Q": "ZZ99 3QF"})
    assert "Zephyrine" not in str(refused.value)
    assert "ZZ99" not in str(refused.value)


def test_close_and_reopen_record_who_and_why(register: CaseRegister, clock: Clock) -> None:
    case_ref = register.open_case(child(), opening())
    clock.now += timedelta(days=3)
    register.close_case(
        case_ref,
        ClosureOutcome.ON_ROLL,
        "Confirmed on roll at school 3304001 from 2026-11-04.",
        OFFICER,
        "Receiving school confirmed by phone.",
    )
    closed = register.show_case(case_ref)
    assert closed.summary.state is CaseState.CLOSED
    assert closed.summary.closure_outcome is ClosureOutcome.ON_ROLL
    assert closed.summary.closed_at == clock.now
    assert closed.closure_evidence == "Confirmed on roll at school 3304001 from 2026-11-04."
    assert register.list_cases() == []
    with pytest.raises(CaseStateConflict):
        register.close_case(case_ref, ClosureOutcome.DECEASED, "x", OFFICER, "again")

    clock.now += timedelta(days=1)
    register.reopen_case(case_ref, "user:cme-lead", "School says the child never arrived.")
    reopened = register.show_case(case_ref)
    assert reopened.summary.state is CaseState.OPEN
    assert reopened.summary.closure_outcome is None
    assert reopened.closure_evidence is None
    closing, reopening = reopened.timeline[-2:]
    assert (closing.kind, closing.actor, closing.why) == (
        EventKind.CLOSED,
        OFFICER,
        "Receiving school confirmed by phone.",
    )
    assert closing.evidence == "Confirmed on roll at school 3304001 from 2026-11-04."
    assert closing.detail["outcome"] == "on_roll"
    assert (reopening.kind, reopening.actor, reopening.why) == (
        EventKind.REOPENED,
        "user:cme-lead",
        "School says the child never arrived.",
    )
    assert reopening.detail["previous_outcome"] == "on_roll"
    with pytest.raises(CaseStateConflict):
        register.reopen_case(case_ref, OFFICER, "not closed")


def test_enquiries_overdue_and_answered(register: CaseRegister, clock: Clock) -> None:
    urgent = register.open_case(
        child(upn=upn(3)),
        opening(priority=Priority.HIGH, risk_flags=(RiskFlag.TEMPORARY_ACCOMMODATION,)),
    )
    calm = register.open_case(child(forenames="Orrin", upn=upn(4)), opening())
    today = clock.now.date()
    health = register.record_enquiry(
        urgent,
        EnquiryDraft(
            target=EnquiryTarget.HEALTH,
            agency_id="health:M85001",
            state=EnquiryState.SENT,
            message_id="5b2a0f0e-2f55-4d7e-8f3e-5a1c0c0b0002",
            sent_at=clock.now,
            respond_by=today + timedelta(days=2),
        ),
        OFFICER,
    )
    register.record_enquiry(
        calm,
        EnquiryDraft(target=EnquiryTarget.HOUSING, agency_id="housing:330-ta"),
        OFFICER,
    )
    listed = register.list_cases()
    assert [c.case_ref for c in listed] == [urgent, calm]  # high priority first
    assert [(c.open_enquiries, c.overdue_enquiries) for c in listed] == [(1, 0), (1, 0)]
    assert listed[0].risk_flags == (RiskFlag.TEMPORARY_ACCOMMODATION,)
    later = today + timedelta(days=3)
    assert [c.case_ref for c in register.list_cases(CaseFilter(overdue_on=later))] == [urgent]
    assert [c.case_ref for c in register.list_cases(CaseFilter(priority=Priority.MEDIUM))] == [calm]
    [overdue] = register.overdue_enquiries(later)
    assert (overdue.enquiry_id, overdue.case_ref) == (health, urgent)

    found = register.enquiry_for_message("5b2a0f0e-2f55-4d7e-8f3e-5a1c0c0b0002")
    assert found is not None
    assert found.enquiry_id == health
    clock.now += timedelta(days=1)
    register.update_enquiry(
        health,
        EnquiryChange(
            state=EnquiryState.ANSWERED,
            outcome="found",
            evidence="Registered with a GP practice since 2026-10-01.",
        ),
        "health:M85001",
    )
    [answered] = register.show_case(urgent).enquiries
    assert (answered.state, answered.outcome, answered.answered_at) == (
        EnquiryState.ANSWERED,
        "found",
        clock.now,
    )
    assert answered.evidence == "Registered with a GP practice since 2026-10-01."
    assert register.overdue_enquiries(later) == []
    kinds = [e.kind for e in register.show_case(urgent).timeline]
    assert kinds == [EventKind.OPENED, EventKind.ENQUIRY_SENT, EventKind.ENQUIRY_ANSWERED]


def test_states_risk_owner_and_sao_steps(register: CaseRegister) -> None:
    case_ref = register.open_case(child(), opening())
    register.set_state(case_ref, CaseState.NATIONAL_SEARCH, OFFICER, why="No trace locally.")
    register.update_risk(case_ref, (RiskFlag.RISK_OF_HARM,), Priority.HIGH, OFFICER)
    register.assign(case_ref, "user:cme-officer-2", OFFICER)
    served = date(2026, 11, 2)
    register.record_sao_step(
        case_ref, SaoStep.S437_1_NOTICE, served, OFFICER, deadline=served + timedelta(days=15)
    )
    shown = register.show_case(case_ref)
    assert shown.summary.state is CaseState.NATIONAL_SEARCH
    assert (shown.summary.priority, shown.summary.risk_flags) == (
        Priority.HIGH,
        (RiskFlag.RISK_OF_HARM,),
    )
    assert shown.summary.owner == "user:cme-officer-2"
    [step] = shown.sao_steps
    assert (step.step, step.served_on, step.deadline) == (
        SaoStep.S437_1_NOTICE,
        served,
        date(2026, 11, 17),
    )
    with pytest.raises(CaseStateConflict):
        register.set_state(case_ref, CaseState.CLOSED, OFFICER)
    with pytest.raises(ValueError, match="actor"):
        register.assign(case_ref, "Zephyrine's officer", OFFICER)


def test_inside_the_callers_transaction_nothing_survives_a_rollback(
    register: CaseRegister, desk_engine: Engine
) -> None:
    with Session(desk_engine) as session:
        case_ref = register.open_case(child(), opening(), session=session)
        assert register.show_case(case_ref, session=session).child == child()
        session.rollback()
    assert register.list_cases() == []
    assert register.match(child())[0] is MatchKind.NONE


def test_a_ciphertext_moved_to_another_row_does_not_open(
    register: CaseRegister, desk_engine: Engine
) -> None:
    first = register.open_case(child(), opening())
    second = register.open_case(child(forenames="Orrin"), opening())
    with desk_engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE desk_case_child SET identity = "
                "(SELECT identity FROM desk_case_child WHERE id = 1) WHERE id = 2"
            )
        )
    assert register.show_case(first).child == child()
    with pytest.raises(Undecryptable) as refused:
        register.show_case(second)
    assert "Zephyrine" not in str(refused.value)


def test_lists_cost_a_fixed_number_of_queries(register: CaseRegister, desk_engine: Engine) -> None:
    refs = [register.open_case(child(forenames=f"Kid{n}"), opening()) for n in range(6)]
    for ref in refs:
        register.record_enquiry(
            ref, EnquiryDraft(target=EnquiryTarget.HEALTH, agency_id="health:M85001"), OFFICER
        )
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(desk_engine, "before_cursor_execute", count)
    try:
        assert len(register.list_cases()) == 6
        assert len(statements) == 1
        statements.clear()
        register.show_case(refs[0])
        assert len(statements) == 5  # case, enquiries, children, timeline, SAO steps
    finally:
        event.remove(desk_engine, "before_cursor_execute", count)
