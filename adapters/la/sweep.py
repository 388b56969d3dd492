"""The desk's daily sweep: chase overdue enquiries, put lapsed ones and unanswered cross-border
notifications on the CME lead's list, and tell schools when joint enquiries are complete.

Run it at least daily (`cme-broker desk run` does, and `cme-broker cases sweep` on demand). It
is idempotent: what it did is on the case timelines, so a second run the same day does
nothing more.
"""

from dataclasses import dataclass, field
from datetime import date

import structlog
from sqlalchemy import Engine
from sqlmodel import Session

from adapters.la import context as ctx
from adapters.la.calendar import WorkingDayCalendar
from adapters.la.context import CaseContext
from adapters.la.model import EnquiryState
from adapters.la.outbound import CaseLine, DeskSender
from adapters.la.records import CaseFilter, EnquiryChange, EnquiryView, EventKind
from adapters.la.register import CaseRegister
from adapters.la.rules import (
    DeskPolicy,
    OverdueAction,
    PlannedEnquiry,
    chase_deadline,
    cross_border_escalation_due,
    enquiries_complete_result,
    joint_enquiries_state,
    overdue_enquiries,
)
from adapters.la.rules.enquiries import QUESTIONS
from broker.agreements import AgreementRefusal
from broker.errors import EnvelopeError

log = structlog.get_logger(__name__)
SYSTEM = "system"


@dataclass(frozen=True)
class DeskParts:
    """The parts of the desk the sweep uses."""

    policy: DeskPolicy
    calendar: WorkingDayCalendar
    sender: DeskSender


@dataclass
class SweepReport:
    """What one sweep did (counts and case refs: no personal data)."""

    chased: list[str] = field(default_factory=list)
    to_lead: list[str] = field(default_factory=list)
    cross_border_escalated: list[str] = field(default_factory=list)
    schools_told: list[str] = field(default_factory=list)


