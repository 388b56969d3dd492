"""`safeguarding.escalation`: a child at risk has gone missing from education."""

from datetime import date
from typing import Annotated

from pydantic import Field, model_validator

from schemas.agency import AgencyId, AgencyKind, kind_of
from schemas.base import DISTINCT, WireModel
from schemas.case import CaseRef
from schemas.child import ChildIdentity, LongText, check_not_before_birth
from schemas.domain import RiskFlag
from schemas.registry import MessageSpec

ESCALATION = "safeguarding.escalation"


class EscalationV1(WireModel):
    """Safeguarding escalation: sent by any agency (usually the LA's CME team or a school) to
    children's social care when a child at risk goes missing from education (Children Act 1989
    s17/s47, Children Act 2004 s11). A child with a child protection plan, in care or at risk of
    harm needs the same day: `same_day_required` must then be true.
    """

    from_agency: AgencyId
    child: ChildIdentity
    risk_flags: Annotated[
        tuple[RiskFlag, ...], Field(min_length=1, max_length=len(RiskFlag)), DISTINCT
    ]
    reason: LongText
    """Why the sender is worried now: what is known, since when, and what has been tried."""
    case_ref: CaseRef | None = None
    missing_since: date | None = None
    same_day_required: bool

    @model_validator(mode="after")
    def _consistent(self) -> "EscalationV1":
        if kind_of(self.from_agency) is AgencyKind.HUB:
            raise ValueError("a hub routes escalations and cannot make one")
        if not self.same_day_required and any(
            flag.needs_same_day_escalation for flag in self.risk_flags
        ):
            raise ValueError("a CP plan, looked-after or risk-of-harm flag needs same_day_required")
        dob = self.child.date_of_birth
        check_not_before_birth(dob, self.missing_since, "missing_since")
        return self


SPECS = (
    MessageSpec(ESCALATION, 1, EscalationV1, special_category=True, sender_field="from_agency"),
)
