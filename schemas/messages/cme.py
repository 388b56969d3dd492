"""Messages of the LA's CME process: referrals in, locate enquiries out and their answers, the
LA-to-LA cross-border handover, and case updates (DESIGN.md section 6; Education Act 1996
s436A; `shared/domain/timescales.md`).
"""

from datetime import date
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import Field, model_validator

from schemas.agency import AgencyId, AgencyKind, LaId, SchoolId, kind_of
from schemas.base import DISTINCT, WireModel
from schemas.case import CaseRef, ClosureOutcome, RiskFlags
from schemas.child import (
    Address,
    ChildIdentity,
    LongText,
    Name,
    PupilSummary,
    SchoolRef,
    check_not_before_birth,
)
from schemas.domain import CmeReason, DeletionGround, Sex
from schemas.identifiers import NhsNumber, OdsCode, Upn
from schemas.registry import MessageSpec

REFERRAL = "cme.referral"
LOCATE_ENQUIRY = "cme.locate_enquiry"
LOCATE_RESPONSE = "cme.locate_response"
CROSS_BORDER_NOTIFICATION = "cme.cross_border_notification"
CROSS_BORDER_CONFIRMATION = "cme.cross_border_confirmation"
ENQUIRIES_COMPLETE = "cme.enquiries_complete"
CASE_STATUS = "cme.case_status"


class ReferralV1(WireModel):
    """CME referral: sent by any agency to the LA's CME team when it believes a child is missing
    education (schools customarily by the 10th school day of unexplained absence, after their
    own enquiries). May carry health or SEN detail, so it is special category data.
    """

    referrer: AgencyId
    child: ChildIdentity
    reason: CmeReason
    risk_flags: RiskFlags = ()
    last_known_address: Address | None = None
    last_seen: date | None = None
    details: LongText | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "ReferralV1":
        if kind_of(self.referrer) is AgencyKind.HUB:
            raise ValueError("a hub routes referrals and cannot make one")
        check_not_before_birth(self.child.date_of_birth, self.last_seen, "last_seen")
        return self


class LocateQuestion(StrEnum):
    """What the LA asks a respondent to look up."""

    WHEREABOUTS = "whereabouts"
    EDUCATION_STATUS = "education_status"
    REGISTERED_GP = "registered_gp"
    CURRENT_ADDRESS = "current_address"


class LocateSubject(WireModel):
    """What a respondent needs to find the child in its own records, and no more. The UPN is for
    education recipients (another LA, a school): leave it out for health and housing.
    """

    forenames: Name
    surname: Name
    former_surnames: tuple[Name, ...] = Field(default=(), max_length=5)
    date_of_birth: date
    sex: Sex = Sex.UNKNOWN
    nhs_number: NhsNumber | None = None
    upn: Upn | None = None
    last_known_address: Address | None = None


class LocateEnquiryV1(WireModel):
    """Locate enquiry: sent by the LA's CME team to health, housing, children's social care, the
    police or another LA while a case needs the child's whereabouts or education status
    (Education Act 1996 s436A). No statutory deadline: `respond_by` is the LA's SLA (default 5
    working days, 2 when a risk flag is set).
    """

    case_ref: CaseRef
    child: LocateSubject
    reason: CmeReason
    risk_flags: RiskFlags = ()
    respond_by: date
    questions: Annotated[
        tuple[LocateQuestion, ...], Field(min_length=1, max_length=len(LocateQuestion)), DISTINCT
    ]


class LocateOutcome(StrEnum):
    """Whether the respondent found the child. `known_withheld`: found, but the location cannot
    be disclosed (e.g. a restricted NHS record); the LA follows up by other means.
    """

    FOUND = "found"
    NOT_FOUND = "not_found"
    KNOWN_WITHHELD = "known_withheld"


class LocateResponseV1(WireModel):
    """Locate response: a respondent's minimal answer to `cme.locate_enquiry`, sent back to the
    LA (Children Act 2004 s11). `evidence_date` is when the respondent's record was last
    confirmed (e.g. the last GP contact). May reveal health contact, so it is special category.
    """

    enquiry_message_id: UUID
    case_ref: CaseRef
    outcome: LocateOutcome
    evidence_date: date
    current_address: Address | None = None
    registered_gp: OdsCode | None = None
    school: SchoolRef | None = None
    refer_to_social_care: bool
    """The respondent advises an immediate referral to children's social care."""
    note: LongText | None = None

    @model_validator(mode="after")
    def _answer_matches_outcome(self) -> "LocateResponseV1":
        located = (self.current_address, self.registered_gp, self.school)
        given = any(item is not None for item in located)
        if self.outcome is LocateOutcome.KNOWN_WITHHELD and given:
            raise ValueError("a withheld answer carries no address, GP or school")
        if self.outcome is LocateOutcome.NOT_FOUND and given:
            raise ValueError("a not-found answer carries no address, GP or school")
        if self.outcome is LocateOutcome.FOUND and not given:
            raise ValueError("a found answer needs a current address, GP or school")
        return self


