"""Which notifications open a case, of what kind, for which reason, at what priority, and the
enquiries that follow. The deletion-return table covers all 15 reg 9(1) grounds against three
destination situations.
"""

from datetime import date
from typing import NamedTuple, get_args

import pytest

from adapters.la.errors import InvalidInput
from adapters.la.model import CaseKind, EnquiryTarget, Priority, Trigger
from adapters.la.rules import (
    GROUND_RULES,
    CaseFacts,
    InboundNotification,
    KnownFacts,
    OpeningDecision,
    case_opening,
    plan_enquiries,
    priority,
)
from adapters.la.rules.opening import TRIGGERS
from schemas.domain import CmeReason, DeletionGround, RiskFlag
from schemas.messages.cme import CrossBorderNotificationV1
from schemas.messages.deletion_return import DeletionReturnV2
from tests.unit.la.desk_builders import (
    CALENDAR,
    FIVE_WORKING_DAYS_LATER,
    NEIGHBOUR_LA,
    NEW_SCHOOL_HERE,
    NEW_SCHOOL_NEIGHBOUR,
    OWN_LA,
    POLICY,
    POLICY_WITH_POLICE,
    TEN_WORKING_DAYS_LATER,
    TODAY,
    TWO_WORKING_DAYS_LATER,
    address,
    attendance_return,
    cross_border_notification,
    deletion_return,
    deletion_return_v1,
    non_arrival,
    referral,
    school_ref,
)

G = DeletionGround
CORE = (EnquiryTarget.HEALTH, EnquiryTarget.HOUSING, EnquiryTarget.SOCIAL_CARE)


class Opens(NamedTuple):
    kind: CaseKind
    reason: CmeReason
    priority: Priority


CME_UNKNOWN = Opens(CaseKind.CME, CmeReason.UNKNOWN, Priority.HIGH)
EHE = Opens(CaseKind.EHE_SUITABILITY, CmeReason.PARENTAL_DECISION, Priority.MEDIUM)
WAITING_HIGH = Opens(CaseKind.CME, CmeReason.WAITING_START, Priority.HIGH)
WAITING_LOW = Opens(CaseKind.CME, CmeReason.WAITING_START, Priority.LOW)

# ground: (destination unknown, known but not yet confirmed, registration confirmed)
EXPECTED: dict[DeletionGround, tuple[Opens | None, Opens | None, Opens | None]] = {
    G.A: (CME_UNKNOWN, None, None),
    G.B: (None, None, None),
    G.C: (None, None, None),
    G.D: (None, None, None),
    G.E: (None, None, None),
    G.F: (EHE, EHE, EHE),
    G.G: (CME_UNKNOWN, WAITING_HIGH, None),
    G.H: (CME_UNKNOWN, WAITING_HIGH, WAITING_HIGH),
    G.I: (CME_UNKNOWN, WAITING_HIGH, WAITING_HIGH),
    G.J: (None, None, None),
    G.K: (None, None, None),
    G.L: (None, None, None),
    G.M: (CME_UNKNOWN, None, None),
    G.N: (CME_UNKNOWN, WAITING_LOW, None),
    G.O: (CME_UNKNOWN, None, None),
}
DESTINATIONS = ("unknown", "known_unconfirmed", "confirmed")


def with_destination(ground: DeletionGround, destination: str) -> DeletionReturnV2:
    if destination == "unknown":
        return deletion_return(ground)
    new_school = {"school": school_ref(NEW_SCHOOL_HERE), "start_date": "2026-11-09"}
    return deletion_return(
        ground,
        destination_known=True,
        future_address=address(),
        new_school=new_school,
        destination_confirmed=True if destination == "confirmed" else None,
    )


GRID = [
    pytest.param(ground, destination, EXPECTED[ground][i], id=f"{ground.value}-{destination}")
    for ground in DeletionGround
    for i, destination in enumerate(DESTINATIONS)
]


def test_every_ground_has_a_rule_and_an_expectation() -> None:
    assert set(GROUND_RULES) == set(DeletionGround)
    assert set(EXPECTED) == set(DeletionGround)


