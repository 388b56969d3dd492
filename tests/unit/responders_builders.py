"""Synthetic inputs for the responders' tests: invented children (ZZ99 postcodes, NHS numbers
in the 999 test range), locate enquiries and escalations as the LA would send them, and the
records each responder's source holds."""

from datetime import date
from typing import Any, Final

from schemas.child import Address, ChildIdentity
from schemas.domain import CmeReason, RiskFlag
from schemas.identifiers import nhs_check_digit
from schemas.messages.cme import LocateEnquiryV1, LocateQuestion, LocateSubject
from schemas.messages.safeguarding import EscalationV1

TODAY: Final = date(2026, 11, 2)
"""The shared test clock's day (a Monday)."""
RESPOND_BY: Final = date(2026, 11, 9)
CHILD_DOB: Final = date(2015, 5, 1)
FORENAMES: Final = "Isla Maya"
SURNAME: Final = "Thistlewood"
FORMER_SURNAME: Final = "Brackenridge"
CASE_REF: Final = "CME-330-2026-000123"
ALL_QUESTIONS: Final = (
    LocateQuestion.WHEREABOUTS,
    LocateQuestion.CURRENT_ADDRESS,
    LocateQuestion.REGISTERED_GP,
)


def nhs_number(start: int = 0) -> str:
    """The first valid NHS number in the test range at or after 999000000 + start."""
    n = start
    while True:
        check = nhs_check_digit(f"999{n:06d}")
        if check is not None:
            return f"999{n:06d}{check}"
        n += 1


NHS_NUMBER: Final = nhs_number(1234)


def address(line: str = "12 Example Road", postcode: str = "ZZ99 1AB") -> Address:
    """An invented address in the non-geographic ZZ99 area."""
    return Address(lines=(line,), town="Exampleton", postcode=postcode)


def subject(**overrides: Any) -> LocateSubject:
    """The child an enquiry names (no UPN: health, housing and social care get none)."""
    fields: dict[str, Any] = {
        "forenames": FORENAMES,
        "surname": SURNAME,
        "date_of_birth": CHILD_DOB,
        "last_known_address": address("3 Old Street", "ZZ99 9ZZ"),
    }
    fields.update(overrides)
    return LocateSubject(**fields)


def enquiry(
    *,
    questions: tuple[LocateQuestion, ...] = ALL_QUESTIONS,
    respond_by: date = RESPOND_BY,
    case_ref: str = CASE_REF,
    **child: Any,
) -> LocateEnquiryV1:
    """A locate enquiry from LA 330 about the child (overrides go to the child)."""
    return LocateEnquiryV1(
        case_ref=case_ref,
        child=subject(**child),
        reason=CmeReason.UNKNOWN,
        risk_flags=(),
        respond_by=respond_by,
        questions=questions,
    )


def escalation(*, same_day: bool = True, case_ref: str = CASE_REF) -> EscalationV1:
    """A safeguarding escalation from LA 330 (a child protection plan when same day)."""
    flags = (RiskFlag.CHILD_PROTECTION_PLAN,) if same_day else (RiskFlag.UNSTABLE_FAMILY,)
    return EscalationV1(
        from_agency="la:330",
        child=ChildIdentity(forenames=FORENAMES, surname=SURNAME, date_of_birth=CHILD_DOB),
        risk_flags=flags,
        reason="A child with a safeguarding risk flag is missing education.",
        case_ref=case_ref,
        same_day_required=same_day,
    )
