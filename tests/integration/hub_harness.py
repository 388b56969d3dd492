"""A whole hub on the real RabbitMQ for integration tests: agencies, router replicas and agency
clients, under a uuid-unique topology prefix (deleted afterwards) and a fresh database."""

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import aio_pika
from sqlmodel import Session, select

from broker.app import Container
from broker.client.agency import AgencyClient, ClientSettings
from broker.client.tables import OutboxRow
from broker.clock import utc_now
from broker.envelope import Draft, Opened, Sealed
from broker.router.service import RouterService
from broker.settings import Settings
from broker.transport.publish import Publisher
from schemas.examples import example_justification, example_payload

SCHOOL, LA, HEALTH, HOUSING, SOCIAL_CARE = (
    "school:3304000",
    "la:330",
    "health:M85001",
    "housing:330-ta",
    "social_care:330",
)
AREA = (SCHOOL, LA, HEALTH, HOUSING, SOCIAL_CARE)


def example_draft(sender: str, recipient: str, message_type: str) -> Draft:
    """The example message of this type, with its example justification."""
    return Draft(
        recipient,
        message_type,
        example_payload(message_type, sender=sender, recipient=recipient),
        example_justification(message_type, sender=sender, recipient=recipient),
    )


async def eventually(check: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Wait until `check()` holds, polling; fail after `timeout_s` (never a bare sleep)."""
    async with asyncio.timeout(timeout_s):
        while not check():
            await asyncio.sleep(0.05)


class Hub:
    """One LA hub with its agencies, on a throwaway topology and database."""

    def __init__(
        self,
        data_dir: Path,
        rabbitmq_url: str,
        database_url: str | None = None,
        **settings: Any,
    ) -> None:
        self.prefix = f"t{uuid.uuid4().hex[:12]}"
        settings = Settings(
            data_dir=data_dir,
            rabbitmq_url=rabbitmq_url,  # type: ignore[arg-type]
            topology_prefix=self.prefix,
            database_url=database_url,
            **settings,
        )
        self.container = Container(settings)
        self.rabbitmq_url = rabbitmq_url
        self.clients: dict[str, AgencyClient] = {}
        self.handled: Counter[str] = Counter()
        self.handled_by: dict[str, list[Opened]] = {}
        self._routers: list[tuple[asyncio.Event, asyncio.Task[None], RouterService]] = []

    def add_agencies(self, agencies: Iterable[str] = AREA) -> None:
        for agency in agencies:
            self.container.directory_store.add_agency(agency, f"Synthetic {agency}", "330")

    async def start(self, clients: Iterable[str] = AREA, routers: int = 1) -> None:
        await self.container.declare_topology()
        for _ in range(routers):
            self.start_router()
        for agency in clients:
            await self.start_client(agency)

    def start_router(self, actor: str | None = None) -> None:
        service = self.container.router_service(actor or f"router-{len(self._routers)}")
        stop = asyncio.Event()
        self._routers.append((stop, asyncio.create_task(service.run(stop)), service))

    async def start_client(self, agency: str) -> AgencyClient:
        self.handled_by.setdefault(agency, [])

        def handler(_session: Session, opened: Opened) -> None:
            self.handled[f"{agency}/{opened.claims.jti}"] += 1
            self.handled_by[agency].append(opened)

        client = self.container.agency_client(agency, handler)
        await client.start()
        self.clients[agency] = client
        return client

    def send_example(self, sender: str, recipient: str, message_type: str) -> Sealed:
        return self.clients[sender].send(example_draft(sender, recipient, message_type))

    async def stop(self) -> None:
        for client in self.clients.values():
            await client.stop()
        for stop, task, _ in self._routers:
            stop.set()
            await asyncio.wait_for(task, 30)
        await self.delete_topology()

    async def delete_topology(self) -> None:
        await self.container.delete_topology()


async def publish_raw(hub: Hub, sender: str, body: bytes, message_id: str | None = None) -> None:
    """Publish bytes to the hub's ingress as `sender` would (as the development account,
    which the router trusts to publish for anyone); with `message_id`, also record it in the
    sender's outbox so the receipt that comes back has somewhere to land."""
    if message_id is not None:
        with Session(hub.container.engine) as session:
            session.add(
                OutboxRow(
                    agency_id=sender,
                    message_id=message_id,
                    recipient="-",
                    message_type="-",
                    wire=body.decode(),
                    created_at=utc_now(),
                    published_at=utc_now(),
                )
            )
            session.commit()
    connection = await aio_pika.connect(hub.rabbitmq_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        publisher = Publisher(channel)
        topology = hub.container.topology
        user = ClientSettings(amqp_url=hub.rabbitmq_url).user_id  # RabbitMQ checks it
        await publisher.publish(topology.ingress, topology.ingress_key(sender), body, user_id=user)


def receipt_of(hub: Hub, message_id: str) -> tuple[str | None, str | None]:
    """(outcome, reason) of the receipt recorded on a sender's outbox row."""
    with Session(hub.container.engine) as session:
        query = select(OutboxRow).where(OutboxRow.message_id == message_id)
        row = session.exec(query).one()
        return row.receipt_outcome, row.receipt_reason
