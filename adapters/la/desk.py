"""The LA's CME desk: the Python API the CLI, the web console and the HTTP gateway call.

Inbound messages arrive through the agency client (`CmeDesk.handle` runs inside the inbox
transaction, so a case change and the messages it causes commit together with the inbox row).
Officers act through the methods below; each runs in one transaction of its own. The rules
(`adapters.la.rules`) decide; the register (`CaseRegister`) remembers; `DeskSender` sends.
Nothing personal is logged: only message types, codes and case refs.
"""

from dataclasses import dataclass
from datetime import date
from typing import Protocol
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import Engine
from sqlmodel import Session

from adapters.la import context as ctx
from adapters.la.calendar import WorkingDayCalendar
from adapters.la.context import CaseContext
from adapters.la.errors import DeskError, InvalidInput
from adapters.la.model import CaseState, EnquiryState, SaoStep
from adapters.la.outbound import CaseLine, DeskSender, InboundAnswer
from adapters.la.records import (
    CaseOpening,
    EnquiryChange,
    EnquiryDraft,
    EnquiryView,
    EventKind,
    IntakeResult,
)
from adapters.la.register import CaseRegister
from adapters.la.reporting import Term, TermReport, termly_report
from adapters.la.rules import (
    ClosureEvidence,
    DeskPolicy,
    InboundNotification,
    KnownFacts,
    OpeningDecision,
    SaoPlan,
    case_opening,
    merge_flags,
    plan_enquiries,
    propose_cross_border,
    same_day_flags,
    validate_closure,
)
from adapters.la.sweep import DeskParts, Sweeper, SweepReport
from broker.agreements import AgreementRefusal
from broker.clock import Clock
from broker.envelope import Opened
from broker.errors import EnvelopeError
from schemas.case import ClosureOutcome
from schemas.child import Address, ChildCore, ChildIdentity, SchoolRef
from schemas.domain import RiskFlag
from schemas.messages.cme import (
    CaseStatus,
    CrossBorderConfirmationV1,
    CrossBorderNotificationV1,
    CrossBorderOutcome,
    LocateOutcome,
    LocateResponseV1,
)

log = structlog.get_logger(__name__)
SYSTEM = "system"
ENGLAND = ZoneInfo("Europe/London")


class AreaLookup(Protocol):
    """Which LA's area a postcode is in (a local gazetteer or the ONS postcode directory)."""

    def la_code(self, postcode: str) -> str | None:
        """The LA code, or None when the postcode is not known."""
        ...


@dataclass(frozen=True)
class DeskServices:
    """What the desk works with besides its register."""

    policy: DeskPolicy
    calendar: WorkingDayCalendar
    sender: DeskSender
    clock: Clock
    areas: AreaLookup | None = None


