"""Composition of the CME desk: the register, the rules' settings, the sender and the agency
client, on the endpoint's database (`CME_DATABASE_URL`) and keys (`CME_KEYSTORE_DIR`)."""

import asyncio
import contextlib
from dataclasses import dataclass

import structlog
from sqlmodel import Session

from adapters.la.areas import PostcodeAreas
from adapters.la.calendar import WorkingDayCalendar
from adapters.la.db import migrate_desk
from adapters.la.desk import AreaLookup, CmeDesk, DeskServices
from adapters.la.outbound import DeskSender
from adapters.la.register import CaseRegister, RegisterConfig
from adapters.la.settings import DeskSettings
from broker.app import Container
from broker.client.agency import AgencyClient
from broker.envelope import Opened

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class DeskApp:
    """The desk and the agency client it sends and receives through."""

    desk: CmeDesk
    client: AgencyClient


def build_desk(
    container: Container, settings: DeskSettings, areas: AreaLookup | None = None
) -> DeskApp:
    """The desk of LA `settings.la_code` on the container's database, keys and hub."""
    policy = settings.policy()
    if areas is None and settings.areas_file is not None:
        areas = PostcodeAreas.from_csv(settings.areas_file)
    engine = container.engine
    migrate_desk(engine)
    register = CaseRegister(
        engine, settings.protector(), RegisterConfig.from_settings(settings), container.clock
    )
    desk: CmeDesk | None = None

    def handle(session: Session, opened: Opened) -> None:
        assert desk is not None  # set below, before the client starts
        desk.handle(session, opened)

    client = container.agency_client(policy.la_id, handle)
    sender = DeskSender(policy.la_id, client, container.agreements, container.clock)
    services = DeskServices(policy, WorkingDayCalendar(), sender, container.clock, areas)
    desk = CmeDesk(engine, register, services)
    return DeskApp(desk, client)


async def run_desk(app: DeskApp, stop: asyncio.Event, sweep_every_s: float = 3600.0) -> None:
    """Consume the desk's queue and sweep (chases, escalations) every `sweep_every_s` until
    `stop` is set; then finish what is in flight and disconnect."""
    await app.client.start()
    try:
        while not stop.is_set():
            # On the event loop, not in a thread: the inbox handler runs there too, so a sweep
            # never interleaves with the filing of an answer (it would overwrite it).
            report = app.desk.sweep()
            log.info(
                "desk.swept",
                chased=len(report.chased),
                to_lead=len(report.to_lead),
                cross_border=len(report.cross_border_escalated),
                schools_told=len(report.schools_told),
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), sweep_every_s)
    finally:
        await app.client.stop()
