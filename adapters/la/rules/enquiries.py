"""Which locate enquiries a case sends, to whom, asking what, and by when.

Health, housing and children's social care are asked on every CME case (the core of "robust
enquiries", Education Act 1996 s436A); the police too when a risk flag is set and this LA has
configured them; the LA the child came from and the LA it is believed to have gone to when
known. An elective home education suitability check asks nobody: the child is not missing.
"""

from collections.abc import Iterator
from datetime import date
from typing import Final

from adapters.la.calendar import WorkingDayCalendar
from adapters.la.model import CaseKind, EnquiryTarget, Trigger
from adapters.la.rules._base import RuleValue
from adapters.la.rules.opening import CaseFacts
from adapters.la.rules.policy import DeskPolicy
from schemas.agency import AgencyId
from schemas.messages.cme import LocateQuestion

CORE_TARGETS: Final = (EnquiryTarget.HEALTH, EnquiryTarget.HOUSING, EnquiryTarget.SOCIAL_CARE)
"""Asked on every CME case; enquiries are not exhausted until each has answered or lapsed."""

_Q = LocateQuestion
QUESTIONS: Final = {
    EnquiryTarget.HEALTH: (_Q.WHEREABOUTS, _Q.CURRENT_ADDRESS, _Q.REGISTERED_GP),
    EnquiryTarget.HOUSING: (_Q.WHEREABOUTS, _Q.CURRENT_ADDRESS),
    EnquiryTarget.SOCIAL_CARE: (_Q.WHEREABOUTS, _Q.CURRENT_ADDRESS),
    EnquiryTarget.POLICE: (_Q.WHEREABOUTS,),
    EnquiryTarget.PREVIOUS_LA: (_Q.WHEREABOUTS, _Q.EDUCATION_STATUS),
    EnquiryTarget.DESTINATION_LA: (_Q.WHEREABOUTS, _Q.EDUCATION_STATUS),
}
"""What each respondent is asked: only what it can know (minimisation)."""


class PlannedEnquiry(RuleValue):
    """One locate enquiry to send today."""

    target: EnquiryTarget
    agency: AgencyId
    questions: tuple[LocateQuestion, ...]
    respond_by: date


def _targets(facts: CaseFacts, policy: DeskPolicy) -> Iterator[tuple[EnquiryTarget, str]]:
    for target in CORE_TARGETS:
        agency = policy.agency_for(target)
        if agency is not None:  # always configured: `EnquiryAgencies` requires them
            yield target, agency
    police = policy.agency_for(EnquiryTarget.POLICE)
    if police is not None and facts.risk_flags:
        yield EnquiryTarget.POLICE, police
    # The notifying LA of an inbound cross-border case already gave its evidence and awaits
    # this LA's confirmation: asking it back would only repeat what it sent.
    previous = facts.previous_la
    if previous and previous != policy.la_id and facts.trigger is not Trigger.CROSS_BORDER_IN:
        yield EnquiryTarget.PREVIOUS_LA, previous
    destination = facts.destination_la
    if destination and destination != policy.la_id:
        yield EnquiryTarget.DESTINATION_LA, destination


def plan_enquiries(
    facts: CaseFacts, policy: DeskPolicy, calendar: WorkingDayCalendar, today: date
) -> tuple[PlannedEnquiry, ...]:
    """The locate enquiries a case sends `today`, each due the SLA's working days later (5;
    2 when any risk flag is set). An EHE suitability check plans none."""
    if facts.kind is CaseKind.EHE_SUITABILITY:
        return ()
    respond_by = calendar.add_working_days(today, policy.sla.locate_days(facts.risk_flags))
    return tuple(
        PlannedEnquiry(
            target=target, agency=agency, questions=QUESTIONS[target], respond_by=respond_by
        )
        for target, agency in _targets(facts, policy)
    )
