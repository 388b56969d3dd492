"""The demonstration scenario behind `cme-broker demo`, on the real RabbitMQ.

A school sends a deletion return to its LA through the hub: the router verifies it, checks
the data sharing agreement, records it in the ledger and routes it; the LA opens it and sends
a signed receipt back. Then a tampered copy is refused at the hub (with a refusal receipt),
another agency cannot open the LA's message, and a replayed copy is not processed twice. The
demo ends with each message's track from the ledger and the ledger's verification. All data
is synthetic (`schemas.examples`); the topology is removed afterwards.
"""

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import aio_pika
from sqlmodel import Session, select

from broker.app import Container
from broker.client.agency import AgencyClient, ClientSettings
from broker.client.tables import OutboxRow
from broker.envelope import Draft, Opened, Sealed
from broker.errors import EnvelopeError
from broker.ledger import LedgerEntry, VerifyReport
from broker.transport.publish import Publisher
from schemas.examples import example_justification, example_payload

SCHOOL, LA, HEALTH = "school:3304000", "la:330", "health:M85001"
DEMO_AGENCIES = (
    (SCHOOL, "Synthetic Primary School", "330"),
    (LA, "LA 330 CME team", "330"),
    (HEALTH, "Synthetic GP practice", "330"),
)
DELETION = "school.deletion_return"
WAIT_S = 30.0


@dataclass(frozen=True)
class Step:
    """One line of the demo timeline: what happened and whether it was what should happen."""

    actor: str
    action: str
    outcome: str
    as_expected: bool


@dataclass
class DemoResult:
    """The timeline, each message's track from the ledger, and the ledger's verification."""

    steps: list[Step] = field(default_factory=list)
    tracks: dict[str, list[LedgerEntry]] = field(default_factory=dict)
    verification: VerifyReport | None = None


async def _until(check: Callable[[], bool]) -> bool:
    """Whether `check` came true within the demo's patience (polled, bounded)."""
    try:
        async with asyncio.timeout(WAIT_S):
            while not check():
                await asyncio.sleep(0.05)
    except TimeoutError:
        return False
    return True


def _tamper(wire: str) -> str:
    """Flip one character inside the encrypted payload, as an attacker on the wire might."""
    envelope = json.loads(wire)
    jwe, middle = envelope["jwe"], len(envelope["jwe"]) // 2
    envelope["jwe"] = jwe[:middle] + ("A" if jwe[middle] != "A" else "B") + jwe[middle + 1 :]
    return json.dumps(envelope)