class CmeDesk:
    """The CME team's tracking system: cases open from notifications, enquiries go out and are
    chased, and a child leaves the list only with an allowed outcome and its evidence."""

    def __init__(self, engine: Engine, register: CaseRegister, services: DeskServices) -> None:
        self._engine = engine
        self.register = register
        self._policy = services.policy
        self._calendar = services.calendar
        self._send = services.sender
        self._clock = services.clock
        self._areas = services.areas

    def today(self) -> date:
        """The desk's working day: the date in England (deadlines are England's days)."""
        return self._clock().astimezone(ENGLAND).date()

    # -- inbound ---------------------------------------------------------------------------

    def handle(self, session: Session, opened: Opened) -> None:
        """The agency client's handler: file one accepted message (inside its transaction)."""
        payload = opened.payload
        if isinstance(payload, InboundNotification):
            self._notification(session, opened, payload)
        elif isinstance(payload, LocateResponseV1):
            self._locate_response(session, opened, payload)
        elif isinstance(payload, CrossBorderConfirmationV1):
            self._confirmation(session, opened, payload)
        else:
            log.info("desk.not_filed", message_type=opened.claims.cme_type)

    def _notification(self, session: Session, opened: Opened, message: InboundNotification) -> None:
        claims = opened.claims
        try:
            decision = case_opening(message, self._policy, self.today(), self._known(message))
        except InvalidInput as exc:
            log.warning("desk.notification_refused", reason=exc.reason)
            return
        if decision.case is None:
            log.info("desk.no_case", message_type=claims.cme_type, why=decision.rationale)
            return
        child = _identity(message.child)
        result = self.register.intake(
            child, self._opening(decision, claims.iss, str(claims.jti)), session=session
        )
        line = CaseLine(
            case_ref=result.case_ref or "",
            child=child,
            reason=decision.case.reason,
            risk_flags=decision.case.risk_flags,
            correlation_id=claims.correlation_id or claims.jti,
        )
        if result.case_ref is None:  # a possible duplicate waits for a person
            self._escalate_unfiled(session, line)
            return
        self._record_notification(session, result.case_ref, opened, message, decision)
        self._follow_up(session, result, line)
        log.info("desk.filed", case_ref=result.case_ref, opened=result.opened)

    def _known(self, message: InboundNotification) -> KnownFacts:
        """What the desk knows that the message does not say: its area lookup of the
        future address of a deletion return."""
        future = getattr(message, "future_address", None)
        postcode = getattr(future, "postcode", None)
        if self._areas is None or not postcode:
            return KnownFacts()
        code = self._areas.la_code(str(postcode))
        return KnownFacts(destination_la=f"la:{code}" if code else None)

    @staticmethod
    def _opening(decision: OpeningDecision, sender: str, message_id: str) -> CaseOpening:
        facts = decision.case
        assert facts is not None
        return CaseOpening(
            kind=facts.kind,
            trigger=facts.trigger,
            reason=facts.reason,
            risk_flags=facts.risk_flags,
            priority=facts.priority,
            actor=sender,
            why=decision.rationale,
            message_id=message_id,
        )

    def _record_notification(
        self,
        session: Session,
        case_ref: str,
        opened: Opened,
        message: InboundNotification,
        decision: OpeningDecision,
    ) -> None:
        facts = decision.case
        assert facts is not None
        detail: dict[str, str | None] = {
            ctx.SENDER: opened.claims.iss,
            ctx.MESSAGE_TYPE: opened.claims.cme_type,
            ctx.GROUND: facts.deletion_ground.value if facts.deletion_ground else None,
            ctx.DESTINATION_LA: facts.destination_la,
            ctx.PREVIOUS_LA: facts.previous_la,
            ctx.REPLY_DUE: facts.reply_due.isoformat() if facts.reply_due else None,
        }
        if isinstance(message, CrossBorderNotificationV1):
            detail[ctx.PEER_CASE] = message.case_ref
            detail[ctx.NOTIFICATION] = str(opened.claims.jti)
        self.register.add_event(
            case_ref,
            EventKind.MESSAGE_RECEIVED,
            opened.claims.iss,
            message_id=str(opened.claims.jti),
            detail={k: v for k, v in detail.items() if v is not None},
            session=session,
        )

    def _follow_up(self, session: Session, result: IntakeResult, line: CaseLine) -> None:
        """A new case sends its enquiries; a closed one matched again reopens; any case gets
        the risk flags it did not have and the same-day escalations they call for."""
        assert result.case_ref is not None
        case = CaseContext.of(self.register.show_case(result.case_ref, session=session))
        if result.case_state is CaseState.CLOSED:
            self.register.reopen_case(
                result.case_ref, SYSTEM, "A new notification arrived about the child.",
                session=session,
            )  # fmt: skip
        flags = merge_flags(case.detail.summary.risk_flags, line.risk_flags)
        if flags != case.detail.summary.risk_flags:
            priority = case.facts().model_copy(update={"risk_flags": flags}).priority
            self.register.update_risk(result.case_ref, flags, priority, SYSTEM, session=session)
        line = CaseLine(line.case_ref, line.child, line.reason, flags, line.correlation_id)
        if result.opened or result.case_state is CaseState.CLOSED:
            self._send_enquiries(session, case, line)
        self._escalate(session, case, line)

    def _send_enquiries(self, session: Session, case: CaseContext, line: CaseLine) -> None:
        facts = case.facts().model_copy(update={"risk_flags": line.risk_flags})
        for plan in plan_enquiries(facts, self._policy, self._calendar, self.today()):
            try:
                sealed = self._send.locate_enquiry(session, line, plan)
            except (AgreementRefusal, EnvelopeError) as exc:
                # One respondent out of reach (not registered, no agreement) must not stop
                # the case or the other enquiries: the officer sees why on the timeline.
                self._not_sent(session, line.case_ref, plan.agency, exc.reason)
                continue
            draft = EnquiryDraft(
                target=plan.target,
                agency_id=plan.agency,
                state=EnquiryState.SENT,
                message_id=str(sealed.claims.jti),
                sent_at=self._clock(),
                respond_by=plan.respond_by,
            )
            self.register.record_enquiry(line.case_ref, draft, SYSTEM, session=session)

    def _not_sent(self, session: Session, case_ref: str, agency: str, reason: str) -> None:
        log.warning("desk.enquiry_not_sent", case_ref=case_ref, reason=reason)
        self.register.add_event(
            case_ref, EventKind.NOTE, SYSTEM, why="A locate enquiry could not be sent.",
            detail={ctx.RECIPIENT: agency, "not_sent": reason}, session=session,
        )  # fmt: skip

    def _escalate(self, session: Session, case: CaseContext, line: CaseLine) -> None:
        """Children's social care the same day for a child with a CP plan, in care or at risk
        of harm: once per flag (a flag learnt later escalates on its own day)."""
        done = tuple(f for f in RiskFlag if f"safeguarding:{f.value}" in case.escalated)
        flags = same_day_flags(line.risk_flags, done)
        if not flags:
            return
        social_care = self._policy.agencies.social_care
        try:
            sealed = self._send.escalation(session, line, social_care, flags)
        except (AgreementRefusal, EnvelopeError) as exc:
            # The case is filed all the same; a person must reach social care today.
            self._not_sent(session, line.case_ref, social_care, exc.reason)
            self.register.add_event(
                line.case_ref, EventKind.ESCALATED, SYSTEM,
                why="The same-day safeguarding escalation could not be sent: phone social care.",
                detail={ctx.SCOPE: "escalation_not_sent"}, session=session,
            )  # fmt: skip
            return
        for flag in flags:
            self.register.add_event(
                line.case_ref,
                EventKind.ESCALATED,
                SYSTEM,
                message_id=str(sealed.claims.jti),
                detail={ctx.SCOPE: f"safeguarding:{flag.value}", ctx.RECIPIENT: social_care},
                session=session,
            )

    def _escalate_unfiled(self, session: Session, line: CaseLine) -> None:
        """A child at risk waiting in the possible-duplicate queue is escalated all the same:
        matching is a person's job, and safeguarding cannot wait for it."""
        flags = same_day_flags(line.risk_flags)
        if flags:
            line = CaseLine("", line.child, line.reason, line.risk_flags, line.correlation_id)
            # Not caught: with no case to note it on, a failure must retry (and stay visible).
            self._send.escalation(session, line, self._policy.agencies.social_care, flags)

    def _locate_response(
        self, session: Session, opened: Opened, response: LocateResponseV1
    ) -> None:
        enquiry = self._enquiry_answered(session, opened.claims.iss, response)
        if enquiry is None:
            log.warning("desk.response_unmatched", message_type=opened.claims.cme_type)
            return
        change = EnquiryChange(
            state=EnquiryState.ANSWERED,
            answered_at=self._clock(),
            outcome=response.outcome.value,
            evidence=_evidence_text(response),
        )
        self.register.update_enquiry(enquiry.enquiry_id, change, opened.claims.iss, session=session)
        self._propose_cross_border(session, enquiry.case_ref, response)

    def _enquiry_answered(
        self, session: Session, respondent: str, response: LocateResponseV1
    ) -> EnquiryView | None:
        """The enquiry a response answers: the one sent as the message it cites or, for an
        answer to a chase or to the first copy of a chased enquiry, the respondent's latest
        unanswered enquiry on that case."""
        cited = self.register.enquiry_for_message(str(response.enquiry_message_id), session=session)
        if cited is not None:
            return cited if cited.agency_id == respondent else None
        try:
            case = self.register.show_case(response.case_ref, session=session)
        except DeskError:
            return None
        waiting = [
            e for e in case.enquiries
            if e.agency_id == respondent and e.state is not EnquiryState.ANSWERED
        ]  # fmt: skip
        return waiting[-1] if waiting else None

    def _propose_cross_border(
        self, session: Session, case_ref: str, response: LocateResponseV1
    ) -> None:
        """A child found at an address in another LA's area: propose the notification (an
        officer sends it: the address may be stale, and that is a person's judgement)."""
        address = response.current_address
        if self._areas is None or address is None or address.postcode is None:
            return
        code = self._areas.la_code(address.postcode)
        if code is None:
            return
        proposal = propose_cross_border(response, code, self._policy, self._calendar, self.today())
        if proposal is not None:
            self.register.add_event(
                case_ref,
                EventKind.NOTE,
                SYSTEM,
                why=proposal.evidence,
                detail={"proposed_cross_border_to": proposal.to_la},
                session=session,
            )

    def _confirmation(
        self, session: Session, opened: Opened, answer: CrossBorderConfirmationV1
    ) -> None:
        try:
            case = CaseContext.of(self.register.show_case(answer.case_ref, session=session))
        except DeskError:
            log.warning("desk.confirmation_unmatched", case_ref=answer.case_ref)
            return
        sent = case.notification
        if sent is None or sent[0] != opened.claims.iss:
            log.warning("desk.confirmation_unmatched", case_ref=answer.case_ref)
            return
        self.register.add_event(
            answer.case_ref,
            EventKind.MESSAGE_RECEIVED,
            opened.claims.iss,
            message_id=str(opened.claims.jti),
            detail={
                ctx.MESSAGE_TYPE: opened.claims.cme_type,
                ctx.ACCEPTS: answer.accepts_responsibility,
                ctx.OUTCOME: answer.outcome.value,
            },
            session=session,
        )
        if case.detail.summary.state is CaseState.AWAITING_RECEIVING_LA:
            why = "The receiving LA answered the cross-border notification."
            self.register.set_state(
                answer.case_ref, CaseState.OPEN, opened.claims.iss, why=why, session=session
            )

    # -- officer actions -------------------------------------------------------------------

    def close_case(
        self,
        case_ref: str,
        outcome: ClosureOutcome | str | None,
        evidence: ClosureEvidence | None,
        actor: str,
        why: str,
    ) -> None:
        """Close with an allowed outcome and its evidence; the notifiers are told. Anything
        else is refused with `ClosureRefused` and a reason code."""
        with Session(self._engine) as session:
            case = CaseContext.of(self.register.show_case(case_ref, session=session))
            evidence = _with_case_facts(evidence, case)
            known = validate_closure(
                outcome, evidence, state=case.detail.summary.state, today=self.today()
            )
            _check_confirmation(known, evidence, case)
            text = evidence.model_dump_json(exclude_none=True) if evidence else ""
            self.register.close_case(case_ref, known, text, actor, why, session=session)
            self._tell_notifiers(session, case, CaseStatus.CLOSED, known)
            session.commit()

    def reopen_case(self, case_ref: str, actor: str, why: str) -> None:
        """Put a closed case back on the list (who and why recorded); the notifiers are told."""
        with Session(self._engine) as session:
            case = CaseContext.of(self.register.show_case(case_ref, session=session))
            self.register.reopen_case(case_ref, actor, why, session=session)
            self._tell_notifiers(session, case, CaseStatus.REOPENED, None)
            session.commit()

    def _tell_notifiers(
        self,
        session: Session,
        case: CaseContext,
        status: CaseStatus,
        outcome: ClosureOutcome | None,
    ) -> None:
        for notifier in case.notifiers:
            if notifier == self._send.la_id:
                continue
            try:
                self._send.case_status(session, notifier, case.detail.summary.case_ref, status,
                                       outcome)  # fmt: skip
            except (AgreementRefusal, EnvelopeError) as exc:  # no agreement, or unreachable
                log.info("desk.status_not_sent", reason=exc.reason)

    def notify_cross_border(
        self,
        case_ref: str,
        to_la: str,
        actor: str,
        why: str,
        believed_address: Address | None = None,
    ) -> str:
        """Send the cross-border notification; the case waits on the receiving LA. Returns
        the notification's message id."""
        with Session(self._engine) as session:
            case = CaseContext.of(self.register.show_case(case_ref, session=session))
            respond_by = self._calendar.add_working_days(
                self.today(), self._policy.sla.cross_border
            )
            sealed = self._send.cross_border_notification(
                session, _line(case), to_la, why, respond_by, believed_address
            )
            self.register.add_event(
                case_ref,
                EventKind.MESSAGE_SENT,
                actor,
                why=why,
                message_id=str(sealed.claims.jti),
                detail={
                    ctx.MESSAGE_TYPE: sealed.claims.cme_type,
                    ctx.RECIPIENT: to_la,
                    ctx.RESPOND_BY: respond_by.isoformat(),
                },
                session=session,
            )
            self.register.set_state(
                case_ref, CaseState.AWAITING_RECEIVING_LA, actor, why=why, session=session
            )
            session.commit()
            return str(sealed.claims.jti)

    def answer_cross_border(
        self,
        case_ref: str,
        outcome: CrossBorderOutcome,
        accepts_responsibility: bool,
        actor: str,
        why: str,
        school: SchoolRef | None = None,
    ) -> str:
        """Answer the notification that opened this (inbound) case; returns the message id."""
        with Session(self._engine) as session:
            case = CaseContext.of(self.register.show_case(case_ref, session=session))
            if case.peer is None:
                raise InvalidInput("not_a_cross_border_case", "no notification opened this case")
            from_la, peer_case, notification = case.peer
            answer = InboundAnswer(notification, peer_case, outcome, accepts_responsibility, school)
            sealed = self._send.cross_border_confirmation(session, from_la, answer)
            self.register.add_event(
                case_ref,
                EventKind.MESSAGE_SENT,
                actor,
                why=why,
                message_id=str(sealed.claims.jti),
                detail={ctx.MESSAGE_TYPE: sealed.claims.cme_type, ctx.RECIPIENT: from_la,
                        ctx.OUTCOME: outcome.value, ctx.ACCEPTS: accepts_responsibility},
            session=session)  # fmt: skip
            session.commit()
            return str(sealed.claims.jti)

    def mark_national_search(self, case_ref: str, actor: str, why: str) -> None:
        """Destination unknown after enquiries: a national lost-pupil search; stays open."""
        self.register.set_state(case_ref, CaseState.NATIONAL_SEARCH, actor, why=why)

    def record_sao_step(self, case_ref: str, step: SaoStep, on: date, actor: str, why: str) -> None:
        """A school attendance order step (s437(1) notice first), checked against the route's
        order and deadlines; each step lands on the timeline with its deadline."""
        detail = self.register.show_case(case_ref)
        taken = [(s.step, s.served_on) for s in detail.sao_steps]
        if step is SaoStep.S437_1_NOTICE:
            plan = SaoPlan.for_policy(on, self._policy)
        elif not taken:
            raise InvalidInput("sao_needs_s437_notice", "the route starts with a s437(1) notice")
        else:
            plan = SaoPlan.for_policy(taken[0][1], self._policy)
            for earlier, served in taken[1:]:
                plan = plan.record(earlier, served)
            plan = plan.record(step, on)
        self.register.record_sao_step(
            case_ref, step, on, actor, deadline=_sao_deadline(plan, step), why=why
        )

    def termly_report(self, term: str, today: date | None = None) -> TermReport:
        """The termly analysis of `term` (e.g. `2026-autumn`): codes and counts only."""
        return termly_report(self._engine, Term.parse(term), today=today)

    def sweep(self, today: date | None = None) -> SweepReport:
        """Chase, escalate and tell schools what is due (see `adapters.la.sweep`)."""
        parts = DeskParts(self._policy, self._calendar, self._send)
        return Sweeper(self._engine, self.register, parts).sweep(today or self.today())


