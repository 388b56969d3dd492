"""Enquiries in flight (overdue, chase, escalation to the CME lead), cross-border deadlines,
joint enquiries for reg 9(1)(h)/(i), a child found in another LA, and same-day safeguarding
escalation. Dates are fixed: no test reads the clock.
"""

from datetime import date

import pytest
from pydantic import ValidationError

from adapters.la.errors import InvalidInput
from adapters.la.model import CaseKind, EnquiryState, EnquiryTarget, Trigger
from adapters.la.rules import (
    CaseFacts,
    CrossBorderRecord,
    EnquiryRecord,
    JointEnquiriesState,
    OverdueAction,
    case_opening,
    chase_deadline,
    cross_border_escalation_due,
    enquiries_complete_result,
    enquiry_state,
    joint_enquiries_state,
    needs_same_day_escalation,
    overdue_enquiries,
    propose_cross_border,
    same_day_flags,
)
from schemas.domain import CmeReason, DeletionGround, RiskFlag
from schemas.messages.cme import EnquiriesResult, LocateOutcome
from tests.unit.la.desk_builders import (
    CALENDAR,
    FIVE_WORKING_DAYS_LATER,
    NEIGHBOUR_LA,
    OWN_LA,
    POLICY,
    TEN_WORKING_DAYS_LATER,
    TODAY,
    deletion_return,
    locate_response,
    referral,
)

T = EnquiryTarget
SENT = TODAY  # Monday 2 November 2026
DUE = FIVE_WORKING_DAYS_LATER  # Monday 9 November


def sent(target: EnquiryTarget = T.HEALTH, **changes: object) -> EnquiryRecord:
    return EnquiryRecord.model_validate(
        {"target": target, "sent_on": SENT, "respond_by": DUE, **changes}
    )


def chased(target: EnquiryTarget = T.HEALTH, **changes: object) -> EnquiryRecord:
    # Chased on Tuesday 10 November with a final deadline 5 working days on.
    return sent(
        target, chased_on=date(2026, 11, 10), final_respond_by=date(2026, 11, 17), **changes
    )


def answered(target: EnquiryTarget, outcome: LocateOutcome) -> EnquiryRecord:
    return sent(target, answered_on=date(2026, 11, 5), outcome=outcome)


# Overdue and chase


@pytest.mark.parametrize(
    ("today", "state"),
    [
        pytest.param(date(2026, 11, 6), EnquiryState.SENT, id="before-deadline"),
        pytest.param(DUE, EnquiryState.SENT, id="on-the-deadline-day"),
        pytest.param(date(2026, 11, 10), EnquiryState.OVERDUE, id="day-after"),
    ],
)
def test_enquiry_state(today: date, state: EnquiryState) -> None:
    assert enquiry_state(sent(), today) is state
    assert enquiry_state(answered(T.HEALTH, LocateOutcome.NOT_FOUND), today) is (
        EnquiryState.ANSWERED
    )


def test_an_enquiry_is_chased_the_day_after_its_deadline() -> None:
    assert overdue_enquiries([sent()], DUE, CALENDAR) == ()
    (overdue,) = overdue_enquiries([sent()], date(2026, 11, 10), CALENDAR)
    assert (overdue.target, overdue.action, overdue.missed) == (T.HEALTH, OverdueAction.CHASE, DUE)
    assert overdue.working_days_late == 1


def test_a_chased_enquiry_waits_for_its_final_deadline_then_goes_to_the_lead() -> None:
    assert overdue_enquiries([chased()], date(2026, 11, 17), CALENDAR) == ()
    (overdue,) = overdue_enquiries([chased()], date(2026, 11, 19), CALENDAR)
    assert overdue.action is OverdueAction.ESCALATE_TO_LEAD
    assert overdue.missed == date(2026, 11, 17)
    assert overdue.working_days_late == 2


def test_answered_or_escalated_enquiries_need_nothing() -> None:
    late = date(2026, 12, 1)
    records = [
        answered(T.HEALTH, LocateOutcome.NOT_FOUND),
        chased(T.HOUSING, escalated_on=date(2026, 11, 18)),
    ]
    assert overdue_enquiries(records, late, CALENDAR) == ()


def test_working_days_late_skip_bank_holidays() -> None:
    record = EnquiryRecord(
        target=T.HOUSING, sent_on=date(2026, 12, 16), respond_by=date(2026, 12, 23)
    )
    (overdue,) = overdue_enquiries([record], date(2026, 12, 29), CALENDAR)
    assert overdue.working_days_late == 2  # 24 December and 29 December


