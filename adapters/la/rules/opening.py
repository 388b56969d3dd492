"""Whether an inbound notification opens a case, of which kind and for which reason.

Deletion returns go through a table over the 15 reg 9(1) grounds (SI 2024/208); the other
triggers each have one rule. Before any of that, a child who is not of compulsory school age
on the day of the decision opens nothing: a child below or beyond it cannot be missing
education (Education Act 1996 s436A is about children of compulsory school age).
"""

from dataclasses import dataclass
from datetime import date
from enum import Enum, auto
from typing import Annotated, Final

from pydantic import Field, model_validator

from adapters.la.errors import InvalidInput
from adapters.la.model import CaseKind, Priority, Trigger
from adapters.la.rules._base import RuleValue
from adapters.la.rules.age import compulsory_school_age_starts, school_leaving_date
from adapters.la.rules.policy import DeskPolicy
from adapters.la.rules.priority import priority
from schemas.agency import LaId
from schemas.case import RiskFlags
from schemas.child import SchoolRef
from schemas.domain import CmeReason, DeletionGround, RiskFlag
from schemas.messages.cme import CrossBorderNotificationV1, ReferralV1
from schemas.messages.deletion_return import DeletionReturnV1, DeletionReturnV2
from schemas.messages.school import AttendanceReturnV1, NonArrivalV1

InboundNotification = (
    DeletionReturnV1
    | DeletionReturnV2
    | NonArrivalV1
    | AttendanceReturnV1
    | ReferralV1
    | CrossBorderNotificationV1
)
"""The messages that may open a case."""

Rationale = Annotated[str, Field(min_length=1, max_length=300)]
"""Why a decision was taken, for the case timeline: codes and rules only, no personal data."""


class CaseFacts(RuleValue):
    """What the rules know about an open case: enough to plan enquiries, set its priority and
    decide escalations. Holds no personal data."""

    trigger: Trigger
    kind: CaseKind
    reason: CmeReason
    risk_flags: RiskFlags = ()
    deletion_ground: DeletionGround | None = None
    previous_la: LaId | None = None
    """The LA the child came from (inbound cross-border: the notifying LA)."""
    destination_la: LaId | None = None
    """Another LA the child is believed to have moved to."""
    reply_due: date | None = None
    """Inbound cross-border only: the notifying LA expects this LA's confirmation by then."""

    @model_validator(mode="after")
    def _consistent(self) -> "CaseFacts":
        if (self.reply_due is not None) != (self.trigger is Trigger.CROSS_BORDER_IN):
            raise ValueError("reply_due is set for an inbound cross-border case and only then")
        if self.deletion_ground is not None and self.trigger is not Trigger.DELETION_RETURN:
            raise ValueError("only a deletion return carries a deletion ground")
        return self

    @property
    def priority(self) -> Priority:
        """The case's priority (`rules.priority`)."""
        return priority(self.reason, self.risk_flags, ground=self.deletion_ground)

    @property
    def needs_joint_enquiries(self) -> bool:
        """Reg 9(1)(h)/(i): the school may delete only once the LA says enquiries are done."""
        return self.deletion_ground is not None and self.deletion_ground.needs_joint_enquiries


class OpeningDecision(RuleValue):
    """The desk's decision on a notification: the case to open (None: open nothing) and why."""

    trigger: Trigger
    case: CaseFacts | None
    rationale: Rationale

    @property
    def opens(self) -> bool:
        """True when a case is to be opened."""
        return self.case is not None


class KnownFacts(RuleValue):
    """What the desk knows besides the message: its own records (risk flags of a child it
    already knows) and lookups the rules cannot make (the LA of a postcode)."""

    destination_la: LaId | None = None
    previous_la: LaId | None = None
    risk_flags: RiskFlags = ()


class _Opens(Enum):
    NEVER = auto()
    IF_DESTINATION_UNSETTLED = auto()
    """Only when no destination is known, or the named new school denied the registration."""
    UNLESS_REGISTERED_ELSEWHERE = auto()
    """Always, unless a named new school confirmed the registration (the child is on a roll)."""
    ALWAYS = auto()
    EHE_CHECK = auto()


@dataclass(frozen=True, slots=True)
class _GroundRule:
    opens: _Opens
    wording: str