class CrossBorderNotificationV1(WireModel):
    """Cross-border notification: sent by an LA to another LA when a child is believed to have
    moved into the other LA's area (Education Act 1996 s436A). No English statutory deadline:
    `respond_by` is the SLA (default 10 working days; Wales uses 28 days).
    """

    case_ref: CaseRef
    from_la: LaId
    to_la: LaId
    child: ChildIdentity
    believed_address: Address | None = None
    reason: CmeReason
    risk_flags: RiskFlags = ()
    evidence: LongText
    """Why the sending LA believes the child moved (e.g. housing record, parent's statement)."""
    respond_by: date

    @model_validator(mode="after")
    def _two_las(self) -> "CrossBorderNotificationV1":
        if self.from_la == self.to_la:
            raise ValueError("to_la must differ from from_la")
        return self


class CrossBorderOutcome(StrEnum):
    """What the receiving LA established about the child."""

    ON_ROLL = "on_roll"
    APPLIED = "applied"
    """An application for a school place is in progress."""
    HOME_EDUCATED = "home_educated"
    NOT_FOUND_AT_ADDRESS = "not_found_at_address"
    MOVED_ON = "moved_on"
    MOVED_ABROAD = "moved_abroad"

    @property
    def child_is_here(self) -> bool:
        """The child is in the receiving LA's area, so it can accept responsibility."""
        return self in (
            CrossBorderOutcome.ON_ROLL,
            CrossBorderOutcome.APPLIED,
            CrossBorderOutcome.HOME_EDUCATED,
        )


class CrossBorderConfirmationV1(WireModel):
    """Cross-border confirmation: the receiving LA's answer to `cme.cross_border_notification`,
    sent to the sending LA. `accepts_responsibility` transfers the case: the sending LA may then
    close it with outcome `receiving_la_accepted`.
    """

    notification_message_id: UUID
    case_ref: CaseRef
    """The sending LA's case reference, echoed."""
    outcome: CrossBorderOutcome
    accepts_responsibility: bool
    school: SchoolRef | None = None
    note: LongText | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "CrossBorderConfirmationV1":
        if self.outcome is CrossBorderOutcome.ON_ROLL and (
            self.school is None or self.school.is_unknown
        ):
            raise ValueError("on_roll needs the school the child is on the roll of")
        if self.accepts_responsibility and not self.outcome.child_is_here:
            raise ValueError("only a child found in the receiving area can be accepted")
        return self


class EnquiriesResult(StrEnum):
    """How the joint enquiries ended."""

    CHILD_LOCATED = "child_located"
    ENQUIRIES_EXHAUSTED = "enquiries_exhausted"


class EnquiriesCompleteV1(WireModel):
    """Enquiries complete: sent by the LA to a school when the joint reasonable enquiries about a
    pupil are done. `enquiries_exhausted` lets the school delete the name under reg 9(1)(h) or
    (i) (SI 2024/208); `child_located` means it must not delete on those grounds.
    """

    school: SchoolId
    case_ref: CaseRef
    child: PupilSummary
    result: EnquiriesResult
    completed_on: date
    deletion_ground: DeletionGround | None = None

    @model_validator(mode="after")
    def _ground_allowed(self) -> "EnquiriesCompleteV1":
        if self.deletion_ground is None:
            return self
        if not self.deletion_ground.needs_joint_enquiries:
            raise ValueError("deletion_ground may only be 9(1)(h) or 9(1)(i)")
        if self.result is not EnquiriesResult.ENQUIRIES_EXHAUSTED:
            raise ValueError("a deletion_ground is allowed only when enquiries are exhausted")
        return self


class CaseStatus(StrEnum):
    """The change the LA reports on a case."""

    OPENED = "opened"
    UPDATED = "updated"
    CLOSED = "closed"
    REOPENED = "reopened"


class CaseStatusV1(WireModel):
    """Case status: sent by the LA to the referrer (or the agency that notified it) when a case
    opens, changes, closes or reopens. Identifies the child only by the case reference.
    """

    case_ref: CaseRef
    status: CaseStatus
    in_reply_to: UUID | None = None
    """The message (e.g. the referral) this status answers."""
    outcome: ClosureOutcome | None = None
    note: LongText | None = None

    @model_validator(mode="after")
    def _outcome_iff_closed(self) -> "CaseStatusV1":
        if (self.status is CaseStatus.CLOSED) != (self.outcome is not None):
            raise ValueError("outcome is required when closed and only then")
        return self


SPECS = (
    MessageSpec(REFERRAL, 1, ReferralV1, special_category=True, sender_field="referrer"),
    MessageSpec(LOCATE_ENQUIRY, 1, LocateEnquiryV1),
    MessageSpec(LOCATE_RESPONSE, 1, LocateResponseV1, special_category=True),
    MessageSpec(
        CROSS_BORDER_NOTIFICATION,
        1,
        CrossBorderNotificationV1,
        sender_field="from_la",
        recipient_field="to_la",
    ),
    MessageSpec(CROSS_BORDER_CONFIRMATION, 1, CrossBorderConfirmationV1),
    MessageSpec(ENQUIRIES_COMPLETE, 1, EnquiriesCompleteV1, recipient_field="school"),
    MessageSpec(CASE_STATUS, 1, CaseStatusV1),
)
