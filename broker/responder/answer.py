"""A responder's answer to a locate enquiry: built, justified from the agreements, staged.

The same path serves answers the source gives automatically and answers a person gives from
the work list, so both carry the same justification and reach the LA the same way.
"""

from dataclasses import dataclass
from datetime import date
from typing import Final, Protocol

from pydantic import ValidationError
from sqlmodel import Session

from broker.agreements import AgreementBook, ShareIntent, justify
from broker.clock import Clock
from broker.envelope import Draft, Sealed
from broker.responder.errors import AnswerInvalid
from broker.responder.model import InboundRef
from schemas.child import Address
from schemas.messages.cme import LOCATE_RESPONSE, LocateOutcome, LocateResponseV1
from schemas.registry import describe_errors

ROLE_AUTOMATED: Final = "automated-records-check"
"""The role that decides an answer the source gave on a unique, confident match."""
ROLE_OFFICER: Final = "responding-officer"
"""The role that decides an answer given from the work list (never a person's name)."""
NECESSITY: Final = (
    "The LA's CME service asked where a child missing education is (Education Act 1996 s436A); "
    "this is the least that helps it find the child (Children Act 2004 s10, s11)."
)


class Outbox(Protocol):
    """Where sealed messages wait to be published (the agency client's transactional outbox)."""

    def stage(self, session: Session, draft: Draft) -> Sealed:
        """Seal `draft` into the outbox within the caller's transaction."""
        ...


@dataclass(frozen=True)
class LocateAnswer:
    """What a responder says about the child, before it becomes a `LocateResponseV1`.

    `found` needs an address or a GP practice; `not_found` and `known_withheld` carry neither
    (the schema's rules, checked when the response is built).
    """

    outcome: LocateOutcome
    evidence_date: date
    current_address: Address | None = None
    registered_gp: str | None = None
    refer_to_social_care: bool = False
    note: str | None = None

    def response(self, enquiry: InboundRef, case_ref: str) -> LocateResponseV1:
        """The wire answer to `enquiry`. Raises `AnswerInvalid` naming the broken rule."""
        try:
            return LocateResponseV1(
                enquiry_message_id=enquiry.message_id,
                case_ref=case_ref,
                outcome=self.outcome,
                evidence_date=self.evidence_date,
                current_address=self.current_address,
                registered_gp=self.registered_gp,
                refer_to_social_care=self.refer_to_social_care,
                note=self.note,
            )
        except ValidationError as exc:
            raise AnswerInvalid(describe_errors(exc)) from None


class ResponseSender:
    """Builds, justifies (refused here when no agreement permits it) and stages answers."""

    def __init__(
        self, agency_id: str, outbox: Outbox, agreements: AgreementBook, clock: Clock
    ) -> None:
        self.agency_id = agency_id
        self._outbox = outbox
        self._agreements = agreements
        self._clock = clock

    def respond(
        self,
        session: Session,
        enquiry: InboundRef,
        case_ref: str,
        answer: LocateAnswer,
        role: str,
    ) -> Sealed:
        """Stage the answer to `enquiry` in the caller's transaction (to its sender)."""
        payload = answer.response(enquiry, case_ref)
        intent = ShareIntent(
            self.agency_id, enquiry.sender, LOCATE_RESPONSE, payload, role, NECESSITY
        )
        justification = justify(self._agreements, intent, self._clock())
        draft = Draft(
            enquiry.sender,
            LOCATE_RESPONSE,
            payload,
            justification,
            # The thread: the LA matches the answer to its enquiry and case.
            correlation_id=enquiry.correlation_id or enquiry.message_id,
            causation_id=enquiry.message_id,
        )
        return self._outbox.stage(session, draft)