GROUND_RULES: Final = {
    DeletionGround.A: _GroundRule(_Opens.IF_DESTINATION_UNSETTLED, "registered at another school"),
    DeletionGround.B: _GroundRule(_Opens.NEVER, "completed nursery education"),
    DeletionGround.C: _GroundRule(_Opens.NEVER, "remains registered at another school"),
    DeletionGround.D: _GroundRule(_Opens.NEVER, "the LA's own order now names another school"),
    DeletionGround.E: _GroundRule(_Opens.NEVER, "the LA revoked its order: education arranged"),
    DeletionGround.F: _GroundRule(_Opens.EHE_CHECK, "parent notified elective home education"),
    DeletionGround.G: _GroundRule(
        _Opens.UNLESS_REGISTERED_ELSEWHERE, "no longer lives within reasonable distance"
    ),
    DeletionGround.H: _GroundRule(_Opens.ALWAYS, "not returned after a leave of absence"),
    DeletionGround.I: _GroundRule(_Opens.ALWAYS, "20 school days' continuous absence"),
    DeletionGround.J: _GroundRule(_Opens.NEVER, "detained: education provided in custody"),
    DeletionGround.K: _GroundRule(_Opens.NEVER, "the child has died"),
    DeletionGround.L: _GroundRule(_Opens.NEVER, "ceases to be of compulsory school age"),
    DeletionGround.M: _GroundRule(_Opens.IF_DESTINATION_UNSETTLED, "boarding charges unpaid"),
    DeletionGround.N: _GroundRule(
        _Opens.UNLESS_REGISTERED_ELSEWHERE, "left an independent or non-maintained special school"
    ),
    DeletionGround.O: _GroundRule(_Opens.IF_DESTINATION_UNSETTLED, "permanently excluded"),
}
"""How each reg 9(1) ground opens a case. (g) and (n) carry CME risk even with an address;
(h) and (i) always need the LA's joint enquiries before the school may delete."""


TRIGGERS: Final[dict[type[InboundNotification], Trigger]] = {
    DeletionReturnV1: Trigger.DELETION_RETURN,
    DeletionReturnV2: Trigger.DELETION_RETURN,
    NonArrivalV1: Trigger.NON_ARRIVAL,
    AttendanceReturnV1: Trigger.ATTENDANCE_RETURN,
    ReferralV1: Trigger.REFERRAL,
    CrossBorderNotificationV1: Trigger.CROSS_BORDER_IN,
}
"""The trigger each inbound message type stands for."""


@dataclass(frozen=True, slots=True)
class _Context:
    policy: DeskPolicy
    today: date
    known: KnownFacts

    def other_la(self, la_id: str | None) -> str | None:
        """`la_id` unless it is this LA (a move within the area is not to another LA)."""
        return None if la_id == self.policy.la_id else la_id


def case_opening(
    message: InboundNotification,
    policy: DeskPolicy,
    today: date,
    known: KnownFacts | None = None,
) -> OpeningDecision:
    """Decide whether `message` opens a case, with its kind, DfE reason and risk flags.

    Raises `InvalidInput` (`not_addressed_to_this_la`) for a cross-border notification meant
    for another LA.
    """
    if isinstance(message, CrossBorderNotificationV1) and message.to_la != policy.la_id:
        raise InvalidInput("not_addressed_to_this_la", "the notification names another LA")
    context = _Context(policy, today, known or KnownFacts())
    trigger = TRIGGERS[type(message)]
    not_of_age = _not_of_compulsory_school_age(message.child.date_of_birth, today)
    if not_of_age is not None:
        return OpeningDecision(trigger=trigger, case=None, rationale=not_of_age)
    if isinstance(message, DeletionReturnV1 | DeletionReturnV2):
        return _deletion_return(message, context)
    if isinstance(message, NonArrivalV1):
        return _opened(
            context, Trigger.NON_ARRIVAL, CmeReason.UNKNOWN, (), "did not start on the agreed date"
        )
    if isinstance(message, AttendanceReturnV1):
        return _attendance_return(message, context)
    if isinstance(message, ReferralV1):
        rationale = "an agency referred a child it believes to be missing education"
        return _opened(context, Trigger.REFERRAL, message.reason, message.risk_flags, rationale)
    return _cross_border_in(message, context)


def _not_of_compulsory_school_age(date_of_birth: date, today: date) -> str | None:
    if today < compulsory_school_age_starts(date_of_birth):
        return "below compulsory school age: not missing education"
    if today > school_leaving_date(date_of_birth):
        return "beyond compulsory school age: not missing education"
    return None


def merge_flags(*groups: tuple[RiskFlag, ...]) -> tuple[RiskFlag, ...]:
    """The union of several groups of risk flags, each once, in the enum's order."""
    present = {flag for group in groups for flag in group}
    return tuple(flag for flag in RiskFlag if flag in present)


def _opened(
    context: _Context,
    trigger: Trigger,
    reason: CmeReason,
    flags: tuple[RiskFlag, ...],
    rationale: str,
    *,
    kind: CaseKind = CaseKind.CME,
    ground: DeletionGround | None = None,
    destination_la: str | None = None,
) -> OpeningDecision:
    case = CaseFacts(
        trigger=trigger,
        kind=kind,
        reason=reason,
        risk_flags=merge_flags(flags, context.known.risk_flags),
        deletion_ground=ground,
        previous_la=context.other_la(context.known.previous_la),
        destination_la=destination_la,
    )
    return OpeningDecision(trigger=trigger, case=case, rationale=rationale)