def test_chase_deadline_uses_the_locate_sla() -> None:
    assert chase_deadline(date(2026, 11, 10), (), POLICY, CALENDAR) == date(2026, 11, 17)
    flagged = (RiskFlag.RISK_OF_HARM,)
    assert chase_deadline(date(2026, 12, 23), flagged, POLICY, CALENDAR) == date(2026, 12, 29)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"respond_by": date(2026, 11, 1)}, id="due-before-sent"),
        pytest.param({"answered_on": date(2026, 11, 5)}, id="answer-without-outcome"),
        pytest.param({"outcome": LocateOutcome.FOUND}, id="outcome-without-date"),
        pytest.param({"chased_on": date(2026, 11, 10)}, id="chase-without-deadline"),
        pytest.param(
            {"chased_on": date(2026, 11, 9), "final_respond_by": date(2026, 11, 16)},
            id="chased-before-overdue",
        ),
        pytest.param(
            {"chased_on": date(2026, 11, 10), "final_respond_by": date(2026, 11, 9)},
            id="final-deadline-before-chase",
        ),
        pytest.param({"escalated_on": date(2026, 11, 20)}, id="escalated-without-chase"),
    ],
)
def test_an_inconsistent_enquiry_record_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        sent(**changes)  # type: ignore[arg-type]


# Cross-border notification deadline


@pytest.mark.parametrize(
    ("changes", "today", "due"),
    [
        pytest.param({}, TEN_WORKING_DAYS_LATER, False, id="on-the-deadline-day"),
        pytest.param({}, date(2026, 11, 17), True, id="day-after-deadline"),
        pytest.param(
            {"confirmed_on": date(2026, 11, 12)}, date(2026, 11, 20), False, id="answered"
        ),
        pytest.param({"escalated_on": date(2026, 11, 17)}, date(2026, 11, 20), False, id="done"),
    ],
)
def test_an_unanswered_cross_border_notification_escalates(
    changes: dict[str, object], today: date, due: bool
) -> None:
    record = CrossBorderRecord.model_validate(
        {"to_la": NEIGHBOUR_LA, "sent_on": TODAY, "respond_by": TEN_WORKING_DAYS_LATER, **changes}
    )
    assert cross_border_escalation_due(record, today) is due


# Joint enquiries, reg 9(1)(h)/(i)


def joint_case(ground: DeletionGround = DeletionGround.I) -> CaseFacts:
    case = case_opening(deletion_return(ground), POLICY, TODAY).case
    assert case is not None
    return case


AFTER_ALL_DEADLINES = date(2026, 11, 30)


@pytest.mark.parametrize(
    ("records", "today", "state"),
    [
        pytest.param([], AFTER_ALL_DEADLINES, JointEnquiriesState.PENDING, id="nothing-asked"),
        pytest.param(
            [
                answered(T.HEALTH, LocateOutcome.NOT_FOUND),
                answered(T.HOUSING, LocateOutcome.NOT_FOUND),
            ],
            AFTER_ALL_DEADLINES,
            JointEnquiriesState.PENDING,
            id="social-care-never-asked",
        ),
        pytest.param(
            [answered(T.HEALTH, LocateOutcome.NOT_FOUND), sent(T.HOUSING), sent(T.SOCIAL_CARE)],
            date(2026, 11, 6),
            JointEnquiriesState.PENDING,
            id="within-deadline",
        ),
        pytest.param(
            [answered(T.HEALTH, LocateOutcome.NOT_FOUND), sent(T.HOUSING), sent(T.SOCIAL_CARE)],
            AFTER_ALL_DEADLINES,
            JointEnquiriesState.PENDING,
            id="overdue-but-not-chased",
        ),
        pytest.param(
            [answered(T.HEALTH, LocateOutcome.NOT_FOUND), chased(T.HOUSING), chased(T.SOCIAL_CARE)],
            date(2026, 11, 17),
            JointEnquiriesState.PENDING,
            id="chased-final-deadline-today",
        ),
        pytest.param(
            [answered(T.HEALTH, LocateOutcome.NOT_FOUND), chased(T.HOUSING), chased(T.SOCIAL_CARE)],
            date(2026, 11, 18),
            JointEnquiriesState.EXHAUSTED,
            id="chased-and-lapsed",
        ),
        pytest.param(
            [
                answered(T.HEALTH, LocateOutcome.NOT_FOUND),
                answered(T.HOUSING, LocateOutcome.NOT_FOUND),
                answered(T.SOCIAL_CARE, LocateOutcome.NOT_FOUND),
            ],
            date(2026, 11, 6),
            JointEnquiriesState.EXHAUSTED,
            id="all-not-found",
        ),
        pytest.param(
            [answered(T.HEALTH, LocateOutcome.FOUND), sent(T.HOUSING)],
            date(2026, 11, 6),
            JointEnquiriesState.CHILD_LOCATED,
            id="found-ends-it-at-once",
        ),
        pytest.param(
            [
                answered(T.HEALTH, LocateOutcome.KNOWN_WITHHELD),
                answered(T.HOUSING, LocateOutcome.NOT_FOUND),
                answered(T.SOCIAL_CARE, LocateOutcome.NOT_FOUND),
            ],
            date(2026, 11, 6),
            JointEnquiriesState.FOLLOW_UP_NEEDED,
            id="withheld-is-not-exhausted",
        ),
    ],
)
def test_joint_enquiries_state(
    records: list[EnquiryRecord], today: date, state: JointEnquiriesState
) -> None:
    assert joint_enquiries_state(joint_case(), records, today) is state


