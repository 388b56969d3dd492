"""Words for people beside the report's codes (CSV label columns and chart axes)."""

from typing import Final

from adapters.la.reporting.figures import DurationBand
from schemas.case import ClosureOutcome
from schemas.domain import CmeReason, RiskFlag
from schemas.reference import cme_reason_rows

_RISK_FLAGS: Final = {
    RiskFlag.SEND_PROVISION_BROKEN_DOWN: "SEND provision broken down",
    RiskFlag.TEMPORARY_ACCOMMODATION: "Temporary accommodation",
    RiskFlag.UNSTABLE_FAMILY: "Unstable family circumstances",
    RiskFlag.GYPSY_ROMA_TRAVELLER: "Gypsy, Roma and Traveller",
    RiskFlag.NEWLY_ARRIVED_OR_ASYLUM: "Newly arrived or seeking asylum",
    RiskFlag.MISSING_FROM_HOME_OR_CARE: "Missing from home or care",
    RiskFlag.SERVICE_FAMILY: "Service family",
    RiskFlag.YOUTH_JUSTICE: "Known to youth justice",
    RiskFlag.UNREGISTERED_SETTING: "Attending an unregistered setting",
    RiskFlag.EARLY_YEARS_TRANSITION: "Early years to school transition",
    RiskFlag.CHILD_PROTECTION_PLAN: "Child protection plan",
    RiskFlag.LOOKED_AFTER: "Looked after (in care)",
    RiskFlag.RISK_OF_HARM: "At risk of harm",
}
_OUTCOMES: Final = {
    ClosureOutcome.ON_ROLL: "On a school roll",
    ClosureOutcome.ELECTIVE_HOME_EDUCATION: "Suitable elective home education",
    ClosureOutcome.LEFT_ENGLAND: "Left England",
    ClosureOutcome.RECEIVING_LA_ACCEPTED: "Receiving LA accepted",
    ClosureOutcome.DECEASED: "Deceased",
    ClosureOutcome.BEYOND_COMPULSORY_SCHOOL_AGE: "Beyond compulsory school age",
}
NO_RISK_FLAG: Final = "none"
"""The risk-flag column's value (CSV) for cases with no flag."""


def _words(code: str) -> str:
    return code.replace("_", " ").capitalize()


def reason_label(reason: CmeReason) -> str:
    """The DfE statistics wording of a CME reason (`cme_reasons.csv`)."""
    return cme_reason_rows().get(reason.value, _words(reason.value))


def risk_flag_label(flag: RiskFlag | None) -> str:
    """A vulnerable group's name; `No risk flag` for None."""
    if flag is None:
        return "No risk flag"
    return _RISK_FLAGS.get(flag, _words(flag.value))


def outcome_label(outcome: ClosureOutcome) -> str:
    """A closure outcome in words."""
    return _OUTCOMES.get(outcome, _words(outcome.value))


def band_label(band: DurationBand) -> str:
    """A duration band in words (`2-4 weeks`)."""
    return band.label