def _attendance_return(message: AttendanceReturnV1, context: _Context) -> OpeningDecision:
    if message.whereabouts_known:
        rationale = "unauthorised absence with whereabouts known: an attendance matter"
        return OpeningDecision(trigger=Trigger.ATTENDANCE_RETURN, case=None, rationale=rationale)
    rationale = "10 or more school days' unauthorised absence with whereabouts unknown"
    return _opened(context, Trigger.ATTENDANCE_RETURN, CmeReason.UNKNOWN, (), rationale)


def _cross_border_in(message: CrossBorderNotificationV1, context: _Context) -> OpeningDecision:
    case = CaseFacts(
        trigger=Trigger.CROSS_BORDER_IN,
        kind=CaseKind.CME,
        reason=CmeReason.ARRIVED_FROM_OTHER_LA,
        risk_flags=merge_flags(message.risk_flags, context.known.risk_flags),
        previous_la=message.from_la,
        reply_due=message.respond_by,
    )
    rationale = "another LA believes the child has moved into this area"
    return OpeningDecision(trigger=Trigger.CROSS_BORDER_IN, case=case, rationale=rationale)


# Deletion returns


def _named_school(message: DeletionReturnV1 | DeletionReturnV2) -> SchoolRef | None:
    new_school = message.new_school
    if new_school is None or new_school.school.is_unknown:
        return None
    return new_school.school


def _destination_settled(message: DeletionReturnV1 | DeletionReturnV2) -> bool:
    # A registration the named school denied leaves the destination unknown, whatever the
    # return says; one not yet checked (None) is taken at the school's word.
    return message.destination_known and message.destination_confirmed is not False


def _registered_elsewhere(message: DeletionReturnV1 | DeletionReturnV2) -> bool:
    return message.destination_confirmed is True and _named_school(message) is not None


def _destination_la(message: DeletionReturnV1 | DeletionReturnV2, context: _Context) -> str | None:
    if context.known.destination_la is not None:
        return context.other_la(context.known.destination_la)
    school = _named_school(message)
    if school is None:
        return None
    return context.other_la(f"la:{school.laestab[:3]}")  # a LAESTAB starts with its LA code


def _deletion_reason(
    message: DeletionReturnV1 | DeletionReturnV2, destination_la: str | None
) -> CmeReason:
    address = message.future_address
    if address is not None and address.country != "GB":
        return CmeReason.MOVED_ABROAD
    if destination_la is not None:
        return CmeReason.MOVED_OTHER_LA
    new_school = message.new_school
    named = new_school is not None and not new_school.school.is_unknown
    # A named school that has not denied the registration: a place is in train.
    if new_school is not None and named and message.destination_confirmed is not False:
        has_start = new_school.start_date is not None
        return CmeReason.WAITING_START if has_start else CmeReason.APPLICATION_PENDING
    return CmeReason.UNKNOWN


def _deletion_return(
    message: DeletionReturnV1 | DeletionReturnV2, context: _Context
) -> OpeningDecision:
    ground = message.ground
    rule = GROUND_RULES[ground]
    label = f"ground {ground.value} ({rule.wording})"
    trigger = Trigger.DELETION_RETURN
    flags: tuple[RiskFlag, ...] = ()
    if isinstance(message, DeletionReturnV2) and message.safeguarding is not None:
        flags = message.safeguarding.risk_flags

    def nothing(why: str) -> OpeningDecision:
        return OpeningDecision(trigger=trigger, case=None, rationale=f"{label}: {why}")

    if rule.opens is _Opens.NEVER:
        return nothing("no CME risk")
    if rule.opens is _Opens.IF_DESTINATION_UNSETTLED and _destination_settled(message):
        return nothing("destination known")
    if rule.opens is _Opens.UNLESS_REGISTERED_ELSEWHERE and _registered_elsewhere(message):
        return nothing("the new school confirmed the registration")
    if rule.opens is _Opens.EHE_CHECK:
        # Home education is not missing education; the LA checks it is suitable.
        rationale = f"{label}: check that home education is suitable"
        return _opened(
            context,
            trigger,
            CmeReason.PARENTAL_DECISION,
            flags,
            rationale,
            kind=CaseKind.EHE_SUITABILITY,
            ground=ground,
        )
    destination_la = _destination_la(message, context)
    reason = _deletion_reason(message, destination_la)
    return _opened(
        context,
        trigger,
        reason,
        flags,
        f"{label}: CME risk, reason {reason.value}",
        ground=ground,
        destination_la=destination_la,
    )
