"""The demo's world: two LA hubs on the local RabbitMQ (their own topology prefixes, data
directories and SQLite databases), each with its router, joined by the bridge after exchanging
signed directories. Every party holds its own keys in its hub's keystore (one machine)."""

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, col, select

from adapters.other_la.bridge import Bridge, HubEnd
from adapters.other_la.federation import adopt_from_peer
from broker.app import Container
from broker.client.agency import AgencyClient
from broker.client.tables import OutboxRow
from broker.router.service import RouterService
from broker.settings import Settings


@dataclass(frozen=True)
class HubPlan:
    """One LA hub and the agencies homed on it: (id, name) pairs."""

    la_code: str
    agencies: tuple[tuple[str, str], ...]


@dataclass
class HubRun:
    """A running hub: its container, router and the clients started on it."""

    plan: HubPlan
    container: Container
    clients: dict[str, AgencyClient] = field(default_factory=dict)
    router: asyncio.Task[None] | None = None


class TwoHubs:
    """Both hubs, their routers and the bridges; `stop` undoes everything (queues included)."""

    def __init__(self, data_dir: Path, rabbitmq_url: str, run_id: str, plans: list[HubPlan]):
        self._url = rabbitmq_url
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.hubs = {
            p.la_code: HubRun(p, Container(_settings(data_dir, rabbitmq_url, run_id, p)))
            for p in plans
        }

    def hub(self, la_code: str) -> HubRun:
        """The hub of LA `la_code`."""
        return self.hubs[la_code]

    def register(self) -> None:
        """Each hub registers its own agencies (fresh keys), then adopts its peer's from the
        peer's signed export, pinned to the peer hub's key."""
        for run in self.hubs.values():
            for agency, name in run.plan.agencies:
                run.container.directory_store.add_agency(agency, name, run.plan.la_code)
            run.container.hub_signing_key()
        for home in self.hubs.values():
            for peer in self.hubs.values():
                if peer is not home:
                    _adopt(home, peer)

    async def start(self) -> None:
        """Declare both topologies, start a router on each and the bridges both ways."""
        for run in self.hubs.values():
            await run.container.declare_topology()
            service: RouterService = run.container.router_service(f"router-{run.plan.la_code}")
            self._tasks.append(asyncio.create_task(service.run(self._stop)))
        runs = list(self.hubs.values())
        for source in runs:
            for target in runs:
                if source is not target:
                    bridge = Bridge(_end(self._url, source), _end(self._url, target),
                                    _homed(source, target.plan.la_code))  # fmt: skip
                    self._tasks.append(asyncio.create_task(bridge.run(self._stop)))

    async def client(
        self, la_code: str, agency: str, make: Callable[[Container], AgencyClient]
    ) -> AgencyClient:
        """Start an agency's client (built by `make` on its hub's container)."""
        run = self.hubs[la_code]
        client = make(run.container)
        await client.start()
        run.clients[agency] = client
        return client

    def unreceipted(self) -> list[tuple[str, str, str]]:
        """(hub, sender, message type) of every sent message still without its receipt."""
        missing = []
        for code, run in self.hubs.items():
            with Session(run.container.engine) as session:
                query = select(OutboxRow).where(
                    col(OutboxRow.receipt_outcome).is_(None), OutboxRow.message_type != "receipt"
                )
                missing += [(code, r.agency_id, r.message_type) for r in session.exec(query)]
        return missing

    async def stop(self) -> None:
        """Stop clients, routers and bridges, then delete both topologies."""
        for run in self.hubs.values():
            for client in run.clients.values():
                await client.stop()
        self._stop.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*self._tasks, return_exceptions=True), 30)
        for run in self.hubs.values():
            await run.container.delete_topology()


def _settings(data_dir: Path, url: str, run_id: str, plan: HubPlan) -> Settings:
    return Settings(
        data_dir=data_dir / f"hub-{plan.la_code}",
        database_url=None,
        rabbitmq_url=url,  # type: ignore[arg-type]
        topology_prefix=f"demo{run_id}{plan.la_code}",
        hub_id=f"hub:{plan.la_code}",
    )


def _adopt(home: HubRun, peer: HubRun) -> None:
    adopt_from_peer(home.container, peer.container, peer.plan.la_code, home.plan.la_code)


def _end(url: str, run: HubRun) -> HubEnd:
    return HubEnd(url, run.container.topology)


def _homed(run: HubRun, la_code: str) -> tuple[str, ...]:
    """The agencies of LA `la_code` as `run`'s hub holds them (mirrored there)."""
    return tuple(a.id for a in run.container.snapshot().agencies() if a.home_la == la_code)