class Sweeper:
    """Runs the sweep over every unclosed case, one transaction per case (a failure on one
    case is logged and leaves the others done)."""

    def __init__(self, engine: Engine, register: CaseRegister, desk: DeskParts) -> None:
        self._engine = engine
        self._register = register
        self._desk = desk

    def sweep(self, today: date) -> SweepReport:
        """Sweep every unclosed case as of `today`."""
        report = SweepReport()
        for case_ref in self._unclosed():
            try:
                with Session(self._engine) as session:
                    self._case(session, case_ref, today, report)
                    session.commit()
            except Exception as exc:  # one case's problem must not stop the others' chases
                log.error("desk.sweep_failed", case_ref=case_ref, error=type(exc).__name__)
        return report

    def _unclosed(self, page: int = 1000) -> list[str]:
        refs: list[str] = []
        while True:
            batch = self._register.list_cases(CaseFilter(limit=page, offset=len(refs)))
            refs += [c.case_ref for c in batch]
            if len(batch) < page:
                return refs

    def _case(self, session: Session, case_ref: str, today: date, report: SweepReport) -> None:
        case = CaseContext.of(self._register.show_case(case_ref, session=session))
        self._overdue(session, case, today, report)
        record = case.cross_border_record()
        if record is not None and cross_border_escalation_due(record, today):
            self._to_lead(session, case_ref, "cross_border", "The receiving LA has not answered.")
            report.cross_border_escalated.append(case_ref)
        self._joint_enquiries(session, case, today, report)

    def _overdue(
        self, session: Session, case: CaseContext, today: date, report: SweepReport
    ) -> None:
        """Each enquiry on its own: a chase that cannot be sent is noted for the lead and
        the others still go."""
        calendar, policy = self._desk.calendar, self._desk.policy
        for enquiry, record in case.sent_enquiries():
            for due in overdue_enquiries([record], today, calendar):
                if due.action is OverdueAction.CHASE:
                    final = chase_deadline(today, case.detail.summary.risk_flags, policy, calendar)
                    self._chase_or_note(session, case, enquiry, (final, today), report)
                else:
                    why = f"No answer from {enquiry.agency_id} after a chase."
                    self._to_lead(session, enquiry.case_ref, f"enquiry:{enquiry.enquiry_id}", why)
                    report.to_lead.append(case.detail.summary.case_ref)

    def _chase_or_note(
        self,
        session: Session,
        case: CaseContext,
        enquiry: EnquiryView,
        dates: tuple[date, date],
        report: SweepReport,
    ) -> None:
        """`dates`: the chase's final deadline and the sweep's day."""
        try:
            with session.begin_nested():
                self._chase(session, case, enquiry, *dates)
            report.chased.append(case.detail.summary.case_ref)
        except (AgreementRefusal, EnvelopeError) as exc:
            why = f"The chase to {enquiry.agency_id} could not be sent ({exc.reason})."
            self._to_lead(session, enquiry.case_ref, f"enquiry:{enquiry.enquiry_id}", why)
            report.to_lead.append(case.detail.summary.case_ref)

    def _chase(
        self, session: Session, case: CaseContext, enquiry: EnquiryView, final: date, today: date
    ) -> None:
        """Send the enquiry again with a final deadline; the answer to either copy files."""
        summary = case.detail.summary
        line = CaseLine(summary.case_ref, case.detail.child, summary.reason, summary.risk_flags)
        plan = PlannedEnquiry(
            target=enquiry.target,
            agency=enquiry.agency_id,
            questions=QUESTIONS[enquiry.target],
            respond_by=final,
        )
        sealed = self._desk.sender.locate_enquiry(session, line, plan)
        assert enquiry.respond_by is not None
        self._register.add_event(
            summary.case_ref,
            EventKind.ENQUIRY_OVERDUE,
            SYSTEM,
            message_id=str(sealed.claims.jti),
            detail={
                ctx.ENQUIRY: enquiry.enquiry_id,
                ctx.ACTION: "chase",
                ctx.FIRST_RESPOND_BY: enquiry.respond_by.isoformat(),
                ctx.CHASED_ON: today.isoformat(),
            },
            session=session,
        )
        # The enquiry keeps the message id it was first sent as; an answer to the chase is
        # filed by case and respondent (`CmeDesk._enquiry_answered`).
        change = EnquiryChange(state=EnquiryState.OVERDUE, respond_by=final)
        self._register.update_enquiry(enquiry.enquiry_id, change, SYSTEM, session=session)

    def _to_lead(self, session: Session, case_ref: str, scope: str, why: str) -> None:
        self._register.add_event(
            case_ref, EventKind.ESCALATED, SYSTEM, why=why, detail={ctx.SCOPE: scope},
            session=session,
        )  # fmt: skip

    def _joint_enquiries(
        self, session: Session, case: CaseContext, today: date, report: SweepReport
    ) -> None:
        """Reg 9(1)(h)/(i): tell the school once the joint enquiries are done."""
        facts = case.facts()
        school = case.school
        if not facts.needs_joint_enquiries or case.told_school or school is None:
            return
        if case.unsent:  # a planned enquiry never went: not "reasonable enquiries" yet
            if "unsent" not in case.escalated:
                why = "Joint enquiries cannot complete: a planned enquiry could not be sent."
                self._to_lead(session, case.detail.summary.case_ref, "unsent", why)
                report.to_lead.append(case.detail.summary.case_ref)
            return
        result = enquiries_complete_result(
            joint_enquiries_state(facts, case.enquiry_records(), today)
        )
        if result is None:
            return
        summary = case.detail.summary
        line = CaseLine(summary.case_ref, case.detail.child, summary.reason, summary.risk_flags)
        sealed = self._desk.sender.enquiries_complete(
            session, line, school, result, facts.deletion_ground, today
        )
        self._register.add_event(
            summary.case_ref,
            EventKind.MESSAGE_SENT,
            SYSTEM,
            message_id=str(sealed.claims.jti),
            detail={ctx.MESSAGE_TYPE: sealed.claims.cme_type, ctx.RECIPIENT: school,
                    ctx.OUTCOME: result.value},
            session=session,
        )  # fmt: skip
        report.schools_told.append(summary.case_ref)
