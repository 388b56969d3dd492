"""One responding agency's inbound handler and its work list actions.

An accepted `cme.locate_enquiry` is looked up in the agency's records (its `LocateSource`):
a unique, confident match is answered at once, in the inbox transaction; anything else waits
on the work list for a person, who answers it before the LA's respond-by day. Every enquiry
leaves an item (closed when answered automatically), so a re-delivered enquiry is answered
once. Other message types go to the handlers the adapter registers (social care's front door).
"""

from collections.abc import Callable, Mapping
from typing import Final

import structlog
from sqlmodel import Session

from broker.envelope import Opened, Sealed
from broker.errors import BrokerError
from broker.responder.answer import ROLE_AUTOMATED, ROLE_OFFICER, LocateAnswer, ResponseSender
from broker.responder.errors import ResponderError, SourceUnavailable
from broker.responder.model import (
    AUTO_ANSWER_REFUSED,
    NO_SOURCE,
    SOURCE_FAILED,
    SYSTEM_ACTOR,
    Closure,
    InboundRef,
    NewWorkItem,
    WorkKind,
    WorkState,
)
from broker.responder.source import Answered, LocateResult, LocateSource, Referred
from broker.responder.worklist import WorkList
from schemas.messages.cme import LocateEnquiryV1

log = structlog.get_logger(__name__)
InboundHandler = Callable[[Session, Opened], None]
"""Files one accepted message of another type inside its inbox transaction."""
ACKNOWLEDGED_KINDS: Final = frozenset({WorkKind.ESCALATION, WorkKind.ALERT})
MAX_ACTOR: Final = 80


class Responder:
    """A responding agency: answers enquiries from its records, or lists them for a person."""

    def __init__(
        self,
        agency_id: str,
        work: WorkList,
        sender: ResponseSender,
        source: LocateSource | None = None,
        others: Mapping[str, InboundHandler] | None = None,
    ) -> None:
        self.agency_id = agency_id
        self.work = work
        self._sender = sender
        self._source = source
        self._others = dict(others or {})

    # -- inbound (the agency client's handler) ---------------------------------------------

    def handle(self, session: Session, opened: Opened) -> None:
        """File one accepted message, inside its inbox transaction."""
        if isinstance(opened.payload, LocateEnquiryV1):
            self._enquiry(session, opened, opened.payload)
            return
        other = self._others.get(opened.claims.cme_type)
        if other is not None:
            other(session, opened)
        else:
            log.info("responder.not_filed", message_type=opened.claims.cme_type)

    def _enquiry(self, session: Session, opened: Opened, enquiry: LocateEnquiryV1) -> None:
        ref = InboundRef.of(self.agency_id, opened)
        if self.work.seen(session, ref, WorkKind.LOCATE_ENQUIRY):
            log.info("responder.duplicate_enquiry", agency=self.agency_id)
            return
        result = self._lookup(enquiry)
        if isinstance(result, Answered):
            result = self._answer_at_once(session, ref, enquiry, result)
        if isinstance(result, Referred):
            item = NewWorkItem(
                kind=WorkKind.LOCATE_ENQUIRY,
                inbound=ref,
                reason=result.reason,
                respond_by=enquiry.respond_by,
                case_ref=enquiry.case_ref,
                same_day=False,
                payload=enquiry,
                finding=result.finding,
            )
            item_id = self.work.add(session, item)
            log.info("responder.listed", agency=self.agency_id, item=item_id, why=result.reason)

    def _lookup(self, enquiry: LocateEnquiryV1) -> LocateResult:
        if self._source is None:
            return Referred(NO_SOURCE)
        try:
            return self._source.locate(enquiry, self.work.today())
        except SourceUnavailable as exc:
            # A person answers before the deadline; a retry storm would not help the child.
            log.warning("responder.source_unavailable", agency=self.agency_id, why=exc.reason)
            return Referred(exc.reason)
        except Exception as exc:  # a source bug must not dead-letter the enquiry: a person has it
            log.error("responder.source_failed", agency=self.agency_id, error=type(exc).__name__)
            return Referred(SOURCE_FAILED)

    def _answer_at_once(
        self, session: Session, ref: InboundRef, enquiry: LocateEnquiryV1, result: Answered
    ) -> LocateResult:
        """Stage the source's answer and its audit entry; refer to a person if it is refused."""
        try:
            sealed = self._sender.respond(
                session, ref, enquiry.case_ref, result.answer, ROLE_AUTOMATED
            )
        except BrokerError as exc:  # refused by the agreements or the envelope: nothing staged
            log.warning("responder.answer_refused", agency=self.agency_id, why=exc.reason)
            return Referred(AUTO_ANSWER_REFUSED)
        closure = Closure(
            WorkState.ANSWERED, SYSTEM_ACTOR, result.answer.outcome.value, sealed.claims.jti
        )
        audit = NewWorkItem(
            WorkKind.LOCATE_ENQUIRY, ref, result.basis, enquiry.respond_by, enquiry.case_ref
        )
        self.work.add(session, audit, closed=closure)
        if result.alert is not None:
            alert = NewWorkItem(
                kind=WorkKind.ALERT,
                inbound=ref,
                reason=result.alert,
                respond_by=self.work.today(),
                case_ref=enquiry.case_ref,
                same_day=True,
                payload=enquiry,
            )
            self.work.add(session, alert)
        log.info(
            "responder.answered",
            agency=self.agency_id,
            outcome=result.answer.outcome.value,
            basis=result.basis,
        )
        return result

    # -- the work list's actions -----------------------------------------------------------

    def answer(self, item_id: str, answer: LocateAnswer, actor: str) -> Sealed:
        """A person's answer to a waiting enquiry: the response is staged and the item closed
        in one transaction (the agency's `run` publishes it). Refused when already answered."""
        _check_actor(actor)
        with Session(self.work.engine) as session:
            item = self.work.take(session, self.agency_id, item_id, {WorkKind.LOCATE_ENQUIRY})
            enquiry = item.payload
            assert isinstance(enquiry, LocateEnquiryV1)  # the kind guarantees it
            sealed = self._sender.respond(
                session, item.inbound, enquiry.case_ref, answer, ROLE_OFFICER
            )
            closure = Closure(WorkState.ANSWERED, actor, answer.outcome.value, sealed.claims.jti)
            self.work.close(session, self.agency_id, item_id, closure)
            session.commit()
        log.info("responder.answered_by_person", agency=self.agency_id, item=item_id)
        return sealed

    def acknowledge(self, item_id: str, actor: str) -> None:
        """A person takes on an escalation or alert (nothing is sent)."""
        _check_actor(actor)
        with Session(self.work.engine) as session:
            self.work.take(session, self.agency_id, item_id, ACKNOWLEDGED_KINDS)
            self.work.close(
                session, self.agency_id, item_id, Closure(WorkState.ACKNOWLEDGED, actor)
            )
            session.commit()
        log.info("responder.acknowledged", agency=self.agency_id, item=item_id)


def _check_actor(actor: str) -> None:
    """Who acted is recorded on the item: a user or role id, not free text."""
    if not 1 <= len(actor) <= MAX_ACTOR or not actor.isprintable():
        raise ResponderError(
            f"who acted is 1-{MAX_ACTOR} printable characters", reason="actor_invalid"
        )
