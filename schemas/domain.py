"""Statutory and statistical enumerations.

The values mirror the CSV files in `schemas/data/` (copied from `shared/domain/`); a unit test
keeps the two in step. They are enums in code because a wire model needs them at class
definition, and reading files at import time is not allowed.
"""

from enum import StrEnum


class DeletionGround(StrEnum):
    """The 15 grounds for deleting a name from the admission register, SI 2024/208 reg 9(1)."""

    A = "9(1)(a)"  # registered at another school
    B = "9(1)(b)"  # completed nursery education
    C = "9(1)(c)"  # dual registered, not expected to attend again
    D = "9(1)(d)"  # school attendance order amended to name another school
    E = "9(1)(e)"  # school attendance order revoked
    F = "9(1)(f)"  # parent notified elective home education
    G = "9(1)(g)"  # no longer lives within reasonable distance
    H = "9(1)(h)"  # not returned after leave of absence: joint enquiries first
    I = "9(1)(i)"  # noqa: E741  20 school days continuous absence: joint enquiries first
    J = "9(1)(j)"  # detained under a sentence or order
    K = "9(1)(k)"  # has died
    L = "9(1)(l)"  # ceases to be of compulsory school age
    M = "9(1)(m)"  # boarder, charges unpaid
    N = "9(1)(n)"  # ceased to be a pupil at an independent or non-maintained special school
    O = "9(1)(o)"  # noqa: E741  permanently excluded

    @property
    def needs_joint_enquiries(self) -> bool:
        """Reg 9(1)(h) and (i): deletion only after joint LA and school enquiries fail."""
        return self in (DeletionGround.H, DeletionGround.I)


class CmeReason(StrEnum):
    """Reason categories DfE publishes in its termly CME statistics (`cme_reasons.csv`)."""

    MOVED_ABROAD = "moved_abroad"
    MOVED_OTHER_LA = "moved_other_la"
    CHALLENGING_SAO = "challenging_sao"
    NO_APPLICATION = "no_application"
    NO_PREFERENCE = "no_preference"
    ACCESS_DIFFICULTY = "access_difficulty"
    MENTAL_HEALTH = "mental_health"
    ARRIVED_FROM_ABROAD = "arrived_from_abroad"
    ARRIVED_FROM_OTHER_LA = "arrived_from_other_la"
    NOT_RECORDED = "not_recorded"
    OFFER_NOT_ACCEPTED = "offer_not_accepted"
    OTHER = "other"
    PARENTAL_DECISION = "parental_decision"
    PHYSICAL_HEALTH = "physical_health"
    APPLICATION_PENDING = "application_pending"
    DISSATISFACTION_SEND = "dissatisfaction_send"
    DISSATISFACTION_GENERAL = "dissatisfaction_general"
    UNKNOWN = "unknown"
    UNSUITABLE_EHE = "unsuitable_ehe"
    WAITING_START = "waiting_start"


class RiskFlag(StrEnum):
    """Groups at higher risk of going missing from education (`timescales.md`)."""

    SEND_PROVISION_BROKEN_DOWN = "send_provision_broken_down"
    TEMPORARY_ACCOMMODATION = "temporary_accommodation"
    UNSTABLE_FAMILY = "unstable_family"
    GYPSY_ROMA_TRAVELLER = "gypsy_roma_traveller"
    NEWLY_ARRIVED_OR_ASYLUM = "newly_arrived_or_asylum"
    MISSING_FROM_HOME_OR_CARE = "missing_from_home_or_care"
    SERVICE_FAMILY = "service_family"
    YOUTH_JUSTICE = "youth_justice"
    UNREGISTERED_SETTING = "unregistered_setting"
    EARLY_YEARS_TRANSITION = "early_years_transition"
    CHILD_PROTECTION_PLAN = "child_protection_plan"
    LOOKED_AFTER = "looked_after"
    RISK_OF_HARM = "risk_of_harm"

    @property
    def needs_same_day_escalation(self) -> bool:
        """A child with a CP plan, in care or at risk of harm: social care the same day."""
        return self in _SAME_DAY


_SAME_DAY = frozenset(
    {RiskFlag.CHILD_PROTECTION_PLAN, RiskFlag.LOOKED_AFTER, RiskFlag.RISK_OF_HARM}
)


class Sex(StrEnum):
    """Sex as recorded in school and NHS systems (DfE CBDS: F, M; U when not known)."""

    FEMALE = "F"
    MALE = "M"
    UNKNOWN = "U"
