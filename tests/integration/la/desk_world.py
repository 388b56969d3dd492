"""A CME desk on a real database and real envelopes, without AMQP: messages are sealed by their
senders, opened by the LA and handed to the desk inside a transaction (as the agency client's
inbox does); what the desk sends is read back from its outbox and opened as its recipients."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlmodel import Session, col, select

from adapters.la.app import DeskApp, build_desk
from adapters.la.desk import AreaLookup, CmeDesk
from adapters.la.settings import DeskSettings
from broker.agreements import ShareIntent, justify
from broker.app import Container
from broker.client.tables import OutboxRow
from broker.envelope import Draft, HeaderVerifier, Opened, Opener, RecipientIdentity
from broker.settings import Settings
from schemas.base import WireModel
from tests.clock import Clock

LA, NEIGHBOUR = "la:330", "la:331"
SCHOOL, HEALTH, HOUSING, SOCIAL_CARE = (
    "school:3304000",
    "health:M85001",
    "housing:330-ta",
    "social_care:330",
)
AGENCIES = (LA, NEIGHBOUR, SCHOOL, HEALTH, HOUSING, SOCIAL_CARE)


@dataclass(frozen=True)
class Sent:
    """A message the desk staged, opened as its recipient."""

    recipient: str
    message_type: str
    message_id: str
    payload: Any


class DeskWorld:
    """LA 330's desk with its partners registered in the directory."""

    def __init__(
        self,
        data_dir: Path,
        database_url: str,
        clock: Clock,
        areas: AreaLookup | None = None,
        settings: DeskSettings | None = None,
    ) -> None:
        hub_settings = Settings(
            data_dir=data_dir,
            database_url=database_url,
            rabbitmq_url="amqp://guest:guest@127.0.0.1:1/",  # type: ignore[arg-type]
        )
        self.clock = clock
        self.container = Container(hub_settings, clock=clock)
        for agency in AGENCIES:
            home = agency.split(":")[1][:3] if agency.startswith(("la:", "school:")) else "330"
            self.container.directory_store.add_agency(agency, f"Synthetic {agency}", home)
        self.app: DeskApp = build_desk(self.container, settings or DeskSettings(), areas)
        self.desk: CmeDesk = self.app.desk

    def deliver(
        self, sender: str, message_type: str, payload: WireModel, causation_id: UUID | None = None
    ) -> Opened:
        """Seal as `sender` (justified from the agreements), open as the LA, file it."""
        intent = ShareIntent(sender, LA, message_type, payload, "test-sender", "Needed for CME.")
        justification = justify(self.container.agreements, intent, self.clock())
        draft = Draft(LA, message_type, payload, justification, causation_id=causation_id)
        sealed = self.container.sealer(sender).seal(draft)
        opened = self.container.opener(LA).open(sealed.to_json())
        with Session(self.container.engine) as session:
            self.desk.handle(session, opened)
            session.commit()
        return opened

    def _reader(self, agency: str) -> Opener:
        """An opener without a replay cache: a test reads the same message more than once."""
        keys = self.container.keystore.load_all(agency)
        verifier = HeaderVerifier(self.container.snapshot(), clock=self.clock)
        return Opener(RecipientIdentity(agency, keys), verifier)

    def sent(self, message_type: str | None = None) -> list[Sent]:
        """What the desk staged, oldest first, opened as each recipient."""
        with Session(self.container.engine) as session:
            query = select(OutboxRow).where(OutboxRow.agency_id == LA).order_by(col(OutboxRow.id))
            rows = [r for r in session.exec(query) if r.message_type != "receipt"]
        found = []
        for row in rows:
            if message_type is not None and row.message_type != message_type:
                continue
            opened = self._reader(row.recipient).open(row.wire)
            found.append(Sent(row.recipient, row.message_type, row.message_id, opened.payload))
        return found