class Demo:
    """One run of the scenario in a fresh data directory."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.result = DemoResult()
        self.handled: Counter[str] = Counter()
        self.clients: dict[str, AgencyClient] = {}

    def step(self, actor: str, action: str, outcome: str, ok: bool) -> None:
        self.result.steps.append(Step(actor, action, outcome, ok))

    def receipt(self, message_id: str) -> tuple[str | None, str | None]:
        with Session(self.container.engine) as session:
            row = session.exec(select(OutboxRow).where(OutboxRow.message_id == message_id)).one()
            return row.receipt_outcome, row.receipt_reason

    async def run(self) -> DemoResult:
        for agency_id, name, home_la in DEMO_AGENCIES:
            self.container.directory_store.add_agency(agency_id, name, home_la)
            self.step(agency_id, "registered with fresh Ed25519/X25519 keys", "ok", True)
        await self.container.declare_topology()
        stop = asyncio.Event()
        router = asyncio.create_task(self.container.router_service("demo-router").run(stop))
        try:
            for agency_id, _, _ in DEMO_AGENCIES:
                client = self.container.agency_client(agency_id, self._handler(agency_id))
                await client.start()
                self.clients[agency_id] = client
            sealed = await self._send_return()
            await self._tampered_copy()
            self._wrong_agency(sealed)
            await self._replay(sealed)
        finally:
            for client in self.clients.values():
                await client.stop()
            stop.set()
            await router
            await self.container.delete_topology()
        self._finish()
        return self.result

    def _handler(self, agency_id: str) -> Callable[[Session, Opened], None]:
        def handle(_session: Session, opened: Opened) -> None:
            self.handled[f"{agency_id}/{opened.claims.jti}"] += 1

        return handle

    def _draft(self) -> Draft:
        return Draft(
            LA,
            DELETION,
            example_payload(DELETION, sender=SCHOOL),
            example_justification(DELETION, sender=SCHOOL, recipient=LA),
        )

    async def _send_return(self) -> Sealed:
        sealed = self.clients[SCHOOL].send(self._draft())
        claims, jti = sealed.claims, str(sealed.claims.jti)
        basis = claims.justification.lawful_basis
        self.step(
            SCHOOL,
            f"sent a {claims.cme_type} v{claims.cme_ver} ({len(sealed.to_json())} bytes; the hub "
            f"sees {len(claims.subject_refs)} pseudonyms, basis {basis}, "
            f"gateway {claims.justification.statutory_gateways[0]})",
            "published (outbox, confirmed)",
            True,
        )
        delivered = await _until(lambda: self.handled[f"{LA}/{jti}"] == 1)
        self.step(LA, "received and opened it (both signatures, digest, binding, schema)",
                  "processed once" if delivered else "NOT DELIVERED", delivered)  # fmt: skip
        receipted = await _until(lambda: self.receipt(jti)[0] == "accepted")
        self.step(SCHOOL, "got the LA's signed receipt", "accepted" if receipted else "none",
                  receipted)  # fmt: skip
        return sealed

    async def _tampered_copy(self) -> None:
        """A corrupted message leaves the school: the hub refuses it and tells the school."""
        sealed = self.container.sealer(SCHOOL).seal(self._draft())
        jti = str(sealed.claims.jti)
        with Session(self.container.engine) as session:
            session.add(OutboxRow(agency_id=SCHOOL, message_id=jti, recipient=LA,
                                  message_type=DELETION, wire=_tamper(sealed.to_json()),
                                  created_at=self.container.clock()))  # fmt: skip
            session.commit()
        refused = await _until(lambda: self.receipt(jti)[1] is not None)
        outcome, reason = self.receipt(jti)
        self.step(
            "hub",
            "received a copy with one character changed in transit",
            f"refused: {reason}; refusal receipt to the school" if refused else "NOT REFUSED",
            outcome == "rejected" and reason == "digest_mismatch",
        )
        self._track("tampered copy", jti)

    def _wrong_agency(self, sealed: Sealed) -> None:
        try:
            self.container.opener(HEALTH).open(sealed.to_json())
            outcome, ok = "OPENED (should have been refused)", False
        except EnvelopeError as exc:
            outcome, ok = f"refused: {exc.reason}", exc.reason == "wrong_recipient"
        self.step(HEALTH, "tried to open the message addressed to the LA", outcome, ok)

    async def _replay(self, sealed: Sealed) -> None:
        """Someone re-publishes the captured envelope: it is not processed a second time."""
        url = self.container.settings.rabbitmq_url.get_secret_value()
        topology = self.container.topology
        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            await Publisher(channel).publish(
                topology.ingress,
                topology.ingress_key(SCHOOL),
                sealed.to_json().encode(),
                user_id=ClientSettings(amqp_url=url).user_id,
            )
        jti = str(sealed.claims.jti)
        opener = self.container.opener(LA)  # an opener with a replay cache, as the CLI uses
        try:
            opener.open(sealed.to_json())
            opener.open(sealed.to_json())
            refused = "ACCEPTED twice"
        except EnvelopeError as exc:
            refused = f"refused: {exc.reason}"
        la = self.clients[LA]
        absorbed = await _until(lambda: la.stats["duplicate"] >= 1)
        once = absorbed and self._routed_once(jti) and self.handled[f"{LA}/{jti}"] == 1
        self.step(
            "hub + LA",
            "received the same message again (replay)",
            f"not processed twice (LA processed it once); envelope check {refused}",
            once and refused == "refused: replayed",
        )
        self._track("deletion return", jti)

    def _routed_once(self, jti: str) -> bool:
        entries = self.container.ledger(signing=False).history(jti)
        return [e.event for e in entries] == ["routed", "receipted"]

    def _track(self, label: str, jti: str) -> None:
        self.result.tracks[label] = self.container.ledger(signing=False).history(jti)

    def _finish(self) -> None:
        ledger = self.container.ledger()
        ledger.checkpoint()  # sign the head, so verification also checks a checkpoint
        report = ledger.verify(self.container.snapshot())
        self.result.verification = report
        self.step("hub", "ledger verify (hash chain and signed checkpoint)",
                  "passed" if report.ok else f"FAILED: {report.message}", report.ok)  # fmt: skip


def run(container: Container) -> DemoResult:
    """Run the scenario (needs RabbitMQ at the configured URL)."""
    return asyncio.run(Demo(container).run())
