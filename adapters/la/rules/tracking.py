"""Enquiries in flight: which are overdue and what to do, cross-border notifications left
unanswered, and when the joint enquiries of reg 9(1)(h)/(i) are exhausted.

A deadline (`respond_by`) is the last day to answer: an enquiry is overdue from the next day.
An overdue enquiry is chased once, with a final deadline of the same SLA again; when that
passes too, it goes to the CME lead, and for joint enquiries it counts as having lapsed.
"""

from collections.abc import Collection, Iterable
from datetime import date
from enum import StrEnum

from pydantic import model_validator

from adapters.la.calendar import WorkingDayCalendar
from adapters.la.errors import InvalidInput
from adapters.la.model import EnquiryState, EnquiryTarget
from adapters.la.rules._base import RuleValue
from adapters.la.rules.enquiries import CORE_TARGETS
from adapters.la.rules.opening import CaseFacts
from adapters.la.rules.policy import DeskPolicy
from schemas.agency import LaId
from schemas.domain import RiskFlag
from schemas.messages.cme import EnquiriesResult, LocateOutcome


class EnquiryRecord(RuleValue):
    """A sent locate enquiry as the register knows it."""

    target: EnquiryTarget
    sent_on: date
    respond_by: date
    answered_on: date | None = None
    outcome: LocateOutcome | None = None
    chased_on: date | None = None
    final_respond_by: date | None = None
    """The deadline given in the chase."""
    escalated_on: date | None = None
    """When the lapsed enquiry went to the CME lead."""

    @model_validator(mode="after")
    def _consistent(self) -> "EnquiryRecord":
        if self.respond_by < self.sent_on:
            raise ValueError("respond_by is on or after sent_on")
        if (self.answered_on is None) != (self.outcome is None):
            raise ValueError("an answer has both a date and an outcome")
        if (self.chased_on is None) != (self.final_respond_by is None):
            raise ValueError("a chase has both a date and a final deadline")
        if self.chased_on is not None and self.final_respond_by is not None:
            if self.chased_on <= self.respond_by:
                raise ValueError("an enquiry is chased only once overdue")
            if self.final_respond_by < self.chased_on:
                raise ValueError("final_respond_by is on or after chased_on")
        if self.escalated_on is not None and self.chased_on is None:
            raise ValueError("an enquiry is escalated only after a chase")
        return self

    @property
    def answered(self) -> bool:
        """True once the respondent replied."""
        return self.outcome is not None

    def lapsed(self, today: date) -> bool:
        """Unanswered past the chase's final deadline."""
        final = self.final_respond_by
        return not self.answered and final is not None and today > final


def enquiry_state(record: EnquiryRecord, today: date) -> EnquiryState:
    """ANSWERED, OVERDUE (unanswered after `respond_by`) or SENT."""
    if record.answered:
        return EnquiryState.ANSWERED
    return EnquiryState.OVERDUE if today > record.respond_by else EnquiryState.SENT


class OverdueAction(StrEnum):
    """What an overdue enquiry needs."""

    CHASE = "chase"
    """First deadline missed: remind the respondent, with a final deadline."""
    ESCALATE_TO_LEAD = "escalate_to_lead"
    """The chase's deadline missed too: the CME lead takes it up with the agency."""


class OverdueEnquiry(RuleValue):
    """An overdue enquiry and the action it needs now."""

    target: EnquiryTarget
    action: OverdueAction
    missed: date
    """The deadline that passed."""
    working_days_late: int


def overdue_enquiries(
    records: Iterable[EnquiryRecord], today: date, calendar: WorkingDayCalendar
) -> tuple[OverdueEnquiry, ...]:
    """The enquiries that need a chase or an escalation to the CME lead `today`; an enquiry
    already chased and still within its final deadline, or already escalated, needs nothing."""
    found = []
    for record in records:
        if record.answered or record.escalated_on is not None:
            continue
        if record.chased_on is None and today > record.respond_by:
            action, missed = OverdueAction.CHASE, record.respond_by
        elif record.final_respond_by is not None and record.lapsed(today):
            action, missed = OverdueAction.ESCALATE_TO_LEAD, record.final_respond_by
        else:
            continue
        late = calendar.working_days_between(missed, today)
        found.append(
            OverdueEnquiry(
                target=record.target, action=action, missed=missed, working_days_late=late
            )
        )
    return tuple(found)


def chase_deadline(
    today: date,
    risk_flags: Collection[RiskFlag],
    policy: DeskPolicy,
    calendar: WorkingDayCalendar,
) -> date:
    """The final deadline a chase sent `today` gives: the locate SLA again."""
    return calendar.add_working_days(today, policy.sla.locate_days(risk_flags))


class CrossBorderRecord(RuleValue):
    """A cross-border notification this LA sent, as the register knows it."""

    to_la: LaId
    sent_on: date
    respond_by: date
    confirmed_on: date | None = None
    """When the receiving LA's `cme.cross_border_confirmation` arrived."""
    escalated_on: date | None = None


def cross_border_escalation_due(record: CrossBorderRecord, today: date) -> bool:
    """True when the receiving LA has not confirmed by its deadline and nobody has escalated
    yet: the CME lead takes it up with the other LA's CME lead."""
    unanswered = record.confirmed_on is None and record.escalated_on is None
    return unanswered and today > record.respond_by


class JointEnquiriesState(StrEnum):
    """Where the joint enquiries of reg 9(1)(h)/(i) stand."""

    PENDING = "pending"
    """An enquiry is still within its deadline, or a core respondent has not been asked."""
    CHILD_LOCATED = "child_located"
    FOLLOW_UP_NEEDED = "follow_up_needed"
    """A respondent knows where the child is but withheld it: not exhausted; follow up."""
    EXHAUSTED = "exhausted"
    """Every enquiry answered "not found" or lapsed after a chase: the school may delete."""


def joint_enquiries_state(
    facts: CaseFacts, records: Collection[EnquiryRecord], today: date
) -> JointEnquiriesState:
    """Whether the joint enquiries are exhausted, so the school can be sent
    `cme.enquiries_complete` (`enquiries_exhausted`), or the child was located.

    Raises `InvalidInput` (`not_a_joint_enquiry_case`) unless the case came from a 9(1)(h) or
    (i) deletion return.
    """
    if not facts.needs_joint_enquiries:
        raise InvalidInput("not_a_joint_enquiry_case", "only 9(1)(h) and (i) need them")
    outcomes = {record.outcome for record in records}
    if LocateOutcome.FOUND in outcomes:
        return JointEnquiriesState.CHILD_LOCATED
    asked = {record.target for record in records}
    # "Reasonable enquiries" need at least the core agencies; an empty list is not exhausted.
    if not set(CORE_TARGETS) <= asked:
        return JointEnquiriesState.PENDING
    if any(not record.answered and not record.lapsed(today) for record in records):
        return JointEnquiriesState.PENDING
    if LocateOutcome.KNOWN_WITHHELD in outcomes:
        return JointEnquiriesState.FOLLOW_UP_NEEDED
    return JointEnquiriesState.EXHAUSTED


def enquiries_complete_result(state: JointEnquiriesState) -> EnquiriesResult | None:
    """The `cme.enquiries_complete` result to send the school, or None (not yet)."""
    return {
        JointEnquiriesState.CHILD_LOCATED: EnquiriesResult.CHILD_LOCATED,
        JointEnquiriesState.EXHAUSTED: EnquiriesResult.ENQUIRIES_EXHAUSTED,
    }.get(state)
