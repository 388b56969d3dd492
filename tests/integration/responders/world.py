"""Responders on a real database and real envelopes, without AMQP: LA 330 seals enquiries and
escalations, the responder opens them and its handler files them inside a transaction (as the
agency client's inbox does); what the responder staged is read back from its outbox and opened
as the LA."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlmodel import Session, col, select

from broker.agreements import ShareIntent, justify
from broker.app import Container
from broker.client.tables import OutboxRow
from broker.envelope import Draft, HeaderVerifier, Opened, Opener, OuterClaims, RecipientIdentity
from broker.responder import Responder, ResponderSettings
from broker.responder.cipher import new_key
from broker.settings import Settings
from schemas.base import WireModel
from schemas.messages.cme import LOCATE_ENQUIRY, LocateEnquiryV1
from schemas.messages.safeguarding import ESCALATION
from tests.clock import Clock

LA, HEALTH, HOUSING, SOCIAL_CARE = "la:330", "health:M85001", "housing:330-ta", "social_care:330"
AGENCIES = (LA, HEALTH, HOUSING, SOCIAL_CARE)


@dataclass(frozen=True)
class Reply:
    """A message a responder staged, opened as its recipient."""

    recipient: str
    claims: OuterClaims
    payload: Any


class ResponderWorld:
    """LA 330 and its three responders registered in one hub's directory."""

    def __init__(
        self, data_dir: Path, database_url: str, clock: Clock, work_key: str | None = None
    ) -> None:
        settings = Settings(
            data_dir=data_dir,
            database_url=database_url,
            rabbitmq_url="amqp://guest:guest@127.0.0.1:1/",  # type: ignore[arg-type]
        )
        self.clock = clock
        self.container = Container(settings, clock=clock)
        for agency in AGENCIES:
            self.container.directory_store.add_agency(agency, f"Synthetic {agency}", "330")
        self.responder_settings = ResponderSettings(work_key=SecretStr(work_key or new_key()))

    def seal(self, recipient: str, message_type: str, payload: WireModel) -> str:
        """A message from the LA, justified from the agreements, sealed for `recipient`."""
        intent = ShareIntent(LA, recipient, message_type, payload, "cme-officer", "Needed.")
        justification = justify(self.container.agreements, intent, self.clock())
        draft = Draft(recipient, message_type, payload, justification)
        return self.container.sealer(LA).seal(draft).to_json()

    def _reader(self, agency: str) -> Opener:
        """An opener without a replay cache: a test may deliver the same message twice."""
        keys = self.container.keystore.load_all(agency)
        verifier = HeaderVerifier(self.container.snapshot(), clock=self.clock)
        return Opener(RecipientIdentity(agency, keys), verifier)

    def deliver(self, responder: Responder, wire: str) -> Opened:
        """Open `wire` as the responder's agency and hand it to its handler, then commit."""
        opened = self._reader(responder.agency_id).open(wire)
        with Session(self.container.engine) as session:
            responder.handle(session, opened)
            session.commit()
        return opened

    def enquire(self, responder: Responder, enquiry: LocateEnquiryV1) -> Opened:
        """Send a locate enquiry from the LA to the responder."""
        return self.deliver(responder, self.seal(responder.agency_id, LOCATE_ENQUIRY, enquiry))

    def escalate(self, responder: Responder, escalation: WireModel) -> Opened:
        """Send a safeguarding escalation from the LA to the responder."""
        return self.deliver(responder, self.seal(responder.agency_id, ESCALATION, escalation))

    def replies(self, agency: str) -> list[Reply]:
        """What `agency` staged (receipts aside), oldest first, opened as each recipient."""
        with Session(self.container.engine) as session:
            query = (
                select(OutboxRow)
                .where(OutboxRow.agency_id == agency, OutboxRow.message_type != "receipt")
                .order_by(col(OutboxRow.id))
            )
            rows = session.exec(query).all()
        replies = []
        for row in rows:
            opened = self._reader(row.recipient).open(row.wire)
            replies.append(Reply(row.recipient, opened.claims, opened.payload))
        return replies
