"""School adapters on a real database and real envelopes, without AMQP.

What an adapter stages is read back from the outbox and opened as its recipient; a message to
another school in this world is handed to that school's handler inside a transaction (as the
agency client's inbox does), so two schools can check destinations with each other. The LA's
messages are sealed as the LA, justified from the agreements, and delivered the same way.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from adapters.school.app import SchoolApp, build_school
from adapters.school.settings import SchoolSettings
from adapters.school.tables import CheckRow
from broker.agreements import ShareIntent, justify
from broker.app import Container
from broker.client.tables import OutboxRow
from broker.directory.model import AgencyStatus
from broker.envelope import (
    Draft,
    HeaderVerifier,
    Opened,
    Opener,
    OuterClaims,
    RecipientIdentity,
)
from broker.settings import Settings
from schemas.base import WireModel
from tests.clock import Clock
from tests.unit.school_builders import FAR, LA, NEW, OLD

NEIGHBOUR = "la:331"
AGENCIES = (LA, NEIGHBOUR, OLD, NEW, FAR)
SCHOOLS = (OLD, NEW, FAR)
SETTINGS = SchoolSettings.model_validate(
    {"junior_year": "R", "top_year": "6", "years": {"2026": ["2026-09-03", "2027-07-21"]}}
)


@dataclass(frozen=True)
class Sent:
    """A staged message, opened as its recipient."""

    sender: str
    recipient: str
    message_type: str
    claims: OuterClaims
    payload: Any


class SchoolWorld:
    """LA 330 and three schools (two in LA 330, one in LA 331) on one database."""

    def __init__(self, data_dir: Path, database_url: str, clock: Clock) -> None:
        settings = Settings(
            data_dir=data_dir,
            database_url=database_url,
            rabbitmq_url="amqp://guest:guest@127.0.0.1:1/",  # type: ignore[arg-type]
        )
        self.clock = clock
        self.container = Container(settings, clock=clock)
        for agency in AGENCIES:
            home = agency.split(":")[1][:3]
            self.container.directory_store.add_agency(agency, f"Synthetic {agency}", home)
        self.apps: dict[str, SchoolApp] = {
            school: build_school(self.container, SETTINGS, school) for school in SCHOOLS
        }
        self._delivered: set[int] = set()

    def app(self, school: str = OLD) -> SchoolApp:
        return self.apps[school]

    def _reader(self, agency: str) -> Opener:
        """An opener without a replay cache: a test reads the same message more than once."""
        keys = self.container.keystore.load_all(agency)
        verifier = HeaderVerifier(self.container.snapshot(), clock=self.clock)
        return Opener(RecipientIdentity(agency, keys), verifier)

    def _rows(self) -> list[OutboxRow]:
        with Session(self.container.engine) as session:
            query = select(OutboxRow).order_by(col(OutboxRow.id))
            return [r for r in session.exec(query) if r.message_type != "receipt"]

    def sent(self, message_type: str | None = None, sender: str | None = None) -> list[Sent]:
        """Every message staged so far, oldest first, opened as its recipient."""
        found = []
        for row in self._rows():
            if message_type not in (None, row.message_type) or sender not in (None, row.agency_id):
                continue
            opened = self._reader(row.recipient).open(row.wire)
            found.append(
                Sent(row.agency_id, row.recipient, row.message_type, opened.claims, opened.payload)
            )
        return found

    def set_status(self, agency: str, status: AgencyStatus) -> None:
        """Suspend, reinstate or revoke an agency in the directory (sealing to a suspended
        or revoked one is refused)."""
        self.container.directory_store.set_status(agency, status)

    def check_rows(self, school: str) -> list[CheckRow]:
        """The destination checks `school` received."""
        with Session(self.container.engine) as session:
            query = select(CheckRow).where(CheckRow.school_id == school)
            return list(session.exec(query.order_by(col(CheckRow.id))))

    def open_staged(self, message_type: str) -> Opened:
        """The one staged message of `message_type`, opened as its recipient (a school)."""
        (row,) = [r for r in self._rows() if r.message_type == message_type]
        return self._reader(row.recipient).open(row.wire)

    def deliver(self) -> int:
        """Hand every staged message addressed to a school of this world to its handler (each
        in its own transaction, once). Returns how many were delivered."""
        delivered = 0
        for row in self._rows():
            if row.id in self._delivered or row.recipient not in self.apps:
                continue
            assert row.id is not None
            self._delivered.add(row.id)
            opened = self.container.opener(row.recipient).open(row.wire)
            with Session(self.container.engine) as session:
                self.apps[row.recipient].adapter.handle(session, opened)
                session.commit()
            delivered += 1
        return delivered

    def from_la(self, school: str, message_type: str, payload: WireModel, la: str = LA) -> None:
        """Seal as the LA (justified from the agreements), open as `school`, file it."""
        intent = ShareIntent(la, school, message_type, payload, "cme-officer", "Needed for CME.")
        justification = justify(self.container.agreements, intent, self.clock())
        sealed = self.container.sealer(la).seal(Draft(school, message_type, payload, justification))
        opened = self.container.opener(school).open(sealed.to_json())
        with Session(self.container.engine) as session:
            self.apps[school].adapter.handle(session, opened)
            session.commit()
