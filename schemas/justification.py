"""The structured sharing justification (`shared/domain/legal_bases.md`).

It travels in the outer header, which the hub reads and records in the ledger, so it must hold
no personal data: its free-text fields explain a decision in general terms, never about a named
child. Sender organisation, recipient, message ids and the subject pseudonym are in the outer
header beside it.
"""

from datetime import date
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from schemas.base import WireModel

Reason = Annotated[str, Field(min_length=3, max_length=500)]
Token = Annotated[str, Field(min_length=1, max_length=80)]


class Purpose(StrEnum):
    """Why the share happens."""

    STATUTORY_RETURN = "statutory_return"
    REFERRAL = "referral"
    LOCATE_ENQUIRY = "locate_enquiry"
    RESPONSE_TO_ENQUIRY = "response_to_enquiry"
    CROSS_BORDER_NOTIFICATION = "cross_border_notification"
    CROSS_BORDER_CONFIRMATION = "cross_border_confirmation"
    DESTINATION_CHECK = "destination_check"
    ENQUIRIES_COMPLETE = "enquiries_complete"
    CASE_STATUS_UPDATE = "case_status_update"
    SAFEGUARDING_ESCALATION = "safeguarding_escalation"
    DELIVERY_RECEIPT = "delivery_receipt"


class LawfulBasis(StrEnum):
    """UK GDPR Article 6 basis."""

    LEGAL_OBLIGATION = "art6(1)(c)"
    PUBLIC_TASK = "art6(1)(e)"
    RECOGNISED_LEGITIMATE_INTEREST = "art6(1)(ea)"


class SpecialCategoryCondition(StrEnum):
    """Art 9 condition with its DPA 2018 Schedule 1 condition, for special category data."""

    SAFEGUARDING = "art9(2)(g)+dpa2018-s10(3)-sch1-para18"
    SUBSTANTIAL_PUBLIC_INTEREST_STATUTORY = "art9(2)(g)+dpa2018-s10(3)-sch1-para6"


class ConsentStatus(StrEnum):
    """Consent position of the share (consent is rarely the basis, but its status is recorded)."""

    OBTAINED = "obtained"
    NOT_SOUGHT = "not_sought"
    REFUSED_OVERRIDDEN = "refused_overridden"


class Decision(StrEnum):
    """The sharing decision."""

    SHARE = "share"
    NOT_SHARE = "not_share"
    PARTIAL = "partial"


class AgreementRef(WireModel):
    """The data sharing agreement the share falls under."""

    id: Token
    version: Annotated[int, Field(ge=1)]


class Consent(WireModel):
    """Consent status; a reason is required unless consent was obtained."""

    status: ConsentStatus
    reason: Reason | None = None

    @model_validator(mode="after")
    def _reason_when_not_obtained(self) -> "Consent":
        if self.status is not ConsentStatus.OBTAINED and self.reason is None:
            raise ValueError("consent not obtained: a reason is required")
        return self


class Retention(WireModel):
    """How long the recipient keeps the data and when it is reviewed."""

    rule: Reason
    review_date: date


class Justification(WireModel):
    """Why this share is lawful, necessary and proportionate; who decided and when."""

    decision_id: UUID
    decided_at: AwareDatetime
    decided_by_role: Token
    purpose: Purpose
    lawful_basis: LawfulBasis
    special_category: SpecialCategoryCondition | None = None
    statutory_gateways: tuple[Token, ...] = Field(min_length=1, max_length=8)
    agreement: AgreementRef
    data_categories: tuple[Token, ...] = Field(min_length=1, max_length=40)
    necessity: Reason
    consent: Consent
    decision: Decision = Decision.SHARE
    decision_reasons: Reason | None = None
    retention: Retention

    @model_validator(mode="after")
    def _partial_needs_reasons(self) -> "Justification":
        if self.decision is not Decision.SHARE and self.decision_reasons is None:
            raise ValueError("a partial or not-share decision needs its reasons")
        return self