def _identity(child: ChildCore) -> ChildIdentity:
    """Every notification's child as the register keeps it (v1 returns lack the consistent
    identifier field)."""
    if isinstance(child, ChildIdentity):
        return child
    return ChildIdentity.model_validate(child.model_dump())


def _line(case: CaseContext) -> CaseLine:
    summary = case.detail.summary
    return CaseLine(summary.case_ref, case.detail.child, summary.reason, summary.risk_flags)


def _with_case_facts(evidence: ClosureEvidence | None, case: CaseContext) -> ClosureEvidence | None:
    """The date of birth the age rule needs comes from the case record, not the officer."""
    if evidence is None:
        return None
    if evidence.date_of_birth is None and not evidence.is_empty:
        return evidence.model_copy(update={"date_of_birth": case.detail.child.date_of_birth})
    return evidence


def _check_confirmation(
    outcome: ClosureOutcome, evidence: ClosureEvidence | None, case: CaseContext
) -> None:
    """`receiving_la_accepted` must cite a confirmation this case received, accepting."""
    if outcome is not ClosureOutcome.RECEIVING_LA_ACCEPTED or evidence is None:
        return
    cited = str(evidence.confirmation_message_id)
    if not any(c.message_id == cited and c.accepts for c in case.confirmations):
        raise DeskError("confirmation_not_received", "no accepting confirmation with that id")


def _sao_deadline(plan: SaoPlan, step: SaoStep) -> date | None:
    dates = plan.dates
    return {
        SaoStep.S437_1_NOTICE: dates.notice_period_ends,
        SaoStep.INTENDED_SCHOOL_NOTICE: dates.choice_period_ends,
        SaoStep.ORDER_SERVED: dates.comply_by,
    }.get(step)


def _evidence_text(response: LocateResponseV1) -> str:
    """The answer as the case file keeps it (encrypted at rest: it may hold an address)."""
    parts = [f"{response.outcome.value}; record dated {response.evidence_date.isoformat()}"]
    if response.registered_gp:
        parts.append(f"registered GP practice {response.registered_gp}")
    if response.school:
        parts.append(f"school {response.school.laestab}")
    if response.current_address:
        address = response.current_address
        parts.append("address " + ", ".join((*address.lines, address.town, address.postcode or "")))
    if response.refer_to_social_care:
        parts.append("the respondent advises a referral to children's social care")
    if response.outcome is LocateOutcome.KNOWN_WITHHELD:
        parts.append("known to the respondent, location withheld")
    if response.note:
        parts.append(response.note)
    return "; ".join(parts)
