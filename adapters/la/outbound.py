"""What the desk sends: each message built from the case, justified from the agreements, and
staged in the caller's transaction (so "case change + message" commit together or not at all).
"""

from dataclasses import dataclass
from datetime import date
from typing import Protocol
from uuid import UUID

from sqlmodel import Session

from adapters.la.rules import PlannedEnquiry
from broker.agreements import AgreementBook, ShareIntent, justify
from broker.clock import Clock
from broker.envelope import Draft, Sealed
from schemas.base import WireModel
from schemas.case import ClosureOutcome
from schemas.child import Address, ChildIdentity, PupilSummary, SchoolRef
from schemas.domain import CmeReason, DeletionGround, RiskFlag
from schemas.messages import cme, safeguarding
from schemas.messages.cme import (
    CaseStatus,
    CaseStatusV1,
    CrossBorderConfirmationV1,
    CrossBorderNotificationV1,
    CrossBorderOutcome,
    EnquiriesCompleteV1,
    EnquiriesResult,
    LocateEnquiryV1,
    LocateSubject,
)
from schemas.messages.safeguarding import EscalationV1

ROLE = "cme-officer"
"""The role that decides the desk's shares (never a person's name)."""


class Outbox(Protocol):
    """Where sealed messages wait to be published (the agency client's transactional outbox)."""

    def stage(self, session: Session, draft: Draft) -> Sealed:
        """Seal `draft` into the outbox within the caller's transaction."""
        ...


@dataclass(frozen=True)
class CaseLine:
    """What every message about a case carries: its ref, the child, reason and risk."""

    case_ref: str
    child: ChildIdentity
    reason: CmeReason
    risk_flags: tuple[RiskFlag, ...]
    correlation_id: UUID | None = None


