"""Composition of a school's adapter: its rules' policy, the sender and the agency client, on
the endpoint's database (`CME_DATABASE_URL`) and keys (`CME_KEYSTORE_DIR`)."""

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog
from sqlmodel import Session

from adapters.school.adapter import SchoolAdapter
from adapters.school.db import migrate_school
from adapters.school.importer import Importer
from adapters.school.outbound import SchoolSender
from adapters.school.services import SchoolServices
from adapters.school.settings import SchoolSettings
from adapters.school.watch import Picked, Watcher
from broker.app import Container
from broker.client.agency import AgencyClient
from broker.envelope import Opened

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class SchoolApp:
    """The adapter, its importer and the agency client it sends and receives through."""

    adapter: SchoolAdapter
    importer: Importer
    client: AgencyClient
    settings: SchoolSettings

    def watcher(self, directory: Path, on_file: Callable[[Picked], None] | None = None) -> Watcher:
        """A watcher of `directory` importing into this adapter."""
        return Watcher(directory, self.importer, on_file)


def build_school(container: Container, settings: SchoolSettings, school_id: str) -> SchoolApp:
    """The adapter of `school_id` (`school:LAESTAB`) on the container's database, keys and hub.
    Its tables are migrated here (idempotent)."""
    policy = settings.policy(school_id)
    engine = container.engine
    migrate_school(engine)
    adapter: SchoolAdapter | None = None

    def handle(session: Session, opened: Opened) -> None:
        assert adapter is not None  # set below, before the client starts
        adapter.handle(session, opened)

    client = container.agency_client(school_id, handle)
    sender = SchoolSender(policy, client, container.agreements, container.clock)
    services = SchoolServices(policy, sender, settings.protector(), container.clock)
    adapter = SchoolAdapter(engine, services)
    importer = Importer(adapter, engine, container.clock, settings.max_file_bytes)
    return SchoolApp(adapter, importer, client, settings)


async def run_school(app: SchoolApp, stop: asyncio.Event, watcher: Watcher | None = None) -> None:
    """Consume the school's queue, poll `watcher`'s directory every `poll_seconds` and sweep
    (destination deadlines) every `sweep_seconds`, until `stop` is set; then finish what is in
    flight and disconnect.

    The sweep runs on the event loop, as the agency client's inbox handler does: the two both
    release waiting deletion returns, so within this process they never interleave (the
    conditional UPDATE in `store.claim_deletion` keeps two processes apart). The directory
    poll (file reading) runs in a thread."""
    settings = app.settings
    await app.client.start()
    loop = asyncio.get_running_loop()
    next_sweep = loop.time()
    try:
        while not stop.is_set():
            if watcher is not None:
                await _guarded("school.watch_failed", watcher.poll, in_thread=True)
            if loop.time() >= next_sweep:
                await _guarded("school.sweep_failed", lambda: _sweep(app), in_thread=False)
                next_sweep = loop.time() + settings.sweep_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.poll_seconds)
    finally:
        await app.client.stop()


def _sweep(app: SchoolApp) -> None:
    report = app.adapter.sweep()
    log.info("school.swept", released=len(report.returns_released), answered=report.checks_answered)


async def _guarded(event: str, work: Callable[[], object], *, in_thread: bool) -> None:
    """Run `work` (in a thread, or on the loop); a failure (a database outage) is logged and
    tried again next round: the adapter never stops watching or answering for one bad
    round."""
    try:
        if in_thread:
            await asyncio.to_thread(work)
        else:
            work()
    except Exception as exc:
        log.error(event, error=type(exc).__name__)
