"""The desk's domain rules: pure functions and frozen values, no I/O, no clock (every rule
that needs the date takes `today`).

- `opening`: whether a notification opens a case (kind, reason, risk flags)
- `priority`: how urgently a case is worked
- `enquiries`: which locate enquiries go out, due when
- `tracking`: overdue enquiries, unanswered cross-border notifications, joint enquiries
- `escalation`: same-day safeguarding escalation
- `closure`: allowed outcomes and their evidence
- `sao`: the school attendance order route (ss437-443)
- `cross_border`: a child found in another LA's area
- `age`: compulsory school age
- `policy`: the LA's settings the rules need
"""

from adapters.la.rules.age import (
    beyond_compulsory_school_age,
    compulsory_school_age_starts,
    is_compulsory_school_age,
    school_leaving_date,
)
from adapters.la.rules.closure import ClosureEvidence, validate_closure
from adapters.la.rules.cross_border import CrossBorderProposal, propose_cross_border
from adapters.la.rules.enquiries import CORE_TARGETS, PlannedEnquiry, plan_enquiries
from adapters.la.rules.escalation import needs_same_day_escalation, same_day_flags
from adapters.la.rules.opening import (
    GROUND_RULES,
    CaseFacts,
    InboundNotification,
    KnownFacts,
    OpeningDecision,
    case_opening,
    merge_flags,
)
from adapters.la.rules.policy import DeskPolicy, EnquiryAgencies, SlaDays
from adapters.la.rules.priority import high_risk_grounds, priority
from adapters.la.rules.sao import S438_CHOICE_DAYS, SaoDates, SaoPlan, SaoStepTaken
from adapters.la.rules.tracking import (
    CrossBorderRecord,
    EnquiryRecord,
    JointEnquiriesState,
    OverdueAction,
    OverdueEnquiry,
    chase_deadline,
    cross_border_escalation_due,
    enquiries_complete_result,
    enquiry_state,
    joint_enquiries_state,
    overdue_enquiries,
)

__all__ = [
    "CORE_TARGETS",
    "GROUND_RULES",
    "S438_CHOICE_DAYS",
    "CaseFacts",
    "ClosureEvidence",
    "CrossBorderProposal",
    "CrossBorderRecord",
    "DeskPolicy",
    "EnquiryAgencies",
    "EnquiryRecord",
    "InboundNotification",
    "JointEnquiriesState",
    "KnownFacts",
    "OpeningDecision",
    "OverdueAction",
    "OverdueEnquiry",
    "PlannedEnquiry",
    "SaoDates",
    "SaoPlan",
    "SaoStepTaken",
    "SlaDays",
    "beyond_compulsory_school_age",
    "case_opening",
    "chase_deadline",
    "compulsory_school_age_starts",
    "cross_border_escalation_due",
    "enquiries_complete_result",
    "enquiry_state",
    "high_risk_grounds",
    "is_compulsory_school_age",
    "joint_enquiries_state",
    "merge_flags",
    "needs_same_day_escalation",
    "overdue_enquiries",
    "plan_enquiries",
    "priority",
    "propose_cross_border",
    "same_day_flags",
    "school_leaving_date",
    "validate_closure",
]
