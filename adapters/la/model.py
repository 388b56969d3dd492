"""The CME desk's own vocabulary, shared by its rules, its register and its service.

Wire vocabulary (reasons, risk flags, closure outcomes, case status) comes from `schemas`;
what is here exists only inside the LA's desk.
"""

from enum import StrEnum


class Priority(StrEnum):
    """How urgently the CME team works a case (derived from reason and risk flags)."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class CaseKind(StrEnum):
    """A CME case proper, or a check that elective home education is suitable (a home-
    education notice does not make a child missing education, but unsuitable EHE would)."""

    CME = "cme"
    EHE_SUITABILITY = "ehe_suitability"


class CaseState(StrEnum):
    """Where a case stands. Only CLOSED takes a child off the tracking list."""

    OPEN = "open"
    AWAITING_RECEIVING_LA = "awaiting_receiving_la"
    """A cross-border notification went out; the receiving LA has not accepted yet."""
    NATIONAL_SEARCH = "national_search"
    """Destination unknown after enquiries: marked for a national lost-pupil search, open."""
    CLOSED = "closed"


class Trigger(StrEnum):
    """What opened (or was matched to) a case."""

    DELETION_RETURN = "deletion_return"
    NON_ARRIVAL = "non_arrival"
    ATTENDANCE_RETURN = "attendance_return"
    REFERRAL = "referral"
    CROSS_BORDER_IN = "cross_border_in"
    MANUAL = "manual"


class EnquiryTarget(StrEnum):
    """Who a locate enquiry goes to (the desk's configuration maps each to an agency id)."""

    HEALTH = "health"
    HOUSING = "housing"
    SOCIAL_CARE = "social_care"
    POLICE = "police"
    PREVIOUS_LA = "previous_la"
    DESTINATION_LA = "destination_la"


class EnquiryState(StrEnum):
    """A locate enquiry's life: sent, answered, or past its deadline (chased)."""

    PLANNED = "planned"
    SENT = "sent"
    ANSWERED = "answered"
    OVERDUE = "overdue"


class SaoStep(StrEnum):
    """The school attendance order route (Education Act 1996 ss437-443), in order."""

    S437_1_NOTICE = "s437_1_notice"
    """Notice to the parent to satisfy the LA within the period given (at least 15 days)."""
    INTENDED_SCHOOL_NOTICE = "intended_school_notice"
    """Notice of the school the LA intends to name (s438(2)); the parent may choose another."""
    ORDER_SERVED = "order_served"
    COMPLIED = "complied"
    NOT_COMPLIED = "not_complied"
    """Non-compliance: the LA considers prosecution (s443)."""


class MatchKind(StrEnum):
    """How an incoming child was matched to an existing case."""

    IDENTIFIER = "identifier"
    """UPN, NHS number or consistent identifier: certain."""
    DEMOGRAPHIC = "demographic"
    """Name, date of birth and address agree closely enough to be confident."""
    POSSIBLE = "possible"
    """Too uncertain to merge: queued for a person to decide."""
    NONE = "none"