@pytest.mark.parametrize(("ground", "destination", "expected"), GRID)
def test_deletion_return_grid(
    ground: DeletionGround, destination: str, expected: Opens | None
) -> None:
    decision = case_opening(with_destination(ground, destination), POLICY, TODAY)
    assert decision.trigger is Trigger.DELETION_RETURN
    assert ground.value in decision.rationale
    if expected is None:
        assert not decision.opens
        assert decision.case is None
        return
    case = decision.case
    assert case is not None
    assert (case.kind, case.reason, case.priority) == expected
    assert case.deletion_ground is ground
    assert case.risk_flags == ()
    assert case.needs_joint_enquiries is (ground in (G.H, G.I))
    planned = plan_enquiries(case, POLICY, CALENDAR, TODAY)
    if case.kind is CaseKind.EHE_SUITABILITY:
        assert planned == ()
    else:
        assert tuple(p.target for p in planned) == CORE
        assert {p.respond_by for p in planned} == {FIVE_WORKING_DAYS_LATER}


def test_a_version_1_deletion_return_opens_like_version_2() -> None:
    decision = case_opening(deletion_return_v1(G.I), POLICY, TODAY)
    assert decision.case is not None
    assert decision.case.reason is CmeReason.UNKNOWN
    assert decision.case.needs_joint_enquiries


def test_risk_flags_raise_priority_shorten_the_sla_and_bring_in_the_police() -> None:
    message = deletion_return(G.A, risk_flags=(RiskFlag.CHILD_PROTECTION_PLAN,))
    decision = case_opening(message, POLICY_WITH_POLICE, TODAY)
    case = decision.case
    assert case is not None
    assert case.risk_flags == (RiskFlag.CHILD_PROTECTION_PLAN,)
    assert case.priority is Priority.HIGH
    planned = plan_enquiries(case, POLICY_WITH_POLICE, CALENDAR, TODAY)
    assert tuple(p.target for p in planned) == (*CORE, EnquiryTarget.POLICE)
    assert {p.respond_by for p in planned} == {TWO_WORKING_DAYS_LATER}
    assert planned[-1].agency == "police:20"


def test_the_police_are_not_asked_when_not_configured_or_without_risk() -> None:
    flagged = case_opening(
        deletion_return(G.G, risk_flags=(RiskFlag.RISK_OF_HARM,)), POLICY, TODAY
    ).case
    plain = case_opening(deletion_return(G.G), POLICY_WITH_POLICE, TODAY).case
    assert flagged is not None
    assert plain is not None
    for case, policy in ((flagged, POLICY), (plain, POLICY_WITH_POLICE)):
        targets = {p.target for p in plan_enquiries(case, policy, CALENDAR, TODAY)}
        assert EnquiryTarget.POLICE not in targets


def test_a_future_address_abroad_is_moved_abroad() -> None:
    message = deletion_return(G.G, destination_known=True, future_address=address("Lyon", "FR"))
    case = case_opening(message, POLICY, TODAY).case
    assert case is not None
    assert case.reason is CmeReason.MOVED_ABROAD
    assert case.destination_la is None


def test_a_destination_la_given_by_the_caller_is_moved_other_la_with_an_enquiry_there() -> None:
    message = deletion_return(G.G, destination_known=True, future_address=address("Coventry"))
    known = KnownFacts(destination_la=NEIGHBOUR_LA)
    case = case_opening(message, POLICY, TODAY, known).case
    assert case is not None
    assert case.reason is CmeReason.MOVED_OTHER_LA
    assert case.destination_la == NEIGHBOUR_LA
    planned = plan_enquiries(case, POLICY, CALENDAR, TODAY)
    assert planned[-1].target is EnquiryTarget.DESTINATION_LA
    assert planned[-1].agency == NEIGHBOUR_LA


def test_a_named_new_school_in_another_la_gives_the_destination_la() -> None:
    new_school = {"school": school_ref(NEW_SCHOOL_NEIGHBOUR), "start_date": None}
    message = deletion_return(G.G, destination_known=True, new_school=new_school)
    case = case_opening(message, POLICY, TODAY).case
    assert case is not None
    assert (case.reason, case.destination_la) == (CmeReason.MOVED_OTHER_LA, NEIGHBOUR_LA)


def test_a_move_within_this_la_is_not_to_another_la() -> None:
    message = deletion_return(G.G, destination_known=True, future_address=address())
    case = case_opening(message, POLICY, TODAY, KnownFacts(destination_la=OWN_LA)).case
    assert case is not None
    assert case.destination_la is None
    assert case.reason is CmeReason.UNKNOWN


def test_a_named_school_without_start_date_is_application_pending() -> None:
    new_school = {"school": school_ref(NEW_SCHOOL_HERE), "start_date": None}
    message = deletion_return(G.N, destination_known=True, new_school=new_school)
    case = case_opening(message, POLICY, TODAY).case
    assert case is not None
    assert (case.reason, case.priority) == (CmeReason.APPLICATION_PENDING, Priority.LOW)