class DeskSender:
    """Builds, justifies and stages the desk's messages."""

    def __init__(self, la_id: str, outbox: Outbox, agreements: AgreementBook, clock: Clock) -> None:
        self.la_id = la_id
        self._outbox = outbox
        self._agreements = agreements
        self._clock = clock

    def send(
        self,
        session: Session,
        recipient: str,
        message_type: str,
        payload: WireModel,
        necessity: str,
        *,
        correlation_id: UUID | None = None,
        causation_id: UUID | None = None,
    ) -> Sealed:
        """Justify from the agreements (refused here if none permits it) and stage."""
        intent = ShareIntent(self.la_id, recipient, message_type, payload, ROLE, necessity)
        justification = justify(self._agreements, intent, self._clock())
        draft = Draft(
            recipient,
            message_type,
            payload,
            justification,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
        return self._outbox.stage(session, draft)

    def locate_enquiry(self, session: Session, line: CaseLine, plan: PlannedEnquiry) -> Sealed:
        """Ask a respondent where the child is (what it can know, and no more)."""
        payload = LocateEnquiryV1(
            case_ref=line.case_ref,
            child=_subject(line.child, plan.agency),
            reason=line.reason,
            risk_flags=line.risk_flags,
            respond_by=plan.respond_by,
            questions=plan.questions,
        )
        return self.send(
            session,
            plan.agency,
            cme.LOCATE_ENQUIRY,
            payload,
            "Robust enquiries to find a child missing education (Education Act 1996 s436A).",
            correlation_id=line.correlation_id,
        )

    def escalation(
        self, session: Session, line: CaseLine, social_care: str, flags: tuple[RiskFlag, ...]
    ) -> Sealed:
        """Same-day referral to children's social care of a child at risk."""
        payload = EscalationV1(
            from_agency=self.la_id,
            child=line.child,
            risk_flags=flags,
            reason="A child with a safeguarding risk flag is missing education.",
            case_ref=line.case_ref,
            same_day_required=any(f.needs_same_day_escalation for f in flags),
        )
        return self.send(
            session,
            social_care,
            safeguarding.ESCALATION,
            payload,
            "A child at risk of harm is missing education: social care must know the same day.",
            correlation_id=line.correlation_id,
        )

    def case_status(
        self,
        session: Session,
        recipient: str,
        case_ref: str,
        status: CaseStatus,
        outcome: ClosureOutcome | None = None,
        in_reply_to: UUID | None = None,
    ) -> Sealed:
        """Tell the referrer what became of its referral (the child named by case ref only)."""
        payload = CaseStatusV1(
            case_ref=case_ref, status=status, outcome=outcome, in_reply_to=in_reply_to
        )
        return self.send(
            session,
            recipient,
            cme.CASE_STATUS,
            payload,
            "The agency that raised the concern is told what became of it.",
        )

    def enquiries_complete(
        self,
        session: Session,
        line: CaseLine,
        school: str,
        result: EnquiriesResult,
        ground: DeletionGround | None,
        today: date,
    ) -> Sealed:
        """Tell the school the joint enquiries are done (it may then delete the name)."""
        child = line.child
        payload = EnquiriesCompleteV1(
            school=school,
            case_ref=line.case_ref,
            child=PupilSummary(
                forenames=child.forenames,
                surname=child.surname,
                date_of_birth=child.date_of_birth,
                upn=child.upn,
            ),
            result=result,
            completed_on=today,
            deletion_ground=ground if result is EnquiriesResult.ENQUIRIES_EXHAUSTED else None,
        )
        return self.send(
            session,
            school,
            cme.ENQUIRIES_COMPLETE,
            payload,
            "The school may delete the name only once the joint enquiries are complete.",
            correlation_id=line.correlation_id,
        )

    def cross_border_notification(
        self,
        session: Session,
        line: CaseLine,
        to_la: str,
        evidence: str,
        respond_by: date,
        believed_address: Address | None = None,
    ) -> Sealed:
        """Tell the LA the child is believed to have moved to (s436A)."""
        payload = CrossBorderNotificationV1(
            case_ref=line.case_ref,
            from_la=self.la_id,
            to_la=to_la,
            child=line.child,
            believed_address=believed_address,
            reason=line.reason,
            risk_flags=line.risk_flags,
            evidence=evidence,
            respond_by=respond_by,
        )
        return self.send(
            session,
            to_la,
            cme.CROSS_BORDER_NOTIFICATION,
            payload,
            "The child is believed to live in the receiving LA's area, which must now act.",
            correlation_id=line.correlation_id,
        )

    def cross_border_confirmation(
        self,
        session: Session,
        to_la: str,
        answer: "InboundAnswer",
    ) -> Sealed:
        """Answer another LA's notification: what this LA found, and whether it takes over."""
        payload = CrossBorderConfirmationV1(
            notification_message_id=answer.notification_message_id,
            case_ref=answer.peer_case_ref,
            outcome=answer.outcome,
            accepts_responsibility=answer.accepts_responsibility,
            school=answer.school,
        )
        return self.send(
            session,
            to_la,
            cme.CROSS_BORDER_CONFIRMATION,
            payload,
            "The notifying LA needs this LA's answer to close or continue its enquiries.",
            causation_id=answer.notification_message_id,
        )


@dataclass(frozen=True)
class InboundAnswer:
    """This LA's answer to a cross-border notification it received."""

    notification_message_id: UUID
    peer_case_ref: str
    outcome: CrossBorderOutcome
    accepts_responsibility: bool
    school: SchoolRef | None = None


def _subject(child: ChildIdentity, recipient: str) -> LocateSubject:
    """The child as a respondent needs it. The UPN is for education recipients only."""
    education = recipient.startswith(("la:", "school:"))
    return LocateSubject(
        forenames=child.forenames,
        surname=child.surname,
        former_surnames=child.former_surnames[:5],
        date_of_birth=child.date_of_birth,
        sex=child.sex,
        nhs_number=child.nhs_number,
        upn=child.upn if education else None,
        last_known_address=child.addresses[0] if child.addresses else None,
    )