@pytest.mark.parametrize(
    ("state", "result"),
    [
        (JointEnquiriesState.PENDING, None),
        (JointEnquiriesState.FOLLOW_UP_NEEDED, None),
        (JointEnquiriesState.CHILD_LOCATED, EnquiriesResult.CHILD_LOCATED),
        (JointEnquiriesState.EXHAUSTED, EnquiriesResult.ENQUIRIES_EXHAUSTED),
    ],
)
def test_enquiries_complete_result(
    state: JointEnquiriesState, result: EnquiriesResult | None
) -> None:
    assert enquiries_complete_result(state) is result


def test_joint_enquiries_apply_to_h_and_i_only() -> None:
    assert joint_enquiries_state(joint_case(DeletionGround.H), [], TODAY) is (
        JointEnquiriesState.PENDING
    )
    with pytest.raises(InvalidInput) as refused:
        joint_enquiries_state(joint_case(DeletionGround.G), [], TODAY)
    assert refused.value.reason == "not_a_joint_enquiry_case"


# A child found in another LA's area


def test_a_child_found_in_another_la_gets_a_cross_border_proposal() -> None:
    response = locate_response("found")
    proposal = propose_cross_border(response, "331", POLICY, CALENDAR, TODAY)
    assert proposal is not None
    assert (proposal.from_la, proposal.to_la) == (OWN_LA, NEIGHBOUR_LA)
    assert proposal.respond_by == TEN_WORKING_DAYS_LATER
    assert proposal.reason is CmeReason.MOVED_OTHER_LA
    assert proposal.believed_address == response.current_address
    assert "2026-10-20" in proposal.evidence
    assert "Coventry" not in proposal.evidence
    assert "ZZ99" not in proposal.evidence


@pytest.mark.parametrize(
    ("outcome", "with_address", "la_code"),
    [
        pytest.param("found", True, "330", id="found-in-this-la"),
        pytest.param("found", False, "331", id="found-without-address"),
        pytest.param("not_found", False, "331", id="not-found"),
        pytest.param("known_withheld", False, "331", id="withheld"),
    ],
)
def test_no_cross_border_proposal(outcome: str, with_address: bool, la_code: str) -> None:
    response = locate_response(outcome, with_address=with_address)
    assert propose_cross_border(response, la_code, POLICY, CALENDAR, TODAY) is None


@pytest.mark.parametrize("la_code", ["999", "33", "la:331", "909"])
def test_a_cross_border_proposal_needs_a_current_la_code(la_code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        propose_cross_border(locate_response("found"), la_code, POLICY, CALENDAR, TODAY)
    assert refused.value.reason == "unknown_la_code"


# Same-day safeguarding escalation


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        pytest.param((), (), id="no-flags"),
        pytest.param((RiskFlag.TEMPORARY_ACCOMMODATION,), (), id="risk-but-not-same-day"),
        pytest.param(
            (RiskFlag.CHILD_PROTECTION_PLAN,), (RiskFlag.CHILD_PROTECTION_PLAN,), id="cp-plan"
        ),
        pytest.param((RiskFlag.LOOKED_AFTER,), (RiskFlag.LOOKED_AFTER,), id="looked-after"),
        pytest.param(
            (RiskFlag.RISK_OF_HARM, RiskFlag.SERVICE_FAMILY, RiskFlag.LOOKED_AFTER),
            (RiskFlag.LOOKED_AFTER, RiskFlag.RISK_OF_HARM),
            id="mixed",
        ),
    ],
)
def test_same_day_flags(flags: tuple[RiskFlag, ...], expected: tuple[RiskFlag, ...]) -> None:
    assert same_day_flags(flags) == expected
    assert needs_same_day_escalation(flags) is bool(expected)


def test_a_flag_escalates_once_and_a_new_one_escalates_again() -> None:
    flags = (RiskFlag.CHILD_PROTECTION_PLAN,)
    assert not needs_same_day_escalation(flags, already_escalated=flags)
    later = (RiskFlag.CHILD_PROTECTION_PLAN, RiskFlag.RISK_OF_HARM)
    assert same_day_flags(later, already_escalated=flags) == (RiskFlag.RISK_OF_HARM,)


def test_a_referral_for_a_looked_after_child_needs_escalation_today() -> None:
    case = case_opening(referral(risk_flags=(RiskFlag.LOOKED_AFTER,)), POLICY, TODAY).case
    assert case is not None
    assert needs_same_day_escalation(case.risk_flags)


def test_an_ehe_check_for_a_child_with_a_protection_plan_escalates_too() -> None:
    message = deletion_return(DeletionGround.F, risk_flags=(RiskFlag.CHILD_PROTECTION_PLAN,))
    case = case_opening(message, POLICY, TODAY).case
    assert case is not None
    assert (case.kind, case.trigger) == (CaseKind.EHE_SUITABILITY, Trigger.DELETION_RETURN)
    assert needs_same_day_escalation(case.risk_flags)