def test_a_registration_the_new_school_denied_leaves_the_destination_unknown() -> None:
    new_school = {"school": school_ref(NEW_SCHOOL_HERE), "start_date": "2026-11-09"}
    message = deletion_return(
        G.A, destination_known=True, new_school=new_school, destination_confirmed=False
    )
    case = case_opening(message, POLICY, TODAY).case
    assert case is not None
    assert (case.reason, case.priority) == (CmeReason.UNKNOWN, Priority.HIGH)


def test_known_risk_flags_from_the_desk_records_are_added() -> None:
    message = deletion_return(G.G, risk_flags=(RiskFlag.TEMPORARY_ACCOMMODATION,))
    known = KnownFacts(risk_flags=(RiskFlag.LOOKED_AFTER, RiskFlag.TEMPORARY_ACCOMMODATION))
    case = case_opening(message, POLICY, TODAY, known).case
    assert case is not None
    assert case.risk_flags == (RiskFlag.TEMPORARY_ACCOMMODATION, RiskFlag.LOOKED_AFTER)


# The other triggers


def test_non_arrival_opens_a_high_priority_case() -> None:
    decision = case_opening(non_arrival(), POLICY, TODAY)
    assert decision.trigger is Trigger.NON_ARRIVAL
    assert decision.case is not None
    assert (decision.case.kind, decision.case.reason) == (CaseKind.CME, CmeReason.UNKNOWN)
    assert decision.case.priority is Priority.HIGH


@pytest.mark.parametrize(
    ("whereabouts_known", "opens"), [(True, False), (False, True)], ids=["known", "unknown"]
)
def test_attendance_return_opens_only_when_whereabouts_are_unknown(
    whereabouts_known: bool, opens: bool
) -> None:
    decision = case_opening(attendance_return(whereabouts_known=whereabouts_known), POLICY, TODAY)
    assert decision.trigger is Trigger.ATTENDANCE_RETURN
    assert decision.opens is opens


@pytest.mark.parametrize(
    ("reason", "flags", "expected"),
    [
        pytest.param(CmeReason.NO_APPLICATION, (), Priority.MEDIUM, id="no-application"),
        pytest.param(CmeReason.APPLICATION_PENDING, (), Priority.LOW, id="application-pending"),
        pytest.param(
            CmeReason.APPLICATION_PENDING,
            (RiskFlag.GYPSY_ROMA_TRAVELLER,),
            Priority.HIGH,
            id="pending-but-flagged",
        ),
    ],
)
def test_a_referral_opens_with_its_reason_and_flags(
    reason: CmeReason, flags: tuple[RiskFlag, ...], expected: Priority
) -> None:
    decision = case_opening(referral(reason, flags), POLICY, TODAY)
    assert decision.trigger is Trigger.REFERRAL
    assert decision.case is not None
    assert (decision.case.reason, decision.case.risk_flags) == (reason, flags)
    assert decision.case.priority is expected


def test_an_inbound_cross_border_notification_opens_an_arrival_case() -> None:
    message = cross_border_notification(risk_flags=(RiskFlag.SERVICE_FAMILY,))
    decision = case_opening(message, POLICY, TODAY)
    case = decision.case
    assert decision.trigger is Trigger.CROSS_BORDER_IN
    assert case is not None
    assert case.reason is CmeReason.ARRIVED_FROM_OTHER_LA
    assert case.previous_la == NEIGHBOUR_LA
    assert case.reply_due == TEN_WORKING_DAYS_LATER
    planned = plan_enquiries(case, POLICY, CALENDAR, TODAY)
    # The notifying LA awaits this LA's answer: it is not sent an enquiry back.
    assert tuple(p.target for p in planned) == CORE


def test_a_cross_border_notification_for_another_la_is_refused() -> None:
    message = cross_border_notification(to_la="la:332", from_la=NEIGHBOUR_LA)
    with pytest.raises(InvalidInput) as refused:
        case_opening(message, POLICY, TODAY)
    assert refused.value.reason == "not_addressed_to_this_la"


def test_a_misaddressed_notification_is_refused_whatever_the_childs_age() -> None:
    data = cross_border_notification(to_la="la:332").model_dump(mode="json")
    data["child"]["date_of_birth"] = "2008-01-01"
    message = CrossBorderNotificationV1.model_validate(data)
    with pytest.raises(InvalidInput):
        case_opening(message, POLICY, TODAY)


def test_every_inbound_message_type_has_a_trigger() -> None:
    assert set(TRIGGERS) == set(get_args(InboundNotification))


def test_a_previous_la_known_to_the_desk_is_asked() -> None:
    case = case_opening(non_arrival(), POLICY, TODAY, KnownFacts(previous_la=NEIGHBOUR_LA)).case
    assert case is not None
    planned = plan_enquiries(case, POLICY, CALENDAR, TODAY)
    assert planned[-1].target is EnquiryTarget.PREVIOUS_LA
    assert planned[-1].agency == NEIGHBOUR_LA


# Compulsory school age gates every trigger.


@pytest.mark.parametrize(
    ("date_of_birth", "words"),
    [
        pytest.param(date(2022, 1, 15), "below compulsory school age", id="aged-4"),
        pytest.param(date(2010, 7, 1), "beyond compulsory school age", id="left-june-2026"),
    ],
)
def test_a_child_not_of_compulsory_school_age_opens_nothing(
    date_of_birth: date, words: str
) -> None:
    for message in (
        deletion_return(G.G, date_of_birth=date_of_birth),
        deletion_return(G.F, date_of_birth=date_of_birth),
        non_arrival(date_of_birth),
    ):
        decision = case_opening(message, POLICY, TODAY)
        assert not decision.opens
        assert decision.rationale.startswith(words)


def test_a_child_in_the_last_compulsory_year_still_opens() -> None:
    # Turns 16 in July 2027: of compulsory school age until 25 June 2027.
    assert case_opening(deletion_return(G.G, date_of_birth=date(2011, 7, 1)), POLICY, TODAY).opens


def test_a_rationale_never_carries_the_childs_details() -> None:
    message = deletion_return(G.G, destination_known=True, future_address=address())
    decision = case_opening(message, POLICY, TODAY)
    child = message.child
    for secret in (child.forenames, child.surname, child.upn, "ZZ99", "Example Road"):
        assert secret is None or secret not in decision.rationale


# Priority on its own


@pytest.mark.parametrize(
    ("reason", "flags", "ground", "expected"),
    [
        pytest.param(CmeReason.UNKNOWN, (), None, Priority.HIGH, id="unknown-reason"),
        pytest.param(
            CmeReason.OTHER, (RiskFlag.YOUTH_JUSTICE,), None, Priority.HIGH, id="any-risk-flag"
        ),
        pytest.param(CmeReason.MOVED_OTHER_LA, (), G.G, Priority.HIGH, id="high-risk-ground-g"),
        pytest.param(CmeReason.MOVED_ABROAD, (), G.H, Priority.HIGH, id="high-risk-ground-h"),
        pytest.param(CmeReason.MOVED_OTHER_LA, (), G.N, Priority.MEDIUM, id="ground-n"),
        pytest.param(CmeReason.MOVED_OTHER_LA, (), None, Priority.MEDIUM, id="moved-other-la"),
        pytest.param(CmeReason.UNSUITABLE_EHE, (), None, Priority.MEDIUM, id="unsuitable-ehe"),
        pytest.param(CmeReason.WAITING_START, (), None, Priority.LOW, id="waiting-start"),
        pytest.param(CmeReason.OFFER_NOT_ACCEPTED, (), None, Priority.LOW, id="offer-made"),
    ],
)
def test_priority(
    reason: CmeReason,
    flags: tuple[RiskFlag, ...],
    ground: DeletionGround | None,
    expected: Priority,
) -> None:
    assert priority(reason, flags, ground=ground) is expected


def test_case_facts_refuse_inconsistent_combinations() -> None:
    with pytest.raises(ValueError, match="reply_due"):
        CaseFacts(
            trigger=Trigger.REFERRAL,
            kind=CaseKind.CME,
            reason=CmeReason.OTHER,
            reply_due=TODAY,
        )
    with pytest.raises(ValueError, match="deletion ground"):
        CaseFacts(
            trigger=Trigger.REFERRAL,
            kind=CaseKind.CME,
            reason=CmeReason.OTHER,
            deletion_ground=G.G,
        )


def test_decisions_are_frozen() -> None:
    decision = case_opening(non_arrival(), POLICY, TODAY)
    assert isinstance(decision, OpeningDecision)
    with pytest.raises(ValueError, match="frozen"):
        decision.rationale = "changed"  # type: ignore[misc]
